// The engine as one product: the store, the models, library sync (scan + watch), the indexer and
// the search service, behind the API handlers, events and media lookups the adapters use.
// At open every stored root is reconciled with the disk (changes made while Trove was closed) and
// pending files are indexed in the background (not in a snapshot, see EngineOptions.snapshot);
// `close()` stops that work and saves the ANN index.
import path from 'node:path';
import { FILE_KINDS, type IndexingProgress } from '../../../contract/common/entities.ts';
import type { ApiEvent, ApiEventPayload } from '../../../contract/common/api-events.ts';
import type { DownloadOptions } from '../../../../native-models/hub/node/snapshot-download.ts';
import { EngineModels, type ModelCallObserver } from '../../inference/node/engine-models.ts';
import { Indexer, requeueFilesWithoutVectors } from '../../jobs/node/indexer.ts';
import { Coalescer } from '../../jobs/node/progress-meter.ts';
import { SearchService } from '../../search/node/search-service.ts';
import { Store } from '../../store/node/store.ts';
import { createApiHandlers } from './api-handlers.ts';
import { LibrarySync } from './library-sync.ts';
import { initialModelRefs, ModelSetup } from '../../model-setup/node/model-setup.ts';
import { readModelSettings, writeModelSettings } from '../../model-setup/node/model-settings.ts';
import { finishInterruptedPackageUpdate } from '../../model-setup/node/model-package-update.ts';
import { MediaPreviews } from './media-previews.ts';
import type { EngineMedia, EngineOptions, TroveEngine } from './trove-engine-types.ts';

/** For tests and diagnostics: observe model calls (e.g. to prove a rename embeds nothing). */
export interface EngineHooks {
  readonly observeModelCalls?: ModelCallObserver;
  /** Hub options for the model downloader (a test's free-space probe, a mirror). */
  readonly hub?: Partial<DownloadOptions>;
  /** The environment the model setup reads (HF_ENDPOINT, HF_TOKEN, offline mode, catalog override). */
  readonly env?: NodeJS.ProcessEnv;
  /** Tests: awaited before the model switch re-embeds each file, to stop it at a chosen point. */
  readonly beforeBackfillFile?: (filesDone: number, signal: AbortSignal) => Promise<void>;
  /** Tests: awaited after a package update's rebuild, before it replaces the package in use. */
  readonly beforePackageSwap?: (dir: string) => Promise<void>;
}

/** At most this many progress events a second reach the UI. */
const PROGRESS_EVENTS_PER_SECOND = 4;

