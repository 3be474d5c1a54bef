// Status that agrees with itself (issue 12, points 5 and 6): which model is in use comes from one
// answer (status.get `model` is models.state `inUse`, and the installed list marks the same package
// active), the vectors count belongs to the model in use, a snapshot of an idle library is 'idle'
// (not 'scanning'), and the per-folder counts add up to the library's.
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import type { KindCounts, Status } from '../../../electron/contract/common/entities.ts';
import type { ModelsState } from '../../../electron/contract/common/model-setup.ts';
import { dispatchApiCall } from '../../../electron/contract/common/trove-api.ts';
import { modelsInUse } from '../../../electron/engine/model-setup/node/models-in-use.ts';
import { openTroveEngine } from '../../../electron/engine/app/node/trove-engine.ts';
import type { EngineModels } from '../../../electron/engine/inference/node/engine-models.ts';
import type { Store } from '../../../electron/engine/store/node/store.ts';
import type { TroveEngine } from '../../../electron/engine/app/node/trove-engine-types.ts';
import { buildTinyPackage } from '../../support/tiny-package.ts';

process.env.TROVE_EP = 'cpu';
let dir = '';
let embeddingPackage = '';
let libraryA = '';
let libraryB = '';

const call = <T>(engine: TroveEngine, method: string, params: unknown = {}) => dispatchApiCall(engine.handlers, method, params) as Promise<T>;

async function makeFolder(name: string, images: number, broken: number): Promise<string> {
  const folder = path.join(dir, name);
  await mkdir(folder, { recursive: true });
  for (let i = 0; i < images; i++) {
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="64" height="48"><rect width="64" height="48" fill="#${(0x204080 + i * 0x301010).toString(16).slice(-6)}"/></svg>`;
    await sharp(Buffer.from(svg)).png().toFile(path.join(folder, `${name}-${i}.png`));
  }
  for (let i = 0; i < broken; i++) await writeFile(path.join(folder, `broken-${i}.jpg`), 'not a jpeg');
  await writeFile(path.join(folder, 'note.md'), `# ${name}\n\nA note in ${name}.\n`);
  return folder;
}

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'trove-status-'));
  ({ packageDir: embeddingPackage } = await buildTinyPackage(dir, 'embedding'));
  libraryA = await makeFolder('alpha', 3, 2);
  libraryB = await makeFolder('beta', 2, 0);
});
after(() => rm(dir, { recursive: true, force: true }));

function sum(counts: KindCounts[]): KindCounts {
  return counts.reduce((a, c) => ({ total: a.total + c.total, indexed: a.indexed + c.indexed, failed: a.failed + c.failed, pending: a.pending + c.pending }), { total: 0, indexed: 0, failed: 0, pending: 0 });
}

test('a library indexed with --model, read again without it: no model in use, and the statement says whose vectors the library holds', async () => {
  const dataDir = path.join(dir, 'data-folder-model');
  const first = await openTroveEngine({ dataDir, embeddingModel: embeddingPackage });
  let indexedItems = 0;
  try {
    await call(first, 'roots.add', { path: libraryA });
    await first.idle();
    const status = await call<Status>(first, 'status.get');
    const models = await call<ModelsState>(first, 'models.state');
    // A package folder outside the models folder: in use, named by its path, and the same answer in both.
    assert.deepEqual(status.model.embedding?.origin, { type: 'folder', path: path.resolve(embeddingPackage) });
    assert.equal(status.model.search, 'semantic');
    assert.deepEqual(models.inUse, status.model, 'models.state says what status.get says');
    assert.deepEqual(models.installed, [], 'nothing is installed in the models folder: the model in use is not listed as installed');
    assert.equal(status.vectors, status.items);
    indexedItems = status.items;
    assert.ok(indexedItems > 0);
  } finally {
    await first.close();
  }

  // `trove status` without --model: a snapshot of the library as stored.
  const snapshot = await openTroveEngine({ dataDir, snapshot: true });
  try {
    const status = await call<Status>(snapshot, 'status.get');
    assert.equal(status.indexing.state, 'idle', 'an idle library is not "scanning"');
    assert.equal(status.model.embedding, null);
    assert.equal(status.model.search, 'keyword');
    assert.equal(status.vectors, 0, 'no vectors are searchable without their model');
    assert.deepEqual(status.model.unusedVectors, [{ name: 'embedding-package', path: path.resolve(embeddingPackage), vectors: indexedItems }]);
    assert.match(status.model.statement, /No embedding model in use: keyword search only/);
    assert.match(status.model.statement, new RegExp(`holds ${indexedItems} vectors from embedding-package`));
    assert.deepEqual((await call<ModelsState>(snapshot, 'models.state')).inUse, status.model);
  } finally {
    await snapshot.close();
  }
});

