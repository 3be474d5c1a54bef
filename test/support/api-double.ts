// A small in-memory engine behind the real contract: handlers that answer every method with
// contract-valid data, an event emitter, and a media source over a temp folder. Transport tests
// run the real dispatchApiCall validation against it.
import { EventEmitter } from 'node:events';
import type { ApiEvent, ApiEventPayload } from '../../electron/contract/common/api-events.ts';
import type { Root, SearchResult, Status } from '../../electron/contract/common/entities.ts';
import type { ModelsState } from '../../electron/contract/common/model-setup.ts';
import type { ApiEventSource } from '../../electron/contract/common/in-process-api.ts';
import { ApiError, type ApiHandlers } from '../../electron/contract/common/trove-api.ts';
import type { MediaSource } from '../../electron/server/node/api-server.ts';
import { NO_MODEL } from './fake-engine.ts';

const counts = { total: 3, indexed: 2, failed: 1, pending: 0 };
const zero = { total: 0, indexed: 0, failed: 0, pending: 0 };

export function statusFixture(): Status {
  return {
    files: counts,
    items: 5,
    vectors: 5,
    ann: { count: 5 },
    indexing: { state: 'idle', files: counts, byKind: { image: counts, video: zero, pdf: zero, text: zero, document: zero }, rate: 0, etaSeconds: null, current: null, byRoot: [] },
    model: NO_MODEL,
    dataDir: '/data',
    diskBytes: 1024,
    unreadableFolders: { count: 0, files: 0 },
  };
}

export function modelsStateFixture(): ModelsState {
  return {
    asOf: Date.now(),
    catalog: [],
    hardware: { gpus: [], ramBytes: 16e9, freeDiskBytes: 100e9, executionProvider: 'cpu' },
    recommendation: { embedding: 'embedding-2b', reranker: null, precision: 'int8', reason: 'no GPU was found' },
    fits: {},
    installed: [],
    inUse: NO_MODEL,
    backend: { type: 'local' },
    task: null,
    switching: null,
    declined: false,
    offline: false,
    downloads: [],
  };
}

export function createApiDouble(): { handlers: ApiHandlers; roots: Root[]; paused: () => boolean } {
  const roots: Root[] = [];
  let paused = false;
  const handlers: ApiHandlers = {
    'status.get': async () => statusFixture(),
    'roots.list': async () => roots,
    'roots.add': async ({ path, include, exclude }) => {
      const root: Root = { id: roots.length + 1, path, include, exclude, present: true, addedAt: 1_700_000_000_000 };
      roots.push(root);
      return root;
    },
    'roots.remove': async ({ id }) => {
      const index = roots.findIndex((r) => r.id === id);
      if (index === -1) throw new ApiError('not-found', `no root ${id}`);
      roots.splice(index, 1);
      return { ok: true };
    },
    'indexing.pause': async () => {
      paused = true;
      return { ok: true };
    },
    'indexing.resume': async () => {
      paused = false;
      return { ok: true };
    },
    'search.run': async (request) => ({
      results: [
        {
          itemId: 7,
          fileId: 3,
          path: '/photos/cat.jpg',
          name: 'cat.jpg',
          kind: 'image',
          score: 0.9,
          locator: { type: 'whole' },
          date: 1_700_000_000_000,
          sources: ['semantic'],
        } satisfies SearchResult,
      ].slice(0, request.limit),
      total: 1,
      mode: request.image ? 'semantic' : 'semantic+keyword',
      tookMs: 1,
    }),
    'items.get': async ({ id }) => {
      if (id === 666) throw new Error('the store is on fire');
      if (id === 13) return { itemId: 13 } as never; // a broken engine: the contract must catch it
      if (id !== 7) throw new ApiError('not-found', `no item ${id}`);
      return {
        itemId: 7,
        fileId: 3,
        path: '/photos/cat.jpg',
        name: 'cat.jpg',
        kind: 'image',
        locator: { type: 'whole' },
        date: 1_700_000_000_000,
        size: 1234,
        mtime: 1_700_000_000_000,
        text: null,
        metadata: { width: 640, camera: null },
      };
    },
    'files.failures': async ({ limit, offset }) => ({
      total: 1,
      failures: [{ fileId: 9, what: 'file', path: `/broken-${limit}-${offset}.png`, kind: 'image', reason: 'truncated PNG', at: 1, attempts: 1, files: 1, nextTry: 'on-change' }],
    }),
    'files.retry': async ({ fileIds }) => ({ queued: fileIds?.length ?? 1 }),
    'files.open': async () => ({ ok: true }),
    'files.reveal': async () => ({ ok: true }),
    'dialog.pickFolder': async () => {
      throw new ApiError('unavailable', 'choosing a folder from a dialog needs the desktop app; type the folder path instead');
    },
    'models.state': async () => modelsStateFixture(),
    'models.install': async () => modelsStateFixture(),
    'models.cancel': async () => modelsStateFixture(),
    'models.decline': async () => ({ ...modelsStateFixture(), declined: true }),
    'models.activate': async () => modelsStateFixture(),
    'models.remove': async () => modelsStateFixture(),
    'models.useRemote': async () => modelsStateFixture(),
    'models.useLocal': async () => modelsStateFixture(),
    'models.removeDownloads': async () => modelsStateFixture(),
  };
  return { handlers, roots, paused: () => paused };
}

/** An ApiEventSource over an EventEmitter, with `emit` for tests (emitting unchecked payloads too). */
export function createEventDouble(): ApiEventSource & { emit(event: ApiEvent | string, payload: unknown): void; listenerCount(): number } {
  const emitter = new EventEmitter();
  return {
    on<E extends ApiEvent>(event: E, listener: (payload: ApiEventPayload<E>) => void) {
      emitter.on(event, listener);
      return () => emitter.off(event, listener);
    },
    emit: (event, payload) => emitter.emit(event, payload),
    listenerCount: () => emitter.eventNames().reduce((n, name) => n + emitter.listenerCount(name), 0),
  };
}

export function createMediaDouble(files: Map<number, string>, roots: string[], thumbnails = new Map<number, Uint8Array>()): MediaSource {
  return {
    thumbnail: (itemId) => {
      const bytes = thumbnails.get(itemId);
      return bytes ? { mime: 'image/webp', bytes } : null;
    },
    filePath: async (itemId) => files.get(itemId) ?? null,
    rootPaths: () => roots,
  };
}