export async function openTroveEngine(options: EngineOptions, hooks: EngineHooks = {}): Promise<TroveEngine> {
  // A snapshot writes nothing: no model row for a model the library has never used, no ANN saves.
  const store = Store.open(options.dataDir, { snapshot: options.snapshot });
  const saved = readModelSettings(options.dataDir);
  let models: EngineModels;
  try {
    // A package update cut short by a crash is completed or undone before its package is loaded.
    if (!options.snapshot && saved.settings.packageUpdate) {
      const done = await finishInterruptedPackageUpdate(saved.settings, store);
      writeModelSettings(options.dataDir, saved.settings);
      if (done) console.error(`trove: ${done}`);
    }
    const refs = initialModelRefs(saved.settings, { embedding: options.embeddingModel, reranker: options.rerankerModel });
    models = await EngineModels.open(store, { ...refs, observe: hooks.observeModelCalls, readOnly: options.snapshot });
  } catch (error) {
    store.close();
    throw error;
  }
  if (saved.problem) models.noteProblem(saved.problem);
  if (models.embedder && !options.snapshot) requeueFilesWithoutVectors(store, models.embedder.modelId);
  // The ANN index loads (or builds) in its workers from now on; search falls back until it is ready.
  // A snapshot (a one-shot `trove status`) waits a little for it, so its count is the real one.
  if (models.embedder) {
    const ann = store.ann(models.embedder.modelId);
    if (options.snapshot) await Promise.race([ann.whenReady().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
  }

  const listeners = new Map<ApiEvent, Set<(payload: never) => void>>();
  const emit = <E extends ApiEvent>(event: E, payload: ApiEventPayload<E>): void => {
    for (const fn of listeners.get(event) ?? []) {
      try {
        (fn as (p: ApiEventPayload<E>) => void)(payload);
      } catch (error) {
        console.error(`trove: a '${event}' listener failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  };

  let closed = false;
  const idleWaiters: Array<() => void> = [];

  const progress = (): IndexingProgress => {
    const counts = store.files.counts();
    const state = indexer.isPaused ? 'paused' : indexer.busy ? 'indexing' : sync.scanning ? 'scanning' : 'idle';
    const byKind = Object.fromEntries(FILE_KINDS.map((k) => [k, counts.byKind[k]])) as IndexingProgress['byKind'];
    return {
      state,
      files: counts.files,
      byKind,
      rate: indexer.rate.rate(),
      etaSeconds: state === 'idle' ? 0 : indexer.rate.etaSeconds(counts.files.pending),
      current: indexer.currentFile,
      byRoot: [...store.files.countsByRoot()].map(([rootId, files]) => ({ rootId, files })),
    };
  };
  const progressEvents = new Coalescer(() => {
    if (!closed) emit('indexing.progress', progress());
  }, 1000 / PROGRESS_EVENTS_PER_SECOND);

  const checkIdle = (): void => {
    if (closed || idleWaiters.length === 0) return;
    if (sync.scanning || sync.holdingRemovals || indexer.busy) return;
    if (!indexer.isPaused && store.files.counts().files.pending > 0) {
      indexer.wake();
      return;
    }
    if (store.files.counts().files.pending > 0) return; // paused with work left: not idle
    for (const resolve of idleWaiters.splice(0)) resolve();
  };
  const activity = (): void => {
    progressEvents.request();
    // After the current call stack, so a scan that ends and wakes the indexer is seen as busy.
    setImmediate(() => {
      checkIdle();
      if (!closed) setup.indexerChanged();
    });
  };
  const rootsChanged = (): void => emit('roots.changed', store.roots.list());

  // The callbacks above reach `indexer` and `sync` only once both exist (never during construction).
  const indexer = new Indexer({
    store,
    models,
    fileTimeoutMs: options.fileTimeoutMs,
    onRound: ({ indexed }) => {
      if (indexed) emit('library.changed', { indexed, removed: 0 });
    },
    onActivity: activity,
  });
  const sync = new LibrarySync({
    store,
    watch: options.watch ?? false,
    onPending: () => indexer.wake(),
    onRemoved: (removed) => {
      emit('library.changed', { indexed: 0, removed });
      activity();
    },
    onRootsChanged: rootsChanged,
    onScanState: activity,
  });
  const search = new SearchService(store, models);
  const setup = new ModelSetup({
    store,
    models,
    dataDir: options.dataDir,
    settings: saved.settings,
    indexerBusy: () => indexer.busy || sync.scanning || store.files.counts().files.pending > 0,
    wakeIndexer: () => indexer.wake(),
    withIndexerPaused: async (work) => {
      // No round may straddle a change of the active embedder: its vectors would be stored
      // under the new model's id. Pause, let the round in flight finish, swap, resume.
      const wasPaused = indexer.isPaused;
      indexer.pause();
      while (indexer.busy) await new Promise((resolve) => setTimeout(resolve, 25));
      try {
        return await work();
      } finally {
        if (!wasPaused) indexer.resume();
      }
    },
    onStateChanged: (state) => emit('models.changed', state),
    onModelChanged: (statement) => emit('model.changed', { statement }),
    env: hooks.env,
    hub: hooks.hub,
    beforeBackfillFile: hooks.beforeBackfillFile,
    // Engines that stay open rebuild outdated packages in use; one-shot commands would cut it short.
    updatePackages: options.watch ?? false,
    beforePackageSwap: hooks.beforePackageSwap,
  });
  const handlers = createApiHandlers({ store, models, indexer, sync, search, setup, progress, rootsChanged });

  const previews = new MediaPreviews(store);
  const media: EngineMedia = {
    thumbnail: async (itemId) => {
      const t = store.items.thumbnail(itemId);
      return t ? { mime: t.mime, bytes: t.bytes } : null;
    },
    preview: async (itemId) => ((await media.filePath(itemId)) === null ? null : previews.preview(itemId)),
    filePath: async (itemId) => {
      const item = store.items.summaries([itemId]).get(itemId);
      if (!item) return null;
      const root = store.roots.containing(item.path);
      if (!root || !root.present || root.id !== item.rootId) return null;
      const rel = path.relative(root.path, item.path);
      return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? item.path : null;
    },
    rootPaths: async () => store.roots.list().map((r) => r.path),
  };

  if (!options.snapshot) {
    sync.startAll();
    indexer.wake();
    await setup.resume();
    setup.watchSemanticIndex();
  }

  return {
    handlers,
    media,
    on(event, listener) {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(listener as (payload: never) => void);
      return () => set.delete(listener as (payload: never) => void);
    },
    idle() {
      return new Promise<void>((resolve) => {
        idleWaiters.push(resolve);
        setImmediate(checkIdle);
      }).then(() => (closed ? undefined : store.annSettled()));
    },
    async close() {
      if (closed) return;
      progressEvents.flush();
      closed = true;
      progressEvents.cancel();
      await setup.close();
      await sync.close();
      await indexer.close();
      await models.close();
      await store.closeAnn();
      store.close();
      for (const resolve of idleWaiters.splice(0)) resolve();
    },
  };
}