test('a package in the models folder is "installed" and active in the list, named by the same id as the model in use', async () => {
  const dataDir = path.join(dir, 'data-installed');
  const installedDir = path.join(dataDir, 'models', 'packages', 'tiny-embedding-fp32');
  await mkdir(path.dirname(installedDir), { recursive: true });
  await cp(embeddingPackage, installedDir, { recursive: true });
  const engine = await openTroveEngine({ dataDir, embeddingModel: installedDir });
  try {
    const status = await call<Status>(engine, 'status.get');
    const models = await call<ModelsState>(engine, 'models.state');
    assert.deepEqual(status.model.embedding?.origin, { type: 'installed', packageId: 'tiny-embedding-fp32' });
    assert.deepEqual(
      models.installed.filter((p) => p.active).map((p) => p.id),
      ['tiny-embedding-fp32'],
    );
    assert.deepEqual(models.inUse, status.model);
    assert.doesNotMatch(status.model.statement, /CUDA|WebGPU|onnxruntime|DirectML/, 'the statement is plain; provider details are apart');
    assert.match(status.model.providerDetails ?? '', /Running on CPU/);
  } finally {
    await engine.close();
  }
});

test('counts: per folder they add up to the library, and done is indexed + failed', async () => {
  const engine = await openTroveEngine({ dataDir: path.join(dir, 'data-counts') });
  try {
    const a = await call<{ id: number }>(engine, 'roots.add', { path: libraryA });
    const b = await call<{ id: number }>(engine, 'roots.add', { path: libraryB });
    await engine.idle();
    const status = await call<Status>(engine, 'status.get');
    const byRoot = new Map(status.indexing.byRoot.map((r) => [r.rootId, r.files]));
    assert.deepEqual([...byRoot.keys()].sort(), [a.id, b.id].sort());
    assert.deepEqual(sum([...byRoot.values()]), status.files, 'the folders add up to the library');
    assert.deepEqual(byRoot.get(a.id), { total: 6, indexed: 4, failed: 2, pending: 0 }, 'alpha: 3 images and a note indexed, 2 broken files failed');
    assert.deepEqual(byRoot.get(b.id), { total: 3, indexed: 3, failed: 0, pending: 0 });
    assert.equal(status.indexing.state, 'idle');
    assert.deepEqual(status.indexing.files, status.files, 'the indexing view and the status count the same files');
  } finally {
    await engine.close();
  }
});

test('while the semantic index of the model in use loads or is built, the answer is keyword search, and it says why', () => {
  const embedder = { modelId: 7, name: 'E', dims: 8, precision: 'fp32', ref: { type: 'package', dir: '/elsewhere/e' }, where: 'Running on CPU.', executionProvider: 'cpu' };
  const models = { embedder, reranker: null, target: null, notes: [] } as unknown as EngineModels;
  const storeWith = (ann: { searchable: boolean; status: { state: string; progress: number | null } }) =>
    ({ ann: () => ann, vectors: { models: () => [{ id: 7, name: 'E', packagePath: '/elsewhere/e' }], count: () => 10 } }) as unknown as Store;
  const loading = modelsInUse(models, storeWith({ searchable: false, status: { state: 'loading', progress: null } }), '/data/models/packages');
  assert.equal(loading.search, 'keyword');
  assert.deepEqual(loading.semanticIndex, { state: 'loading', progress: null });
  assert.match(loading.statement, /its semantic index is loading: until then search uses keywords/);
  const building = modelsInUse(models, storeWith({ searchable: false, status: { state: 'building', progress: 0.42 } }), '/data/models/packages');
  assert.match(building.statement, /being built \(42 %\)/);
  const ready = modelsInUse(models, storeWith({ searchable: true, status: { state: 'ready', progress: null } }), '/data/models/packages');
  assert.equal(ready.search, 'semantic');
  assert.deepEqual(ready.unusedVectors, [], 'the in-use model\'s vectors are not "unused"');
});

test('a restarted engine says when its semantic index is ready, and the answer follows it', async () => {
  const dataDir = path.join(dir, 'data-restart');
  const first = await openTroveEngine({ dataDir, embeddingModel: embeddingPackage });
  try {
    await call(first, 'roots.add', { path: libraryB });
    await first.idle();
  } finally {
    await first.close();
  }
  const engine = await openTroveEngine({ dataDir, embeddingModel: embeddingPackage });
  const changes: string[] = [];
  engine.on('model.changed', ({ statement }) => changes.push(statement));
  try {
    const atStart = await call<Status>(engine, 'status.get');
    // Either already loaded or still loading: the answer agrees with the index either way.
    assert.equal(atStart.model.search, atStart.ann.state === 'ready' || atStart.ann.state === 'compacting' ? 'semantic' : 'keyword');
    const deadline = Date.now() + 60_000;
    let now = atStart;
    while (now.model.search !== 'semantic' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      now = await call<Status>(engine, 'status.get');
    }
    assert.equal(now.model.search, 'semantic');
    assert.deepEqual(now.model.semanticIndex, { state: now.ann.state, progress: now.ann.progress ?? null });
    if (atStart.model.search === 'keyword') {
      while (changes.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.ok(changes.length > 0, 'the windows were told (model.changed) when the index became ready');
    }
    assert.deepEqual((await call<ModelsState>(engine, 'models.state')).inUse, (await call<Status>(engine, 'status.get')).model);
  } finally {
    await engine.close();
  }
});
