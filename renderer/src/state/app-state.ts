// Everything the UI shows, in one plain object, changed only by `reduce`. Async work (API calls,
// events) lives in controller.ts and turns into actions here, so every screen is a function of
// this state and the whole flow can be read in two files.
import type {
  FileFailures,
  FileKind,
  IndexingProgress,
  ItemDetail,
  Root,
  SearchResponse,
  Status,
} from '#contract/common/entities.ts';
import type { ModelsState } from '#contract/common/model-setup.ts';
import { modelStepNeeded } from './models.ts';

export type View = 'search' | 'folders' | 'indexing' | 'settings';
export type ThemeChoice = 'system' | 'light' | 'dark';
export type SortOrder = 'relevance' | 'date';

/** An image the user dropped, pasted or picked, held as bytes for `search.run`. */
export interface ImageQuery {
  name: string;
  mime: string;
  dataBase64: string;
  /** An object URL for the chip's thumbnail. */
  previewUrl: string;
}

export interface Query {
  text: string;
  image: ImageQuery | null;
  /** "More like this": the item whose vector is the query. */
  likeItem: { id: number; name: string } | null;
  kinds: FileKind[];
  rootIds: number[];
  from: number | null;
  to: number | null;
  sort: SortOrder;
  /** Probability below which results are hidden. */
  cutoff: number;
}

export type Loadable<T> =
  | { phase: 'idle' }
  | { phase: 'loading'; previous: T | null }
  | { phase: 'ready'; value: T }
  | { phase: 'error'; message: string; previous: T | null };

export interface SearchState {
  /** Increases with every request so a slow answer to an old query never replaces a newer one. */
  seq: number;
  limit: number;
  result: Loadable<SearchResponse>;
}

export interface PreviewState {
  itemId: number | null;
  /** Space: the large overlay ("quick look") rather than the side pane. */
  quickLook: boolean;
  detail: Loadable<ItemDetail>;
}

export interface Toast {
  id: number;
  message: string;
  tone: 'info' | 'error';
}

/** The live link to the engine's events: 'lost' after it dropped, until it is back. */
export type Link = 'up' | 'lost';

/**
 * The first-run flow's own memory, for this session only: everything else it shows is derived from
 * roots and models.state. `modelStepSeen` keeps the welcome up after the model arrives, so step 3
 * (indexing) follows step 2 instead of the page jumping away; `finished`: the user left the flow
 * ("Start searching" or "Not now").
 */
export interface WelcomeState {
  modelStepSeen: boolean;
  finished: boolean;
}

/** Which part of the welcome to show: null for none (the search view), 'loading' while unknown. */
export type WelcomeStage = 'loading' | 'folders' | 'model' | 'indexing' | null;

/** A place the UI was asked to move focus to (see focus-request.ts). */
export type FocusTarget = 'search' | 'model-setup';
export interface FocusRequest {
  target: FocusTarget;
}

export interface AppState {
  view: View;
  /** The shell's words while the engine process is not ready (why it stopped, when it restarts); null when it is. */
  engineMessage: string | null;
  /** Focus owed to an element that may not be mounted yet; its component takes it once it is. */
  focus: FocusRequest | null;
  link: Link;
  theme: ThemeChoice;
  status: Loadable<Status>;
  roots: Loadable<Root[]>;
  progress: IndexingProgress | null;
  /** The pages of files.failures read so far (newest first), with the total. */
  failures: Loadable<FileFailures>;
  /** Catalog, hardware, installed packages, the setup task and model switch (models.state + models.changed). */
  models: Loadable<ModelsState>;
  welcome: WelcomeState;
  query: Query;
  search: SearchState;
  /** Index into the visible results of the keyboard/mouse selection. */
  selectedIndex: number;
  preview: PreviewState;
  toasts: Toast[];
}

export const DEFAULT_PAGE_SIZE = 60;
export const MAX_PAGE_SIZE = 500;

export const emptyQuery: Query = {
  text: '',
  image: null,
  likeItem: null,
  kinds: [],
  rootIds: [],
  from: null,
  to: null,
  sort: 'relevance',
  cutoff: 0,
};

export function initialState(theme: ThemeChoice): AppState {
  return {
    view: 'search',
    engineMessage: null,
    focus: null,
    link: 'up',
    theme,
    status: { phase: 'idle' },
    roots: { phase: 'idle' },
    progress: null,
    failures: { phase: 'idle' },
    models: { phase: 'idle' },
    welcome: { modelStepSeen: false, finished: false },
    query: emptyQuery,
    search: { seq: 0, limit: DEFAULT_PAGE_SIZE, result: { phase: 'idle' } },
    selectedIndex: -1,
    preview: { itemId: null, quickLook: false, detail: { phase: 'idle' } },
    toasts: [],
  };
}

