// The start reconcile of a big root (issue 14, point 2): at every start each root is scanned and its
// files reconciled with the store. At a million files the previous code read every row of the root
// in one query and planned in one synchronous pass: one long stall of the engine's thread. Now the
// rows are read a page per turn of the event loop and the plan's passes are paced.
//
// Data (cached under --cache, built once): a store of N file rows under one root (1,000 folders),
// no items. The directory walk is faked (a real million-file tree takes too long to create here):
// it yields the same files folder by folder, one turn of the event loop per folder as readdir
// gives, with 0.1 % of the files gone and as many new ones, so the plan removes and adds a few.
// Each run works on a fresh copy of the cached store.
//
// Measured on the engine's thread, in one run: its event-loop delay while idle (a status-like call
// every 20 ms: file counts and a path lookup), the stall of the previous path (every row read in
// one query + the plan in one go, on the same data), and the event-loop delay while LibrarySync
// reconciles the root now, with the same calls every 20 ms.
//
// Run: node --import tsx bench/store-reconcile.ts [--n 1000000] [--cache DIR]
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { LibrarySync } from '../electron/engine/app/node/library-sync.ts';
import { reconcile, type ScannedEntry } from '../electron/engine/library/common/reconcile.ts';
import type { ScannedFile } from '../electron/engine/library/node/scanner.ts';
import { fingerprintFile } from '../electron/engine/library/node/fingerprint.ts';
import { Store } from '../electron/engine/store/node/store.ts';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const N = arg('n', 1_000_000);
const cacheAt = process.argv.indexOf('--cache');
const CACHE = cacheAt >= 0 ? process.argv[cacheAt + 1]! : path.join(tmpdir(), `trove-bench-reconcile-${N}`);
const FOLDERS = 1000;
const ROOT = '/bench/library';

const fmt = (x: number, digits = 1): string => x.toFixed(digits);
const fileOf = (i: number): { path: string; size: number; mtimeMs: number } => ({ path: `${ROOT}/d${String(i % FOLDERS).padStart(3, '0')}/f-${i}.jpg`, size: 1000 + i, mtimeMs: i });
/** 0.1 % of the stored files are gone from the disk, and as many new ones appeared. */
const gone = (i: number): boolean => i % 1000 === 7;

function ensureStore(): void {
  const ready = path.join(CACHE, 'ready.json');
  if (existsSync(ready) && JSON.parse(readFileSync(ready, 'utf8')).n === N) return;
  rmSync(CACHE, { recursive: true, force: true });
  mkdirSync(CACHE, { recursive: true });
  const t0 = performance.now();
  const store = Store.open(path.join(CACHE, 'data'));
  try {
    const root = store.roots.add({ path: ROOT });
    const insert = store.db.prepare(`INSERT INTO files (root_id, path, name, size, mtime_ms, fingerprint, kind, status, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'image', 'indexed', 0)`);
    for (let start = 0; start < N; start += 20_000) {
      store.db.transaction(() => {
        for (let i = start; i < Math.min(N, start + 20_000); i++) {
          const f = fileOf(i);
          insert.run(root.id, f.path, path.basename(f.path), f.size, f.mtimeMs, `fp${i}`);
        }
      })();
    }
  } finally {
    store.close();
  }
  writeFileSync(ready, JSON.stringify({ n: N, builtInS: Math.round((performance.now() - t0) / 1000) }));
}

/** The disk as the fake walk sees it, folder by folder (files in name order within a folder, as the scanner gives them). */
function* diskFolders(): Generator<ScannedFile[]> {
  const perFolder = Math.ceil(N / FOLDERS);
  for (let d = 0; d < FOLDERS; d++) {
    const files: ScannedFile[] = [];
    for (let k = 0; k < perFolder; k++) {
      const i = k * FOLDERS + d;
      if (i >= N) break;
      const f = fileOf(i);
      if (!gone(i)) files.push({ ...f, relativePath: f.path.slice(ROOT.length + 1), kind: 'image' });
      if (gone(i)) {
        const added = `${ROOT}/d${String(d).padStart(3, '0')}/new-${i}.jpg`;
        files.push({ path: added, relativePath: added.slice(ROOT.length + 1), size: 7, mtimeMs: 7, kind: 'image' });
      }
    }
    files.sort((a, b) => (a.path < b.path ? -1 : 1));
    yield files;
  }
}

/** A walk of that disk: one turn of the event loop per folder (readdir), then its files. */
async function* fakeWalk(): AsyncGenerator<ScannedFile> {
  for (const files of diskFolders()) {
    await new Promise((resolve) => setImmediate(resolve));
    yield* files;
  }
}

