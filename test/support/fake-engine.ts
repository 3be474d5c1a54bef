// A fake engine for the UI test: contract-valid answers with a library that looks like a real
// person's (photos, a video moment, a PDF page, notes), events the test fires on cue, and every
// call recorded so the test can check what the UI asked for. It sits behind the real
// `trove serve` HTTP + WebSocket server, so the renderer talks the real wire format.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ApiEvent, ApiEventPayload } from '../../electron/contract/common/api-events.ts';
import type {
  FileFailure,
  FileKind,
  IndexingProgress,
  ItemDetail,
  KindCounts,
  ModelStatus,
  Root,
  SearchResult,
  Status,
} from '../../electron/contract/common/entities.ts';
import type { ApiEventSource } from '../../electron/contract/common/in-process-api.ts';
import type { CatalogModel, Hardware, InstalledPackage, ModelsState, SetupTask, UnfinishedDownload } from '../../electron/contract/common/model-setup.ts';
import type { ApiMethod, ApiParsedParams, ApiResult } from '../../electron/contract/common/api-methods.ts';
import { meetsCutoff } from '../../electron/contract/common/relevance.ts';
import { ApiError, type ApiHandlers } from '../../electron/contract/common/trove-api.ts';
import { checkRootFolderPath } from '../../electron/engine/library/common/root-folder-rules.ts';
import { patternProblem } from '../../electron/engine/library/common/path-rules.ts';
import type { MediaSource } from '../../electron/server/node/api-server.ts';

export interface RecordedCall {
  method: ApiMethod;
  params: unknown;
}

const DAY = 24 * 3600 * 1000;
/** The home folder `~` stands for in the fake engine's roots.add. */
export const FAKE_HOME = '/home/ada';
const BASE_DATE = Date.UTC(2025, 6, 14);

interface LibraryItem extends Omit<SearchResult, 'score' | 'sources' | 'path'> {
  /** What items.get says about it, with the engine's own keys (extract/node/*: metadata). */
  metadata?: ItemDetail['metadata'];
  portrait?: boolean;
  file: string;
  /** Colours of the generated thumbnail. */
  hue: number;
  text: string | null;
}

/** A models state's asOf, as the engine stamps it (see ModelsState.asOf). */
function now(): number {
  return performance.timeOrigin + performance.now();
}

function counts(total: number, indexed: number, failed = 0): KindCounts {
  return { total, indexed, failed, pending: total - indexed - failed };
}

/** One of each kind of failure the engine records, with its reasons' words (files-repo.ts, file-refusals.ts). */
export function fakeFailures(shownRoot: string): FileFailure[] {
  const file = (fileId: number, rel: string, kind: FileKind, reason: string, more: Partial<FileFailure> = {}): FileFailure => ({
    fileId,
    what: 'file',
    path: join(shownRoot, rel),
    kind,
    reason,
    at: BASE_DATE - fileId * 60_000,
    attempts: 1,
    files: 1,
    nextTry: 'on-change',
    ...more,
  });
  return [
    file(90, 'scans/receipt-2019.pdf', 'pdf', "PDF is password-protected; Trove cannot read its pages. Save a copy without a password to index it."),
    file(91, 'camera/2023 summer trip to the coast with the whole family and the dog/IMG_0042.jpg', 'image', 'Cannot decode image: VipsJpeg: premature end of JPEG file. The file is not a supported image or is corrupt; re-export it as PNG or JPEG.'),
    file(92, 'videos/harbour-drone-4k.mov', 'video', 'Reading the video took longer than 120 s; the file may be huge or damaged, or its disk stopped answering. Trove tries it again at its next start (tried 1 of 3 times).', { nextTry: 'next-start' }),
    file(93, 'scans/archive-scan-1998.pdf', 'pdf', 'This PDF is 2.3 GB, more than the 2.0 GB Trove can read of one PDF file; split it into smaller PDFs (for example with qpdf --split-pages) to index them.', { attempts: 0 }),
    file(94, 'Urlaub/Stra\uFFFDe am Meer.jpg', 'image', 'The file name is not valid UTF-8 (shown here with � where its bytes are), so Trove cannot open it by its name. Rename it to a UTF-8 name (for example with convmv, or in a file manager); it is indexed after the rename.', { attempts: 0 }),
    {
      fileId: null,
      what: 'folder',
      path: join(shownRoot, 'private'),
      kind: null,
      reason: 'Cannot read folder: EACCES: permission denied. Its files are not indexed; grant read access or exclude it.',
      at: BASE_DATE - 100 * 60_000,
      attempts: 0,
      files: 12,
      nextTry: 'next-start',
    },
  ];
}

