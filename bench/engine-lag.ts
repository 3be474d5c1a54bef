// Does one heavy file freeze the engine (issue 13)? The engine runs in a child process, as under
// `trove serve`, with the tiny embedding package; this process is its client and asks `status.get`
// every PROBE_MS over IPC without waiting for earlier answers, so a blocked engine thread shows as
// the latency a person at the window would see. The child measures its own event-loop delay
// (perf_hooks.monitorEventLoopDelay). First the engine idles (the baseline), then it indexes the
// worst ordinary files (scripts/fixtures/make-heavy-corpus.ts: 10 MiB one-line text, 100 MiB log,
// 2,000-page PDF, 1 GiB video) for at most WINDOW_S seconds — the tiny model needs far longer to
// embed 2,000 pages, but every file's extraction and first round fall inside the window.
//
// Run: node --import tsx bench/engine-lag.ts [--small] [--window SECONDS]  (default window 300 s)
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { dispatchApiCall } from '../electron/contract/common/trove-api.ts';
import { openTroveEngine } from '../electron/engine/app/node/trove-engine.ts';
import { buildModelPackageInWorker } from '../native-models/package/node/build-in-worker.ts';
import { generateTinyCheckpoint } from '../native-models/tiny/node/generate-tiny-checkpoint.ts';
import { FULL_SIZES, makeHeavyCorpus, SMALL_SIZES, type HeavyFile } from '../scripts/fixtures/make-heavy-corpus.ts';

const PROBE_MS = 100;
const IDLE_S = 15;

type ToChild = { type: 'call'; id: number; method: string; params: unknown } | { type: 'lag' } | { type: 'add-root'; path: string } | { type: 'close' };
type FromChild =
  | { type: 'ready' }
  | { type: 'answer'; id: number; error?: string }
  | { type: 'lag'; p50: number; p99: number; max: number; over100: number }
  | { type: 'idle' };

/** The engine side: answers calls, reports its loop delay since the last report. */
async function child(dataDir: string, modelDir: string): Promise<void> {
  const send = (message: FromChild): void => void process.send!(message);
  const engine = await openTroveEngine({ dataDir, embeddingModel: modelDir, watch: false });
  // 10 ms resolution: a stall shorter than that is noise at the window; longer ones are what we count.
  let histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  const stalls: number[] = [];
  let last = performance.now();
  const ticker = setInterval(() => {
    const now = performance.now();
    if (now - last > 110) stalls.push(now - last - 10);
    last = now;
  }, 10);
  process.on('message', (message: ToChild) => {
    if (message.type === 'call') {
      dispatchApiCall(engine.handlers, message.method, message.params).then(
        () => send({ type: 'answer', id: message.id }),
        (error: unknown) => send({ type: 'answer', id: message.id, error: String(error) }),
      );
    } else if (message.type === 'lag') {
      histogram.disable();
      const ms = (ns: number): number => ns / 1e6;
      send({ type: 'lag', p50: ms(histogram.percentile(50)), p99: ms(histogram.percentile(99)), max: ms(histogram.max), over100: stalls.length });
      stalls.length = 0;
      histogram = monitorEventLoopDelay({ resolution: 10 });
      histogram.enable();
    } else if (message.type === 'add-root') {
      void dispatchApiCall(engine.handlers, 'roots.add', { path: message.path }).then(() => engine.idle().then(() => send({ type: 'idle' })));
    } else if (message.type === 'close') {
      clearInterval(ticker);
      void engine.close().then(() => process.exit(0));
    }
  });
  send({ type: 'ready' });
}

interface Probe {
  latencies: number[];
  outstanding: Map<number, number>;
}

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0;