interface Lag {
  p50: number;
  p99: number;
  max: number;
  calls: number;
  slowestCall: number;
}

/** The engine thread's event-loop delay while `work` runs, with a status-like call every 20 ms. */
async function lagDuring(store: Store, work: () => Promise<void>): Promise<Lag> {
  const h = monitorEventLoopDelay({ resolution: 5 });
  h.enable();
  let last = performance.now();
  let worst = 0;
  let calls = 0;
  let slowestCall = 0;
  const tick = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last - 20);
    last = now;
    const t = performance.now();
    store.files.counts();
    store.files.byPath(fileOf(calls % N).path);
    slowestCall = Math.max(slowestCall, performance.now() - t);
    calls += 1;
  }, 20);
  try {
    await work();
  } finally {
    clearInterval(tick);
    h.disable();
  }
  return { p50: h.percentile(50) / 1e6, p99: h.percentile(99) / 1e6, max: Math.max(h.max / 1e6, worst), calls, slowestCall };
}

async function main(): Promise<void> {
  const started = performance.now();
  ensureStore();
  const work = path.join(CACHE, 'work');
  rmSync(work, { recursive: true, force: true });
  cpSync(path.join(CACHE, 'data'), work, { recursive: true });
  const store = Store.open(work);
  const rows: string[][] = [];
  try {
    const root = store.roots.list()[0]!;
    console.log(`${N} files under one root (${FOLDERS} folders); the walk is faked; ${N / 1000} gone and as many new`);

    const idle = await lagDuring(store, () => new Promise((resolve) => setTimeout(resolve, 10_000)));
    rows.push(['idle engine (a status-like call every 20 ms)', `p50 ${fmt(idle.p50)}, p99 ${fmt(idle.p99)}, max ${fmt(idle.max)} ms`, `${idle.calls} calls, slowest ${fmt(idle.slowestCall)} ms`]);

    // Before: every row of the root in one query, then the plan in one go (no pauses), on this thread.
    {
      const scanned: ScannedEntry[] = [];
      for await (const f of fakeWalk()) scanned.push({ path: f.path, size: f.size, mtimeMs: f.mtimeMs, kind: f.kind });
      const t0 = performance.now();
      const stored = store.db
        .prepare<{ id: number; path: string; size: number; mtime_ms: number; fingerprint: string | null }>(
          'SELECT id, path, size, mtime_ms, fingerprint, status FROM files WHERE root_id = ? ORDER BY path',
        )
        .all(root.id)
        .map((r) => ({ id: r.id, path: r.path, size: r.size, mtimeMs: r.mtime_ms, fingerprint: r.fingerprint }));
      const read = performance.now() - t0;
      const plan = await reconcile(stored, scanned, fingerprintFile, { sliceMs: Infinity });
      const total = performance.now() - t0;
      rows.push([
        'before: the rows in one query, the plan in one pass',
        `one stall of ${fmt(total)} ms (read ${fmt(read)} ms, plan ${fmt(total - read)} ms)`,
        `plan: ${plan.unchanged} unchanged, ${plan.removed.length} removed, ${plan.added.length} added`,
      ]);
    }

    // Now: LibrarySync's start reconcile of the root, as the engine runs it.
    {
      let pending = 0;
      const sync = new LibrarySync({
        store,
        watch: false,
        onPending: () => (pending += 1),
        onRemoved: () => undefined,
        onRootsChanged: () => undefined,
        onScanState: () => undefined,
        scanRoot: () => fakeWalk(),
      });
      const t0 = performance.now();
      const lag = await lagDuring(store, async () => {
        sync.attach(root);
        while (sync.scanning || pending === 0) await new Promise((resolve) => setTimeout(resolve, 50));
      });
      const total = performance.now() - t0;
      await sync.close();
      const counts = store.files.counts().files;
      rows.push([
        `now: paged rows, paced plan, sliced writes (${fmt(total / 1000)} s walk to last write)`,
        `p50 ${fmt(lag.p50)}, p99 ${fmt(lag.p99)}, max ${fmt(lag.max)} ms`,
        `${lag.calls} calls answered, slowest ${fmt(lag.slowestCall)} ms; ${counts.total} files after (${counts.pending} new pending)`,
      ]);
    }
  } finally {
    store.close();
    rmSync(work, { recursive: true, force: true });
  }
  console.log('\n| what | engine event loop | notes |\n|---|---|---|');
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
  console.log(`\ntotal ${fmt((performance.now() - started) / 1000, 0)} s`);
}

await main();
