// The ANN index in its worker threads (two shards, as shipped): search falls back honestly while it
// loads, changes made during a background save all arrive (the meta records what the file holds), a compaction
// runs beside the serving index (searches keep answering), a clean close reopens as 'loaded', and
// the search path (prefix 256 + K' = 200 exact rescoring) keeps its recall on a small set.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Store } from '../../../electron/engine/store/node/store.ts';
import { SearchService } from '../../../electron/engine/search/node/search-service.ts';
import type { EngineModels } from '../../../electron/engine/inference/node/engine-models.ts';
import { int8Dot } from '../../../electron/engine/store/node/vector-codec.ts';
import { dequantise, randomInt8Vector, seededRandom, tempDir } from './store-fixtures.ts';

const DIMS = 64;
const PARAMS = { prefix: 32, m: 12, efConstruction: 64, ef: 64 };

function fill(store: Store, modelId: number, n: number, rand: () => number, words = (i: number) => `note ${i}`): Array<{ fileId: number; label: number; query: Float32Array }> {
  const root = store.roots.byPath('/lib') ?? store.roots.add({ path: '/lib' });
  const out: Array<{ fileId: number; label: number; query: Float32Array }> = [];
  store.db.transaction(() => {
    for (let i = 0; i < n; i++) {
      const f = store.files.upsertScanned({ rootId: root.id, path: `/lib/${out.length}-${Math.floor(rand() * 1e9)}.txt`, size: 1, mtimeMs: i, kind: 'text' }).file;
      const vector = randomInt8Vector(DIMS, rand);
      const w = store.commitIndexedFile({ fileId: f.id, modelId, items: [{ kind: 'text', locator: { type: 'whole' }, text: words(i), date: i, vector }] });
      out.push({ fileId: f.id, label: w.added[0]!.label, query: dequantise(vector) });
    }
  })();
  return out;
}

