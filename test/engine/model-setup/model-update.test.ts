// Package updates (docs/model-setup.md#package-updates): a package in use that an earlier Trove
// built (graph revision 1: attention as single [heads, S, S] products) is rebuilt from the
// checkpoint on this machine while the engine runs, search keeps answering from the old package
// until the rebuilt one is in place, and the library keeps its vectors (no re-embed). When the
// checkpoint is gone nothing starts by itself: models.state says so, and installing the model
// again downloads it and updates the package, still keeping the vectors. Real parts throughout:
// tiny checkpoints, the fake hub, the package builder, model workers, SQLite and the ANN index.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { SearchResponse, Status } from '../../../electron/contract/common/entities.ts';
import type { ModelsState } from '../../../electron/contract/common/model-setup.ts';
import { dispatchApiCall } from '../../../electron/contract/common/trove-api.ts';
import { DEFAULT_MODEL_SETTINGS, modelsLayout, readModelSettings, writeModelSettings } from '../../../electron/engine/model-setup/node/model-settings.ts';
import { openTroveEngine, type EngineHooks } from '../../../electron/engine/app/node/trove-engine.ts';
import type { TroveEngine } from '../../../electron/engine/app/node/trove-engine-types.ts';
import { buildModelPackage } from '../../../native-models/package/node/build-package.ts';
import { GRAPH_REVISION } from '../../../native-models/package/node/builder-version.ts';
import { layoutHfCache, startFakeHub, type FakeHub } from '../../support/fake-hub-server.ts';
import { makeTinyCatalog, type TinyCatalog } from '../../support/tiny-catalog.ts';
import { Store } from '../../../electron/engine/store/node/store.ts';
import { opCounts } from '../../native-models/graphs/graph-variant-fixtures.ts';

process.env.TROVE_EP = 'cpu';
const REPO = 'trove-test/Tiny-Embedding-A';
const PACKAGE_ID = 'tiny-embedding-a-fp32';
let dir = '';
let catalog: TinyCatalog;
let hub: FakeHub;
let library = '';

const call = <T>(engine: TroveEngine, method: string, params: unknown = {}) => dispatchApiCall(engine.handlers, method, params) as Promise<T>;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'trove-model-update-'));
  catalog = await makeTinyCatalog(path.join(dir, 'catalog'));
  hub = await startFakeHub({ repos: catalog.repos });
  library = path.join(dir, 'library');
  await mkdir(library, { recursive: true });
  await writeFile(path.join(library, 'lighthouse.md'), '# The keeper\n\nEvery evening the lighthouse keeper polished the lens.\n');
  await writeFile(path.join(library, 'pancakes.md'), '# Pancakes\n\nWhisk flour, eggs and buttermilk; fry in butter.\n');
  await writeFile(path.join(library, 'tides.md'), '# Tides\n\nThe moon pulls the sea up the beach twice a day.\n');
});
after(async () => {
  await hub?.close();
  await rm(dir, { recursive: true, force: true });
});

/**
 * A data folder whose embedding model is a package as graph revision 1 wrote it: both attentions
 * as single products, and a manifest without builder.graphRevision.
 */
