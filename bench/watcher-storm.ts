// Watcher storms at scale (issue 5, item 7): the real engine (`openTroveEngine`, `watch: true`,
// no embedding model, so keyword-only: this measures the library and store path, not a model)
// goes through four storms per size N: copy N files in (small notes + tiny PNGs, in new folders),
// rename the top folder, delete every second file, move a quarter of the folders to a second
// root. Per phase: wall time until the index equals the folders (every file on disk indexed once
// under its path and root, nothing else), ms per file, event-loop lag (a 20 ms setInterval probe:
// how late it fires, i.e. how long the UI's API calls would wait), and `status.get` / `search.run`
// answered while the storm runs (one issued while files are still pending is reported on its own).
// Baselines in the same run: a cold `scanRoot` over the same files, and a fresh engine without a
// watcher indexing the already-copied folder (`roots.add` until idle: the same extraction and
// store work, no events).
//
// Run: node --import tsx bench/watcher-storm.ts [--sizes 1000,5000,10000] [--phase-limit-s 900]
import { mkdir, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { dispatchApiCall } from '../electron/contract/common/trove-api.ts';
import type { Status } from '../electron/contract/common/entities.ts';
import { openTroveEngine } from '../electron/engine/app/node/trove-engine.ts';
import type { TroveEngine } from '../electron/engine/app/node/trove-engine-types.ts';
import { openReader, type Db } from '../electron/engine/store/node/database.ts';
import { dataDirLayout } from '../electron/engine/store/node/data-dir.ts';
import { scanRoot } from '../electron/engine/library/node/scanner.ts';
import { copyTree, filesOnDisk } from '../scripts/fixtures/file-tree.ts';

process.env.TROVE_EP = 'cpu';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}
const SIZES = arg('sizes', '1000,5000,10000').split(',').map(Number);
/** A phase that has not converged by then is reported as such (the pre-fix code could take that long). */
const PHASE_LIMIT_MS = Number(arg('phase-limit-s', '900')) * 1000;
/** Writes a V8 CPU profile of every storm phase into this folder (open in Chrome DevTools). */
const PROFILE_DIR = arg('profile-dir', '');
const FILES_PER_FOLDER = 250;
/** One file in ten is a PNG, the rest markdown notes. */
const IMAGE_SHARE = 0.1;
const WORDS = ['harbour', 'lantern', 'meadow', 'glacier', 'orchard', 'canyon', 'violin', 'comet', 'pepper', 'falcon', 'quartz', 'tundra'];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const call = <T>(engine: TroveEngine, method: string, params: unknown) => dispatchApiCall(engine.handlers, method, params) as Promise<T>;

async function buildSource(source: string, n: number): Promise<void> {
  const images = Math.round(n * IMAGE_SHARE);
  const notes = n - images;
  for (let start = 0; start < notes; start += FILES_PER_FOLDER) {
    const folder = path.join(source, `notes-${String(start / FILES_PER_FOLDER).padStart(3, '0')}`);
    await mkdir(folder, { recursive: true });
    const count = Math.min(FILES_PER_FOLDER, notes - start);
    await Promise.all(
      Array.from({ length: count }, (_, i) => {
        const k = start + i;
        const words = [WORDS[k % 12], WORDS[(k * 7 + 3) % 12], WORDS[(k * 5 + 1) % 12]].join(' ');
        return writeFile(path.join(folder, `note-${k}.md`), `# Note ${k}\n\nA note about the ${words} (number ${k}).\n`);
      }),
    );
  }
  for (let start = 0; start < images; start += FILES_PER_FOLDER) {
    const folder = path.join(source, `photos-${String(start / FILES_PER_FOLDER).padStart(3, '0')}`);
    await mkdir(folder, { recursive: true });
    const count = Math.min(FILES_PER_FOLDER, images - start);
    for (let i = 0; i < count; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, count - i) }, (_, j) => {
          const k = start + i + j;
          // 8×8 RGB whose first pixels spell k: distinct bytes, so distinct fingerprints.
          const pixels = Buffer.alloc(8 * 8 * 3, (k * 37) % 256);
          pixels.writeUInt32BE(k, 0);
          return sharp(pixels, { raw: { width: 8, height: 8, channels: 3 } }).png().toFile(path.join(folder, `photo-${k}.png`));
        }),
      );
    }
  }
}

