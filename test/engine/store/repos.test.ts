// Repositories on a real SQLite file: round trips, moves, cascades, keyword search, the commit
// transaction, counts and the staging journal.
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Store } from '../../../electron/engine/store/node/store.ts';
import { writeIndexedFile, StaleFileError, type IndexedItem } from '../../../electron/engine/store/node/indexed-file-writer.ts';
import { toFtsQuery } from '../../../electron/engine/store/node/items-repo.ts';
import { consistencyProblems, randomInt8Vector, seededRandom, tempDir } from './store-fixtures.ts';

const DIMS = 64;

describe('store repositories', () => {
  let store: Store;
  let cleanup: () => void;
  let rootPath: string;
  const rand = seededRandom(7);

  beforeEach(() => {
    const t = tempDir('repos');
    cleanup = t.cleanup;
    store = Store.open(path.join(t.dir, 'data'));
    rootPath = path.join(t.dir, 'Photos');
  });
  afterEach(() => {
    store.close();
    cleanup();
  });

  function model() {
    return store.vectors.ensureModel({ name: 'tiny', packagePath: '/models/tiny', manifestSha: 'abc', dims: DIMS });
  }

  function imageItem(date = 1000): IndexedItem {
    return {
      kind: 'image',
      locator: { type: 'whole' },
      date,
      thumbnail: { mime: 'image/webp', width: 4, height: 3, bytes: new Uint8Array([1, 2, 3]) },
      vector: randomInt8Vector(DIMS, rand),
    };
  }

  function addFile(name: string, kind: 'image' | 'text' = 'image', fingerprint = `fp-${name}`) {
    const root = store.roots.byPath(rootPath) ?? store.roots.add({ path: rootPath, include: ['**/*'], exclude: ['**/.git'] });
    return store.files.upsertScanned({ rootId: root.id, path: path.join(rootPath, name), size: 10, mtimeMs: 5, kind, fingerprint }).file;
  }

  it('roots: add, list, patterns, present, containing, duplicate refused', () => {
    const r = store.roots.add({ path: rootPath, include: ['*.jpg'], exclude: [] }, 42);
    assert.deepEqual(store.roots.list(), [{ id: r.id, path: rootPath, include: ['*.jpg'], exclude: [], present: true, addedAt: 42 }]);
    store.roots.setPresent(r.id, false);
    store.roots.setPatterns(r.id, ['**/*'], ['tmp/**']);
    assert.deepEqual(store.roots.get(r.id), { ...r, present: false, include: ['**/*'], exclude: ['tmp/**'] });
    assert.equal(store.roots.containing(path.join(rootPath, 'a', 'b.jpg'))?.id, r.id);
    assert.equal(store.roots.containing(rootPath + '-other/x.jpg'), null);
    assert.throws(() => store.roots.add({ path: rootPath }), /is already in the library; to index it with other patterns, remove it first/);
    // Relative paths would resolve against the engine's working folder: refused even here, below the API's checks.
    assert.throws(() => store.roots.add({ path: '.' }), /'\.' is not an absolute path/);
    assert.throws(() => store.roots.add({ path: 'photos' }), /'photos' is not an absolute path/);
  });

  it('files: upsert reports new, unchanged and changed; changed goes back to pending', () => {
    const f = addFile('a.jpg');
    assert.equal(f.status, 'pending');
    store.files.markStatus(f.id, 'indexed');
    const same = store.files.upsertScanned({ rootId: f.rootId, path: f.path, size: 10, mtimeMs: 5, kind: 'image' });
    assert.equal(same.change, 'unchanged');
    assert.equal(same.file.status, 'indexed');
    const changed = store.files.upsertScanned({ rootId: f.rootId, path: f.path, size: 11, mtimeMs: 6, kind: 'image', fingerprint: 'new' });
    assert.equal(changed.change, 'changed');
    assert.equal(changed.file.status, 'pending');
    assert.equal(store.files.findByFingerprint('new')[0]!.id, f.id);
    assert.throws(() => store.files.markStatus(f.id, 'failed'), /needs a reason/);
    store.files.markStatus(f.id, 'failed', 'truncated JPEG: the file ends inside the image data', 99);
    assert.deepEqual(store.files.failures(), {
      total: 1,
      failures: [{ fileId: f.id, what: 'file', path: f.path, kind: 'image', reason: 'Truncated JPEG: the file ends inside the image data', at: 99, attempts: 0, files: 1, nextTry: 'on-change' }],
    });
  });

  it('writeIndexedFile stores items, thumbnails, vectors and status; detail and thumbnail read them back', () => {
    const m = model();
    const f = addFile('beach.jpg');
    const w = store.commitIndexedFile({ fileId: f.id, modelId: m.id, fingerprint: 'fp-beach.jpg', items: [imageItem(1234)] });
    assert.equal(w.itemIds.length, 1);
    assert.equal(w.added[0]!.label, 0);
    assert.equal(store.files.get(f.id)!.status, 'indexed');
    const d = store.items.detail(w.itemIds[0]!)!;
    assert.equal(d.path, f.path);
    assert.equal(d.name, 'beach.jpg');
    assert.equal(d.kind, 'image');
    assert.deepEqual(d.locator, { type: 'whole' });
    assert.equal(d.date, 1234);
    assert.deepEqual([...store.items.thumbnail(w.itemIds[0]!)!.bytes], [1, 2, 3]);
    const v = store.vectors.byItemIds(m.id, w.itemIds).get(w.itemIds[0]!)!;
    assert.deepEqual([...v.codes], [...w.added[0]!.vector.codes]);
    assert.equal(v.scale, w.added[0]!.vector.scale);
    assert.equal(store.vectors.byLabels(m.id, [0]).get(0)!.itemId, w.itemIds[0]);
    // Re-indexing replaces items and hands out new labels; the old ones are reported for markDelete.
    const again = store.commitIndexedFile({ fileId: f.id, modelId: m.id, items: [imageItem(), imageItem()] });
    assert.deepEqual(again.removed.get(m.id), [0]);
    assert.deepEqual(again.added.map((a) => a.label), [1, 2]);
    assert.equal(store.items.count(), 2);
    assert.deepEqual(consistencyProblems(store.db), []);
  });

  it('writeIndexedFile is atomic: a failure part-way writes nothing', () => {
    const m = model();
    const f = addFile('a.jpg');
    const before = store.commitIndexedFile({ fileId: f.id, modelId: m.id, items: [imageItem()] });
    const bad: IndexedItem = { ...imageItem(), vector: { codes: new Int8Array(DIMS - 1), scale: 1 } };
    assert.throws(() => store.commitIndexedFile({ fileId: f.id, modelId: m.id, items: [imageItem(), bad] }), /has 64 dimensions but the vector/);
    assert.deepEqual(store.items.idsOfFile(f.id), before.itemIds, 'the previous items are still there');
    assert.equal(store.vectors.count(m.id), 1);
    assert.equal(store.vectors.stats(m.id).maxLabel, 0);
    assert.equal(store.db.prepare('SELECT next_ann_label FROM models').pluck().get(), 1, 'the label counter rolled back too');
    assert.deepEqual(consistencyProblems(store.db), []);
  });

  it('writeIndexedFile refuses work done on an older version of the file', () => {
    const m = model();
    const f = addFile('a.jpg', 'image', 'v2');
    assert.throws(() => writeIndexedFile(store.db, { fileId: f.id, modelId: m.id, fingerprint: 'v1', items: [imageItem()] }), StaleFileError);
    assert.equal(store.items.count(), 0);
    store.files.remove(f.id);
    assert.throws(() => writeIndexedFile(store.db, { fileId: f.id, modelId: m.id, items: [imageItem()] }), /removed while it was being indexed/);
  });

  it('move changes the path and keyword rows but keeps items, vectors and labels', () => {
    const m = model();
    const f = addFile('holiday.jpg');
    const w = store.commitIndexedFile({ fileId: f.id, modelId: m.id, items: [imageItem()] });
    const moved = store.files.move(f.id, path.join(rootPath, 'sorted', 'sunset.jpg'));
    assert.equal(moved.id, f.id);
    assert.equal(moved.name, 'sunset.jpg');
    assert.deepEqual(store.items.idsOfFile(f.id), w.itemIds);
    assert.equal(store.vectors.byItemIds(m.id, w.itemIds).get(w.itemIds[0]!)!.label, w.added[0]!.label);
    assert.equal(store.items.searchKeywords('holiday').length, 0);
    assert.deepEqual(store.items.searchKeywords('sunset').map((h) => h.itemId), w.itemIds);
    assert.deepEqual(store.items.searchKeywords('sorted').map((h) => h.itemId), w.itemIds, 'folder names in the path are searchable');
    const other = addFile('other.jpg');
    assert.throws(() => store.files.move(other.id, moved.path), /is recorded at that path/);
  });

  it('removing a file or a root cascades to items, thumbnails, vectors and keyword rows', () => {
    const m = model();
    const a = addFile('a.jpg');
    const b = addFile('b.jpg');
    const wa = store.commitIndexedFile({ fileId: a.id, modelId: m.id, items: [imageItem(), imageItem()] });
    const wb = store.commitIndexedFile({ fileId: b.id, modelId: m.id, items: [imageItem()] });
    const removed = store.files.remove(a.id);
    assert.deepEqual(removed.get(m.id), wa.added.map((x) => x.label));
    assert.equal(store.items.thumbnail(wa.itemIds[0]!), null);
    assert.equal(store.items.count(), 1);
    assert.equal(store.vectors.count(m.id), 1);
    const root = store.roots.byPath(rootPath)!;
    assert.deepEqual(store.roots.remove(root.id).get(m.id), wb.added.map((x) => x.label));
    for (const t of ['files', 'items', 'thumbnails', 'vectors', 'items_fts']) {
      assert.equal(store.db.prepare(`SELECT count(*) FROM ${t}`).pluck().get(), 0, `${t} is empty`);
    }
    assert.deepEqual(consistencyProblems(store.db), []);
  });

  it('keyword search finds a file name word and text, with a snippet, bm25 order and filters', () => {
    const f1 = addFile('Café receipts 2023.md', 'text');
    const f2 = addFile('notes.md', 'text');
    const f3 = addFile('IMG_0042.jpg');
    store.commitIndexedFile({
      fileId: f1.id,
      items: [{ kind: 'text', locator: { type: 'text', start: 0, end: 40, snippet: 'x' }, text: 'lunch with Ana at the harbour', date: 100 }],
    });
    const n = store.commitIndexedFile({
      fileId: f2.id,
      items: [
        { kind: 'text', locator: { type: 'text', start: 0, end: 10, snippet: '' }, text: 'the quick brown fox jumps over the lazy dog near the harbour wall', date: 200 },
        { kind: 'text', locator: { type: 'text', start: 10, end: 20, snippet: '' }, text: 'nothing to see', date: 300 },
      ],
    });
    store.commitIndexedFile({ fileId: f3.id, items: [{ kind: 'image', locator: { type: 'whole' }, date: 400 }] });

    // Diacritics folded both ways, prefix match.
    assert.equal(store.items.searchKeywords('cafe')[0]?.itemId, store.items.idsOfFile(f1.id)[0]);
    assert.equal(store.items.searchKeywords('recei').length, 1);
    assert.equal(store.items.searchKeywords('img_0042')[0]?.itemId, store.items.idsOfFile(f3.id)[0]);
    const fox = store.items.searchKeywords('brown fox');
    assert.deepEqual(fox.map((h) => h.itemId), [n.itemIds[0]]);
    assert.match(fox[0]!.snippet, /\[brown\] \[fox\]/);
    const harbour = store.items.searchKeywords('harbour');
    assert.equal(harbour.length, 2);
    assert.ok(harbour[0]!.bm25 <= harbour[1]!.bm25, 'best (most negative bm25) first');
    assert.deepEqual(store.items.searchKeywords('harbour', { filters: { from: 150 } }).map((h) => h.itemId), [n.itemIds[0]]);
    assert.deepEqual(store.items.searchKeywords('harbour', { filters: { kinds: ['image'] } }), []);
    // Query syntax in user text is inert.
    assert.deepEqual(store.items.searchKeywords('harbour -fox:').map((h) => h.itemId), [n.itemIds[0]], "'-' is not negation, ':' not a column filter");
    assert.deepEqual(store.items.searchKeywords('"harbour OR'), [], "OR is a word to match, not an operator");
    assert.equal(toFtsQuery('  ---  '), null);
    assert.equal(toFtsQuery('a"b'), '"a"* "b"*');
    // Summaries and filters for ANN candidates.
    const ids = [...store.items.idsOfFile(f1.id), ...n.itemIds, ...store.items.idsOfFile(f3.id)];
    assert.equal(store.items.summaries(ids).get(n.itemIds[1]!)!.path, f2.path);
    assert.deepEqual([...store.items.passingFilters(ids, { kinds: ['image'] })], store.items.idsOfFile(f3.id));
  });

  it('counts by kind and status treat extracted and embedded as pending', () => {
    const a = addFile('a.jpg');
    const b = addFile('b.jpg');
    const c = addFile('c.md', 'text');
    addFile('d.md', 'text');
    store.files.markStatus(a.id, 'indexed');
    store.files.markStatus(b.id, 'embedded');
    store.files.markStatus(c.id, 'failed', 'not UTF-8 and not Latin-1');
    const counts = store.files.counts();
    assert.deepEqual(counts.files, { total: 4, indexed: 1, failed: 1, pending: 2 });
    assert.deepEqual(counts.byKind.image, { total: 2, indexed: 1, failed: 0, pending: 1 });
    assert.deepEqual(counts.byKind.text, { total: 2, indexed: 0, failed: 1, pending: 1 });
    assert.deepEqual(counts.byKind.video, { total: 0, indexed: 0, failed: 0, pending: 0 });
    assert.deepEqual(store.files.nextInProgress(10).map((f) => f.name), ['b.jpg', 'd.md']);
  });

  it('staging keeps extracted items and per-item vectors until the commit moves them', () => {
    const m = model();
    const f = addFile('doc.pdf', 'image', 'v1');
    const page = (n: number) => ({ kind: 'page' as const, locator: { type: 'page' as const, page: n }, text: `page ${n}`, date: 1 });
    store.staging.stageExtracted(f.id, 'v1', [page(1), page(2)]);
    assert.equal(store.files.get(f.id)!.status, 'extracted');
    store.staging.stageVector(f.id, 0, m.id, randomInt8Vector(DIMS, rand));
    assert.deepEqual(store.staging.load(f.id, 'v1', m.id)!.unembedded, [1]);
    assert.equal(store.files.get(f.id)!.status, 'extracted');
    store.staging.stageVector(f.id, 1, m.id, randomInt8Vector(DIMS, rand));
    assert.equal(store.files.get(f.id)!.status, 'embedded');
    assert.equal(store.staging.load(f.id, 'v2', m.id), null, 'work from another fingerprint is not offered');
    const staged = store.staging.load(f.id, 'v1', m.id)!;
    assert.deepEqual(staged.unembedded, []);
    store.commitIndexedFile({ fileId: f.id, modelId: m.id, fingerprint: 'v1', items: staged.items });
    assert.equal(store.files.get(f.id)!.status, 'indexed');
    assert.equal(store.db.prepare('SELECT count(*) FROM staged_items').pluck().get(), 0);
    assert.equal(store.vectors.count(m.id), 2);
    // A changed file drops its staged work.
    store.staging.stageExtracted(f.id, 'v1', [page(1)]);
    store.files.upsertScanned({ rootId: f.rootId, path: f.path, size: 99, mtimeMs: 9, kind: 'image', fingerprint: 'v3' });
    assert.equal(store.db.prepare('SELECT count(*) FROM staged_items').pluck().get(), 0);
  });
});
