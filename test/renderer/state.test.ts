// The renderer's pure parts under Node: the reducer's rules (a slow answer never replaces a newer
// one, the first-run flow derived from roots and models.state), the query → SearchRequest mapping
// checked against the contract's own schema, and the helpers that mark query words, read the
// model fit and format numbers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { searchRequest, type SearchResponse, type Status } from '../../electron/contract/common/entities.ts';
import type { ModelsState } from '../../electron/contract/common/model-setup.ts';
import { current, emptyQuery, hasQuery, initialState, reduce, welcomeStage, type AppState } from '../../renderer/src/state/app-state.ts';
import { hardwareDetails, hardwareLine, modelFit } from '../../renderer/src/lib/model-fit.ts';
import { doneFraction, filesIndexedText } from '../../renderer/src/lib/library-counts.ts';
import { hasSearchModel, modelStepNeeded, modelsInUse } from '../../renderer/src/state/models.ts';
import { FAKE_CATALOG, FAKE_HARDWARE, fakePackage, NO_MODEL } from '../support/fake-engine.ts';
import { toSearchRequest } from '../../renderer/src/state/search-request.ts';
import { highlightRuns, queryTerms } from '../../renderer/src/lib/highlight.ts';
import { formatByteRate, formatBytes, formatDuration, formatEta, formatTimestamp, fromDateInput, toDateInput } from '../../renderer/src/lib/format.ts';

function response(names: string[]): SearchResponse {
  return {
    results: names.map((name, i) => ({ itemId: i + 1, fileId: i + 1, path: `/p/${name}`, name, kind: 'image', score: 0.9 - i * 0.1, locator: { type: 'whole' }, date: 0, sources: ['semantic'] })),
    total: names.length,
    mode: 'semantic',
    tookMs: 5,
  };
}

test('a search answer that arrives after a newer search started is dropped', () => {
  let s: AppState = initialState('system');
  s = reduce(s, { type: 'search/start', seq: 1, limit: 60 });
  s = reduce(s, { type: 'search/start', seq: 2, limit: 60 });
  s = reduce(s, { type: 'search/ready', seq: 2, response: response(['new.jpg']) });
  s = reduce(s, { type: 'search/ready', seq: 1, response: response(['old.jpg', 'older.jpg']) });
  assert.equal(s.search.result.phase, 'ready');
  assert.deepEqual(s.search.result.phase === 'ready' && s.search.result.value.results.map((r) => r.name), ['new.jpg']);
  const failed = reduce(s, { type: 'search/error', seq: 1, message: 'late failure' });
  assert.equal(failed, s, 'a stale error changes nothing');
});

test('while a search runs the previous results stay on screen, and the selection stays in range', () => {
  let s: AppState = initialState('system');
  s = reduce(s, { type: 'search/start', seq: 1, limit: 60 });
  s = reduce(s, { type: 'search/ready', seq: 1, response: response(['a', 'b', 'c']) });
  s = reduce(s, { type: 'select', index: 2 });
  s = reduce(s, { type: 'search/start', seq: 2, limit: 60 });
  assert.equal(s.search.result.phase, 'loading');
  assert.deepEqual(s.search.result.phase === 'loading' && s.search.result.previous?.results.length, 3);
  s = reduce(s, { type: 'search/ready', seq: 2, response: response(['a']) });
  assert.equal(s.selectedIndex, 0);
  s = reduce(s, { type: 'search/ready', seq: 2, response: response([]) });
  assert.equal(s.selectedIndex, -1);
});

test('item details for an item no longer previewed are ignored', () => {
  let s = reduce(initialState('system'), { type: 'preview/open', itemId: 1, quickLook: false });
  s = reduce(s, { type: 'preview/open', itemId: 2, quickLook: true });
  const before = s;
  s = reduce(s, { type: 'preview/error', itemId: 1, message: 'gone' });
  assert.equal(s, before);
  assert.equal(s.preview.detail.phase, 'loading');
  assert.equal(s.preview.quickLook, true);
});

