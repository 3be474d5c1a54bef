// Watcher storms (issue 5, item 7) on the real engine: real chokidar, real SQLite, the tiny
// embedding package in its worker, `watch: true`. Four storms run one after another on one engine:
// copying a library in, renaming the folder that holds it, deleting half of it, moving part of it
// to a second root. After each the engine is left to settle and the index must equal the folders:
// every file on disk indexed once under its path and root, nothing else, one vector per item, the
// ANN index holding exactly the vector rows. Moves and renames must embed nothing (counted through
// the model-call hook and through the store's never-reused ANN labels). While a storm runs, probes
// keep asking `status.get` and `search.run`: each must answer at all (liveness, bounded at 10 s so
// a stuck engine fails the test instead of hanging it), and some `status.get` must be answered
// while the storm is half applied (files still pending, or the index part-way between the state
// before and after). That is progress, not time: an engine that applied a storm as one blocking
// task could not answer in between. Latencies are reported, not asserted.
//
// Size: 1,500 notes in 60 new folders + 100 images (1,600 files, about a minute on the 2-core CI
// machine, most of it the tiny model embedding the copy). TROVE_STORM_SCALE=1 runs a tenth of it
// (quick), larger values more; the 10,000-file storms without a model are bench/watcher-storm.ts.
// Until the watcher fix (docs/store.md, "Watcher storms") a 3,200-file copy had indexed only ~380
// files after two minutes: the watcher re-walked the whole new folder on every added file.
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { dispatchApiCall } from '../../../electron/contract/common/trove-api.ts';
import type { SearchResponse, Status } from '../../../electron/contract/common/entities.ts';
import { openTroveEngine } from '../../../electron/engine/app/node/trove-engine.ts';
import type { TroveEngine } from '../../../electron/engine/app/node/trove-engine-types.ts';
import { openReader, type Db } from '../../../electron/engine/store/node/database.ts';
import { dataDirLayout } from '../../../electron/engine/store/node/data-dir.ts';
import { buildTinyPackage } from '../../support/tiny-package.ts';
import { copyTree, filesOnDisk } from '../../../scripts/fixtures/file-tree.ts';

process.env.TROVE_EP = 'cpu';

const SCALE = Math.max(1, Number(process.env.TROVE_STORM_SCALE ?? 10));
const NOTE_FOLDERS = 6 * SCALE;
const NOTES_PER_FOLDER = 25;
const IMAGES = 10 * SCALE;
const STORM_FILES = NOTE_FOLDERS * NOTES_PER_FOLDER + IMAGES;
/** Longer than the watcher's move window (2 s) plus its batch and write-stable delays. */
const QUIET_MS = 3000;
/** Liveness bound for one API call during a storm: far above any healthy answer, short of a hang. */
const ANSWER_BOUND_MS = 10_000;
const SETTLE_BOUND_MS = 180_000;

const WORDS = ['harbour', 'lantern', 'meadow', 'glacier', 'orchard', 'canyon', 'violin', 'comet', 'pepper', 'falcon', 'quartz', 'tundra'];

let dir = '';
let embeddingPackage = '';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const call = <T>(engine: TroveEngine, method: string, params: unknown) => dispatchApiCall(engine.handlers, method, params) as Promise<T>;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'trove-storms-'));
  ({ packageDir: embeddingPackage } = await buildTinyPackage(dir, 'embedding'));
});
after(() => rm(dir, { recursive: true, force: true }));