/** Late firings of a 20 ms timer: the time any API call would have waited for the event loop. */
function lagProbe(): { stop: () => number[] } {
  const lags: number[] = [];
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    lags.push(Math.max(0, now - last - 20));
    last = now;
  }, 20);
  return {
    stop: () => {
      clearInterval(timer);
      return lags;
    },
  };
}

interface ApiReport {
  statusMs: number[];
  searchMs: number[];
  /** A status.get answered while files were still pending (mid-storm), and its latency. */
  midStorm: { ms: number; pending: number } | null;
}

function apiProbe(engine: TroveEngine): { stop: () => Promise<ApiReport> } {
  const report: ApiReport = { statusMs: [], searchMs: [], midStorm: null };
  let running = true;
  const loop = (async () => {
    while (running) {
      let t = performance.now();
      const status = await call<Status>(engine, 'status.get', {});
      const ms = performance.now() - t;
      report.statusMs.push(ms);
      if (report.midStorm === null && status.files.pending > 0) report.midStorm = { ms, pending: status.files.pending };
      t = performance.now();
      await call(engine, 'search.run', { text: 'glacier lantern', rerank: false });
      report.searchMs.push(performance.now() - t);
      await sleep(200);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return report;
    },
  };
}

function indexState(db: Db): { key: string; files: number; maxFileId: number; maxItemId: number } {
  const rows = db.prepare("SELECT f.path || '\t' || r.path || '\t' || f.status AS k FROM files f JOIN roots r ON r.id = f.root_id ORDER BY f.path").pluck().all() as string[];
  const maxFileId = (db.prepare('SELECT coalesce(max(id), 0) FROM files').pluck().get() as number) ?? 0;
  const maxItemId = (db.prepare('SELECT coalesce(max(id), 0) FROM items').pluck().get() as number) ?? 0;
  return { key: rows.join('\n'), files: rows.length, maxFileId, maxItemId };
}

async function expectedKey(roots: readonly string[]): Promise<string> {
  const rows: string[] = [];
  for (const root of roots) for (const f of await filesOnDisk(root)) rows.push(`${f}\t${root}\tindexed`);
  // Same order as SQLite's ORDER BY path (binary collation = byte order; the paths are ASCII).
  return rows.sort((a, b) => (a.split('\t')[0]! < b.split('\t')[0]! ? -1 : 1)).join('\n');
}

/** Polls until the index equals the folders and the engine is idle; ms from `t0`, or null past the limit. */
async function converge(engine: TroveEngine, db: Db, roots: readonly string[], t0: number): Promise<number | null> {
  const want = await expectedKey(roots);
  for (;;) {
    if (indexState(db).key === want) {
      await engine.idle();
      if (indexState(db).key === want) return performance.now() - t0;
    }
    if (performance.now() - t0 > PHASE_LIMIT_MS) return null;
    await sleep(100);
  }
}

const quantile = (values: number[], q: number): number => {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
};
const f0 = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : '—');
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '—');

/** Profiles until the returned function is called with the file to write. */
async function startProfile(): Promise<(file: string) => Promise<void>> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return async (file) => {
    const { profile } = await session.post('Profiler.stop');
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, JSON.stringify(profile));
    session.disconnect();
  };
}

async function staticIndex(dataDir: string, folder: string): Promise<number> {
  const engine = await openTroveEngine({ dataDir, embeddingModel: null, watch: false });
  try {
    const t = performance.now();
    await call(engine, 'roots.add', { path: folder });
    await engine.idle();
    return performance.now() - t;
  } finally {
    await engine.close();
  }
}

