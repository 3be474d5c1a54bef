// The counts the store keeps by trigger (migration 4: files by root/kind/status, items, vectors per
// model) equal a full recount after any sequence of operations, the migration fills them from an
// existing database, and the 'vectors-complete-model' mark (which lets the start skip its O(files)
// check) is dropped whenever a file becomes indexed without the model's vectors. After a kill:
// kill-safety.test.ts checks the same recount (consistencyProblems) after every SIGKILL.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Store } from '../../../electron/engine/store/node/store.ts';
import { FILE_KINDS, type FileKind } from '../../../electron/contract/common/entities.ts';
import { FILE_LACKS_VECTORS } from '../../../electron/engine/store/node/files-repo.ts';
import { migrate, MIGRATIONS } from '../../../electron/engine/store/node/migrations.ts';
import type { IndexedItem } from '../../../electron/engine/store/node/indexed-file-writer.ts';
import { keptCountProblems, randomInt8Vector, seededRandom, tempDir } from './store-fixtures.ts';

const DIMS = 16;

function lacking(store: Store, modelId: number): number {
  return store.db.prepare(`SELECT count(*) FROM files WHERE status = 'indexed' AND (${FILE_LACKS_VECTORS})`).pluck().get(modelId, modelId) as number;
}

function mark(store: Store): number | undefined {
  return store.db.prepare(`SELECT value FROM store_flags WHERE key = 'vectors-complete-model'`).pluck().get() as number | undefined;
}

