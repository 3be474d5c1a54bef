// First run and model switching through the engine's `models.*` API, on real parts: a local HTTP
// server in the Hugging Face hub's layout serving tiny checkpoints, the real downloader and
// package builder, model workers, SQLite and the ANN index. The promises checked: a library
// indexed without a model gains vectors once one is installed; the settings survive a restart;
// switching the embedding model re-embeds in the background while search keeps answering from
// the old vectors, then drops them; a switch cut by a restart resumes without redoing finished
// items; a cancelled or failed install says what happened and can be retried.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { SearchResponse, Status } from '../../../electron/contract/common/entities.ts';
import type { ModelsState } from '../../../electron/contract/common/model-setup.ts';
import { ApiError, dispatchApiCall } from '../../../electron/contract/common/trove-api.ts';
import { openTroveEngine, type EngineHooks } from '../../../electron/engine/app/node/trove-engine.ts';
import type { TroveEngine } from '../../../electron/engine/app/node/trove-engine-types.ts';
import { Store } from '../../../electron/engine/store/node/store.ts';
import { handWrittenPdf } from '../extract/pdf-fixtures.ts';
import { startFakeHub, type FakeHub } from '../../support/fake-hub-server.ts';
import { buildModelPackage } from '../../../native-models/package/node/build-package.ts';
import { FakeVllmServer } from '../../support/fake-vllm-server.ts';
import { makeTinyCatalog, type TinyCatalog } from '../../support/tiny-catalog.ts';

process.env.TROVE_EP = 'cpu';
let dir = '';
let catalog: TinyCatalog;
let hub: FakeHub;
let library = '';

const call = <T>(engine: TroveEngine, method: string, params: unknown = {}) => dispatchApiCall(engine.handlers, method, params) as Promise<T>;

function hooks(extra: Partial<EngineHooks> = {}, env: NodeJS.ProcessEnv = {}): EngineHooks {
  return { env: { TROVE_MODEL_CATALOG: catalog.file, ...env }, hub: { endpoint: hub.url, hfCache: false }, ...extra };
}

async function open(dataDir: string, extra: Partial<EngineHooks> = {}, env: NodeJS.ProcessEnv = {}): Promise<TroveEngine> {
  return openTroveEngine({ dataDir, watch: false }, hooks(extra, env));
}

/** Resolves with the state once `done(state)` holds, checking on every models.changed event. */
async function until(engine: TroveEngine, done: (s: ModelsState) => boolean, what: string): Promise<ModelsState> {
  const first = await call<ModelsState>(engine, 'models.state');
  if (done(first)) return first;
  return new Promise((resolve, reject) => {
    const off = engine.on('models.changed', (state) => {
      if (done(state)) {
        off();
        clearInterval(poll);
        resolve(state);
      } else if (state.task?.phase === 'failed' && !what.includes('fail')) {
        off();
        clearInterval(poll);
        reject(new Error(`waiting for ${what}, the task failed: ${state.task.error}`));
      }
    });
    // Events are coalesced; a poll catches a final state whose event was merged away.
    const poll = setInterval(() => {
      void call<ModelsState>(engine, 'models.state').then((s) => {
        if (done(s)) {
          off();
          clearInterval(poll);
          resolve(s);
        }
      });
    }, 200);
  });
}

/**
 * Polls status.get until `done` holds. Unlike engine.idle() (which wakes an indexer that has
 * pending files), this proves the engine gets there by itself, as in the app.
 */
