// The only place the UI talks to the engine. Each method calls the TroveApi and turns the answer
// (or the error) into store actions; components call these and read state, nothing else.
import type { TroveApi } from '../../../electron/contract/common/trove-api.ts';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, hasQuery, type Query, type ThemeChoice, type View } from './app-state.ts';
import { toSearchRequest } from './search-request.ts';
import type { Store } from './store.ts';

const SEARCH_DEBOUNCE_MS = 250;
const TOAST_MS = 3500;
const THEME_KEY = 'trove.theme';

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

export function createController(
  api: TroveApi,
  store: Store,
  onConnectionChange: (listener: (connected: boolean) => void) => () => void = () => () => {},
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

  async function refreshFailures() {
    dispatch({ type: 'failures/loading' });
    try {
      dispatch({ type: 'failures/ready', failures: await api.call('files.failures', { limit: 200 }) });
    } catch (e) {
      dispatch({ type: 'failures/error', message: messageOf(e) });
    }
  }

  async function runSearch(limit = DEFAULT_PAGE_SIZE) {
    clearTimeout(searchTimer);
    const { query, search } = store.getState();
    if (!hasQuery(query)) {
      dispatch({ type: 'search/clear' });
      return;
    }
    const seq = search.seq + 1;
    dispatch({ type: 'search/start', seq, limit });
    try {
      const response = await api.call('search.run', toSearchRequest(query, limit));
      dispatch({ type: 'search/ready', seq, response });
    } catch (e) {
      dispatch({ type: 'search/error', seq, message: messageOf(e) });
    }
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

  return {
    toast,
    refreshStatus,
    refreshRoots,
    refreshFailures,
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
    setView(view: View) {
      dispatch({ type: 'view', view });
      if (view === 'indexing') void refreshFailures();
      if (view === 'settings') void refreshStatus();
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
    openFile: (itemId: number) => act('Could not open the file', () => api.call('files.open', { itemId })),
    revealFile: (itemId: number) => act('Could not show the file', () => api.call('files.reveal', { itemId })),
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
          }
          if (connected) wasConnected = true;
        }),
        api.on('indexing.progress', (progress) => dispatch({ type: 'progress', progress })),
        api.on('roots.changed', (roots) => dispatch({ type: 'roots/ready', roots })),
        api.on('library.changed', () => void refreshStatus()),
        api.on('model.changed', () => void refreshStatus()),
      ];
      void refreshStatus();
      void refreshRoots();
      return () => offs.forEach((off) => off());
    },
  };
}