/** A thumbnail that reads as a photo at a glance: a sky-to-ground gradient and a sun. */
function thumbnailSvg(hue: number): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="320" height="240" viewBox="0 0 320 240">
<defs><linearGradient id="g" x1="0" y1="0" x2="0" y2="1">
<stop offset="0" stop-color="hsl(${hue},70%,72%)"/><stop offset="0.62" stop-color="hsl(${(hue + 30) % 360},65%,58%)"/>
<stop offset="0.63" stop-color="hsl(${(hue + 180) % 360},35%,38%)"/><stop offset="1" stop-color="hsl(${(hue + 200) % 360},40%,24%)"/></linearGradient></defs>
<rect width="320" height="240" fill="url(#g)"/><circle cx="${80 + (hue % 160)}" cy="92" r="26" fill="hsl(${(hue + 50) % 360},90%,88%)" opacity="0.9"/>
<path d="M0 170 Q80 130 160 165 T320 150 V240 H0Z" fill="hsl(${(hue + 190) % 360},30%,30%)" opacity="0.55"/></svg>`;
}

/** A tall photo (a lighthouse): tiles must show it whole, not cropped to a strip of sky. */
function portraitSvg(hue: number): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="240" height="320" viewBox="0 0 240 320">
<rect width="240" height="320" fill="hsl(${hue},60%,70%)"/><rect x="100" y="70" width="40" height="190" fill="#f4f4f4"/>
<rect x="100" y="110" width="40" height="22" fill="#d03030"/><rect x="100" y="170" width="40" height="22" fill="#d03030"/>
<rect x="92" y="52" width="56" height="22" fill="#404048"/><rect y="260" width="240" height="60" fill="hsl(${(hue + 180) % 360},35%,32%)"/></svg>`;
}

/** A PDF page; `scale` 1 is the 240 × 320 thumbnail, 5 the 1200 × 1600 preview rendering. */
function pageSvg(scale = 1): string {
  const lines = Array.from({ length: 14 }, (_, i) => `<rect x="28" y="${40 + i * 12}" width="${180 - ((i * 37) % 70)}" height="5" rx="2" fill="#c8c8d0"/>`).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${240 * scale}" height="${320 * scale}" viewBox="0 0 240 320"><rect width="240" height="320" fill="#fbfbfd"/><rect x="28" y="18" width="120" height="9" rx="3" fill="#6a6a78"/>${lines}<rect x="28" y="230" width="184" height="64" rx="4" fill="#dfe6ff"/></svg>`;
}

const GIB = 1024 ** 3;

/** The tokenizer and config files every Qwen3-VL repo carries besides its weights. */
const SIDE_FILES = [
  { path: 'config.json', bytes: 1_652 },
  { path: 'tokenizer.json', bytes: 11_422_654 },
  { path: 'tokenizer_config.json', bytes: 5_445 },
  { path: 'preprocessor_config.json', bytes: 628 },
];
const SHARDS_8B = [4_998_056_552, 4_915_962_464, 4_915_962_496, 1_459_698_112].map((bytes, i) => ({ path: `model-0000${i + 1}-of-00004.safetensors`, bytes }));
const MEMORY_2B = { fp32: 11_194_482_688, fp16: 8_256_897_024, int8: 6_209_897_984, int4: 5_527_275_008 };
const MEMORY_8B = { fp32: 36_874_142_656, fp16: 25_075_172_288, int8: 15_038_679_488, int4: 11_674_323_392 };
const GPU_FP16 = { cuda: 'fp16', dml: 'fp16', coreml: 'fp16', webgpu: 'fp16' } as const;

function catalogModel(m: Omit<CatalogModel, 'downloadBytes'>): CatalogModel {
  return { ...m, downloadBytes: m.files.reduce((sum, f) => sum + f.bytes, 0) };
}

