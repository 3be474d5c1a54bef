// Peak memory of indexing folders, measured as the system sees it (issue 13): the engine runs in a
// child process with an embedding package, and this process samples the resident memory of the
// child's whole process tree (the engine's thread, its worker threads — model, extraction, ANN —
// and any ffmpeg children) every SAMPLE_MS from /proc. The baseline is the same engine idle with
// its model loaded and warmed by one tiny input, so "peak over idle" is what the files cost.
// Used by bench/memory-peak.ts and test/engine/app/memory-bound.test.ts. Linux only (/proc).
//
// Run as a child: node --import tsx scripts/memory/indexing-memory.ts --child <data-dir> <model-dir> <root>…
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const SAMPLE_MS = 25;
const PAGE_BYTES = 4096;

/** Resident bytes of `pid` and every process below it (threads are inside their process). */
export function processTreeRss(pid: number): number {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // The command name may hold spaces and parentheses: fields start after the last ')'.
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(parent) ?? [];
      list.push(Number(name));
      children.set(parent, list);
    } catch {
      // The process ended while we looked.
    }
  }
  let total = 0;
  const todo = [pid];
  while (todo.length) {
    const p = todo.pop()!;
    try {
      total += Number(readFileSync(`/proc/${p}/statm`, 'utf8').split(' ')[1]) * PAGE_BYTES;
    } catch {
      continue;
    }
    todo.push(...(children.get(p) ?? []));
  }
  return total;
}

export interface IndexingMemory {
  /** Tree RSS of the idle engine with its model loaded and warmed. */
  readonly idleBytes: number;
  /** Highest tree RSS sampled while the roots were indexed. */
  readonly peakBytes: number;
  /** The engine process's own peak as the kernel counted it (maxRSS; threads included, children not). */
  readonly engineMaxRssBytes: number;
  readonly seconds: number;
  readonly files: { indexed: number; failed: number; total: number };
}

export interface MeasureOptions {
  readonly dataDir: string;
  readonly modelDir: string;
  readonly roots: readonly string[];
  /** Extra environment for the engine (MALLOC_ARENA_MAX, TROVE_* switches). */
  readonly env?: NodeJS.ProcessEnv;
}

type ChildMessage = { type: 'ready' } | { type: 'done'; maxRss: number; seconds: number; files: IndexingMemory['files'] };

/** Indexes `roots` in a child engine and reports its memory. */
export function measureIndexingMemory(options: MeasureOptions): Promise<IndexingMemory> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', options.dataDir, options.modelDir, ...options.roots], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...process.env, TROVE_EP: 'cpu', ...options.env },
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  child.stdout!.resume();
  return new Promise((resolve, reject) => {
    let idle = 0;
    let peak = 0;
    let timer: NodeJS.Timeout | undefined;
    let result: IndexingMemory | undefined;
    child.on('message', (m: ChildMessage) => {
      if (m.type === 'ready') {
        idle = processTreeRss(child.pid!);
        peak = idle;
        timer = setInterval(() => (peak = Math.max(peak, processTreeRss(child.pid!))), SAMPLE_MS);
        child.send({ type: 'index' });
      } else {
        clearInterval(timer);
        peak = Math.max(peak, processTreeRss(child.pid!));
        result = { idleBytes: idle, peakBytes: peak, engineMaxRssBytes: m.maxRss, seconds: m.seconds, files: m.files };
        child.send({ type: 'exit' });
      }
    });
    // Resolved once the engine has closed, so that its data folder may be removed.
    child.on('exit', (code) => {
      clearInterval(timer);
      if (code === 0 && result) resolve(result);
      else reject(new Error(`the indexing child exited with code ${code}${result ? ' while closing' : ''}: ${stderr}`));
    });
  });
}

async function runChild(dataDir: string, modelDir: string, roots: string[]): Promise<void> {
  const [{ openTroveEngine }, { dispatchApiCall }, { writeFile, mkdtemp, rm }, os, path] = await Promise.all([
    import('../../electron/engine/app/node/trove-engine.ts'),
    import('../../electron/contract/common/trove-api.ts'),
    import('node:fs/promises'),
    import('node:os'),
    import('node:path'),
  ]);
  const send = (m: ChildMessage): void => void process.send!(m);
  const engine = await openTroveEngine({ dataDir, embeddingModel: modelDir, watch: false });
  // Warm-up: one small note, so the model's runtime and an extraction worker exist before the baseline.
  const warm = await mkdtemp(path.join(os.tmpdir(), 'trove-memory-warm-'));
  await writeFile(path.join(warm, 'warm.md'), '# Warm-up\n\nA note that loads the model.\n');
  const warmRoot = (await dispatchApiCall(engine.handlers, 'roots.add', { path: warm })) as { id: number };
  await engine.idle();
  await dispatchApiCall(engine.handlers, 'roots.remove', { id: warmRoot.id });
  await rm(warm, { recursive: true, force: true });
  process.on('message', async (m: { type: string }) => {
    if (m.type === 'exit') {
      await engine.close();
      process.exit(0);
    }
    if (m.type !== 'index') return;
    const started = performance.now();
    for (const root of roots) await dispatchApiCall(engine.handlers, 'roots.add', { path: root });
    await engine.idle();
    const status = (await dispatchApiCall(engine.handlers, 'status.get', {})) as { files: { indexed: number; failed: number; total: number } };
    send({ type: 'done', maxRss: process.resourceUsage().maxRSS * 1024, seconds: (performance.now() - started) / 1000, files: { indexed: status.files.indexed, failed: status.files.failed, total: status.files.total } });
  });
  send({ type: 'ready' });
}

if (process.argv[2] === '--child') await runChild(process.argv[3]!, process.argv[4]!, process.argv.slice(5));