async function main(): Promise<void> {
  const small = process.argv.includes('--small');
  const windowAt = process.argv.indexOf('--window');
  const windowS = windowAt > 0 ? Number(process.argv[windowAt + 1]) : 300;
  const dir = await mkdtemp(path.join(tmpdir(), 'trove-bench-engine-lag-'));
  let engine: ChildProcess | null = null;
  try {
    const started = performance.now();
    const files: HeavyFile[] = await makeHeavyCorpus(path.join(dir, 'library'), small ? SMALL_SIZES : FULL_SIZES);
    const checkpoint = await generateTinyCheckpoint({ out: path.join(dir, 'checkpoint'), kind: 'embedding' });
    const modelDir = path.join(dir, 'package');
    await buildModelPackageInWorker({ checkpointDir: checkpoint, outDir: modelDir, kind: 'embedding', precision: 'fp32' });
    console.log(`Corpus and tiny package written in ${((performance.now() - started) / 1000).toFixed(0)} s:`);
    for (const f of files) console.log(`- ${f.name}: ${(f.bytes / 1024 / 1024).toFixed(1)} MiB, ${f.what}`);

    engine = fork(fileURLToPath(import.meta.url), ['--child', path.join(dir, 'data'), modelDir], { execArgv: ['--import', 'tsx'], env: { ...process.env, TROVE_EP: 'cpu' } });
    const child = engine;
    const waiters: ((m: FromChild) => boolean)[] = [];
    const probe: Probe = { latencies: [], outstanding: new Map() };
    child.on('message', (m: FromChild) => {
      if (m.type === 'answer') {
        const sent = probe.outstanding.get(m.id);
        probe.outstanding.delete(m.id);
        if (sent !== undefined) probe.latencies.push(performance.now() - sent);
        return;
      }
      const i = waiters.findIndex((w) => w(m));
      if (i >= 0) waiters.splice(i, 1);
    });
    const next = <T extends FromChild['type']>(type: T): Promise<Extract<FromChild, { type: T }>> =>
      new Promise((resolve) => waiters.push((m) => (m.type === type ? (resolve(m as Extract<FromChild, { type: T }>), true) : false)));
    const send = (m: ToChild): void => void child.send(m);
    await next('ready');

    let id = 0;
    const measure = async (until: Promise<unknown>): Promise<{ seconds: number; lag: Extract<FromChild, { type: 'lag' }>; latencies: number[]; unanswered: number }> => {
      probe.latencies = [];
      probe.outstanding.clear();
      const t0 = performance.now();
      send({ type: 'lag' }); // resets the child's histogram
      await next('lag');
      const timer = setInterval(() => {
        id += 1;
        probe.outstanding.set(id, performance.now());
        send({ type: 'call', id, method: 'status.get', params: {} });
      }, PROBE_MS);
      await until;
      clearInterval(timer);
      send({ type: 'lag' });
      // An engine frozen for the whole window does not answer this either: give it a minute.
      const frozen: Extract<FromChild, { type: 'lag' }> = { type: 'lag', p50: NaN, p99: NaN, max: NaN, over100: NaN };
      const lag = await Promise.race([next('lag'), new Promise<typeof frozen>((r) => setTimeout(() => r(frozen), 60_000).unref())]);
      // Calls still unanswered at the end count with their age so far (a frozen engine answers none).
      const now = performance.now();
      const unanswered = probe.outstanding.size;
      const latencies = [...probe.latencies, ...[...probe.outstanding.values()].map((sent) => now - sent)].sort((a, b) => a - b);
      return { seconds: (now - t0) / 1000, lag, latencies, unanswered };
    };

    const idle = await measure(new Promise((r) => setTimeout(r, IDLE_S * 1000)));
    const settled = next('idle');
    send({ type: 'add-root', path: path.join(dir, 'library') });
    let windowTimer: NodeJS.Timeout | undefined;
    let reachedIdle = false;
    const indexing = await measure(
      Promise.race([settled.then(() => (reachedIdle = true)), new Promise((r) => (windowTimer = setTimeout(r, windowS * 1000)))]),
    );
    clearTimeout(windowTimer);

    console.log('');
    console.log(`status.get sent every ${PROBE_MS} ms from another process (not waiting for answers); loop delay from monitorEventLoopDelay in the engine (10 ms resolution).`);
    console.log(`Indexing window: ${reachedIdle ? 'until idle' : `first ${windowS} s (not idle yet)`}.`);
    console.log('');
    console.log('| engine | window (s) | loop delay p50 / p99 / max (ms) | stalls > 100 ms | status.get p50 / p99 / max (ms) | answers > 1 s | max vs idle |');
    console.log('|---|---:|---:|---:|---:|---:|---:|');
    const row = (name: string, r: typeof idle): string =>
      `| ${name} | ${r.seconds.toFixed(0)} | ${r.lag.p50.toFixed(0)} / ${r.lag.p99.toFixed(0)} / ${r.lag.max.toFixed(0)} | ${r.lag.over100} | ${percentile(r.latencies, 50).toFixed(0)} / ${percentile(r.latencies, 99).toFixed(0)} / ${(r.latencies.at(-1) ?? 0).toFixed(0)} | ${r.latencies.filter((l) => l > 1000).length} of ${r.latencies.length} |`;
    console.log(`${row('idle', idle)} 1.0 |`);
    console.log(`${row('indexing the heavy files', indexing)} ${((indexing.latencies.at(-1) ?? 0) / Math.max(1, idle.latencies.at(-1) ?? 1)).toFixed(1)} |`);
    send({ type: 'close' });
    await Promise.race([new Promise((r) => child.once('exit', r)), new Promise((r) => setTimeout(r, 60_000).unref())]);
    child.kill('SIGKILL'); // a frozen engine does not close; its data folder is read as it is

    // Where each file got to in the window (read from the closed engine's database).
    const db = new Database(path.join(dir, 'data', 'trove.db'), { readonly: true, fileMustExist: true });
    const rows = db
      .prepare<{ name: string; status: string; error: string | null; items: number; staged: number; note: string | null }>(
        `SELECT name, status, error, (SELECT count(*) FROM items i WHERE i.file_id = files.id) AS items,
           (SELECT count(*) FROM staged_items s WHERE s.file_id = files.id AND s.codes IS NOT NULL) AS staged, json_extract(metadata_json, '$.note') AS note FROM files ORDER BY name`,
      )
      .all();
    db.close();
    console.log('');
    console.log('| file | status at the end of the window | items (staged vectors) | reason or note |');
    console.log('|---|---|---:|---|');
    for (const r of rows) console.log(`| ${r.name} | ${r.status} | ${r.items} (${r.staged}) | ${(r.error ?? r.note ?? '').slice(0, 160)} |`);
  } finally {
    engine?.kill();
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') await child(process.argv[3]!, process.argv[4]!);
else await main();