test('the query maps to a SearchRequest the contract accepts, with empty parts left out', () => {
  const plain = toSearchRequest({ ...emptyQuery, text: '  red chair ' }, 60);
  assert.deepEqual(plain, { text: 'red chair', filters: {}, sort: 'relevance', limit: 60, cutoff: 0 });
  assert.ok(searchRequest.safeParse(plain).success);

  const full = toSearchRequest(
    {
      ...emptyQuery,
      text: 'but in red',
      image: { name: 'chair.png', mime: 'image/png', dataBase64: 'AAAA', previewUrl: 'blob:x' },
      kinds: ['image', 'pdf'],
      rootIds: [3],
      from: 10,
      to: 20,
      sort: 'date',
      cutoff: 0.4,
    },
    120,
  );
  assert.deepEqual(full.image, { dataBase64: 'AAAA', mime: 'image/png' }, 'the chip preview URL stays in the page');
  assert.deepEqual(full.filters, { kinds: ['image', 'pdf'], rootIds: [3], from: 10, to: 20 });
  assert.ok(searchRequest.safeParse(full).success);

  const blank = { ...emptyQuery, text: '   ' };
  assert.equal(hasQuery(blank), false, 'whitespace is not a query');
  assert.equal(searchRequest.safeParse(toSearchRequest(blank, 60)).success, false, 'and the contract agrees');
  assert.ok(searchRequest.safeParse(toSearchRequest({ ...emptyQuery, likeItem: { id: 9, name: 'x' } }, 60)).success);
});

test('query words are marked case-insensitively, longest first, and regex characters are literal', () => {
  assert.deepEqual(queryTerms('The beach, the BEACH house (c++)'), ['beach', 'house', 'the']);
  const runs = highlightRuns('Beach houses by the beach.', 'beach house');
  assert.deepEqual(
    runs.filter((r) => r.match).map((r) => r.text),
    ['Beach houses', 'beach'],
  );
  assert.equal(runs.map((r) => r.text).join(''), 'Beach houses by the beach.', 'no text is lost');
  assert.deepEqual(highlightRuns('a.b*c', 'x'), [{ text: 'a.b*c', match: false }]);
  assert.deepEqual(highlightRuns('price $5 (approx)', '(approx'), [
    { text: 'price $5 (', match: false },
    { text: 'approx', match: true },
    { text: ')', match: false },
  ]);
});

test('numbers read calmly: durations, bytes, timestamps, and dates that survive a round trip', () => {
  assert.equal(formatDuration(0.2), '1 s');
  assert.equal(formatDuration(170), '3 min');
  assert.equal(formatDuration(3 * 3600 + 5 * 60), '3 h 5 min');
  assert.equal(formatBytes(734_003_200), '700 MB');
  assert.equal(formatBytes(1536), '1.5 KB');
  assert.equal(formatTimestamp(32), '0:32');
  assert.equal(formatTimestamp(3725), '1:02:05');
  const start = fromDateInput('2025-07-14', 'start')!;
  const end = fromDateInput('2025-07-14', 'end')!;
  assert.equal(toDateInput(start), '2025-07-14');
  assert.equal(toDateInput(end), '2025-07-14');
  assert.equal(end - start, 24 * 3600 * 1000 - 1);
  assert.equal(fromDateInput('', 'start'), null);
});

/** A models.state as an engine without any model would answer it (the fake engine's catalog). */
function freshModels(patch: Partial<ModelsState> = {}): ModelsState {
  return {
    asOf: 1_000,
    catalog: FAKE_CATALOG,
    hardware: FAKE_HARDWARE,
    recommendation: { embedding: 'embedding-2b', reranker: 'reranker-2b', precision: 'int8', reason: 'fits' },
    fits: { 'embedding-8b': { precision: 'fp16', fits: false, reason: 'too big' } },
    installed: [],
    inUse: NO_MODEL,
    backend: { type: 'local' },
    task: null,
    switching: null,
    declined: false,
    offline: false,
    downloads: [],
    ...patch,
  };
}

function statusWith(model: Status['model']): Status {
  const files = { total: 0, indexed: 0, pending: 0, failed: 0 };
  return {
    files,
    items: 0,
    vectors: 0,
    ann: { count: 0 },
    indexing: { state: 'idle', files, byKind: { image: files, video: files, pdf: files, text: files, document: files }, rate: 0, etaSeconds: null, current: null, byRoot: [] },
    model,
    dataDir: '/d',
    diskBytes: 0,
    unreadableFolders: { count: 0, files: 0 },
  };
}