export function hasQuery(q: Query): boolean {
  return q.text.trim() !== '' || q.image !== null || q.likeItem !== null;
}

/** The last good value of a Loadable, shown dimmed while a refresh runs or after it fails. */
export function current<T>(l: Loadable<T>): T | null {
  switch (l.phase) {
    case 'ready':
      return l.value;
    case 'loading':
    case 'error':
      return l.previous;
    default:
      return null;
  }
}

/** Settled: a value, or an error (an engine without models.* answers with one: the flow then steps aside). */
function known<T>(l: Loadable<T>): boolean {
  return l.phase === 'ready' || l.phase === 'error' || current(l) !== null;
}

export function welcomeStage(state: AppState): WelcomeStage {
  const roots = current(state.roots);
  if (roots === null) return 'loading';
  if (roots.length === 0) return 'folders';
  if (!known(state.models) || !known(state.status)) return 'loading';
  // Once the user has left the flow ("Not now", "Start searching"), the model is set up from Settings
  // and the search page says how it goes; the welcome does not come back for it this session.
  if (state.welcome.finished) return null;
  if (modelStepNeeded(current(state.models), current(state.status))) return 'model';
  return state.welcome.modelStepSeen ? 'indexing' : null;
}

/**
 * Remembers that the model step was owed once its inputs are known (see WelcomeState). A library
 * that opened with folders and a model never needed the flow: it is over for this session, so a
 * model lost later (a package that stopped loading) is said on the search page, not by pulling
 * the person back into the welcome.
 */
function noteModelStep(state: AppState): AppState {
  const { welcome } = state;
  if (welcome.modelStepSeen || welcome.finished || !known(state.status) || !known(state.models)) return state;
  if (modelStepNeeded(current(state.models), current(state.status))) return { ...state, welcome: { ...welcome, modelStepSeen: true } };
  if ((current(state.roots)?.length ?? 0) > 0) return { ...state, welcome: { ...welcome, finished: true } };
  return state;
}

export function loading<T>(l: Loadable<T>): Loadable<T> {
  return { phase: 'loading', previous: current(l) };
}

export type Action =
  | { type: 'view'; view: View }
  | { type: 'focus/request'; target: FocusTarget }
  | { type: 'focus/done'; request: FocusRequest }
  | { type: 'theme'; theme: ThemeChoice }
  | { type: 'link'; link: Link }
  | { type: 'engine/status'; message: string | null }
  | { type: 'status/loading' }
  | { type: 'status/ready'; status: Status }
  | { type: 'status/error'; message: string }
  | { type: 'roots/loading' }
  | { type: 'roots/ready'; roots: Root[] }
  | { type: 'roots/error'; message: string }
  | { type: 'progress'; progress: IndexingProgress }
  | { type: 'failures/loading' }
  | { type: 'failures/ready'; failures: FileFailures }
  | { type: 'failures/error'; message: string }
  | { type: 'models/loading' }
  /** `reload`: read anew after the link to the engine came back (a restarted engine's clock starts over). */
  | { type: 'models/ready'; models: ModelsState; reload?: boolean }
  | { type: 'models/error'; message: string }
  | { type: 'welcome/finish' }
  | { type: 'query/patch'; patch: Partial<Query> }
  | { type: 'query/reset' }
  /** `quiet`: the results on screen asked again (new files indexed): they stay as they are, undimmed, until the answer. */
  | { type: 'search/start'; seq: number; limit: number; quiet?: boolean }
  /** `quiet`: the selection stays on the same result wherever it moved (none if it is gone), so nothing jumps. */
  | { type: 'search/ready'; seq: number; response: SearchResponse; quiet?: boolean }
  | { type: 'search/error'; seq: number; message: string }
  | { type: 'search/clear' }
  | { type: 'select'; index: number }
  | { type: 'preview/open'; itemId: number; quickLook: boolean }
  | { type: 'preview/close' }
  | { type: 'preview/ready'; itemId: number; detail: ItemDetail }
  | { type: 'preview/error'; itemId: number; message: string }
  | { type: 'toast/show'; toast: Toast }
  | { type: 'toast/dismiss'; id: number };