/** The four official checkpoints with the engine catalog's figures: the 8B ones do not fit a 12 GB GPU. */
export const FAKE_CATALOG: CatalogModel[] = [
  catalogModel({
    id: 'embedding-2b',
    kind: 'embedding',
    repo: 'Qwen/Qwen3-VL-Embedding-2B',
    revision: '9f2f7e710d6d81056aa5c0a4f04764fec6bb7bda',
    title: 'Qwen3-VL-Embedding 2B',
    files: [{ path: 'model.safetensors', bytes: 4_255_140_312 }, ...SIDE_FILES],
    dims: 2048,
    precisionByProvider: { ...GPU_FP16, cpu: 'fp32' },
    memoryBytes: MEMORY_2B,
    speed: 'About 1 full-size photo a second on a mid-range GPU; short texts are much faster.',
    photoSeconds: { gpu: 1, cpuLow: 20, cpuHigh: 30 },
    summary: 'Finds photos, videos, documents and text from a description; the right size for most computers.',
  }),
  catalogModel({
    id: 'embedding-8b',
    kind: 'embedding',
    repo: 'Qwen/Qwen3-VL-Embedding-8B',
    revision: '2c4565515e0f265c6511776e7193b22c0968ddc7',
    title: 'Qwen3-VL-Embedding 8B',
    files: [...SHARDS_8B, ...SIDE_FILES],
    dims: 4096,
    precisionByProvider: { ...GPU_FP16, cpu: 'int8' },
    memoryBytes: MEMORY_8B,
    speed: 'About 3 times slower than the 2B model on the same hardware.',
    photoSeconds: null,
    summary: 'The most accurate search; needs a large GPU (or a Mac with a lot of memory).',
  }),
  catalogModel({
    id: 'reranker-2b',
    kind: 'reranker',
    repo: 'Qwen/Qwen3-VL-Reranker-2B',
    revision: '4bd860ac4f15ad1897a214615cccc700f8f71818',
    title: 'Qwen3-VL-Reranker 2B',
    files: [{ path: 'model.safetensors', bytes: 4_255_140_312 }, ...SIDE_FILES],
    dims: null,
    precisionByProvider: { ...GPU_FP16, cpu: 'fp32' },
    memoryBytes: MEMORY_2B,
    speed: 'Well under a second for 20 text results on a GPU.',
    photoSeconds: null,
    summary: 'Re-checks the top search results against your words to put the best ones first.',
  }),
  catalogModel({
    id: 'reranker-8b',
    kind: 'reranker',
    repo: 'Qwen/Qwen3-VL-Reranker-8B',
    revision: 'b212dc8c91a8164aef1ea2de9c1a867611e75c04',
    title: 'Qwen3-VL-Reranker 8B',
    files: [...SHARDS_8B, ...SIDE_FILES],
    dims: null,
    precisionByProvider: { ...GPU_FP16, cpu: 'int8' },
    memoryBytes: MEMORY_8B,
    speed: 'About 3 times slower than the 2B reranker on the same hardware.',
    photoSeconds: null,
    summary: 'The most accurate re-checking of results; needs a large GPU.',
  }),
];

function tooBig(title: string): string {
  return `${title} at fp16 needs about 23 GB of GPU memory, more than the 11 GB Trove allows itself of the GPU’s 12 GB.`;
}

export const NO_MODEL: ModelStatus = {
  embedding: null,
  reranker: null,
  executionProvider: null,
  search: 'keyword',
  semanticIndex: null,
  providerDetails: null,
  unusedVectors: [],
  notes: [],
  statement: 'No embedding model in use: keyword search only (names, paths and text).',
};

export const FAKE_HARDWARE: Hardware = {
  gpus: [{ name: 'NVIDIA GeForce RTX 4070', memoryBytes: 12 * GIB }],
  ramBytes: 32 * GIB,
  freeDiskBytes: 120 * GIB,
  executionProvider: 'cuda',
};

/** The package a catalog model builds into (what the engine would list under its models folder). */
export function fakePackage(catalogId: string, precision: string, active: boolean): InstalledPackage {
  const model = FAKE_CATALOG.find((m) => m.id === catalogId)!;
  // Built packages are about the checkpoint's size at fp16 (it ships bf16), half that at int8.
  const bytesPerWeight = precision === 'fp32' ? 2 : precision === 'fp16' ? 1 : precision === 'int8' ? 0.6 : 0.4;
  return {
    id: `${catalogId}-${precision}`,
    kind: model.kind,
    catalogId,
    name: `${model.title} (${precision})`,
    precision,
    sizeBytes: Math.round(model.downloadBytes * bytesPerWeight),
    active,
  };
}

