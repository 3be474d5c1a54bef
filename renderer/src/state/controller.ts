// The only place the UI talks to the engine. Each method calls the TroveApi and turns the answer
// (or the error) into store actions; components call these and read state, nothing else.
import type { ApiParams } from '#contract/common/api-methods.ts';
import type { ModelsState, RemoteBackendSettings } from '#contract/common/model-setup.ts';
import type { TroveApi } from '#contract/common/trove-api.ts';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, current, hasQuery, welcomeStage, type FocusRequest, type FocusTarget, type Query, type ThemeChoice, type View } from './app-state.ts';
import { formatCount } from '../lib/format.ts';
import { createOpenActions, DESKTOP_SHELL, type OpenShell } from './open-actions.ts';
import { toSearchRequest } from './search-request.ts';
import type { Store } from './store.ts';

const SEARCH_DEBOUNCE_MS = 250;
/**
 * Results on screen are asked again as files are indexed, at most this often, and never more than
 * a fifth of the time (a search that took 3 s waits 15 s): each search embeds the query, which
 * competes with indexing for the model (an image query can take seconds on a CPU).
 */
const RESULTS_REFRESH_MS = 5000;
const RESULTS_REFRESH_COST_FACTOR = 5;
const TOAST_MS = 3500;
const THEME_KEY = 'trove.theme';
/** Failures read at a time (files.failures pages). */
const FAILURES_PAGE = 100;

export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === 'string' ? error : 'Something went wrong.';
}

export function loadTheme(): ThemeChoice {
  try {
    const saved = localStorage.getItem(THEME_KEY);
    return saved === 'light' || saved === 'dark' ? saved : 'system';
  } catch {
    return 'system';
  }
}

export type Controller = ReturnType<typeof createController>;

/** status.get (vectors, its `model`) changes with the models in use: read it again when they do. */
function modelsKey(models: ModelsState): string {
  return JSON.stringify([models.inUse, models.backend, models.switching === null]);
}