describe('ANN workers', () => {
  it('search falls back to keywords (and says so) until the index has loaded, then runs both', async () => {
    const { dir, cleanup } = tempDir('ann-fallback');
    const dataDir = path.join(dir, 'data');
    const rand = seededRandom(21);
    let store = Store.open(dataDir);
    try {
      const modelId = store.vectors.ensureModel({ name: 'm', packagePath: '/m', manifestSha: 's', dims: DIMS }).id;
      const files = fill(store, modelId, 400, rand, (i) => (i === 7 ? 'harbour at dusk' : `note ${i}`));
      await store.ann(modelId, PARAMS).whenReady();
      await store.closeAnn();
      store.close();

      store = Store.open(dataDir);
      const query = files[7]!.query;
      const models = { embedder: { modelId }, reranker: null, embed: async () => [query] } as unknown as EngineModels;
      const search = new SearchService(store, models);
      const ann = store.ann(modelId, PARAMS);
      // The workers have not even started: nothing blocks, and the answer says what ran.
      assert.equal(ann.searchable, false);
      assert.equal(await store.nearest(modelId, query, { k: 5 }), null);
      const early = await search.run({ text: 'harbour', limit: 20, cutoff: 0, sort: 'relevance', rerank: false } as never);
      assert.match(early.mode, /^keyword only: the semantic index (is loading|is being built)/);
      assert.deepEqual(early.results.map((r) => r.fileId), [files[7]!.fileId]);
      // A filter narrow enough to score exactly needs no index.
      const narrow = await store.nearest(modelId, query, { k: 3, filters: { from: 5, to: 9 } });
      assert.equal(narrow?.[0]?.itemId, store.items.idsOfFile(files[7]!.fileId)[0]);

      await ann.whenReady();
      assert.deepEqual(ann.openReports.map((r) => r?.action), ['loaded', 'loaded'], `closed cleanly: both shards load as saved (${ann.openReports.map((r) => r?.reason).join('; ')})`);
      assert.equal(ann.status.state, 'ready');
      const later = await search.run({ text: 'harbour', limit: 20, cutoff: 0, sort: 'relevance', rerank: false } as never);
      assert.equal(later.mode, 'semantic + keyword');
      assert.equal(later.results[0]!.fileId, files[7]!.fileId);
    } finally {
      store.close();
      cleanup();
    }
  });

  it('keeps taking changes while a background save runs, and loses none of them', async () => {
    const { dir, cleanup } = tempDir('ann-save');
    const dataDir = path.join(dir, 'data');
    const rand = seededRandom(22);
    let store = Store.open(dataDir);
    try {
      const modelId = store.vectors.ensureModel({ name: 'm', packagePath: '/m', manifestSha: 's', dims: DIMS }).id;
      const ann = store.ann(modelId, PARAMS);
      const first = fill(store, modelId, 600, rand);
      await ann.whenReady();
      const saving = ann.save(true);
      // Posted while the shards write their files.
      const late = fill(store, modelId, 50, rand);
      for (const f of first.slice(0, 30)) store.forgetLabels(store.files.remove(f.fileId));
      const during = await ann.search(late[0]!.query, 1);
      await saving;
      await ann.settled();
      assert.equal(ann.count, store.vectors.count(modelId));
      assert.equal((await ann.search(late[3]!.query, 1))![0]!.label, late[3]!.label);
      assert.ok(!(await ann.search(first[0]!.query, 5))!.some((h) => h.label === first[0]!.label), 'a deletion made during the save is applied');
      assert.ok(during !== null, 'searches are answered while a save runs');

      // Killed without saving again (close() stops the workers): the next open catches up from SQLite.
      store.close();
      store = Store.open(dataDir);
      const again = store.ann(modelId, PARAMS);
      await again.whenReady();
      await again.settled();
      assert.equal(again.count, store.vectors.count(modelId));
      for (const report of again.openReports) assert.match(report!.action, /caught-up|repaired/);
    } finally {
      store.close();
      cleanup();
    }
  });

  it('compacts beside the serving index: searches keep answering, the marks are gone after', async () => {
    const { dir, cleanup } = tempDir('ann-compact');
    const store = Store.open(path.join(dir, 'data'));
    try {
      const rand = seededRandom(23);
      const modelId = store.vectors.ensureModel({ name: 'm', packagePath: '/m', manifestSha: 's', dims: DIMS }).id;
      const ann = store.ann(modelId, PARAMS, { shards: 2, rebuildStep: 4 });
      const files = fill(store, modelId, 800, rand);
      await ann.whenReady();
      for (const f of files.slice(0, 300)) store.forgetLabels(store.files.remove(f.fileId));
      await ann.settled();
      // Past the deletion threshold (a save would compact instead, once the save rate allows).
      const saved = ann.compact();
      const states = new Set<string>();
      let answered = 0;
      let unanswered = 0;
      const compacted = () => ann.openReports.every((r) => r?.reason === 'asked to compact');
      for (let i = 0; (!compacted() || ann.saving || i < 3) && i < 20_000; i++) {
        states.add(ann.state);
        if ((await ann.search(files[400]!.query, 1)) !== null) answered++;
        else unanswered++;
        // Changes keep coming during the rebuild.
        if (i === 1) for (const f of files.slice(300, 320)) store.forgetLabels(store.files.remove(f.fileId));
      }
      await saved;
      await ann.settled();
      assert.ok(compacted(), `both shards were rebuilt without their deletion marks: ${ann.openReports.map((r) => r?.reason).join('; ')}`);
      assert.equal(unanswered, 0, `every search was answered during the compaction (states seen: ${[...states].join(', ')})`);
      assert.ok(answered >= 3);
      assert.equal(ann.count, store.vectors.count(modelId));
      assert.equal((await ann.search(files[400]!.query, 1))![0]!.label, files[400]!.label);
      assert.ok(!(await ann.search(files[310]!.query, 3))!.some((h) => h.label === files[310]!.label), 'removed during the rebuild');
      for (const report of ann.openReports) assert.equal(report!.action, 'rebuilt');
    } finally {
      store.close();
      cleanup();
    }
  });

  it('the default search path (prefix 256, K\' per shard rescored in the workers) keeps recall@10 ≥ 0.95 against exact search', async () => {
    const { dir, cleanup } = tempDir('ann-recall');
    const store = Store.open(path.join(dir, 'data'));
    try {
      const rand = seededRandom(24);
      const dims = 512;
      const modelId = store.vectors.ensureModel({ name: 'm', packagePath: '/m', manifestSha: 's', dims }).id;
      const root = store.roots.add({ path: '/c' }).id;
      // Clustered unit vectors: 40 centres, each point = centre + equal-sized noise.
      const gauss = () => Math.sqrt(-2 * Math.log(rand() || 1e-12)) * Math.cos(2 * Math.PI * rand());
      const centres = Array.from({ length: 40 }, () => Float64Array.from({ length: dims }, gauss));
      const point = (): Float32Array => {
        const c = centres[Math.floor(rand() * centres.length)]!;
        const x = Float32Array.from(c, (v) => v + gauss());
        const norm = Math.hypot(...x);
        return x.map((v) => v / norm);
      };
      const quantise = (x: Float32Array) => {
        const scale = Math.max(...x.map(Math.abs)) / 127;
        return { codes: Int8Array.from(x, (v) => Math.round(v / scale)), scale };
      };
      store.db.transaction(() => {
        for (let i = 0; i < 3000; i++) {
          const f = store.files.upsertScanned({ rootId: root, path: `/c/${i}`, size: 1, mtimeMs: 1, kind: 'image' }).file;
          store.commitIndexedFile({ fileId: f.id, modelId, items: [{ kind: 'image', locator: { type: 'whole' }, date: 0, vector: quantise(point()) }] });
        }
      })();
      const ann = store.ann(modelId);
      await ann.whenReady();
      const all = [...store.vectors.byItemIds(modelId, store.db.prepare('SELECT id FROM items').pluck().all() as number[]).values()];
      let recall = 0;
      const queries = 30;
      for (let q = 0; q < queries; q++) {
        const query = point();
        const truth = all.map((v) => ({ id: v.itemId, s: int8Dot(query, v) })).sort((a, b) => b.s - a.s).slice(0, 10).map((x) => x.id);
        const got = (await store.nearest(modelId, query, { k: 10 }))!.map((h) => h.itemId);
        recall += got.filter((id) => truth.includes(id)).length / 10;
      }
      assert.ok(recall / queries >= 0.95, `recall@10 ${(recall / queries).toFixed(3)}`);
    } finally {
      store.close();
      cleanup();
    }
  });
});