const ROOT = { id: 1, path: '/p', include: [], exclude: [], present: true, addedAt: 0 };

test('a models state read before the one shown is dropped, unless it is a reload after the link came back', () => {
  const failed = freshModels({ asOf: 2_000, task: { models: ['embedding-2b'], request: { embedding: 'embedding-2b', reranker: null, precision: null, source: { type: 'hub' } }, phase: 'failed', step: 'Stopped', bytes: { done: 1, total: 2 }, bytesPerSecond: 0, etaSeconds: null, fraction: 0, error: '401' } });
  const queued = freshModels({ asOf: 1_500, task: { ...failed.task!, phase: 'queued', error: null } });
  let s: AppState = initialState('system');
  s = reduce(s, { type: 'models/ready', models: failed });
  const kept = reduce(s, { type: 'models/ready', models: queued });
  assert.equal(kept, s, 'the install answer read before the failure event changes nothing');
  const whileLoading = reduce(reduce(s, { type: 'models/loading' }), { type: 'models/ready', models: queued });
  assert.deepEqual(whileLoading.models, { phase: 'ready', value: failed }, 'a stale answer to a refresh settles on the newer state');
  const reloaded = reduce(s, { type: 'models/ready', models: queued, reload: true });
  assert.equal(current(reloaded.models)?.task?.phase, 'queued', 'a restarted engine’s state is taken');
  const newer = reduce(s, { type: 'models/ready', models: { ...queued, asOf: 2_000 } });
  assert.equal(current(newer.models)?.task?.phase, 'queued', 'a state read at the same moment is taken');
});

test('focus asked for waits in the store until taken, and leaving the view drops it', () => {
  let s: AppState = initialState('system');
  s = reduce(s, { type: 'view', view: 'search' });
  s = reduce(s, { type: 'focus/request', target: 'search' });
  const request = s.focus;
  assert.deepEqual(request, { target: 'search' });
  s = reduce(s, { type: 'focus/request', target: 'search' });
  assert.equal(reduce(s, { type: 'focus/done', request: request! }), s, 'taking an older request leaves a newer one owed');
  s = reduce(s, { type: 'focus/done', request: s.focus! });
  assert.equal(s.focus, null);
  s = reduce(s, { type: 'focus/request', target: 'model-setup' });
  assert.equal(reduce(s, { type: 'view', view: 'folders' }).focus, null, 'focus owed to a view left behind is dropped');
});

test('the welcome follows roots and models.state: folders → model → indexing, and stays out of the way after', () => {
  let s: AppState = initialState('system');
  assert.equal(welcomeStage(s), 'loading', 'nothing known yet');
  s = reduce(s, { type: 'roots/ready', roots: [] });
  assert.equal(welcomeStage(s), 'folders');
  s = reduce(s, { type: 'roots/ready', roots: [ROOT] });
  assert.equal(welcomeStage(s), 'loading', 'folders known, models and status not yet: no flash of the search page');
  s = reduce(s, { type: 'status/ready', status: statusWith(NO_MODEL) });
  s = reduce(s, { type: 'models/ready', models: freshModels() });
  assert.equal(welcomeStage(s), 'model');
  // A download in flight is still step 2 (the engine's task is the truth, not the page).
  s = reduce(s, { type: 'models/ready', models: freshModels({ task: { models: ['embedding-2b'], request: { embedding: 'embedding-2b', reranker: null, precision: null, source: { type: 'hub' } }, phase: 'downloading', step: '', bytes: { done: 1, total: 2 }, bytesPerSecond: 1, etaSeconds: 1, fraction: 0, error: null } }) });
  assert.equal(welcomeStage(s), 'model');
  const installed = fakePackage('embedding-2b', 'int8', true);
  const inUse: Status['model'] = { ...NO_MODEL, search: 'semantic', embedding: { name: installed.name, dims: 2048, precision: 'int8', origin: { type: 'installed', packageId: installed.id } } };
  s = reduce(s, { type: 'models/ready', models: freshModels({ installed: [installed], inUse }) });
  assert.equal(welcomeStage(s), 'indexing', 'after the model arrives, step 3 follows instead of the page jumping away');
  s = reduce(s, { type: 'welcome/finish' });
  assert.equal(welcomeStage(s), null);
});