async function runSize(dir: string, n: number, rows: string[]): Promise<void> {
  const source = path.join(dir, `source-${n}`);
  await buildSource(source, n);
  const row = (r: (string | number)[]) => {
    const line = `| ${r.join(' | ')} |`;
    rows.push(line);
    console.log(line);
  };

  // Baselines: a cold-ish scan (page cache warm from writing), and static indexing of the same files.
  const t = performance.now();
  let scanned = 0;
  for await (const _ of scanRoot(source)) scanned += 1;
  const scanMs = performance.now() - t;
  row([n, 'baseline: scanRoot', scanned, f2(scanMs / 1000), f2(scanMs / scanned), '—', '—', '—', '—', '—']);
  const staticMs = await staticIndex(path.join(dir, `data-static-${n}`), source);
  row([n, 'baseline: index the folder, no watcher', n, f2(staticMs / 1000), f2(staticMs / n), '—', '—', '—', '—', '—']);

  const rootA = path.join(dir, `a-${n}`);
  const rootB = path.join(dir, `b-${n}`);
  await mkdir(rootA, { recursive: true });
  await mkdir(path.join(rootB, 'existing'), { recursive: true });
  await writeFile(path.join(rootB, 'existing', 'readme.md'), 'The second root starts with one note.\n');
  const dataDir = path.join(dir, `data-${n}`);
  const engine = await openTroveEngine({ dataDir, embeddingModel: null, watch: true });
  const db = openReader(dataDirLayout(dataDir).database);
  try {
    await call(engine, 'roots.add', { path: rootA });
    await call(engine, 'roots.add', { path: rootB });
    await converge(engine, db, [rootA, rootB], performance.now());

    const phase = async (name: string, files: number, act: () => Promise<void>, keepsItems: boolean): Promise<boolean> => {
      const before = indexState(db);
      const lag = lagProbe();
      const api = apiProbe(engine);
      const profiler = PROFILE_DIR ? await startProfile() : null;
      const t0 = performance.now();
      await act();
      const ms = await converge(engine, db, [rootA, rootB], t0);
      await profiler?.(path.join(PROFILE_DIR, `storm-${n}-${name.replace(/\W+/g, '-')}.cpuprofile`));
      const lags = lag.stop();
      const report = await api.stop();
      const after = indexState(db);
      // Moves and renames keep every row: no new file or item ids (nothing extracted or embedded again).
      const newItems = after.maxItemId - before.maxItemId;
      const mid = report.midStorm ? `${f0(report.midStorm.ms)} (${report.midStorm.pending} pending)` : '—';
      row([
        n,
        name,
        files,
        ms === null ? `> ${PHASE_LIMIT_MS / 1000} (not converged)` : f2(ms / 1000),
        ms === null ? '—' : f2(ms / files),
        `${f0(quantile(lags, 0.99))} / ${f0(Math.max(...lags))}`,
        `${f0(quantile(report.statusMs, 0.5))} / ${f0(Math.max(...report.statusMs))}`,
        `${f0(quantile(report.searchMs, 0.5))} / ${f0(Math.max(...report.searchMs))}`,
        mid,
        keepsItems ? String(newItems) : '—',
      ]);
      if (ms !== null && keepsItems && newItems !== 0) console.log(`  !! ${name}: ${newItems} items were extracted again`);
      return ms !== null;
    };

    if (!(await phase('copy in', n, () => copyTree(source, path.join(rootA, 'inbox')), false))) return;
    if (!(await phase('rename top folder', n, () => rename(path.join(rootA, 'inbox'), path.join(rootA, 'archive')), true))) return;
    const all = (await filesOnDisk(path.join(rootA, 'archive'))).sort();
    const doomed = all.filter((_, i) => i % 2 === 0);
    const deleted = async () => {
      for (let i = 0; i < doomed.length; i += 200) await Promise.all(doomed.slice(i, i + 200).map((f) => rm(f)));
    };
    if (!(await phase('delete half', doomed.length, deleted, false))) return;
    const folders = (await readdir(path.join(rootA, 'archive'))).sort();
    const movedFolders = folders.filter((_, i) => i % 4 === 0);
    const movedFiles = (await Promise.all(movedFolders.map((f) => filesOnDisk(path.join(rootA, 'archive', f))))).flat().length;
    await mkdir(path.join(rootB, 'from-a'), { recursive: true });
    await phase(
      'move folders to 2nd root',
      movedFiles,
      async () => {
        for (const f of movedFolders) await rename(path.join(rootA, 'archive', f), path.join(rootB, 'from-a', f));
      },
      true,
    );
  } finally {
    db.close();
    await engine.close();
  }
}

export async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'trove-bench-storm-'));
  const rows: string[] = [];
  try {
    console.log(`watcher storms, keyword-only engine; sizes ${SIZES.join(', ')}; ${Math.round(IMAGE_SHARE * 100)} % tiny PNGs, the rest small notes, ${FILES_PER_FOLDER} per folder`);
    console.log('| N | phase | files | wall s | ms/file | loop lag p99 / max ms | status.get p50 / max ms | search.run p50 / max ms | status.get mid-storm ms | new items |');
    console.log('|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const n of SIZES) await runSize(dir, n, rows);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