/** The library to copy in, built outside the roots so the storm itself is only the copy. */
async function buildSource(source: string): Promise<void> {
  for (let f = 0; f < NOTE_FOLDERS; f++) {
    const folder = path.join(source, `batch-${String(f).padStart(2, '0')}`);
    await mkdir(folder, { recursive: true });
    await Promise.all(
      Array.from({ length: NOTES_PER_FOLDER }, (_, i) => {
        const n = f * NOTES_PER_FOLDER + i;
        const words = [WORDS[n % WORDS.length], WORDS[(n * 7 + 3) % WORDS.length], WORDS[(n * 5 + 1) % WORDS.length]].join(' ');
        // Distinct bytes per note, so every file has its own fingerprint (moves pair unambiguously).
        return writeFile(path.join(folder, `note-${n}.md`), `# Note ${n}\n\nA note about the ${words} (number ${n}).\n`);
      }),
    );
  }
  const photos = path.join(source, 'photos');
  await mkdir(photos, { recursive: true });
  await Promise.all(
    Array.from({ length: IMAGES }, (_, i) => {
      const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="48" height="32"><rect width="48" height="32" fill="rgb(${(i * 37) % 256},${(i * 91) % 256},${(i * 53) % 256})"/>
        <rect x="${i % 40}" y="${(i * 3) % 24}" width="8" height="8" fill="#fff"/></svg>`;
      return sharp(Buffer.from(svg)).png().toFile(path.join(photos, `photo-${i}.png`));
    }),
  );
}

/** Everything the index holds about files, read through a read-only connection (WAL: no locking). */
function indexSnapshot(db: Db) {
  const files = db.prepare('SELECT f.path, f.status, r.path AS root FROM files f JOIN roots r ON r.id = f.root_id ORDER BY f.path').all() as { path: string; status: string; root: string }[];
  const items = (db.prepare('SELECT count(*) AS n FROM items').get() as { n: number }).n;
  const filesWithoutItems = (db.prepare('SELECT count(*) AS n FROM files f WHERE NOT EXISTS (SELECT 1 FROM items i WHERE i.file_id = f.id)').get() as { n: number }).n;
  const vectors = (db.prepare('SELECT count(*) AS n FROM vectors').get() as { n: number }).n;
  // Labels are never reused, so the high-water mark rises exactly when a new vector is written.
  const nextLabel = (db.prepare('SELECT coalesce(max(next_ann_label), 0) AS n FROM models').get() as { n: number }).n;
  return { files, items, filesWithoutItems, vectors, nextLabel, key: files.map((f) => `${f.path}\t${f.status}`).join('\n') };
}

/** Idle, and then nothing changed in the index for QUIET_MS (the watcher may still hold events). */
async function settle(engine: TroveEngine, db: Db): Promise<number> {
  const started = Date.now();
  let last = '';
  for (;;) {
    assert.ok(Date.now() - started < SETTLE_BOUND_MS, `the engine did not settle within ${SETTLE_BOUND_MS / 1000} s`);
    await engine.idle();
    const key = indexSnapshot(db).key;
    if (key === last) return Date.now() - started;
    last = key;
    await sleep(QUIET_MS);
  }
}

async function assertIndexEqualsDisk(engine: TroveEngine, db: Db, roots: readonly string[], what: string): Promise<ReturnType<typeof indexSnapshot>> {
  const snapshot = indexSnapshot(db);
  const disk = new Map<string, string>();
  for (const root of roots) for (const file of await filesOnDisk(root)) disk.set(file, root);
  const indexed = snapshot.files.map((f) => f.path);
  assert.equal(new Set(indexed).size, indexed.length, `${what}: a path is indexed twice`);
  const missing = [...disk.keys()].filter((p) => !indexed.includes(p));
  const extra = indexed.filter((p) => !disk.has(p));
  assert.deepEqual({ missing: missing.slice(0, 5), extra: extra.slice(0, 5), counts: [missing.length, extra.length] }, { missing: [], extra: [], counts: [0, 0] }, `${what}: index and folders differ`);
  for (const f of snapshot.files) {
    assert.equal(f.root, disk.get(f.path), `${what}: ${f.path} is filed under the wrong root`);
    assert.equal(f.status, 'indexed', `${what}: ${f.path} is ${f.status}`);
  }
  assert.equal(snapshot.filesWithoutItems, 0, `${what}: indexed files without items`);
  assert.equal(snapshot.vectors, snapshot.items, `${what}: every item has one vector`);
  const status = await call<Status>(engine, 'status.get', {});
  assert.equal(status.ann.count, status.vectors, `${what}: the ANN index holds exactly the vector rows`);
  assert.equal(status.vectors, snapshot.vectors);
  assert.equal(status.files.total, disk.size);
  return snapshot;
}

interface ProbeReport {
  statusMs: number[];
  searchMs: number[];
  searches: number;
  /** Index signatures seen right after each status.get answered, and whether files were pending then. */
  answeredAt: { signature: string; pending: number }[];
}

/**
 * A cheap summary of the index that changes with every kind of storm step: a file added or removed
 * (count), renamed (path lengths), moved to another root (root ids), indexed (statuses).
 */
function indexSignature(db: Db): string {
  const r = db.prepare("SELECT count(*) AS n, total(length(path)) AS len, total(root_id) AS roots, total(status = 'indexed') AS done FROM files").get() as Record<string, number>;
  return `${r.n}/${r.len}/${r.roots}/${r.done}`;
}

/**
 * Asks status.get every 10 ms and search.run every 100 ms, until stopped; every call must answer.
 * Two loops, so a slow search (it embeds its query) does not thin out the status answers.
 */
function startProbe(engine: TroveEngine, db: Db): { stop: () => Promise<ProbeReport> } {
  const report: ProbeReport = { statusMs: [], searchMs: [], searches: 0, answeredAt: [] };
  let running = true;
  const timed = async <T,>(what: string, work: () => Promise<T>): Promise<{ ms: number; value: T }> => {
    const t0 = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ANSWER_BOUND_MS / 1000} s during a storm`)), ANSWER_BOUND_MS);
    });
    try {
      const value = await Promise.race([work(), bound]);
      return { ms: performance.now() - t0, value };
    } finally {
      clearTimeout(timer);
    }
  };
  const statusLoop = (async () => {
    while (running) {
      const { ms, value } = await timed('status.get', () => call<Status>(engine, 'status.get', {}));
      report.statusMs.push(ms);
      report.answeredAt.push({ signature: indexSignature(db), pending: value.files.pending });
      await sleep(10);
    }
  })();
  const searchLoop = (async () => {
    while (running) {
      report.searches += 1; // counted before the call: its query embedding happens inside it
      report.searchMs.push((await timed('search.run', () => call<SearchResponse>(engine, 'search.run', { text: 'glacier lantern', rerank: false }))).ms);
      await sleep(100);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await Promise.all([statusLoop, searchLoop]);
      return report;
    },
  };
}