test('the welcome does not ask for a model when one is in use, declined, remote, or models.* is missing', () => {
  const base = reduce(reduce(initialState('system'), { type: 'roots/ready', roots: [ROOT] }), { type: 'status/ready', status: statusWith(NO_MODEL) });
  assert.equal(welcomeStage(reduce(base, { type: 'models/ready', models: freshModels({ declined: true }) })), null);
  const onServer: Status['model'] = { ...NO_MODEL, search: 'semantic', embedding: { name: 'e on http://x', dims: 8, precision: 'remote', origin: { type: 'server', url: 'http://x' } } };
  assert.equal(welcomeStage(reduce(base, { type: 'models/ready', models: freshModels({ backend: { type: 'remote', url: 'http://x', embeddingModel: 'e', rerankerModel: null }, inUse: onServer }) })), null);
  assert.equal(welcomeStage(reduce(base, { type: 'models/error', message: "unknown API method 'models.state'" })), null, 'an older engine: the flow steps aside');
  // An engine started with --model DIR: the package lives outside the models folder, and the one
  // answer about the model in use (models.state inUse, status.get model) says so.
  const flagModel: Status['model'] = { ...NO_MODEL, search: 'semantic', embedding: { name: 'x', dims: 8, precision: 'fp32', origin: { type: 'folder', path: '/pkg' } } };
  const withFlagModel = reduce(base, { type: 'status/ready', status: statusWith(flagModel) });
  const after = reduce(withFlagModel, { type: 'models/ready', models: freshModels({ inUse: flagModel }) });
  assert.equal(welcomeStage(after), null);
  assert.equal(after.welcome.modelStepSeen, false, 'so step 3 is not owed either');
  // Once the user left the flow, a later install (which clears "declined") does not pull them back.
  const left = reduce(reduce(base, { type: 'models/ready', models: freshModels() }), { type: 'welcome/finish' });
  assert.equal(welcomeStage(left), null);
});

test('a library that opened with a model does not pull the person back into the welcome when the model goes', () => {
  const inUse: Status['model'] = { ...NO_MODEL, search: 'semantic', embedding: { name: 'E', dims: 8, precision: 'fp32', origin: { type: 'folder', path: '/pkg' } } };
  let s = reduce(initialState('system'), { type: 'roots/ready', roots: [ROOT] });
  s = reduce(s, { type: 'status/ready', status: statusWith(inUse) });
  s = reduce(s, { type: 'models/ready', models: freshModels({ inUse }) });
  assert.equal(welcomeStage(s), null);
  // The package stops loading: the search page says keyword-only (SearchView's notice), no welcome.
  s = reduce(s, { type: 'models/ready', models: freshModels({ asOf: 2_000, inUse: NO_MODEL }) });
  assert.equal(welcomeStage(s), null);
});

test('the picker takes the engine’s verdict on what fits, and words the hardware line', () => {
  const models = freshModels();
  const big = modelFit(models, FAKE_CATALOG.find((m) => m.id === 'embedding-8b')!);
  assert.deepEqual([big.fits, big.reason, big.precision], [false, 'too big', 'fp16']);
  const small = modelFit(models, FAKE_CATALOG.find((m) => m.id === 'embedding-2b')!);
  assert.deepEqual([small.fits, small.reason, small.memoryBytes], [true, null, 8_256_897_024], 'no verdict: offered (the install checks again)');
  // On the CPU the engine's verdict carries the precision it builds there.
  const cpuModels = freshModels({ hardware: { ...FAKE_HARDWARE, executionProvider: 'cpu' }, fits: { 'embedding-8b': { precision: 'int8', fits: false, reason: 'too big' } } });
  const onCpu = modelFit(cpuModels, FAKE_CATALOG.find((m) => m.id === 'embedding-8b')!);
  assert.equal(onCpu.precision, 'int8', 'the precision built for the execution provider');

});

