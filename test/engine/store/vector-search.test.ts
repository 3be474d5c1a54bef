// Semantic candidates: ANN + exact rescoring, with filters applied during the search (exactly
// over a small filtered set, through the ANN with a label filter over a large one).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import type { SearchFilters } from '../../../electron/contract/common/entities.ts';
import { Store } from '../../../electron/engine/store/node/store.ts';
import { int8Dot } from '../../../electron/engine/store/node/vector-codec.ts';
import { dequantise, randomInt8Vector, seededRandom, tempDir } from './store-fixtures.ts';

const DIMS = 64;
const PARAMS = { prefix: 32, m: 16, efConstruction: 100, ef: 64 };

describe('nearest items', () => {
  let store: Store;
  let cleanup: () => void;
  let modelId: number;
  const rand = seededRandom(5);

  before(async () => {
    const t = tempDir('nearest');
    cleanup = t.cleanup;
    store = Store.open(path.join(t.dir, 'data'));
    modelId = store.vectors.ensureModel({ name: 'tiny', packagePath: '/m', manifestSha: 's', dims: DIMS }).id;
    const roots = [store.roots.add({ path: '/a' }).id, store.roots.add({ path: '/b' }).id];
    store.ann(modelId, PARAMS);
    for (let i = 0; i < 600; i++) {
      const kind = i % 2 ? 'image' : 'text';
      const rootId = roots[i % 3 === 0 ? 1 : 0]!;
      const f = store.files.upsertScanned({ rootId, path: `${rootId === roots[0] ? '/a' : '/b'}/f${i}`, size: 1, mtimeMs: i, kind }).file;
      store.commitIndexedFile({ fileId: f.id, modelId, items: [{ kind, locator: { type: 'whole' }, date: i, vector: randomInt8Vector(DIMS, rand) }] });
    }
    // The index builds in its workers; the commits above reach it in order.
    await store.ann(modelId).whenReady();
    await store.ann(modelId).settled();
  });
  after(() => {
    store.close();
    cleanup();
  });

  /** Exact top k over the items passing the filters. */
  function bruteForce(query: Float32Array, k: number, filters: SearchFilters = {}): number[] {
    const ids = store.db.prepare('SELECT id FROM items').pluck().all() as number[];
    const passing = store.items.passingFilters(ids, filters);
    const all = store.vectors.byItemIds(modelId, [...passing]);
    return [...all.values()]
      .map((v) => ({ itemId: v.itemId, s: int8Dot(query, v) }))
      .sort((a, b) => b.s - a.s)
      .slice(0, k)
      .map((x) => x.itemId);
  }

  function queryOf(itemId: number): Float32Array {
    return dequantise(store.vectors.byItemIds(modelId, [itemId]).get(itemId)!);
  }

  const overlap = (a: number[], b: number[]) => a.filter((x) => b.includes(x)).length / b.length;

  it('finds the query item first and agrees with exact search', async () => {
    for (const itemId of [1, 77, 300]) {
      const q = queryOf(itemId);
      const hits = (await store.nearest(modelId, q, { k: 10 }))!;
      assert.equal(hits[0]!.itemId, itemId);
      assert.ok(Math.abs(hits[0]!.similarity - 1) < 0.02, `self-similarity ${hits[0]!.similarity}`);
      assert.ok(overlap(hits.map((h) => h.itemId), bruteForce(q, 10)) >= 0.9);
      assert.deepEqual(store.vectors.dequantised(modelId, itemId), q, '"more like this" gets the same vector');
    }
  });

  it("each shard rescores its own K' candidates: with K' at a shard's size the result is exact search's", async () => {
    // Two shards of 300. The top 300 of the merged prefix ranking miss some of the true top 10
    // (the prefix is half the dimensions); each shard's own top 300 is the whole shard.
    const shardSize = Math.ceil(store.vectors.count(modelId) / 2);
    for (let q = 0; q < 8; q++) {
      const query = dequantise(randomInt8Vector(DIMS, rand));
      const hits = (await store.nearest(modelId, query, { k: 10, rescore: shardSize }))!;
      assert.deepEqual(
        hits.map((h) => h.itemId),
        bruteForce(query, 10),
        `query ${q}`,
      );
    }
  });

  it('applies filters during the search: exactly over a small set, through the ANN over a large one', async () => {
    const q = queryOf(10);
    const narrow: SearchFilters = { kinds: ['image'], from: 100, to: 200 };
    const exact = (await store.nearest(modelId, q, { k: 10, filters: narrow }))!;
    assert.deepEqual(exact.map((h) => h.itemId), bruteForce(q, 10, narrow));
    const broad: SearchFilters = { kinds: ['text'], rootIds: [store.roots.byPath('/a')!.id] };
    const viaAnn = (await store.nearest(modelId, q, { k: 10, filters: broad, exactLimit: 0 }))!;
    const passing = store.items.passingFilters(viaAnn.map((h) => h.itemId), broad);
    assert.equal(passing.size, 10, 'every hit passes the filters');
    assert.ok(overlap(viaAnn.map((h) => h.itemId), bruteForce(q, 10, broad)) >= 0.9);
    assert.deepEqual(await store.nearest(modelId, q, { k: 5, filters: { from: 10_000 } }), []);
  });
});