export interface FakeEngineOptions {
  /** 'installed' (default): the 2B embedding and reranker are active; 'none': a fresh install. */
  models?: 'installed' | 'none';
  /** More packages on disk besides the active ones. */
  extraPackages?: InstalledPackage[];
  hardware?: Partial<Hardware>;
  offline?: boolean;
  /** Scores of the library's items in order (default: 94 % down to 12 %). */
  scores?: number[];
  /** Unfinished downloads on disk (models.state `downloads`). */
  downloads?: UnfinishedDownload[];
}

/**
 * `libraryDir` holds the files the media routes serve; `shownRoot` is the folder the user adds and
 * sees in paths (a realistic one, so screenshots do not show a temp folder).
 */
export function createFakeEngine(libraryDir: string, shownRoot: string, options: FakeEngineOptions = {}) {
  const calls: RecordedCall[] = [];
  const listeners = new Map<ApiEvent, Set<(payload: never) => void>>();
  const roots: Root[] = [];
  /** Set by setModel: what status.get says about the model, instead of what models.state implies. */
  let modelOverride: ModelStatus | null = null;
  let models: ModelsState = {
    asOf: now(),
    catalog: FAKE_CATALOG,
    hardware: { ...FAKE_HARDWARE, ...options.hardware },
    recommendation: {
      embedding: 'embedding-2b',
      reranker: 'reranker-2b',
      precision: 'int8',
      reason:
        'Trove runs on NVIDIA GeForce RTX 4070; the 2B embedding model and the 2B reranker at int8 fit in its 12 GB of GPU memory; at fp16 they would need about 13 GB, more than the 11 GB Trove allows itself of the GPU’s 12 GB.',
    },
    // The engine's verdicts (recommend-models.ts fitsOn) for a 12 GB GPU: the 8B models need more.
    fits: {
      'embedding-2b': { precision: 'fp16', fits: true, reason: null },
      'embedding-8b': { precision: 'fp16', fits: false, reason: tooBig('Qwen3-VL-Embedding 8B') },
      'reranker-2b': { precision: 'fp16', fits: true, reason: null },
      'reranker-8b': { precision: 'fp16', fits: false, reason: tooBig('Qwen3-VL-Reranker 8B') },
    },
    installed: [
      ...(options.models === 'none' ? [] : [fakePackage('embedding-2b', 'fp16', true), fakePackage('reranker-2b', 'fp16', true)]),
      ...(options.extraPackages ?? []),
    ],
    inUse: NO_MODEL,
    backend: { type: 'local' },
    task: null,
    switching: null,
    declined: false,
    offline: options.offline ?? false,
    downloads: options.downloads ?? [],
  };
  /** The precision the task in flight builds at (the engine's choice for CUDA unless asked). */
  let taskPrecision = 'fp16';
  /** How many items a model switch re-embeds. */
  const SWITCH_TOTAL = 5000;
  let progress: IndexingProgress = {
    state: 'idle',
    files: counts(0, 0),
    byKind: { image: counts(0, 0), video: counts(0, 0), pdf: counts(0, 0), text: counts(0, 0), document: counts(0, 0) },
    rate: 0,
    etaSeconds: null,
    current: null,
    byRoot: [],
  };

  const item = (itemId: number, name: string, kind: FileKind, extra: Partial<LibraryItem> = {}): LibraryItem => ({
    itemId,
    fileId: itemId,
    name,
    kind,
    file: join(libraryDir, `${itemId}.svg`),
    locator: { type: 'whole' },
    date: BASE_DATE - itemId * 9 * DAY,
    hue: (itemId * 47) % 360,
    text: null,
    ...extra,
  });
  const library: LibraryItem[] = [
    item(1, 'beach-sunset.jpg', 'image'),
    item(2, 'dunes-evening.jpg', 'image'),
    item(3, 'harbour-walk.mp4', 'video', {
      locator: { type: 'time', start: 32, end: 48 },
      metadata: { duration: 754.2, fps: 29.97, width: 1920, height: 1080, rotation: 0, codec: 'h264', frames: 22603, moments: 48 },
    }),
    item(4, 'coast-trip-notes.md', 'text', {
      locator: { type: 'text', start: 120, end: 420, snippet: 'Day three: we reached the beach just before sunset and stayed until the lighthouse came on. Pack warmer jackets next time.' },
      text: 'Day three: we reached the beach just before sunset and stayed until the lighthouse came on. Pack warmer jackets next time; the wind off the water was colder than the forecast said.',
    }),
    item(5, 'travel-guide.pdf', 'pdf', {
      locator: { type: 'page', page: 12 },
      text: 'Sunset viewpoints along the coast road.',
      metadata: { pages: 40, indexedPages: 40, title: 'Coast Road Guide', author: 'Ada Lovelace', encrypted: 0, encryption: null, repaired: 0, note: null },
    }),
    item(6, 'lighthouse.jpg', 'image', { portrait: true, metadata: { width: 3000, height: 4000, format: 'jpeg', camera: 'Fujifilm X-T4', lens: 'XF16-80mmF4 R OIS WR', gps: null, orientation: 6 } }),
    item(7, 'picnic.jpg', 'image'),
    item(8, 'rocks-low-tide.jpg', 'image'),
  ];
  /** What files.failures lists: the engine's kinds of reasons, newest first. */
  let failures: FileFailure[] = fakeFailures(shownRoot);
  /** Set to make the next search fail, as an engine whose model crashed would. */
  let failNextSearch: string | null = null;
  const scores = options.scores ?? [0.94, 0.88, 0.81, 0.77, 0.64, 0.52, 0.31, 0.12];
  for (const it of library) writeFileSync(it.file, it.portrait ? portraitSvg(it.hue) : thumbnailSvg(it.hue));

  function emit<E extends ApiEvent>(event: E, payload: ApiEventPayload<E>): void {
    for (const l of listeners.get(event) ?? []) (l as (p: ApiEventPayload<E>) => void)(payload);
  }

  function titleOf(pkg: InstalledPackage): string {
    return FAKE_CATALOG.find((m) => m.id === pkg.catalogId)?.title ?? pkg.name;
  }

  /** What status.get says about the model follows models.state, unless a test set it outright. */
  function modelStatus(m: ModelsState = models): ModelStatus {
    if (modelOverride) return modelOverride;
    if (m.backend.type === 'remote') {
      const { url, embeddingModel, rerankerModel } = m.backend;
      const origin = { type: 'server' as const, url };
      return {
        embedding: { name: embeddingModel, dims: 2048, precision: 'remote', origin },
        reranker: rerankerModel ? { name: rerankerModel, precision: 'remote', origin } : null,
        executionProvider: 'remote',
        search: 'semantic',
        semanticIndex: { state: 'ready', progress: null },
        providerDetails: null,
        unusedVectors: [],
        notes: [],
        statement: `Embedding and reranking on ${url}.`,
      };
    }
    const embedding = m.installed.find((p) => p.kind === 'embedding' && p.active);
    const reranker = m.installed.find((p) => p.kind === 'reranker' && p.active);
    if (!embedding) return NO_MODEL;
    const dims = FAKE_CATALOG.find((c) => c.id === embedding.catalogId)?.dims ?? 2048;
    return {
      embedding: { name: titleOf(embedding), dims, precision: embedding.precision, origin: { type: 'installed', packageId: embedding.id } },
      reranker: reranker ? { name: titleOf(reranker), precision: reranker.precision, origin: { type: 'installed', packageId: reranker.id } } : null,
      executionProvider: 'cuda',
      search: 'semantic',
      semanticIndex: { state: 'ready', progress: null },
      providerDetails: 'Running on CUDA.',
      unusedVectors: [],
      notes: [],
      statement: `${[embedding, reranker].filter((p) => p !== undefined).map(titleOf).join(' and ')} on the GPU.`,
    };
  }
  models = { ...models, inUse: modelStatus() };

  function setModels(next: ModelsState, statusChanged = false): void {
    models = { ...next, asOf: now() };
    models = { ...models, inUse: modelStatus() };
    emit('models.changed', models);
    if (statusChanged) emit('model.changed', { statement: modelStatus().statement });
  }

  function running(): boolean {
    return models.task !== null && ['queued', 'downloading', 'building', 'activating'].includes(models.task.phase);
  }

  function status(): Status {
    return {
      files: progress.files,
      items: progress.files.indexed * 2,
      vectors: progress.files.indexed * 2,
      ann: { count: progress.files.indexed * 2 },
      indexing: progress,
      model: modelStatus(),
      dataDir: '/home/ada/.local/share/trove',
      diskBytes: 734_003_200,
      unreadableFolders: {
        count: failures.filter((f) => f.what === 'folder').length,
        files: failures.reduce((n, f) => n + (f.what === 'folder' ? (f.files ?? 0) : 0), 0),
      },
    };
  }

  function toResult(it: LibraryItem, score: number, sources: SearchResult['sources']): SearchResult {
    return { itemId: it.itemId, fileId: it.fileId, path: join(roots[0]?.path ?? shownRoot, it.name), name: it.name, kind: it.kind, score, locator: it.locator, date: it.date, sources };
  }

  /** Answers a test holds back (see holdAnswers), by method. */
  const held = new Map<ApiMethod, Promise<void>>();
  const record =
    <M extends ApiMethod>(method: M, run: (p: ApiParsedParams<M>) => ApiResult<M>) =>
    async (params: ApiParsedParams<M>): Promise<ApiResult<M>> => {
      calls.push({ method, params });
      const result = run(params);
      await held.get(method);
      return result;
    };

  const handlers = {
    'status.get': record('status.get', () => status()),
    'roots.list': record('roots.list', () => roots),
    'roots.add': record('roots.add', ({ path: typed, include, exclude }) => {
      // The engine's own path rules (test/engine/app/root-folders.test.ts checks the real engine, disk included).
      const problem = patternProblem({ include, exclude });
      if (problem !== null) throw new ApiError('invalid-params', problem);
      const checked = checkRootFolderPath(typed, { home: FAKE_HOME, platform: 'linux', existing: roots });
      if (!checked.ok) throw new ApiError('invalid-params', checked.message);
      const path = checked.path;
      const root: Root = { id: roots.length + 1, path, include, exclude, present: true, addedAt: BASE_DATE };
      roots.push(root);
      return root;
    }),
    'roots.remove': record('roots.remove', ({ id }) => {
      const at = roots.findIndex((r) => r.id === id);
      if (at === -1) throw new ApiError('not-found', `no folder ${id}`);
      roots.splice(at, 1);
      return { ok: true as const };
    }),
    'indexing.pause': record('indexing.pause', () => ({ ok: true as const })),
    'indexing.resume': record('indexing.resume', () => ({ ok: true as const })),
    'search.run': record('search.run', (request) => {
      if (failNextSearch) {
        const message = failNextSearch;
        failNextSearch = null;
        throw new ApiError('unavailable', message);
      }
      const pool = request.filters.kinds ? library.filter((it) => request.filters.kinds!.includes(it.kind)) : library;
      const model = modelStatus();
      const sources: SearchResult['sources'] = model.embedding ? ['semantic', 'keyword', 'reranked'] : ['keyword'];
      // The engine's cut-off rule (contract/common/relevance.ts), so the UI's own filter is checked against it.
      const all = pool.map((it, i) => toResult(it, scores[i] ?? 0.05, sources));
      const ranked = all.filter((r) => meetsCutoff(r.score, request.cutoff));
      if (request.sort === 'date') ranked.sort((a, b) => b.date - a.date);
      return {
        results: ranked.slice(0, request.limit),
        total: ranked.length,
        hiddenByCutoff: all.length - ranked.length,
        mode: model.embedding ? 'semantic + keyword, reranked' : 'keyword only',
        tookMs: 182,
      };
    }),
    'items.get': record('items.get', ({ id }) => {
      const it = library.find((x) => x.itemId === id);
      if (!it) throw new ApiError('not-found', `no item ${id}`);
      const detail: ItemDetail = {
        itemId: it.itemId,
        fileId: it.fileId,
        path: join(roots[0]?.path ?? shownRoot, it.name),
        name: it.name,
        kind: it.kind,
        locator: it.locator,
        date: it.date,
        size: 2_400_000 + it.itemId * 310_000,
        mtime: it.date,
        text: it.text,
        metadata: it.metadata ?? (it.kind === 'image' ? { width: 6240, height: 4160, format: 'jpeg', camera: 'Fujifilm X-T4', lens: null, gps: null, orientation: 1 } : {}),
      };
      return detail;
    }),
    'files.failures': record('files.failures', ({ limit, offset }) => ({ total: failures.length, failures: failures.slice(offset, offset + limit) })),
    // Retried files leave the list (they are pending again), as the engine's do.
    'files.retry': record('files.retry', ({ fileIds }) => {
      const retried = failures.filter((f) => f.fileId !== null && (fileIds === undefined || fileIds.includes(f.fileId)));
      failures = failures.filter((f) => !retried.includes(f));
      return { queued: retried.length };
    }),
    'files.open': record('files.open', () => ({ ok: true as const })),
    'files.reveal': record('files.reveal', () => ({ ok: true as const })),
    'dialog.pickFolder': record('dialog.pickFolder', () => {
      throw new ApiError('unavailable', 'choosing a folder from a dialog needs the desktop app; type the folder path instead');
    }),
    'models.state': record('models.state', () => models),
    'models.install': record('models.install', (request) => {
      const { embedding, reranker, precision, source } = request;
      if (running()) throw new ApiError('invalid-params', 'A model is already being set up. Cancel it first.');
      if (source.type === 'hub' && models.offline) {
        throw new ApiError('unavailable', 'Trove is offline (TROVE_OFFLINE is set), so nothing is downloaded. Use files you already have.');
      }
      const ids = [embedding, reranker].filter((id) => id !== null);
      if (ids.length === 0) throw new ApiError('invalid-params', 'Choose a model to install.');
      const unknown = ids.find((id) => !FAKE_CATALOG.some((m) => m.id === id));
      if (unknown) throw new ApiError('invalid-params', `'${unknown}' is not a model Trove knows.`);
      const total = ids.reduce((sum, id) => sum + FAKE_CATALOG.find((m) => m.id === id)!.downloadBytes, 0);
      const task: SetupTask = { models: ids, request, phase: 'queued', step: 'Waiting to start', bytes: { done: 0, total }, bytesPerSecond: 0, etaSeconds: null, fraction: 0, error: null };
      taskPrecision = precision ?? 'fp16';
      setModels({ ...models, task, declined: false });
      return models;
    }),
    'models.cancel': record('models.cancel', () => {
      if (running()) setModels({ ...models, task: { ...models.task!, phase: 'cancelled', step: 'Cancelled', bytesPerSecond: 0, etaSeconds: null } });
      return models;
    }),
    'models.decline': record('models.decline', () => {
      setModels({ ...models, declined: true });
      return models;
    }),
    'models.activate': record('models.activate', ({ id }) => {
      const pkg = models.installed.find((p) => p.id === id);
      if (!pkg) throw new ApiError('not-found', `no installed model '${id}'`);
      if (pkg.active) return models;
      const active = models.installed.find((p) => p.kind === pkg.kind && p.active);
      // A new embedding model re-embeds the library first (the switch names packages by name, as the
      // engine's does); a reranker switches at once.
      if (pkg.kind === 'embedding' && active) setModels({ ...models, switching: { from: active.name, to: pkg.name, done: 0, total: SWITCH_TOTAL } });
      else setModels({ ...models, installed: models.installed.map((p) => (p.kind === pkg.kind ? { ...p, active: p.id === id } : p)) }, true);
      return models;
    }),
    'models.remove': record('models.remove', ({ id }) => {
      const pkg = models.installed.find((p) => p.id === id);
      if (!pkg) throw new ApiError('not-found', `no installed model '${id}'`);
      if (pkg.active || models.switching?.to === pkg.name) throw new ApiError('invalid-params', `${pkg.name} is in use; activate another model first.`);
      setModels({ ...models, installed: models.installed.filter((p) => p.id !== id) });
      return models;
    }),
    'models.useRemote': record('models.useRemote', ({ url, embeddingModel, rerankerModel }) => {
      if (url.includes('unreachable')) throw new ApiError('unavailable', `Could not reach ${url}: connection refused. Check the address and that the server is running.`);
      setModels({ ...models, backend: { type: 'remote', url, embeddingModel, rerankerModel } }, true);
      return models;
    }),
    'models.useLocal': record('models.useLocal', () => {
      setModels({ ...models, backend: { type: 'local' } }, true);
      return models;
    }),
    'models.removeDownloads': record('models.removeDownloads', () => {
      setModels({ ...models, downloads: models.downloads.filter((d) => d.inUse) });
      return models;
    }),
  } satisfies ApiHandlers;

  const events: ApiEventSource = {
    on(event, listener) {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(listener as (payload: never) => void);
      return () => set.delete(listener as (payload: never) => void);
    },
  };

  const media: MediaSource = {
    thumbnail(itemId) {
      const it = library.find((x) => x.itemId === itemId);
      if (!it) return null;
      return { mime: 'image/svg+xml', bytes: new TextEncoder().encode(it.kind === 'pdf' ? pageSvg() : it.portrait ? portraitSvg(it.hue) : thumbnailSvg(it.hue)) };
    },
    /** PDF pages and photos have a preview rendering (a page at 5× its thumbnail); other kinds none, as in the engine's media-previews.ts. */
    preview(itemId) {
      const it = library.find((x) => x.itemId === itemId);
      if (it?.kind === 'pdf') return { mime: 'image/svg+xml', bytes: new TextEncoder().encode(pageSvg(5)) };
      return it?.kind === 'image' ? { mime: 'image/svg+xml', bytes: new TextEncoder().encode(it.portrait ? portraitSvg(it.hue) : thumbnailSvg(it.hue)) } : null;
    },
    filePath: (itemId) => library.find((x) => x.itemId === itemId)?.file ?? null,
    rootPaths: () => [libraryDir],
  };

  return {
    handlers: handlers as ApiHandlers,
    events,
    media,
    calls,
    library,
    callsOf: (method: ApiMethod) => calls.filter((c) => c.method === method),
    hasListeners: (event: ApiEvent) => (listeners.get(event)?.size ?? 0) > 0,
    emitProgress(next: Partial<IndexingProgress>) {
      progress = { ...progress, ...next };
      emit('indexing.progress', progress);
    },
    failNextSearch(message: string) {
      failNextSearch = message;
    },
    setModel(next: ModelStatus) {
      modelOverride = next;
      // One answer: models.state says what status.get says.
      models = { ...models, asOf: now(), inUse: next };
      emit('models.changed', models);
      emit('model.changed', { statement: next.statement });
    },
    /**
     * Calls of `method` still run at once, but their answers wait until the returned release is
     * called: a slow answer, overtaken by the events sent after it.
     */
    holdAnswers(method: ApiMethod): () => void {
      let release!: () => void;
      held.set(method, new Promise<void>((resolve) => (release = resolve)));
      return () => {
        held.delete(method);
        release();
      };
    },
    /** Replaces what files.failures lists (and status.get counts of unreadable folders). */
    setFailures(next: FileFailure[]) {
      failures = next;
    },
    /** A folder the user added earlier (a restart after step 1). */
    seedRoot(path: string) {
      roots.push({ id: roots.length + 1, path, include: [], exclude: [], present: true, addedAt: BASE_DATE });
    },
    models: {
      get state(): ModelsState {
        return models;
      },
      /** The scripted setup task, moved on by the test: progress, then done or failed. */
      progress(patch: Partial<SetupTask>) {
        if (!models.task) throw new Error('no task to move on: install first');
        setModels({ ...models, task: { ...models.task, ...patch } });
      },
      /** The task's models are built and active; the task stays, as 'done', the way the engine keeps it. */
      done() {
        const task = models.task;
        if (!task) throw new Error('no task to finish');
        const built = task.models.map((id) => fakePackage(id, taskPrecision, true));
        const kinds = new Set(built.map((p) => p.kind));
        const kept = models.installed.filter((p) => !built.some((b) => b.id === p.id)).map((p) => (kinds.has(p.kind) ? { ...p, active: false } : p));
        setModels(
          { ...models, installed: [...kept, ...built], task: { ...task, phase: 'done', step: 'Ready', bytesPerSecond: 0, etaSeconds: null, fraction: 1 } },
          true,
        );
      },
      fail(error: string) {
        if (!models.task) throw new Error('no task to fail');
        setModels({ ...models, task: { ...models.task, phase: 'failed', error, bytesPerSecond: 0, etaSeconds: null } });
      },
      switchProgress(done: number) {
        if (!models.switching) throw new Error('no switch in progress');
        setModels({ ...models, switching: { ...models.switching, done } });
      },
      /** The re-embed completed: the new package becomes active, the old one stays installed. */
      finishSwitch() {
        const to = models.switching?.to;
        if (!to) throw new Error('no switch in progress');
        setModels({ ...models, switching: null, installed: models.installed.map((p) => (p.kind === 'embedding' ? { ...p, active: p.name === to } : p)) }, true);
      },
    },
    counts,
  };
}