describe('kept counts', () => {
  it('equal a full recount after 1,500 random operations, and counts() reads them', () => {
    const { dir, cleanup } = tempDir('counts');
    const store = Store.open(path.join(dir, 'data'));
    try {
      const rand = seededRandom(14);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
      const models = [1, 2].map((i) => store.vectors.ensureModel({ name: `m${i}`, packagePath: `/m${i}`, manifestSha: `sha-${i}`, dims: DIMS }).id);
      const roots = [store.roots.add({ path: '/r0' }).id];
      let n = 0;
      const fileIds = () => store.db.prepare('SELECT id FROM files').pluck().all() as number[];
      const items = (kind: FileKind, withVectors: boolean): IndexedItem[] =>
        Array.from({ length: Math.floor(rand() * 4) }, (_, i) => ({
          kind: kind === 'image' ? 'image' : kind === 'pdf' ? 'page' : kind === 'video' ? 'moment' : 'text',
          locator: kind === 'text' || kind === 'document' ? { type: 'text', start: i, end: i + 1, snippet: '' } : kind === 'pdf' ? { type: 'page', page: i + 1 } : kind === 'video' ? { type: 'time', start: i, end: i + 1 } : { type: 'whole' },
          text: `word ${i}`,
          date: i,
          vector: withVectors ? randomInt8Vector(DIMS, rand) : null,
        }));
      for (let op = 0; op < 1500; op++) {
        const r = rand();
        const ids = fileIds();
        const someFile = ids.length ? pick(ids) : null;
        if (r < 0.25 || someFile === null) {
          n++;
          const kind = pick(FILE_KINDS);
          store.files.upsertScanned({ rootId: pick(roots), path: `/r/${n}.${kind}`, size: n, mtimeMs: n, kind, fingerprint: `fp${n}`, refusal: rand() < 0.05 ? 'too large' : null });
        } else if (r < 0.45) {
          const f = store.files.get(someFile)!;
          const model = rand() < 0.8 ? pick(models) : null;
          store.commitIndexedFile({ fileId: f.id, modelId: model, items: items(f.kind, model !== null) });
        } else if (r < 0.52) {
          const f = store.files.get(someFile)!;
          store.files.upsertScanned({ rootId: f.rootId, path: f.path, size: f.size + 1, mtimeMs: f.mtimeMs, kind: rand() < 0.2 ? pick(FILE_KINDS) : f.kind });
        } else if (r < 0.6) {
          store.files.markStatus(someFile, pick(['pending', 'extracted', 'embedded'] as const));
        } else if (r < 0.66) {
          store.files.markFailed(someFile, 'it broke', { retryAtStart: rand() < 0.5 });
        } else if (r < 0.72) {
          store.files.move(someFile, `/moved/${someFile}-${op}`, { rootId: pick(roots) });
        } else if (r < 0.8) {
          store.forgetLabels(store.files.remove(someFile));
        } else if (r < 0.83) {
          store.vectors.deleteByFile(someFile);
        } else if (r < 0.86) {
          store.staging.stageExtracted(someFile, store.files.get(someFile)!.fingerprint ?? 'x', []);
        } else if (r < 0.89) {
          store.files.retryFailed();
          store.files.requeueRetryableFailures();
        } else if (r < 0.92) {
          store.files.requeueWithoutVectors(pick(models));
        } else if (r < 0.95) {
          roots.push(store.roots.add({ path: `/r${op}` }).id);
        } else if (r < 0.97 && roots.length > 1) {
          const gone = roots.splice(Math.floor(rand() * roots.length), 1)[0]!;
          store.forgetLabels(store.roots.remove(gone));
        } else if (r < 0.975) {
          const m = models.shift()!;
          store.dropModel(m);
          models.push(store.vectors.ensureModel({ name: `m${op}`, packagePath: `/m${op}`, manifestSha: `sha-${op}`, dims: DIMS }).id);
        } else {
          // A vector stored again for an item that has one (a re-embed): replaced, not added.
          const item = store.db.prepare('SELECT item_id FROM vectors ORDER BY random() LIMIT 1').pluck().get() as number | undefined;
          if (item !== undefined) store.db.transaction(() => store.vectors.put(pick(models), item, randomInt8Vector(DIMS, rand)))();
        }
        if (op % 50 === 49) {
          assert.deepEqual(keptCountProblems(store.db), [], `after operation ${op + 1}`);
          // The mark promises the start's check would find nothing to requeue.
          const marked = mark(store);
          if (marked !== undefined) assert.equal(lacking(store, marked), 0, `model ${marked} is marked complete after operation ${op + 1}`);
        }
      }
      assert.deepEqual(keptCountProblems(store.db), []);
      // counts() and countsByRoot() are the kept rows, added up as the API shows them.
      const recount = store.db.prepare<{ status: string; n: number }>('SELECT status, count(*) AS n FROM files GROUP BY status').all();
      const by = (s: string) => recount.find((r) => r.status === s)?.n ?? 0;
      assert.deepEqual(store.files.counts().files, {
        total: recount.reduce((a, r) => a + r.n, 0),
        indexed: by('indexed'),
        failed: by('failed'),
        pending: by('pending') + by('extracted') + by('embedded'),
      });
      const perRoot = store.db.prepare<{ root_id: number; n: number }>('SELECT root_id, count(*) AS n FROM files GROUP BY root_id').all();
      assert.deepEqual(
        [...store.files.countsByRoot()].map(([rootId, c]) => [rootId, c.total]).sort((a, b) => a[0]! - b[0]!),
        perRoot.map((r) => [r.root_id, r.n]),
      );
      assert.equal(store.items.count(), store.db.prepare('SELECT count(*) FROM items').pluck().get());
      for (const m of models) assert.equal(store.vectors.count(m), store.db.prepare('SELECT count(*) FROM vectors WHERE model_id = ?').pluck().get(m));
    } finally {
      store.close();
      cleanup();
    }
  });

  it('are filled by the migration from a database that had rows before it', () => {
    const { dir, cleanup } = tempDir('counts-migration');
    try {
      const db = new Database(path.join(dir, 'old.db'));
      db.pragma('foreign_keys = ON');
      migrate(db, MIGRATIONS.filter((m) => m.version <= 3));
      db.exec(`INSERT INTO roots (id, path, added_at) VALUES (1, '/a', 0), (2, '/b', 0);
        INSERT INTO files (id, root_id, path, name, size, mtime_ms, kind, status, updated_at) VALUES
          (1, 1, '/a/1.jpg', '1.jpg', 1, 1, 'image', 'indexed', 0), (2, 1, '/a/2.jpg', '2.jpg', 1, 1, 'image', 'pending', 0),
          (3, 2, '/b/3.txt', '3.txt', 1, 1, 'text', 'indexed', 0);
        INSERT INTO items (id, file_id, ordinal, kind, locator_json, date) VALUES (1, 1, 0, 'image', '{"type":"whole"}', 0), (2, 3, 0, 'text', '{"type":"whole"}', 0);
        INSERT INTO models (id, name, package_path, manifest_sha, dims, next_ann_label, added_at) VALUES (1, 'm', '/m', 's', 2, 2, 0);
        INSERT INTO vectors (item_id, model_id, dims, codes, scale, ann_label) VALUES (1, 1, 2, x'0102', 1, 0), (2, 1, 2, x'0102', 1, 1);`);
      assert.deepEqual(migrate(db), { from: 3, to: MIGRATIONS[MIGRATIONS.length - 1]!.version });
      assert.deepEqual(keptCountProblems(db), []);
      assert.deepEqual(db.prepare('SELECT root_id, kind, status, n FROM file_counts ORDER BY 1, 2, 3').raw().all(), [
        [1, 'image', 'indexed', 1],
        [1, 'image', 'pending', 1],
        [2, 'text', 'indexed', 1],
      ]);
      db.close();
    } finally {
      cleanup();
    }
  });

  it('the vectors-complete mark skips the start check until a file is indexed without vectors', () => {
    const { dir, cleanup } = tempDir('counts-mark');
    const store = Store.open(path.join(dir, 'data'));
    try {
      const rand = seededRandom(3);
      const model = store.vectors.ensureModel({ name: 'm', packagePath: '/m', manifestSha: 's', dims: DIMS }).id;
      const root = store.roots.add({ path: '/p' }).id;
      const file = (name: string) => store.files.upsertScanned({ rootId: root, path: `/p/${name}`, size: 1, mtimeMs: 1, kind: 'image', fingerprint: name }).file.id;
      const image = (vector: boolean): IndexedItem => ({ kind: 'image', locator: { type: 'whole' }, date: 0, vector: vector ? randomInt8Vector(DIMS, rand) : null });
      const a = file('a.jpg');
      const b = file('b.jpg');
      store.commitIndexedFile({ fileId: a, modelId: model, items: [image(true)] });
      store.commitIndexedFile({ fileId: b, modelId: model, items: [image(true)] });
      assert.equal(mark(store), undefined);
      assert.equal(store.files.requeueWithoutVectors(model), 0);
      assert.equal(mark(store), model, 'a full check that found nothing marks the model complete');

      // Removing a file (its vectors go by cascade) keeps the mark; indexing one without vectors drops it.
      store.forgetLabels(store.files.remove(a));
      assert.equal(mark(store), model);
      const c = file('c.jpg');
      store.commitIndexedFile({ fileId: c, modelId: null, items: [image(false)] });
      assert.equal(mark(store), undefined);
      assert.equal(store.files.requeueWithoutVectors(model), 1);
      assert.equal(store.files.get(c)!.status, 'pending');
      assert.equal(mark(store), model);

      // A vector deleted while its item stays drops it too.
      store.vectors.deleteByFile(b);
      assert.equal(mark(store), undefined);
      assert.equal(store.files.requeueWithoutVectors(model), 1);
      assert.equal(store.files.get(b)!.status, 'pending');
      // Another model: the check runs for it.
      const other = store.vectors.ensureModel({ name: 'o', packagePath: '/o', manifestSha: 'o', dims: DIMS }).id;
      store.commitIndexedFile({ fileId: b, modelId: model, items: [image(true)] });
      assert.equal(store.files.requeueWithoutVectors(other), 1);
      assert.equal(mark(store), other);
    } finally {
      store.close();
      cleanup();
    }
  });
});