const quantile = (values: number[], q: number): number => {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
};
const describe = (ms: number[]): string => `n=${ms.length} p50=${quantile(ms, 0.5).toFixed(0)} ms p95=${quantile(ms, 0.95).toFixed(0)} ms max=${Math.max(...ms).toFixed(0)} ms`;

test('watcher storms: copy in, folder rename, delete half, move between roots', { timeout: 600_000 }, async (t: TestContext) => {
  const source = path.join(dir, 'source');
  const rootA = path.join(dir, 'lib-a');
  const rootB = path.join(dir, 'lib-b');
  await buildSource(source);
  await mkdir(rootA, { recursive: true });
  await mkdir(path.join(rootB, 'existing'), { recursive: true });
  await writeFile(path.join(rootB, 'existing', 'readme.md'), 'The second root starts with one note.\n');

  let embeddedInputs = 0;
  const engine = await openTroveEngine(
    { dataDir: path.join(dir, 'data'), embeddingModel: embeddingPackage, watch: true },
    { observeModelCalls: (kind, inputs) => void (kind === 'embed' && (embeddedInputs += inputs)) },
  );
  let progressEvents = 0;
  engine.on('indexing.progress', () => void (progressEvents += 1));
  let db: Db | null = null;
  try {
    await call(engine, 'roots.add', { path: rootA });
    await call(engine, 'roots.add', { path: rootB });
    await settle(engine, (db = openReader(dataDirLayout(path.join(dir, 'data')).database)));
    await assertIndexEqualsDisk(engine, db, [rootA, rootB], 'before the storms');

    /** Runs one storm with the probe on, settles, and returns what the indexer embedded meanwhile. */
    const storm = async (name: string, files: number, act: () => Promise<void>) => {
      const embeddedBefore = embeddedInputs;
      const labelsBefore = indexSnapshot(db!).nextLabel;
      const eventsBefore = progressEvents;
      const signatureBefore = indexSignature(db!);
      const probe = startProbe(engine, db!);
      const t0 = Date.now();
      await act();
      const settledMs = await settle(engine, db!);
      const report = await probe.stop();
      const signatureAfter = indexSignature(db!);
      const midStorm = report.answeredAt.filter((a) => a.pending > 0 || (a.signature !== signatureBefore && a.signature !== signatureAfter)).length;
      const events = progressEvents - eventsBefore;
      const indexEmbeds = embeddedInputs - embeddedBefore - report.searches; // each probe search embeds its one query
      const newVectors = indexSnapshot(db!).nextLabel - labelsBefore;
      t.diagnostic(
        `${name}: ${files} files, settled ${((Date.now() - t0) / 1000).toFixed(1)} s (last ${(settledMs / 1000).toFixed(1)} s waiting); ` +
          `status.get ${describe(report.statusMs)}; search.run ${describe(report.searchMs)}; indexing.progress events ${events}; ` +
          `inputs embedded ${indexEmbeds}, new vectors ${newVectors}; status.get answers with the storm half applied ${midStorm}`,
      );
      assert.ok(report.statusMs.length > 0 && report.searchMs.length > 0, `${name}: the probe got answers during the storm`);
      assert.notEqual(signatureAfter, signatureBefore, `${name}: the storm changed the index`);
      assert.ok(midStorm > 0, `${name}: no status.get was answered while the storm was half applied (${report.answeredAt.length} answers, all before or after it)`);
      return { files, indexEmbeds, newVectors, events, seconds: (Date.now() - t0) / 1000 };
    };

    // 1. Copy the library in: every file in new folders at once.
    const copied = await storm('copy in', STORM_FILES, () => copyTree(source, path.join(rootA, 'inbox')));
    const afterCopy = await assertIndexEqualsDisk(engine, db, [rootA, rootB], 'after copying in');
    assert.equal(afterCopy.files.length, STORM_FILES + 1);
    assert.equal(copied.indexEmbeds, copied.newVectors, 'every embedded input became one stored vector (nothing embedded twice)');
    assert.equal(copied.newVectors, afterCopy.vectors - 1, 'one vector per new item');
    // Coalesced: the engine sends at most 4 progress events a second however many files change; the
    // bound counts events against the storm's own length (slack for the timer's edges), not speed.
    assert.ok(copied.events > 0, 'progress events were sent');
    assert.ok(copied.events <= 4 * (copied.seconds + 1) + 2, `indexing.progress is coalesced: ${copied.events} events in ${copied.seconds.toFixed(1)} s for ${STORM_FILES} files`);

    // 2. Rename the folder holding all of them: every file moves, nothing is embedded.
    const renamed = await storm('folder rename', STORM_FILES, () => rename(path.join(rootA, 'inbox'), path.join(rootA, 'archive')));
    const afterRename = await assertIndexEqualsDisk(engine, db, [rootA, rootB], 'after the folder rename');
    assert.equal(afterRename.files.length, STORM_FILES + 1);
    assert.ok(afterRename.files.every((f) => !f.path.includes(`${path.sep}inbox${path.sep}`)));
    assert.deepEqual([renamed.indexEmbeds, renamed.newVectors], [0, 0], 'a folder rename embeds nothing');

    // 3. Delete every second file.
    const all = (await filesOnDisk(path.join(rootA, 'archive'))).sort();
    const doomed = all.filter((_, i) => i % 2 === 0);
    const deleted = await storm('delete half', doomed.length, async () => {
      for (let i = 0; i < doomed.length; i += 200) await Promise.all(doomed.slice(i, i + 200).map((f) => rm(f)));
    });
    const afterDelete = await assertIndexEqualsDisk(engine, db, [rootA, rootB], 'after deleting half');
    assert.equal(afterDelete.files.length, all.length - doomed.length + 1);
    assert.deepEqual([deleted.indexEmbeds, deleted.newVectors], [0, 0], 'deleting embeds nothing');

    // 4. Move part of the library to the other root (every fourth folder, the photos, single
    // files), and one file back.
    const movedFolders = [...(await readdir(path.join(rootA, 'archive'))).filter((f) => f.startsWith('batch-')).sort().filter((_, i) => i % 4 === 0), 'photos'];
    const movedCount = (await Promise.all(movedFolders.map((f) => filesOnDisk(path.join(rootA, 'archive', f))))).flat().length;
    const looseNotes = (await filesOnDisk(path.join(rootA, 'archive', 'batch-05'))).slice(0, 5); // batch-05 stays (5 % 4 ≠ 0)
    const moved = await storm('move between roots', movedCount + looseNotes.length + 1, async () => {
      await mkdir(path.join(rootB, 'from-a'), { recursive: true });
      for (const f of movedFolders) await rename(path.join(rootA, 'archive', f), path.join(rootB, 'from-a', f));
      for (const f of looseNotes) await rename(f, path.join(rootB, 'existing', path.basename(f)));
      await rename(path.join(rootB, 'existing', 'readme.md'), path.join(rootA, 'readme-from-b.md'));
    });
    const afterMove = await assertIndexEqualsDisk(engine, db, [rootA, rootB], 'after moving between roots');
    assert.equal(afterMove.files.length, afterDelete.files.length);
    // A move between roots arrives as a removal in one root's watcher and an addition in the
    // other's; library sync pairs them by fingerprint, so nothing is embedded again.
    assert.deepEqual([moved.indexEmbeds, moved.newVectors], [0, 0], `moving ${moved.files} files to another root embedded ${moved.indexEmbeds} inputs`);
  } finally {
    db?.close();
    await engine.close();
  }
});
