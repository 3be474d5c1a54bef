// A fake engine for the UI test: contract-valid answers with a library that looks like a real
// person's (photos, a video moment, a PDF page, notes), events the test fires on cue, and every
// call recorded so the test can check what the UI asked for. It sits behind the real
// `trove serve` HTTP + WebSocket server, so the renderer talks the real wire format.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ApiEvent, ApiEventPayload } from '../../electron/contract/common/api-events.ts';
import type {
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
import type { ApiMethod, ApiParsedParams, ApiResult } from '../../electron/contract/common/api-methods.ts';
import { ApiError, type ApiHandlers } from '../../electron/contract/common/trove-api.ts';
import type { MediaSource } from '../../electron/server/node/api-server.ts';

export interface RecordedCall {
  method: ApiMethod;
  params: unknown;
}

const DAY = 24 * 3600 * 1000;
const BASE_DATE = Date.UTC(2025, 6, 14);

interface LibraryItem extends Omit<SearchResult, 'score' | 'sources' | 'path'> {
  file: string;
  /** Colours of the generated thumbnail. */
  hue: number;
  text: string | null;
}

function counts(total: number, indexed: number, failed = 0): KindCounts {
  return { total, indexed, failed, pending: total - indexed - failed };
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

function pageSvg(): string {
  const lines = Array.from({ length: 14 }, (_, i) => `<rect x="28" y="${40 + i * 12}" width="${180 - ((i * 37) % 70)}" height="5" rx="2" fill="#c8c8d0"/>`).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="240" height="320" viewBox="0 0 240 320"><rect width="240" height="320" fill="#fbfbfd"/><rect x="28" y="18" width="120" height="9" rx="3" fill="#6a6a78"/>${lines}<rect x="28" y="230" width="184" height="64" rx="4" fill="#dfe6ff"/></svg>`;
}

/**
 * `libraryDir` holds the files the media routes serve; `shownRoot` is the folder the user adds and
 * sees in paths (a realistic one, so screenshots do not show a temp folder).
 */
export function createFakeEngine(libraryDir: string, shownRoot: string) {
  const calls: RecordedCall[] = [];
  const listeners = new Map<ApiEvent, Set<(payload: never) => void>>();
  const roots: Root[] = [];
  let model: ModelStatus = {
    embedding: { name: 'Qwen3-VL-Embedding-2B', dims: 2048, precision: 'fp16' },
    reranker: { name: 'Qwen3-VL-Reranker-2B', precision: 'fp16' },
    executionProvider: 'cuda: NVIDIA GeForce RTX 4070 (12 GB)',
    statement: 'Qwen3-VL-Embedding-2B and Qwen3-VL-Reranker-2B on the GPU (CUDA).',
  };
  let progress: IndexingProgress = {
    state: 'idle',
    files: counts(0, 0),
    byKind: { image: counts(0, 0), video: counts(0, 0), pdf: counts(0, 0), text: counts(0, 0), document: counts(0, 0) },
    rate: 0,
    etaSeconds: null,
    current: null,
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
    item(3, 'harbour-walk.mp4', 'video', { locator: { type: 'time', start: 32, end: 48 } }),
    item(4, 'coast-trip-notes.md', 'text', {
      locator: { type: 'text', start: 120, end: 420, snippet: 'Day three: we reached the beach just before sunset and stayed until the lighthouse came on. Pack warmer jackets next time.' },
      text: 'Day three: we reached the beach just before sunset and stayed until the lighthouse came on. Pack warmer jackets next time; the wind off the water was colder than the forecast said.',
    }),
    item(5, 'travel-guide.pdf', 'pdf', { locator: { type: 'page', page: 12 }, text: 'Sunset viewpoints along the coast road.' }),
    item(6, 'lighthouse.jpg', 'image'),
    item(7, 'picnic.jpg', 'image'),
    item(8, 'rocks-low-tide.jpg', 'image'),
  ];
  /** Set to make the next search fail, as an engine whose model crashed would. */
  let failNextSearch: string | null = null;
  const scores = [0.94, 0.88, 0.81, 0.77, 0.64, 0.52, 0.31, 0.12];
  for (const it of library) writeFileSync(it.file, thumbnailSvg(it.hue));

  function emit<E extends ApiEvent>(event: E, payload: ApiEventPayload<E>): void {
    for (const l of listeners.get(event) ?? []) (l as (p: ApiEventPayload<E>) => void)(payload);
  }

  function status(): Status {
    return {
      files: progress.files,
      items: progress.files.indexed * 2,
      vectors: progress.files.indexed * 2,
      ann: { count: progress.files.indexed * 2 },
      indexing: progress,
      model,
      dataDir: '/home/ada/.local/share/trove',
      diskBytes: 734_003_200,
    };
  }

  function toResult(it: LibraryItem, score: number, sources: SearchResult['sources']): SearchResult {
    return { itemId: it.itemId, fileId: it.fileId, path: join(roots[0]?.path ?? shownRoot, it.name), name: it.name, kind: it.kind, score, locator: it.locator, date: it.date, sources };
  }

  const record =
    <M extends ApiMethod>(method: M, run: (p: ApiParsedParams<M>) => ApiResult<M>) =>
    async (params: ApiParsedParams<M>): Promise<ApiResult<M>> => {
      calls.push({ method, params });
      return run(params);
    };

  const handlers = {
    'status.get': record('status.get', () => status()),
    'roots.list': record('roots.list', () => roots),
    'roots.add': record('roots.add', ({ path, include, exclude }) => {
      if (!path.startsWith('/')) throw new ApiError('invalid-params', `'${path}' is not an absolute path`);
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
      const sources: SearchResult['sources'] = model.embedding ? ['semantic', 'keyword', 'reranked'] : ['keyword'];
      const ranked = pool.map((it, i) => toResult(it, scores[i] ?? 0.05, sources)).filter((r) => r.score >= request.cutoff);
      if (request.sort === 'date') ranked.sort((a, b) => b.date - a.date);
      return { results: ranked.slice(0, request.limit), total: ranked.length, mode: model.embedding ? 'semantic + keyword, reranked' : 'keyword only', tookMs: 182 };
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
        metadata: it.kind === 'image' ? { camera: 'Fujifilm X-T4', dimensions: '6240 × 4160' } : {},
      };
      return detail;
    }),
    'files.failures': record('files.failures', () => [
      { fileId: 90, path: join(shownRoot, 'scans/receipt-2019.pdf'), kind: 'pdf' as const, error: 'The PDF is password-protected.', at: BASE_DATE },
      { fileId: 91, path: join(shownRoot, 'camera/IMG_0042.jpg'), kind: 'image' as const, error: 'The JPEG is truncated (ends after 12 KB of 3.1 MB).', at: BASE_DATE },
    ]),
    'files.open': record('files.open', () => ({ ok: true as const })),
    'files.reveal': record('files.reveal', () => ({ ok: true as const })),
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
      return { mime: 'image/svg+xml', bytes: new TextEncoder().encode(it.kind === 'pdf' ? pageSvg() : thumbnailSvg(it.hue)) };
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
      model = next;
      emit('model.changed', { statement: next.statement });
    },
    counts,
  };
}
