// A read-only look at a library (`Store.open(dir, { snapshot: true })`, what `trove status` and
// `trove search` use) writes nothing to it: the ANN index catches up or is built in memory and is
// never saved, and a model the library has never used gets an empty index without a row. And
// closing the store leaves no -wal / -shm files behind, whichever connection closes last (the ANN
// workers read on connections of their own).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { Store } from '../../../electron/engine/store/node/store.ts';
import { UNREGISTERED_MODEL_ID } from '../../../electron/engine/store/node/vectors-repo.ts';
import { dequantise, randomInt8Vector, seededRandom, tempDir } from './store-fixtures.ts';

const DIMS = 32;
const PARAMS = { prefix: 16, m: 8, efConstruction: 32, ef: 32 };

/** Every file of the data folder with its size and content hash (the lock file comes and goes). */
function folderState(dataDir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dataDir, { recursive: true }).map(String).sort()) {
    const file = path.join(dataDir, name);
    if (!statSync(file).isFile()) continue;
    out[name] = `${statSync(file).size} ${createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 16)}`;
  }
  return out;
}

function fill(store: Store, modelId: number, n: number, rand: () => number): Array<{ itemId: number; query: Float32Array }> {
  const root = store.roots.byPath('/lib') ?? store.roots.add({ path: '/lib' });
  const queries: Array<{ itemId: number; query: Float32Array }> = [];
  store.db.transaction(() => {
    for (let i = 0; i < n; i++) {
      const f = store.files.upsertScanned({ rootId: root.id, path: `/lib/${i}-${Math.floor(rand() * 1e9)}.txt`, size: 1, mtimeMs: i, kind: 'text' }).file;
      const vector = randomInt8Vector(DIMS, rand);
      store.commitIndexedFile({ fileId: f.id, modelId, items: [{ kind: 'text', locator: { type: 'whole' }, text: `note ${i}`, date: i, vector }] });
      queries.push({ itemId: store.items.idsOfFile(f.id)[0]!, query: dequantise(vector) });
    }
  })();
  return queries;
}

describe('a read-only look at the library', () => {
  it('writes nothing: the ANN index is caught up or built in memory, never saved; an unknown model gets an empty index', async () => {
    const { dir, cleanup } = tempDir('read-only-look');
    const dataDir = path.join(dir, 'data');
    const rand = seededRandom(31);
    let store = Store.open(dataDir);
    try {
      const modelId = store.vectors.ensureModel({ name: 'm', packagePath: '/m', manifestSha: 's', dims: DIMS }).id;
      fill(store, modelId, 300, rand);
      await store.ann(modelId, PARAMS).whenReady();
      await store.closeAnn();
      // Vectors the saved index lacks (a kill before its save), and one shard's meta gone: an
      // engine would catch up one shard and rebuild the other, and save both.
      const queries = fill(store, modelId, 50, rand);
      store.close();
      const meta = readdirSync(path.join(dataDir, 'ann')).find((n) => n.endsWith('-1of2.json'))!;
      rmSync(path.join(dataDir, 'ann', meta));
      const before = folderState(dataDir);

      store = Store.open(dataDir, { snapshot: true });
      const ann = store.ann(modelId, PARAMS);
      await ann.whenReady();
      assert.deepEqual(new Set(ann.openReports.map((r) => r?.action)), new Set(['caught-up', 'rebuilt']));
      assert.equal(ann.count, 350, 'every vector is searchable');
      const hit = await store.nearest(modelId, queries[7]!.query, { k: 1 });
      assert.equal(hit?.[0]?.itemId, queries[7]!.itemId, 'a vector the saved index lacked finds its own item');
      store.saveAnn();
      await store.saveAnnNow();
      // A model the library has never used: no row is added, its index is empty and ready.
      const unknown = store.ann(UNREGISTERED_MODEL_ID);
      assert.equal(unknown.searchable, true);
      assert.equal(unknown.count, 0);
      assert.deepEqual(await unknown.search(queries[0]!.query, 5), []);
      await store.closeAnn();
      store.close();
      assert.deepEqual(folderState(dataDir), before, 'the data folder is as it was: no index file, no meta, no database change, no -wal or -shm');
    } finally {
      store.close();
      cleanup();
    }
  });

  it('closing the store while its ANN workers still read leaves no -wal or -shm file', async () => {
    const { dir, cleanup } = tempDir('close-order');
    const dataDir = path.join(dir, 'data');
    const rand = seededRandom(32);
    let store = Store.open(dataDir);
    try {
      const modelId = store.vectors.ensureModel({ name: 'm', packagePath: '/m', manifestSha: 's', dims: DIMS }).id;
      fill(store, modelId, 100, rand);
      await store.ann(modelId, PARAMS).whenReady();
      await store.closeAnn();
      store.close();
      for (const snapshot of [false, true]) {
        store = Store.open(dataDir, { snapshot });
        // The workers have opened their connections; close() stops them without waiting.
        await store.ann(modelId, PARAMS).whenReady();
        store.close();
        // A stopped worker's connection closes as its thread ends.
        for (let i = 0; i < 100 && readdirSync(dataDir).some((n) => n.endsWith('-wal') || n.endsWith('-shm')); i++) await new Promise((r) => setTimeout(r, 20));
        assert.deepEqual(readdirSync(dataDir).filter((n) => n.startsWith('trove.db')), ['trove.db'], `${snapshot ? 'a read-only look' : 'the engine'} leaves the database file alone`);
      }
    } finally {
      store.close();
      cleanup();
    }
  });
});