test('the hardware line is plain words; the speed-up comes from the catalog estimate, and the details say where from', () => {
  const twoB = FAKE_CATALOG.find((m) => m.id === 'embedding-2b')!;
  const eightB = FAKE_CATALOG.find((m) => m.id === 'embedding-8b')!;
  const cpu = { gpus: [], ramBytes: 16 * 1024 ** 3, freeDiskBytes: null, executionProvider: 'cpu' };
  assert.equal(hardwareLine(FAKE_HARDWARE, twoB), 'Running on your graphics card (NVIDIA GeForce RTX 4070, 12 GB).');
  assert.equal(hardwareLine(cpu, twoB), 'Running on your CPU — indexing will be slow; a GPU makes it about 20–30× faster.');
  assert.equal(hardwareLine(cpu, eightB), 'Running on your CPU — indexing will be slow; a GPU makes it much faster.', 'no estimate, no number');
  assert.equal(
    hardwareLine({ ...cpu, gpus: [{ name: 'Old GPU', memoryBytes: 2 * 1024 ** 3 }] }, null),
    'Running on your CPU — Trove cannot use the graphics card here, so indexing will be slow; a GPU makes it much faster.',
  );
  assert.equal(
    hardwareLine({ gpus: [{ name: 'Apple M3 Pro', memoryBytes: 12 * 1024 ** 3 }], ramBytes: 18 * 1024 ** 3, freeDiskBytes: null, executionProvider: 'coreml' }),
    "Running on your Mac's graphics and neural engine (Apple M3 Pro).",
  );
  for (const hw of [FAKE_HARDWARE, cpu]) assert.doesNotMatch(hardwareLine(hw, twoB), /CUDA|Core ML|WebGPU|DirectML|onnxruntime|execution provider/i);
  const details = new Map(hardwareDetails(cpu, twoB));
  assert.equal(details.get('Execution provider (onnxruntime)'), 'CPU');
  assert.equal(details.get('Graphics cards found'), 'None');
  assert.match(details.get('Speed estimate') ?? '', /Qwen3-VL-Embedding 2B: about 1 s a photo on a mid-range GPU, 20–30 s on an 8-core CPU \(estimated from compute, not measured\)/);
});

test('counts read the same everywhere: indexed of all files found, then failed and pending when there are some', () => {
  assert.equal(filesIndexedText({ total: 354, indexed: 334, failed: 20, pending: 0 }), '334 of 354 files indexed, 20 failed');
  assert.equal(filesIndexedText({ total: 1200, indexed: 100, failed: 3, pending: 1097 }), '100 of 1,200 files indexed, 3 failed, 1,097 pending');
  assert.equal(filesIndexedText({ total: 1, indexed: 1, failed: 0, pending: 0 }), '1 of 1 file indexed');
  assert.equal(doneFraction({ total: 354, indexed: 334, failed: 20, pending: 0 }), 1, 'the bar is full once every file is done with, read or not');
});

test('which model is in use comes from models.state when there is one (kept live by events), else from status.get', () => {
  const inUse: Status['model'] = { ...NO_MODEL, search: 'semantic', embedding: { name: 'E', dims: 8, precision: 'fp32', origin: { type: 'installed', packageId: 'e-fp32' } } };
  const stale = statusWith(NO_MODEL);
  assert.equal(modelsInUse(freshModels({ inUse }), stale), inUse);
  assert.equal(hasSearchModel(freshModels({ inUse }), stale), true, 'an answer about the model newer than status.get wins');
  // A model whose semantic index is still loading is a model in use: no model step is owed for it.
  const loading: Status['model'] = { ...inUse, search: 'keyword', semanticIndex: { state: 'loading', progress: null } };
  assert.equal(hasSearchModel(freshModels({ inUse: loading }), stale), true);
  assert.equal(modelStepNeeded(freshModels({ inUse: loading }), stale), false);
  assert.equal(modelsInUse(null, statusWith(inUse)), inUse);
  assert.equal(modelsInUse(null, null), null);
});

test('download numbers read as people say them: MB/s and “about 3 min”', () => {
  assert.equal(formatByteRate(24 * 1024 * 1024), '24 MB/s');
  assert.equal(formatByteRate(0), '—');
  assert.equal(formatEta(170), 'about 3 min');
  assert.equal(formatEta(20), 'less than a minute');
  assert.equal(formatEta(null), '—');
});