export function createController(
  api: TroveApi,
  store: Store,
  onConnectionChange: (listener: (connected: boolean) => void) => () => void = () => () => {},
  /** How Open and Reveal reach the desktop (open-actions.ts): the shell, or browser tabs. */
  shell: OpenShell = DESKTOP_SHELL,
) {
  const { dispatch } = store;
  let searchTimer: ReturnType<typeof setTimeout> | undefined;
  let toastId = 0;

  function toast(message: string, tone: 'info' | 'error' = 'info') {
    toastId += 1;
    const id = toastId;
    dispatch({ type: 'toast/show', toast: { id, message, tone } });
    setTimeout(() => dispatch({ type: 'toast/dismiss', id }), TOAST_MS);
  }

  async function refreshStatus() {
    dispatch({ type: 'status/loading' });
    try {
      dispatch({ type: 'status/ready', status: await api.call('status.get', {}) });
    } catch (e) {
      dispatch({ type: 'status/error', message: messageOf(e) });
    }
  }

  async function refreshRoots() {
    dispatch({ type: 'roots/loading' });
    try {
      dispatch({ type: 'roots/ready', roots: await api.call('roots.list', {}) });
    } catch (e) {
      dispatch({ type: 'roots/error', message: messageOf(e) });
    }
  }

  /** Reads the failures again, as many as are shown now (at least a page). */
  async function refreshFailures() {
    const shown = current(store.getState().failures)?.failures.length ?? 0;
    dispatch({ type: 'failures/loading' });
    try {
      dispatch({ type: 'failures/ready', failures: await api.call('files.failures', { limit: Math.min(1000, Math.max(FAILURES_PAGE, shown)) }) });
    } catch (e) {
      dispatch({ type: 'failures/error', message: messageOf(e) });
    }
  }

  /** The next page of failures, after the ones shown. */
  async function moreFailures() {
    const shown = current(store.getState().failures);
    if (!shown) return refreshFailures();
    try {
      const page = await api.call('files.failures', { limit: FAILURES_PAGE, offset: shown.failures.length });
      dispatch({ type: 'failures/ready', failures: { total: page.total, failures: [...shown.failures, ...page.failures] } });
    } catch (e) {
      toast(`Could not load more: ${messageOf(e)}`, 'error');
    }
  }

  /**
   * Indexes failed files again (those named, or all of them: then unreadable folders are read
   * again too), says how many went back to the queue, and reads the list again.
   */
  async function retryFailures(fileIds?: number[]) {
    try {
      const { queued } = await api.call('files.retry', fileIds ? { fileIds } : {});
      if (queued > 0) toast(queued === 1 ? 'Retrying 1 file: it is back in the indexing queue.' : `Retrying ${formatCount(queued)} files: they are back in the indexing queue.`);
      else if (fileIds) toast('Nothing to retry: that file changed or is queued already.');
      else toast('No failed files to retry; folders that could not be read are read again now.');
    } catch (e) {
      toast(`Could not retry: ${messageOf(e)}`, 'error');
    }
    await refreshFailures();
  }

  /** `reload`: after the link came back, take the engine's answer whatever its asOf. */
  async function refreshModels(reload = false) {
    dispatch({ type: 'models/loading' });
    try {
      dispatch({ type: 'models/ready', models: await api.call('models.state', {}), reload });
    } catch (e) {
      dispatch({ type: 'models/error', message: messageOf(e) });
    }
  }

  /** Applies a models state (an answer or a models.changed event); the status follows a real change. */
  function applyModels(models: ModelsState) {
    const before = current(store.getState().models);
    dispatch({ type: 'models/ready', models });
    if (before && modelsKey(before) !== modelsKey(models)) void refreshStatus();
    // "Semantic search starts by itself": a search on screen is asked again when search can do more (or less).
    if (before && before.inUse.search !== models.inUse.search && hasQuery(store.getState().query)) void runSearch();
  }

  /** Runs a models.* call; returns the error message for a form to show, or null. */
  async function modelsCall(run: () => Promise<ModelsState>): Promise<string | null> {
    try {
      applyModels(await run());
      return null;
    } catch (e) {
      return messageOf(e);
    }
  }

  async function modelsAction(label: string, run: () => Promise<ModelsState>, done?: string) {
    const failure = await modelsCall(run);
    if (failure) toast(`${label}: ${failure}`, 'error');
    else if (done) toast(done);
  }

  /** The last install asked for in this session, so Retry repeats it exactly (folders included). */
  let lastInstall: ApiParams<'models.install'> | null = null;

  /** The indexed-files count when the results on screen were asked for (null: not known then). */
  let indexedAtSearch: number | null = null;
  let refreshTimer: ReturnType<typeof setTimeout> | undefined;
  /** When the last search answered, and what it cost the engine: the next refresh waits for both. */
  let lastAnswerAt = 0;
  let lastSearchMs = 0;
  const indexedNow = (): number | null => store.getState().progress?.files.indexed ?? null;

  async function runSearch(limit = DEFAULT_PAGE_SIZE) {
    clearTimeout(searchTimer);
    const { query, search } = store.getState();
    if (!hasQuery(query)) {
      dispatch({ type: 'search/clear' });
      return;
    }
    const seq = search.seq + 1;
    indexedAtSearch = indexedNow();
    dispatch({ type: 'search/start', seq, limit });
    try {
      const response = await api.call('search.run', toSearchRequest(query, limit));
      noteAnswer(response.tookMs);
      dispatch({ type: 'search/ready', seq, response });
    } catch (e) {
      dispatch({ type: 'search/error', seq, message: messageOf(e) });
    }
    // Files indexed while it ran are asked for next.
    refreshResultsSoon();
  }

  /** Results a person is looking at: the search page (past the welcome), answered, in a visible window. */
  function resultsOnScreen(): boolean {
    const state = store.getState();
    const visible = typeof document === 'undefined' || document.visibilityState === 'visible';
    return visible && state.view === 'search' && welcomeStage(state) === null && hasQuery(state.query) && state.search.result.phase === 'ready';
  }

  /**
   * "New files show up as they are done": when files were indexed (or removed) since the results on
   * screen were asked for, the same search runs again, quietly (no dimming, no skeleton; the
   * selection, the open preview, focus and scroll stay), at most every RESULTS_REFRESH_MS, and
   * only while the results are on screen; going back to them catches up.
   */
  function refreshResultsSoon() {
    if (refreshTimer !== undefined || !resultsOnScreen()) return;
    const indexed = indexedNow();
    if (indexed === null || indexed === indexedAtSearch) return;
    const interval = Math.max(RESULTS_REFRESH_MS, RESULTS_REFRESH_COST_FACTOR * lastSearchMs);
    refreshTimer = setTimeout(() => {
      refreshTimer = undefined;
      void refreshResults();
    }, Math.max(0, lastAnswerAt + interval - Date.now()));
  }

  function noteAnswer(tookMs: number) {
    lastAnswerAt = Date.now();
    lastSearchMs = tookMs;
  }

  async function refreshResults() {
    const indexed = indexedNow();
    if (!resultsOnScreen() || indexed === indexedAtSearch) return;
    const { query, search } = store.getState();
    const seq = search.seq + 1;
    indexedAtSearch = indexed;
    dispatch({ type: 'search/start', seq, limit: search.limit, quiet: true });
    try {
      const response = await api.call('search.run', toSearchRequest(query, search.limit));
      noteAnswer(response.tookMs);
      dispatch({ type: 'search/ready', seq, response, quiet: true });
    } catch {
      // The results on screen stay as they are; the next change asks again (counted from now).
      noteAnswer(lastSearchMs);
    }
    refreshResultsSoon();
  }

  /** Typing searches as you go, but only once the keys settle. */
  function scheduleSearch() {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => void runSearch(), SEARCH_DEBOUNCE_MS);
  }

  function updateQuery(patch: Partial<Query>, when: 'now' | 'debounced' = 'now') {
    dispatch({ type: 'query/patch', patch });
    if (when === 'now') void runSearch();
    else scheduleSearch();
  }

  async function openPreview(itemId: number, quickLook = false) {
    dispatch({ type: 'preview/open', itemId, quickLook });
    const detail = store.getState().preview.detail;
    if (detail.phase === 'ready' && detail.value.itemId === itemId) return;
    try {
      dispatch({ type: 'preview/ready', itemId, detail: await api.call('items.get', { id: itemId }) });
    } catch (e) {
      dispatch({ type: 'preview/error', itemId, message: messageOf(e) });
    }
  }

  async function act(label: string, run: () => Promise<unknown>, done?: string) {
    try {
      await run();
      if (done) toast(done);
    } catch (e) {
      toast(`${label}: ${messageOf(e)}`, 'error');
    }
  }

  function setView(view: View) {
    dispatch({ type: 'view', view });
    if (view === 'search') refreshResultsSoon();
    if (view === 'indexing') void refreshFailures();
    if (view === 'settings') {
      void refreshStatus();
      void refreshModels();
    }
  }

  return {
    toast,
    refreshStatus,
    refreshRoots,
    refreshFailures,
    moreFailures,
    retryFailures,
    refreshModels: () => refreshModels(),
    runSearch,
    updateQuery,
    showMore() {
      const { search } = store.getState();
      void runSearch(Math.min(MAX_PAGE_SIZE, search.limit + DEFAULT_PAGE_SIZE * 2));
    },
    resetQuery() {
      clearTimeout(searchTimer);
      dispatch({ type: 'query/reset' });
    },
    moreLikeThis(itemId: number, name: string) {
      dispatch({ type: 'view', view: 'search' });
      dispatch({ type: 'preview/close' });
      updateQuery({ likeItem: { id: itemId, name }, text: '', image: null });
    },
    select(index: number) {
      dispatch({ type: 'select', index });
    },
    openPreview,
    closePreview() {
      dispatch({ type: 'preview/close' });
    },
    setView,
    /** Shows `view` and moves focus to `target` in it once it is on screen (see focus-request.ts). */
    showAndFocus(view: View, target: FocusTarget) {
      setView(view);
      dispatch({ type: 'focus/request', target });
    },
    focusDone(request: FocusRequest) {
      dispatch({ type: 'focus/done', request });
    },
    setTheme(theme: ThemeChoice) {
      try {
        if (theme === 'system') localStorage.removeItem(THEME_KEY);
        else localStorage.setItem(THEME_KEY, theme);
      } catch {
        // Storage can be unavailable (private windows); the choice then lasts for this session.
      }
      dispatch({ type: 'theme', theme });
    },
    /** Returns an error message for the form, or null when the folder was added. */
    async addRoot(path: string, include: string[], exclude: string[]): Promise<string | null> {
      try {
        const root = await api.call('roots.add', { path, include, exclude });
        toast(`Added ${root.path}. Indexing starts now.`);
        await refreshRoots();
        void refreshStatus();
        return null;
      } catch (e) {
        return messageOf(e);
      }
    },
    removeRoot: (id: number, path: string) =>
      act('Could not remove the folder', async () => {
        await api.call('roots.remove', { id });
        await refreshRoots();
      }, `Removed ${path} from Trove. Your files were not touched.`),
    pauseIndexing: () => act('Could not pause', () => api.call('indexing.pause', {})),
    resumeIndexing: () => act('Could not resume', () => api.call('indexing.resume', {})),
    ...createOpenActions(api, shell, toast),
    /** The system's folder chooser (desktop app); null when cancelled or unavailable. */
    async pickFolder(title: string): Promise<string | null> {
      try {
        return (await api.call('dialog.pickFolder', { title })).path;
      } catch (e) {
        toast(`Could not open the folder chooser: ${messageOf(e)}`, 'error');
        return null;
      }
    },

    /** Download (or take from folders), build and activate; returns an error message or null. */
    installModels(request: ApiParams<'models.install'>): Promise<string | null> {
      lastInstall = request;
      return modelsCall(() => api.call('models.install', request));
    },
    /** Starts the failed task again: this session's request, else the task's catalog models. */
    retrySetup(): Promise<string | null> {
      const models = current(store.getState().models);
      // The task carries the request that started it, so Retry works after a restart too.
      const request = lastInstall ?? models?.task?.request ?? null;
      if (!request) return Promise.resolve('Choose the model again: this task cannot be repeated as it was.');
      return modelsCall(() => api.call('models.install', request));
    },
    cancelSetup: () => modelsAction('Could not cancel', () => api.call('models.cancel', {})),
    async declineModels() {
      const failure = await modelsCall(() => api.call('models.decline', {}));
      if (failure) toast(`Could not skip the model: ${failure}`, 'error');
      else dispatch({ type: 'welcome/finish' });
    },
    activateModel: (id: string) => modelsAction('Could not switch models', () => api.call('models.activate', { id })),
    removeModel: (id: string, name: string) =>
      modelsAction('Could not remove the model', () => api.call('models.remove', { id }), `Removed ${name}.`),
    /** Returns an error message for the form (the engine checks the server first), or null. */
    useRemote: (settings: RemoteBackendSettings) => modelsCall(() => api.call('models.useRemote', settings)),
    removeDownloads: () => modelsAction('Could not delete the downloads', () => api.call('models.removeDownloads', {}), 'Deleted the unfinished downloads.'),
    useLocal: () => modelsAction('Could not switch back to this computer', () => api.call('models.useLocal', {}), 'Models run on this computer again.'),
    finishWelcome() {
      dispatch({ type: 'welcome/finish' });
    },
    copyPath: (path: string) =>
      act('Could not copy the path', () => navigator.clipboard.writeText(path), 'Path copied'),

    /** Subscribe to engine events and load the first data; returns the unsubscribe. */
    start(): () => void {
      let wasConnected = false;
      const offs = [
        // Events missed while the socket was down are gone: reload what they would have changed.
        onConnectionChange((connected) => {
          dispatch({ type: 'link', link: connected || !wasConnected ? 'up' : 'lost' });
          if (connected && wasConnected) {
            void refreshStatus();
            void refreshRoots();
            void refreshModels(true);
          }
          if (connected) wasConnected = true;
        }),
        api.on('indexing.progress', (progress) => {
          dispatch({ type: 'progress', progress });
          refreshResultsSoon();
        }),
        api.on('roots.changed', (roots) => dispatch({ type: 'roots/ready', roots })),
        api.on('library.changed', () => void refreshStatus()),
        api.on('model.changed', () => void refreshStatus()),
        api.on('models.changed', applyModels),
        // Pushed by the desktop shell only: why the engine process is away, for the banner.
        api.on('engine.status', (status) => dispatch({ type: 'engine/status', message: status.state === 'ready' ? null : status.message })),
      ];
      // A window brought back to the front catches up with what was indexed meanwhile.
      if (typeof document !== 'undefined') {
        document.addEventListener('visibilitychange', refreshResultsSoon);
        offs.push(() => document.removeEventListener('visibilitychange', refreshResultsSoon));
      }
      offs.push(() => clearTimeout(refreshTimer));
      void refreshStatus();
      void refreshRoots();
      void refreshModels();
      return () => offs.forEach((off) => off());
    },
  };
}
