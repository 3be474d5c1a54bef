// The ANN index class (what each ANN worker owns) against a real SQLite store: search, deletes,
// persistence, and the start-up check that catches up, repairs or rebuilds whenever the saved file
// and SQLite disagree. Run here on the test's thread; ann-worker.test.ts covers the workers.
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { AnnIndex, DEFAULT_ANN_PARAMS, type AnnParams } from '../../../electron/engine/store/node/ann-index.ts';
import { Store } from '../../../electron/engine/store/node/store.ts';
import { dequantise, randomInt8Vector, seededRandom, tempDir } from './store-fixtures.ts';

const DIMS = 64;
const PARAMS: Partial<AnnParams> = { prefix: 32, m: 16, efConstruction: 100, ef: 64 };

describe('ANN index', () => {
  let dir: string;
  let cleanup: () => void;
  let store: Store;
  let modelId: number;
  let rootId: number;
  const rand = seededRandom(11);
  let fileNo = 0;
  /** The index the test holds open: commits below add to it, as the store's workers would. */
  let open: AnnIndex | null = null;

  function openAnn(params: Partial<AnnParams> = PARAMS): AnnIndex {
    open = AnnIndex.open({ dir: path.join(dir, 'ann'), modelId, dims: DIMS, source: store.vectors, params });
    return open;
  }

  /** What Store.saveAnn asks of each worker: compact past the threshold, then save. */
  function saveAnn(): void {
    if (!open) return;
    if (open.needsCompaction) open.compact();
    if (open.dirty) open.save();
  }

  beforeEach(() => {
    const t = tempDir('ann');
    dir = path.join(t.dir, 'data');
    cleanup = t.cleanup;
    open = null;
    store = Store.open(dir);
    modelId = store.vectors.ensureModel({ name: 'tiny', packagePath: '/m', manifestSha: 'sha', dims: DIMS }).id;
    rootId = store.roots.add({ path: path.join(t.dir, 'root') }).id;
  });
  afterEach(() => {
    store.close();
    cleanup();
  });

  /** Indexes `n` one-item files; returns their ids, labels and vectors. */
  function addFiles(n: number) {
    const out: Array<{ fileId: number; label: number; query: Float32Array }> = [];
    for (let i = 0; i < n; i++) {
      const f = store.files.upsertScanned({ rootId, path: `/r/f${fileNo++}.jpg`, size: 1, mtimeMs: 1, kind: 'image' }).file;
      const vector = randomInt8Vector(DIMS, rand);
      const w = store.commitIndexedFile({ fileId: f.id, modelId, items: [{ kind: 'image', locator: { type: 'whole' }, date: 0, vector }] });
      open?.add(w.added.map((a) => ({ label: a.label, values: a.vector.codes })));
      out.push({ fileId: f.id, label: w.added[0]!.label, query: dequantise(vector) });
    }
    return out;
  }

  function reopen(): AnnIndex {
    saveAnn();
    open = null;
    store.close();
    store = Store.open(dir);
    return openAnn();
  }

  function closeWithoutSaving(): void {
    open = null;
    store.close();
    store = Store.open(dir);
  }

  function annFile(): string {
    const meta = JSON.parse(readFileSync(path.join(dir, 'ann', `ann-${modelId}.json`), 'utf8')) as { file: string };
    return path.join(dir, 'ann', meta.file);
  }

  it('finds a stored vector first, forgets it after markDelete, and keeps count = live rows', () => {
    const ann = openAnn();
    assert.equal(ann.openReport.action, 'rebuilt');
    const files = addFiles(300);
    assert.equal(ann.count, 300);
    for (const f of files.slice(0, 20)) {
      const [top] = ann.search(f.query, 5);
      assert.equal(top!.label, f.label);
      assert.ok(top!.similarity > 0.99, `self-similarity ${top!.similarity}`);
    }
    const victim = files[3]!;
    ann.markDelete(store.files.remove(victim.fileId).get(modelId)!);
    assert.equal(ann.count, 299);
    assert.equal(store.vectors.count(modelId), 299);
    assert.ok(!ann.search(victim.query, 10).some((h) => h.label === victim.label));
    assert.equal(ann.markDelete([victim.label]), 0, 'deleting twice is harmless');
  });

  it('filters in JS by over-fetching until k hits pass', () => {
    const ann = openAnn();
    const files = addFiles(400);
    const keep = (label: number) => label % 10 === 3;
    const hits = ann.search(files[0]!.query, 15, { filter: keep });
    assert.equal(hits.length, 15);
    assert.ok(hits.every((h) => keep(h.label)));
    for (let i = 1; i < hits.length; i++) assert.ok(hits[i - 1]!.similarity >= hits[i]!.similarity);
    assert.equal(ann.search(files[0]!.query, 5, { filter: () => false }).length, 0);
  });

  it('grows past its initial capacity', () => {
    const ann = openAnn();
    const before = ann.capacity;
    addFiles(before + 10);
    assert.ok(ann.capacity > before);
    assert.equal(ann.count, before + 10);
  });

  it('saves and reopens to the same index without rebuilding', () => {
    const ann = openAnn();
    const files = addFiles(200);
    ann.markDelete(store.files.remove(files[0]!.fileId).get(modelId)!);
    const q = files[5]!.query;
    const expected = ann.search(q, 10);
    const again = reopen();
    assert.equal(again.openReport.action, 'loaded', again.openReport.reason);
    assert.equal(again.count, 199);
    assert.equal(again.deleted, 1);
    assert.deepEqual(again.search(q, 10), expected);
    assert.equal(readdirSync(path.join(dir, 'ann')).filter((n) => n.endsWith('.bin')).length, 1, 'older index files are removed');
  });

  it('catches up with vectors committed after the last save', () => {
    openAnn();
    addFiles(100);
    saveAnn();
    // Committed behind the index's back (as if killed before the next save).
    closeWithoutSaving();
    const late = addFiles(30);
    const ann = reopen();
    assert.equal(ann.openReport.action, 'caught-up', ann.openReport.reason);
    assert.equal(ann.openReport.added, 30);
    assert.equal(ann.count, 130);
    assert.equal(ann.search(late[7]!.query, 1)[0]!.label, late[7]!.label);
  });

  it('repairs when rows were deleted (and added) behind its back', () => {
    openAnn();
    const files = addFiles(100);
    saveAnn();
    closeWithoutSaving();
    // Without an ANN open: the delete is not marked in the index.
    store.files.remove(files[10]!.fileId);
    store.db.prepare('DELETE FROM files WHERE id = ?').run(files[11]!.fileId);
    const late = addFiles(5);
    const ann = reopen();
    assert.equal(ann.openReport.action, 'repaired', ann.openReport.reason);
    assert.equal(ann.count, store.vectors.count(modelId));
    assert.equal(ann.count, 103);
    assert.ok(!ann.search(files[10]!.query, 10).some((h) => h.label === files[10]!.label));
    assert.equal(ann.search(late[2]!.query, 1)[0]!.label, late[2]!.label);
  });

  for (const [name, damage] of [
    ['truncated', (file: string) => writeFileSync(file, readFileSync(file).subarray(0, 1000))],
    ['corrupted', (file: string) => {
      const b = readFileSync(file);
      b[Math.floor(b.length / 2)]! ^= 0xff;
      writeFileSync(file, b);
    }],
    ['missing', (file: string) => rmSync(file)],
  ] as const) {
    it(`rebuilds from SQLite when the index file is ${name}`, () => {
      openAnn();
      const files = addFiles(120);
      saveAnn();
      closeWithoutSaving();
      damage(annFile());
      const ann = openAnn();
      assert.equal(ann.openReport.action, 'rebuilt');
      assert.match(ann.openReport.reason, /hash|missing/);
      assert.equal(ann.count, 120);
      assert.equal(ann.search(files[50]!.query, 1)[0]!.label, files[50]!.label);
    });
  }

  it('rebuilds when the meta is unreadable or made with other parameters', () => {
    openAnn();
    addFiles(50);
    saveAnn();
    closeWithoutSaving();
    writeFileSync(path.join(dir, 'ann', `ann-${modelId}.json`), '{ not json');
    assert.equal(openAnn().openReport.action, 'rebuilt');
    closeWithoutSaving();
    const wider = openAnn({ ...PARAMS, prefix: 48 });
    assert.equal(wider.openReport.action, 'rebuilt');
    assert.match(wider.openReport.reason, /prefix 32, wanted 48/);
    assert.equal(wider.count, 50);
  });

  it('compacts once deletions pass the threshold, on save and when opened', () => {
    const ann = openAnn();
    const files = addFiles(100);
    for (const f of files.slice(0, 10)) ann.markDelete(store.files.remove(f.fileId).get(modelId)!);
    assert.equal(ann.needsCompaction, false, '10 % is under the threshold');
    for (const f of files.slice(10, 20)) ann.markDelete(store.files.remove(f.fileId).get(modelId)!);
    assert.equal(ann.needsCompaction, true);
    saveAnn();
    assert.equal(ann.deleted, 0);
    assert.equal(ann.count, 80);
    assert.equal(reopen().openReport.action, 'loaded');
  });
});

describe('ANN defaults', () => {
  it('clamp the prefix to a small model and use the measured M, efConstruction and ef', () => {
    const { dir, cleanup } = tempDir('ann-defaults');
    const store = Store.open(dir);
    try {
      const small = store.vectors.ensureModel({ name: 'tiny', packagePath: '/m', manifestSha: 'small', dims: 48 });
      assert.deepEqual(AnnIndex.create({ dir, modelId: small.id, dims: 48, source: store.vectors }).params, { ...DEFAULT_ANN_PARAMS, prefix: 48 });
      const big = store.vectors.ensureModel({ name: '2b', packagePath: '/m2', manifestSha: 'big', dims: 2048 });
      assert.deepEqual(AnnIndex.create({ dir, modelId: big.id, dims: 2048, source: store.vectors }).params, DEFAULT_ANN_PARAMS);
      assert.throws(() => AnnIndex.open({ dir, modelId: big.id, dims: 2048, source: store.vectors, params: { prefix: 4096 } }), /prefix must be an integer from 1 to the model's 2048/);
    } finally {
      store.close();
      cleanup();
    }
  });
});