async function dataFolderWithRevision1Package(name: string, revision: string | null): Promise<{ dataDir: string; packageDir: string }> {
  const dataDir = path.join(dir, name);
  const packageDir = path.join(modelsLayout(dataDir).packages, PACKAGE_ID);
  await buildModelPackage({
    checkpointDir: catalog.repos[REPO]!,
    outDir: packageDir,
    kind: 'embedding',
    precision: 'fp32',
    repo: REPO,
    revision,
    attentionBlockBytes: { vision: 'unblocked', decoder: 'unblocked' },
  });
  const manifestFile = path.join(packageDir, 'manifest.json');
  const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as { builder: { graphRevision?: number } };
  delete manifest.builder.graphRevision;
  await writeFile(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
  const ref = { type: 'package' as const, dir: packageDir };
  writeModelSettings(dataDir, { ...structuredClone(DEFAULT_MODEL_SETTINGS), embedding: ref, local: { embedding: packageDir, reranker: null } });
  return { dataDir, packageDir };
}

async function manifestRevision(packageDir: string): Promise<number> {
  const manifest = JSON.parse(await readFile(path.join(packageDir, 'manifest.json'), 'utf8')) as { builder: { graphRevision?: number } };
  return manifest.builder.graphRevision ?? 1;
}

/** Resolves with the state once `done(state)` holds (events, and a poll for a final state merged away). */
async function until(engine: TroveEngine, done: (s: ModelsState) => boolean, what: string): Promise<ModelsState> {
  return new Promise((resolve, reject) => {
    let finished = false;
    const check = (s: ModelsState) => {
      if (finished) return;
      if (done(s)) {
        finished = true;
        off();
        clearInterval(poll);
        resolve(s);
      } else if (s.task?.phase === 'failed') {
        finished = true;
        off();
        clearInterval(poll);
        reject(new Error(`waiting for ${what}, the task failed: ${s.task.error}`));
      }
    };
    const off = engine.on('models.changed', check);
    const poll = setInterval(() => void call<ModelsState>(engine, 'models.state').then(check), 100);
  });
}

/** The library indexed with the package as it is; returns the search results and counts to compare with later. */
async function indexWithOldPackage(dataDir: string, hooks: EngineHooks): Promise<{ results: string[]; vectors: number; models: string[] }> {
  const engine = await openTroveEngine({ dataDir, watch: false }, hooks);
  try {
    await call(engine, 'roots.add', { path: library });
    await engine.idle();
    const status = await call<Status>(engine, 'status.get');
    assert.equal(status.files.indexed, 3);
    assert.ok(status.vectors >= 3, `${status.vectors} vectors`);
    const state = await call<ModelsState>(engine, 'models.state');
    assert.equal(state.installed[0]?.id, PACKAGE_ID);
    assert.ok(state.installed[0]?.outdated, 'the revision-1 package is reported as outdated');
    assert.equal(state.task, null, 'a one-shot engine (no watching) never starts a rebuild');
    const search = await call<SearchResponse>(engine, 'search.run', { text: 'lighthouse keeper', rerank: false });
    assert.match(search.mode, /semantic/);
    return { results: search.results.map((r) => `${r.name}:${r.score.toFixed(6)}`), vectors: status.vectors, models: await modelRows(engine, dataDir) };
  } finally {
    await engine.close();
  }
}

/** The store's model rows (id, identity) once the engine is closed. */
async function modelRows(engine: TroveEngine | null, dataDir: string): Promise<string[]> {
  await engine?.close();
  const store = Store.open(dataDir);
  try {
    return store.vectors.models().map((m) => `${m.id}:${m.manifestSha}`);
  } finally {
    store.close();
  }
}

test('a package in use built by graph revision 1 is rebuilt from the Hugging Face cache in the background; search answers throughout and the vectors stay', async () => {
  const cacheDir = path.join(dir, 'hf-cache');
  const { commit } = await layoutHfCache(cacheDir, REPO, catalog.repos[REPO]!);
  const { dataDir, packageDir } = await dataFolderWithRevision1Package('data-cache', commit);
  const hubOptions = { endpoint: hub.url, hfCache: cacheDir };
  const calls: { call: string; inputs: number }[] = [];
  const before = await indexWithOldPackage(dataDir, { env: { TROVE_MODEL_CATALOG: catalog.file }, hub: hubOptions });
  assert.equal((await opCounts(path.join(packageDir, 'text_decoder.onnx'))).get('Loop'), undefined, 'the old decoder holds its whole score tensor');

  let reached!: () => void;
  const atSwap = new Promise<void>((resolve) => (reached = resolve));
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const steps = new Set<string>();
  const engine = await openTroveEngine(
    { dataDir, watch: true },
    {
      env: { TROVE_MODEL_CATALOG: catalog.file },
      hub: hubOptions,
      observeModelCalls: (c, inputs) => calls.push({ call: c, inputs }),
      beforePackageSwap: async () => {
        reached();
        await held;
      },
    },
  );
  try {
    engine.on('models.changed', (s) => s.task && steps.add(s.task.step));
    const started = await call<ModelsState>(engine, 'models.state');
    assert.equal(started.task?.purpose, 'update', 'the update started by itself');
    assert.deepEqual(started.task?.models, ['tiny-embedding-a']);
    await atSwap;
    // Rebuilt, not yet in place: the old package answers.
    assert.equal(await manifestRevision(`${packageDir}.next`), GRAPH_REVISION);
    assert.equal(await manifestRevision(packageDir), 1);
    const during = await call<SearchResponse>(engine, 'search.run', { text: 'lighthouse keeper', rerank: false });
    assert.match(during.mode, /semantic/, 'search is semantic while the update waits to be put in place');
    assert.deepEqual(during.results.map((r) => `${r.name}:${r.score.toFixed(6)}`), before.results);
    const waiting = await call<ModelsState>(engine, 'models.state');
    assert.equal(waiting.installed.length, 1, 'the rebuild is not offered as a package of its own');
    assert.equal(waiting.inUse.search, 'semantic');
    release();

    const done = await until(engine, (s) => s.task?.phase === 'done', 'the update to finish');
    assert.equal(done.task?.step, 'Updated');
    assert.ok([...steps].some((s) => s.startsWith('Updating the search model for lower memory use')), `the steps say what happens: ${[...steps].join(' | ')}`);
    assert.equal(done.installed[0]?.outdated ?? null, null, 'no longer outdated');
    assert.equal(done.installed[0]?.active, true);
    assert.equal(await manifestRevision(packageDir), GRAPH_REVISION);
    assert.equal((await opCounts(path.join(packageDir, 'text_decoder.onnx'))).get('Loop'), 4, 'the new decoder attends in blocks (one Loop per layer of the tiny model)');
    const left = (await readdir(path.dirname(packageDir))).sort();
    assert.deepEqual(left, [PACKAGE_ID], 'no rebuild or old copy is left beside the package');

    const after = await call<SearchResponse>(engine, 'search.run', { text: 'lighthouse keeper', rerank: false });
    assert.deepEqual(after.results.map((r) => `${r.name}:${r.score.toFixed(6)}`), before.results, 'the rebuilt package computes the same embeddings');
    const status = await call<Status>(engine, 'status.get');
    assert.equal(status.vectors, before.vectors, 'the library keeps its vectors');
    const embedded = calls.filter((c) => c.call === 'embed').reduce((sum, c) => sum + c.inputs, 0);
    assert.ok(embedded <= 3, `only the searches and the rebuilt package's test sentence were embedded (${embedded} inputs), nothing was re-embedded`);
  } finally {
    release();
    await engine.close();
  }
  assert.equal(readModelSettings(dataDir).settings.packageUpdate, null, 'the journal is cleared');
  const rows = await modelRows(null, dataDir);
  assert.equal(rows.length, 1, 'still one model row');
  assert.equal(rows[0]!.split(':')[0], before.models[0]!.split(':')[0], 'the same model row (its vectors and ANN index)');
  assert.notEqual(rows[0], before.models[0], 'the row took the rebuilt package\'s identity');

  // Next start: the same model row (no re-embed), nothing to update.
  const again = await openTroveEngine({ dataDir, watch: false }, { env: { TROVE_MODEL_CATALOG: catalog.file }, hub: hubOptions });
  try {
    await again.idle();
    const status = await call<Status>(again, 'status.get');
    assert.equal(status.vectors, before.vectors);
    assert.equal(status.files.pending, 0);
    const state = await call<ModelsState>(again, 'models.state');
    assert.equal(state.installed[0]?.outdated ?? null, null);
  } finally {
    await again.close();
  }
});

test('a package whose checkpoint is gone is not rebuilt by itself: models.state offers the download, and installing the model again updates it, keeping the vectors', async () => {
  const { dataDir, packageDir } = await dataFolderWithRevision1Package('data-gone', null);
  const hooks: EngineHooks = { env: { TROVE_MODEL_CATALOG: catalog.file }, hub: { endpoint: hub.url, hfCache: false } };
  const before = await indexWithOldPackage(dataDir, hooks);

  const engine = await openTroveEngine({ dataDir, watch: true }, hooks);
  try {
    const state = await call<ModelsState>(engine, 'models.state');
    assert.equal(state.task, null, 'nothing is downloaded by itself');
    const outdated = state.installed[0]?.outdated;
    assert.equal(outdated?.checkpointOnDisk, false);
    assert.match(outdated?.note ?? '', /no longer on this machine/);
    assert.match(outdated?.note ?? '', /trove model pull tiny-embedding-a/);

    await call(engine, 'models.install', { embedding: 'tiny-embedding-a', precision: 'fp32' });
    const done = await until(engine, (s) => s.task?.phase === 'done', 'the install to finish');
    assert.equal(done.installed.length, 1);
    assert.equal(done.installed[0]?.outdated ?? null, null);
    assert.equal(await manifestRevision(packageDir), GRAPH_REVISION);
    assert.equal(done.switching, null, 'no re-embed: the rebuilt package is the same model');
    const status = await call<Status>(engine, 'status.get');
    assert.equal(status.vectors, before.vectors);
    const search = await call<SearchResponse>(engine, 'search.run', { text: 'lighthouse keeper', rerank: false });
    assert.deepEqual(search.results.map((r) => `${r.name}:${r.score.toFixed(6)}`), before.results);
    assert.equal(existsSync(path.join(modelsLayout(dataDir).downloads, 'trove-test--Tiny-Embedding-A')), false, 'the download is removed after the build');
  } finally {
    await engine.close();
  }
});