export function reduce(state: AppState, action: Action): AppState {
  switch (action.type) {
    case 'view':
      // Moving to another view drops focus owed to the one left; a request made with it comes after.
      return { ...state, view: action.view, focus: null };
    case 'focus/request':
      return { ...state, focus: { target: action.target } };
    case 'focus/done':
      return state.focus === action.request ? { ...state, focus: null } : state;
    case 'theme':
      return { ...state, theme: action.theme };
    case 'link':
      return { ...state, link: action.link };
    case 'engine/status':
      return { ...state, engineMessage: action.message };
    case 'status/loading':
      return { ...state, status: loading(state.status) };
    case 'status/ready':
      // status.get carries the indexing state too; it seeds the progress view before any event.
      return noteModelStep({ ...state, status: { phase: 'ready', value: action.status }, progress: state.progress ?? action.status.indexing });
    case 'status/error':
      return noteModelStep({ ...state, status: { phase: 'error', message: action.message, previous: current(state.status) } });
    case 'roots/loading':
      return { ...state, roots: loading(state.roots) };
    case 'roots/ready':
      return noteModelStep({ ...state, roots: { phase: 'ready', value: action.roots } });
    case 'roots/error':
      return { ...state, roots: { phase: 'error', message: action.message, previous: current(state.roots) } };
    case 'progress':
      return { ...state, progress: action.progress };
    case 'failures/loading':
      return { ...state, failures: loading(state.failures) };
    case 'failures/ready':
      return { ...state, failures: { phase: 'ready', value: action.failures } };
    case 'failures/error':
      return { ...state, failures: { phase: 'error', message: action.message, previous: current(state.failures) } };
    case 'models/loading':
      return { ...state, models: loading(state.models) };
    case 'models/ready': {
      // An answer can arrive after a newer models.changed event: keep the newer state (ModelsState.asOf).
      const shown = current(state.models);
      if (!action.reload && shown && action.models.asOf < shown.asOf) return state.models.phase === 'ready' ? state : { ...state, models: { phase: 'ready', value: shown } };
      return noteModelStep({ ...state, models: { phase: 'ready', value: action.models } });
    }
    case 'models/error':
      return { ...state, models: { phase: 'error', message: action.message, previous: current(state.models) } };
    case 'welcome/finish':
      return { ...state, welcome: { ...state.welcome, finished: true } };
    case 'query/patch':
      return { ...state, query: { ...state.query, ...action.patch } };
    case 'query/reset':
      return {
        ...state,
        query: emptyQuery,
        search: { ...state.search, seq: state.search.seq + 1, limit: DEFAULT_PAGE_SIZE, result: { phase: 'idle' } },
        selectedIndex: -1,
        preview: { itemId: null, quickLook: false, detail: { phase: 'idle' } },
      };
    case 'search/start':
      return { ...state, search: { seq: action.seq, limit: action.limit, result: action.quiet ? state.search.result : loading(state.search.result) } };
    case 'search/ready': {
      if (action.seq !== state.search.seq) return state;
      const { results } = action.response;
      const selectedId = action.quiet ? current(state.search.result)?.results[state.selectedIndex]?.itemId : undefined;
      return {
        ...state,
        search: { ...state.search, result: { phase: 'ready', value: action.response } },
        selectedIndex: action.quiet ? (selectedId === undefined ? -1 : results.findIndex((r) => r.itemId === selectedId)) : clampIndex(state.selectedIndex, results.length),
      };
    }
    case 'search/error':
      if (action.seq !== state.search.seq) return state;
      return { ...state, search: { ...state.search, result: { phase: 'error', message: action.message, previous: current(state.search.result) } } };
    case 'search/clear':
      return { ...state, search: { ...state.search, seq: state.search.seq + 1, result: { phase: 'idle' } }, selectedIndex: -1 };
    case 'select':
      return { ...state, selectedIndex: action.index };
    case 'preview/open':
      return {
        ...state,
        preview: {
          itemId: action.itemId,
          quickLook: action.quickLook,
          detail: state.preview.itemId === action.itemId ? state.preview.detail : { phase: 'loading', previous: null },
        },
      };
    case 'preview/close':
      return { ...state, preview: { ...state.preview, itemId: null, quickLook: false } };
    case 'preview/ready':
      if (action.itemId !== state.preview.itemId) return state;
      return { ...state, preview: { ...state.preview, detail: { phase: 'ready', value: action.detail } } };
    case 'preview/error':
      if (action.itemId !== state.preview.itemId) return state;
      return { ...state, preview: { ...state.preview, detail: { phase: 'error', message: action.message, previous: null } } };
    case 'toast/show':
      return { ...state, toasts: [...state.toasts.slice(-2), action.toast] };
    case 'toast/dismiss':
      return { ...state, toasts: state.toasts.filter((t) => t.id !== action.id) };
  }
}

function clampIndex(index: number, length: number): number {
  if (length === 0) return -1;
  return Math.min(Math.max(index, 0), length - 1);
}