async function untilStatus(engine: TroveEngine, done: (s: Status) => boolean, what: string, timeoutMs = 90_000): Promise<Status> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await call<Status>(engine, 'status.get');
    if (done(status)) return status;
    if (Date.now() > deadline) assert.fail(`the engine did not get to ${what} by itself: ${JSON.stringify(status.files)}, ${status.vectors} vectors of ${status.items} items, ${status.ann.count} in the ANN index`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const taskEnded = (s: ModelsState) => s.task !== null && ['done', 'failed', 'cancelled'].includes(s.task.phase);

async function makeLibrary(folder: string): Promise<void> {
  await mkdir(folder, { recursive: true });
  const colours = ['#d01010', '#10a020', '#1030d0', '#e0c000'];
  for (const [i, colour] of colours.entries()) {
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="80" height="64"><rect width="80" height="64" fill="${colour}"/><circle cx="${15 + i * 15}" cy="30" r="${8 + i * 3}" fill="#fff"/></svg>`;
    await sharp(Buffer.from(svg)).png().toFile(path.join(folder, `photo-${i}.png`));
  }
  await writeFile(path.join(folder, 'lighthouse.md'), '# The keeper\n\nEvery evening the lighthouse keeper polished the lens.\n');
  await writeFile(path.join(folder, 'pancakes.md'), '# Pancakes\n\nWhisk flour, eggs and buttermilk; fry in butter.\n');
  // A PDF and a video indexed before any model have no vectors at all: they must gain them too.
  const page = (text: string) => ({ width: 300, height: 200, content: `BT /F1 18 Tf 20 100 Td (${text}) Tj ET` });
  await writeFile(path.join(folder, 'field-guide.pdf'), handWrittenPdf([page('Puffins nest on cliffs'), page('Gannets dive for mackerel')]));
  await new Promise<void>((resolve, reject) =>
    execFile('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=96x64:rate=2:duration=4', '-pix_fmt', 'yuv420p', '-y', path.join(folder, 'clip.mp4')], (e) => (e ? reject(e) : resolve())),
  );
}

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'trove-model-setup-'));
  catalog = await makeTinyCatalog(path.join(dir, 'catalog'));
  hub = await startFakeHub({ repos: catalog.repos });
  library = path.join(dir, 'library');
  await makeLibrary(library);
});
after(async () => {
  await hub?.close();
  await rm(dir, { recursive: true, force: true });
});

test('first run: keyword search before the model, then install from the hub, vectors for everything, kept across a restart', async () => {
  const dataDir = path.join(dir, 'data-first');
  let engine = await open(dataDir);
  try {
    const initial = await call<ModelsState>(engine, 'models.state');
    assert.deepEqual(initial.catalog.map((m) => m.id), ['tiny-embedding-a', 'tiny-embedding-b', 'tiny-reranker']);
    assert.equal(initial.task, null);
    assert.deepEqual(initial.installed, []);
    assert.equal(initial.backend.type, 'local');
    assert.deepEqual(initial.fits['tiny-embedding-b'], { precision: 'fp32', fits: true, reason: null }, 'the precision it would be built at, and that it fits');

    await call(engine, 'roots.add', { path: library });
    await engine.idle();
    const before = await call<Status>(engine, 'status.get');
    assert.equal(before.files.indexed, 8, 'the library is indexed without a model');
    assert.equal(before.vectors, 0);
    assert.equal(before.model.embedding, null);
    const keyword = await call<SearchResponse>(engine, 'search.run', { text: 'lighthouse' });
    assert.match(keyword.results[0]?.name ?? '', /lighthouse\.md/, 'keyword search works before any model');

    const phases = new Set<string>();
    engine.on('models.changed', (s) => s.task && phases.add(s.task.phase));
    // models.changed is coalesced to a few events a second: the tiny weights (≈ 20 MB) are sent
    // slowly enough (64 KiB every 5 ms, ≈ 1.5 s) that the download is seen, even on a fast machine.
    hub.slow('model.safetensors', 64 * 1024, 5);
    const started = await call<ModelsState>(engine, 'models.install', { embedding: 'tiny-embedding-a', reranker: 'tiny-reranker' });
    assert.ok(started.task && !['failed'].includes(started.task.phase));
    const done = await until(engine, taskEnded, 'the install');
    assert.equal(done.task?.phase, 'done', done.task?.error ?? '');
    assert.ok(phases.has('downloading') && phases.has('building'), `progress went through the phases (${[...phases].join(', ')})`);
    assert.deepEqual(
      done.installed.map((p) => [p.id, p.kind, p.active]),
      [
        ['tiny-embedding-a-fp32', 'embedding', true],
        ['tiny-reranker-fp32', 'reranker', true],
      ],
    );
    assert.equal(existsSync(path.join(dataDir, 'models', 'downloads', 'trove-test--Tiny-Embedding-A')), false, 'the download is removed once built');

    // The ANN workers add a commit's vectors after it (asynchronously), so the index's count catches up a moment later.
    const after = await untilStatus(engine, (s) => s.files.pending === 0 && s.vectors > 0 && s.vectors === s.items && s.ann.count === s.vectors, 'vectors for every item, all in the ANN index');
    assert.ok(after.model.embedding && after.model.reranker, after.model.statement);
    assert.equal(after.vectors, after.items, 'every item gained a vector once the model arrived');
    const semantic = await call<SearchResponse>(engine, 'search.run', { text: 'a red picture', rerank: false });
    assert.match(semantic.mode, /semantic/);
  } finally {
    hub.reset();
    await engine.close();
  }

  engine = await open(dataDir);
  try {
    const status = await call<Status>(engine, 'status.get');
    assert.match(status.model.embedding?.name ?? '', /Tiny-Embedding-A/, 'the installed model is used again after a restart');
    assert.ok(status.model.reranker);
    const state = await call<ModelsState>(engine, 'models.state');
    assert.equal(state.task, null, 'a finished task is not resumed');
  } finally {
    await engine.close();
  }
});

test('switching the embedding model re-embeds in the background; search keeps the old vectors until the new ones are complete', async () => {
  const dataDir = path.join(dir, 'data-switch');
  let engine = await open(dataDir);
  let embedCalls = 0;
  try {
    await call(engine, 'roots.add', { path: library });
    await call(engine, 'models.install', { embedding: 'tiny-embedding-a' });
    assert.equal((await until(engine, taskEnded, 'install A')).task?.phase, 'done');
    await engine.idle();
    const withA = await call<Status>(engine, 'status.get');
    assert.ok(withA.vectors > 0 && withA.vectors === withA.items);
  } finally {
    await engine.close();
  }

  // B is installed, but the engine is closed while the switch is under way (after three files: the
  // re-embed is held there until the close); it resumes at the next start.
  const FILES_BEFORE_CLOSE = 3;
  const holdAfterThree = (filesDone: number, signal: AbortSignal) =>
    filesDone < FILES_BEFORE_CLOSE ? Promise.resolve() : new Promise<void>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
  engine = await open(dataDir, { observeModelCalls: (kind, n) => void (kind === 'embed' && (embedCalls += n)), beforeBackfillFile: holdAfterThree });
  let switchSeen: ModelsState | null = null;
  try {
    await call(engine, 'models.install', { embedding: 'tiny-embedding-b' });
    switchSeen = await until(engine, (s) => s.switching !== null && s.switching.done > 0, 'the switch to start and re-embed a few files');
    const during = await call<Status>(engine, 'status.get');
    assert.match(during.model.embedding?.name ?? '', /Tiny-Embedding-A/, 'search stays on A while B re-embeds');
    const search = await call<SearchResponse>(engine, 'search.run', { text: 'pancakes' });
    assert.ok(search.results.length > 0, 'search answers during the switch');
  } finally {
    await engine.close();
  }
  assert.ok(switchSeen?.switching, 'the switch was in progress (not finished at install time)');
  assert.match(switchSeen.switching.to, /Tiny-Embedding-B/);

  const settings = JSON.parse(await readFile(path.join(dataDir, 'models', 'settings.json'), 'utf8'));
  assert.equal(settings.switchingTo?.type, 'package', 'the switch in progress is remembered');

  const doneAtClose = await (async () => {
    const db = Store.openReadOnly(dataDir);
    try {
      const [a, b] = db.prepare('SELECT id FROM models ORDER BY id').pluck().all() as number[];
      return { done: db.prepare('SELECT count(*) FROM vectors WHERE model_id = ?').pluck().get(b) as number, total: db.prepare('SELECT count(*) FROM vectors WHERE model_id = ?').pluck().get(a) as number };
    } finally {
      db.close();
    }
  })();
  let embeddedAfterRestart = 0;
  engine = await open(dataDir, { observeModelCalls: (kind, n) => void (kind === 'embed' && (embeddedAfterRestart += n)) });
  try {
    const finished = await until(engine, (s) => s.switching === null && s.installed.some((p) => p.id === 'tiny-embedding-b-fp32' && p.active), 'the switch to finish');
    assert.equal(finished.installed.find((p) => p.id === 'tiny-embedding-a-fp32')?.active, false, 'A is kept installed but not in use');
    await engine.idle();
    const status = await call<Status>(engine, 'status.get');
    assert.match(status.model.embedding?.name ?? '', /Tiny-Embedding-B/);
    assert.equal(status.vectors, status.items, 'every item has a B vector');
    assert.equal(status.ann.count, status.vectors);
    const semantic = await call<SearchResponse>(engine, 'search.run', { text: 'lighthouse keeper', rerank: false });
    assert.match(semantic.mode, /semantic/);
    assert.ok(doneAtClose.done > 0 && doneAtClose.done < doneAtClose.total, `the first session stopped mid-switch (${doneAtClose.done} of ${doneAtClose.total})`);
    // The restart embeds only what was left (plus the search's query); finished items are not redone.
    assert.ok(embeddedAfterRestart <= doneAtClose.total - doneAtClose.done + 1, `embedded ${embeddedAfterRestart} inputs after the restart; ${doneAtClose.total - doneAtClose.done} were left`);
  } finally {
    await engine.close();
  }
  // Only B's vectors remain: A's model row (and with it its vectors) is gone.
  const db = Store.openReadOnly(dataDir);
  try {
    const models = db.prepare('SELECT name FROM models').pluck().all() as string[];
    assert.deepEqual(models.map((n) => /Tiny-Embedding-B/.test(n)), [true]);
    assert.equal(db.prepare('SELECT count(*) FROM vectors').pluck().get(), db.prepare('SELECT count(*) FROM items').pluck().get());
  } finally {
    db.close();
  }
});

test('a cancelled download keeps its bytes and resumes; a failed one says why and can be retried', async () => {
  const dataDir = path.join(dir, 'data-cancel');
  const engine = await open(dataDir);
  try {
    hub.slow('*', 4096, 30);
    await call(engine, 'models.install', { embedding: 'tiny-embedding-a' });
    await until(engine, (s) => s.task?.phase === 'downloading' && s.task.bytes.done > 0, 'bytes to arrive');
    // The running install's files are listed as in use, and "delete unfinished downloads" spares them.
    const whileRunning = await call<ModelsState>(engine, 'models.removeDownloads');
    assert.deepEqual(whileRunning.downloads.map((d) => [d.repo, d.inUse]), [['trove-test/Tiny-Embedding-A', true]]);
    await call(engine, 'models.cancel');
    const cancelled = await until(engine, taskEnded, 'the cancel');
    assert.equal(cancelled.task?.phase, 'cancelled');
    const kept = cancelled.downloads.find((d) => d.repo === 'trove-test/Tiny-Embedding-A');
    assert.ok(kept && !kept.inUse && kept.bytes > 0, `the cancelled download is listed with its bytes (${JSON.stringify(cancelled.downloads)})`);
    hub.reset();

    await call(engine, 'models.install', { embedding: 'tiny-embedding-a' });
    const done = await until(engine, taskEnded, 'the resumed install');
    assert.equal(done.task?.phase, 'done', done.task?.error ?? '');
    assert.deepEqual((await call<ModelsState>(engine, 'models.state')).downloads, [], 'a finished install removes its download');

    // A download abandoned for good (another model was chosen) is deleted on request.
    hub.slow('*', 4096, 30);
    await call(engine, 'models.install', { embedding: 'tiny-embedding-b' });
    await until(engine, (s) => s.task?.phase === 'downloading' && s.task.bytes.done > 0, 'bytes of B to arrive');
    await call(engine, 'models.cancel');
    await until(engine, taskEnded, 'the cancel of B');
    hub.reset();
    assert.equal((await call<ModelsState>(engine, 'models.state')).downloads.length, 1);
    const removed = await call<ModelsState>(engine, 'models.removeDownloads');
    assert.deepEqual(removed.downloads, []);
    assert.equal(existsSync(path.join(dataDir, 'models', 'downloads', 'trove-test--Tiny-Embedding-B')), false, 'its files are gone');
  } finally {
    hub.reset();
    await engine.close();
  }

  const broken = path.join(dir, 'broken-catalog.json');
  const entries = JSON.parse(await readFile(catalog.file, 'utf8'));
  entries[0].repo = 'trove-test/No-Such-Model';
  await writeFile(broken, JSON.stringify(entries));
  const failing = await open(path.join(dir, 'data-fail'), {}, { TROVE_MODEL_CATALOG: broken });
  try {
    await call(failing, 'models.install', { embedding: 'tiny-embedding-a' });
    const failed = await until(failing, taskEnded, 'the failure');
    assert.equal(failed.task?.phase, 'failed');
    assert.match(failed.task?.error ?? '', /No-Such-Model/);
    assert.match(failed.task?.error ?? '', /exist|not found|check/i);
  } finally {
    await failing.close();
  }
});

test('an install cut by a restart resumes by itself at the next start, continuing the download where it stopped', async () => {
  const dataDir = path.join(dir, 'data-resume-install');
  let engine = await open(dataDir);
  try {
    hub.slow('model.safetensors', 4096, 30);
    await call(engine, 'models.install', { embedding: 'tiny-embedding-a' });
    await until(engine, (s) => s.task?.phase === 'downloading' && (s.task.step.includes('model.safetensors') || s.task.bytes.done > 0), 'the download to start');
    // Some of the weights have arrived before the "crash".
    const start = Date.now();
    while (!hub.fileRequests('model.safetensors').some((r) => r.bytesSent > 64 * 1024) && Date.now() - start < 60_000) await new Promise((r) => setTimeout(r, 50));
  } finally {
    await engine.close();
  }
  const settings = JSON.parse(await readFile(path.join(dataDir, 'models', 'settings.json'), 'utf8'));
  assert.equal(settings.task?.phase, 'downloading', 'the task in flight is remembered');
  hub.reset();
  // What a build killed mid-way leaves (a .partial- folder) and a replaced package's copy (.old-):
  // swept at the next start, next to a folder that is neither and stays.
  const packages = path.join(dataDir, 'models', 'packages');
  const leftovers = ['tiny-embedding-a-fp32.partial-0a1b2c3d4e5f', 'tiny-embedding-b-fp32.old-deadbeef'];
  for (const name of [...leftovers, 'not-a-leftover']) {
    await mkdir(path.join(packages, name), { recursive: true });
    await writeFile(path.join(packages, name, 'vision.onnx'), 'half a graph');
  }

  engine = await open(dataDir);
  try {
    const resumed = await call<ModelsState>(engine, 'models.state');
    assert.ok(resumed.task && resumed.task.phase !== 'done', 'the task is running again without being asked');
    for (const name of leftovers) assert.equal(existsSync(path.join(packages, name)), false, `${name} is removed at start`);
    assert.equal(existsSync(path.join(packages, 'not-a-leftover', 'vision.onnx')), true, 'other folders are left alone');
    const done = await until(engine, taskEnded, 'the resumed install');
    assert.equal(done.task?.phase, 'done', done.task?.error ?? '');
    const weights = hub.fileRequests('model.safetensors');
    assert.ok(weights.length > 0 && weights.every((r) => r.range?.startsWith('bytes=') && !r.range.startsWith('bytes=0-')), `the weights were resumed with a Range, not fetched again (${JSON.stringify(weights.map((r) => r.range))})`);
    await untilStatus(engine, (s) => s.model.embedding !== null, 'the model in use');
  } finally {
    hub.reset();
    await engine.close();
  }
});

test('offline mode refuses to download and says what to do; a checkpoint folder works offline', async () => {
  const engine = await open(path.join(dir, 'data-offline'), {}, { TROVE_OFFLINE: '1' });
  try {
    const state = await call<ModelsState>(engine, 'models.state');
    assert.equal(state.offline, true);
    await assert.rejects(call(engine, 'models.install', { embedding: 'tiny-embedding-a' }), (e: unknown) => e instanceof ApiError && /offline/i.test(e.message) && /folder/i.test(e.message));
    const before = hub.requests.length;
    await call(engine, 'models.install', { embedding: 'tiny-embedding-a', source: { type: 'folders', folders: { 'tiny-embedding-a': catalog.repos['trove-test/Tiny-Embedding-A'] } } });
    const done = await until(engine, taskEnded, 'the folder install');
    assert.equal(done.task?.phase, 'done', done.task?.error ?? '');
    assert.equal(hub.requests.length, before, 'nothing was asked of the hub');
    assert.equal((await call<Status>(engine, 'status.get')).model.embedding !== null, true);
  } finally {
    await engine.close();
  }
});

test('an inference server: the switch to it re-embeds in the background, the statement says content leaves the machine, and back to local', async () => {
  const dataDir = path.join(dir, 'data-remote');
  const engine = await open(dataDir);
  let server: FakeVllmServer | null = null;
  try {
    await call(engine, 'roots.add', { path: library });
    await call(engine, 'models.install', { embedding: 'tiny-embedding-a' });
    assert.equal((await until(engine, taskEnded, 'install A')).task?.phase, 'done');
    await engine.idle();
    const local = await call<Status>(engine, 'status.get');

    // The server runs checkpoint B, built here the way `trove model build` does.
    const remotePackage = path.join(dir, 'remote-b-package');
    if (!existsSync(remotePackage)) await buildModelPackage({ checkpointDir: catalog.repos['trove-test/Tiny-Embedding-B']!, outDir: remotePackage, kind: 'embedding', precision: 'fp32' });
    server = await FakeVllmServer.start({ embeddingPackage: remotePackage });
    await assert.rejects(
      call(engine, 'models.useRemote', { url: server.url, embeddingModel: 'no-such-model' }),
      (e: unknown) => e instanceof ApiError && /no-such-model/.test(e.message) && /tiny\/Qwen3-VL-Embedding/.test(e.message),
      'a wrong model name lists what the server serves',
    );
    await call(engine, 'models.useRemote', { url: server.url, embeddingModel: 'tiny/Qwen3-VL-Embedding' });
    const remote = await until(engine, (s) => s.switching === null && s.backend.type === 'remote', 'the switch to the server');
    assert.equal(remote.backend.type === 'remote' && remote.backend.url, server.url);
    await engine.idle();
    const status = await call<Status>(engine, 'status.get');
    assert.match(status.model.statement, /sent there/, status.model.statement);
    assert.equal(status.vectors, local.vectors, 'every item has a vector from the server');
    const search = await call<SearchResponse>(engine, 'search.run', { text: 'lighthouse keeper', rerank: false });
    assert.match(search.mode, /semantic/);
    assert.ok(server.requests.some((r) => r.path.endsWith('/embeddings')), 'the server computed the embeddings');

    await call(engine, 'models.useLocal');
    const back = await until(engine, (s) => s.switching === null && s.backend.type === 'local', 'back to local');
    assert.ok(back.installed.some((p) => p.active && p.kind === 'embedding'));
    assert.doesNotMatch((await call<Status>(engine, 'status.get')).model.statement, /sent there/);
  } finally {
    await engine.close();
    await server?.close();
  }
});
