// Every method of the API contract, over the engine's parts. Parameters arrive validated;
// "no such thing" and "cannot do that here" become ApiErrors with codes the UI can switch on.
import type { IndexingProgress } from '../../../contract/common/entities.ts';
import { ApiError, type ApiHandlers } from '../../../contract/common/trove-api.ts';
import type { EngineModels } from '../../inference/node/engine-models.ts';
import type { Indexer } from '../../jobs/node/indexer.ts';
import { patternProblem } from '../../library/common/path-rules.ts';
import { checkLibraryFile, LibraryFileError } from '../../library/node/library-file.ts';
import { resolveRootFolder, RootFolderError } from '../../library/node/root-folder.ts';
import type { SearchService } from '../../search/node/search-service.ts';
import type { Store } from '../../store/node/store.ts';
import type { LibrarySync } from './library-sync.ts';
import type { ModelSetup } from '../../model-setup/node/model-setup.ts';
import { openWithSystem } from './os-opener.ts';

export interface HandlerParts {
  readonly store: Store;
  readonly models: EngineModels;
  readonly indexer: Indexer;
  readonly sync: LibrarySync;
  readonly search: SearchService;
  readonly setup: ModelSetup;
  readonly progress: () => IndexingProgress;
  readonly rootsChanged: () => void;
}

export function createApiHandlers(parts: HandlerParts): ApiHandlers {
  const { store, models, indexer, sync, search, setup } = parts;
  /** Runs a models.* change, then answers with the new state; failures become 'failed' ApiErrors with their message. */
  const changeModels = async (change: () => unknown) => {
    try {
      await change();
    } catch (error) {
      if (error instanceof ApiError) throw error;
      throw new ApiError('failed', error instanceof Error ? error.message : String(error));
    }
    return setup.state();
  };

  const fileOfItem = (itemId: number): string => {
    const item = store.items.summaries([itemId]).get(itemId);
    if (!item) throw new ApiError('not-found', `there is no item ${itemId}; it may have been removed — search again`);
    return item.path;
  };
  const open = async (itemId: number, reveal: boolean) => {
    let file: string;
    try {
      // Only a library file (never through a link: docs/file-kinds.md, "Links") goes to the system's opener.
      file = (await checkLibraryFile(fileOfItem(itemId), store.roots.list().map((r) => r.path))).path;
    } catch (error) {
      if (!(error instanceof LibraryFileError)) throw error;
      throw new ApiError(error.code === 'missing' ? 'not-found' : 'failed', error.message);
    }
    try {
      await openWithSystem(file, reveal);
    } catch (error) {
      throw new ApiError('unavailable', error instanceof Error ? error.message : String(error));
    }
    return { ok: true as const };
  };

  return {
    'status.get': async () => {
      const counts = store.files.counts();
      const modelId = models.embedder?.modelId;
      return {
        files: counts.files,
        items: store.items.count(),
        // The vectors search reaches now; another model's (an earlier --model) are in model.unusedVectors.
        vectors: modelId === undefined ? 0 : store.vectors.count(modelId),
        ann: modelId === undefined ? { count: 0, state: 'ready' as const, progress: null } : store.ann(modelId).status,
        indexing: parts.progress(),
        model: setup.inUse(),
        dataDir: store.dataDir,
        diskBytes: store.diskBytes(),
        unreadableFolders: store.files.unreadableFolders(),
      };
    },
    'roots.list': async () => store.roots.list(),
    'roots.add': async (p) => {
      // Absolute (a leading ~ is the home folder), an existing folder, no system folder, not inside
      // or around another root; stored by its real path (docs/api.md, roots.add).
      // Malformed patterns are refused now rather than failing the folder's first sync.
      const problem = patternProblem({ include: p.include, exclude: p.exclude });
      if (problem !== null) throw new ApiError('invalid-params', problem);
      let folder: string;
      try {
        folder = await resolveRootFolder(p.path, { existing: store.roots.list() });
      } catch (error) {
        if (!(error instanceof RootFolderError)) throw error;
        throw new ApiError(error.code === 'missing' || error.code === 'not-folder' ? 'not-found' : 'invalid-params', error.message);
      }
      let root;
      try {
        root = store.roots.add({ path: folder, include: p.include, exclude: p.exclude });
      } catch (error) {
        throw new ApiError('invalid-params', error instanceof Error ? error.message : String(error));
      }
      sync.attach(root);
      parts.rootsChanged();
      return root;
    },
    'roots.remove': async (p) => {
      if (!store.roots.get(p.id)) throw new ApiError('not-found', `there is no folder ${p.id}; list the folders to get a valid id`);
      await sync.detach(p.id);
      parts.rootsChanged();
      return { ok: true as const };
    },
    'indexing.pause': async () => {
      indexer.pause();
      return { ok: true as const };
    },
    'indexing.resume': async () => {
      indexer.resume();
      return { ok: true as const };
    },
    'search.run': (p) => search.run(p),
    'items.get': async (p) => {
      const detail = store.items.detail(p.id);
      if (!detail) throw new ApiError('not-found', `there is no item ${p.id}; it may have been removed — search again`);
      return detail;
    },
    'files.failures': async (p) => store.files.failures(p.limit, p.offset),
    'files.retry': async (p) => {
      const queued = store.files.retryFailed(p.fileIds);
      // Unreadable folders are read again by a scan of their roots (all failures: every such root).
      if (p.fileIds === undefined) for (const rootId of store.files.rootsWithUnreadableFolders()) sync.rescan(rootId);
      if (queued > 0) indexer.wake();
      return { queued };
    },
    'files.open': (p) => open(p.itemId, false),
    'files.reveal': (p) => open(p.itemId, true),
    'dialog.pickFolder': async () => {
      throw new ApiError('unavailable', 'choosing a folder from a dialog needs the desktop app; type the folder path instead');
    },
    'models.state': () => setup.state(),
    'models.install': (p) => changeModels(() => setup.install(p)),
    'models.cancel': () => changeModels(() => setup.cancel()),
    'models.decline': () => changeModels(() => setup.decline()),
    'models.activate': (p) => changeModels(() => setup.activate(p.id)),
    'models.remove': (p) => changeModels(() => setup.remove(p.id)),
    'models.removeDownloads': () => changeModels(() => setup.removeDownloads()),
    'models.useRemote': (p) => changeModels(() => setup.useRemote(p)),
    'models.useLocal': () => changeModels(() => setup.useLocal()),
  };
}
