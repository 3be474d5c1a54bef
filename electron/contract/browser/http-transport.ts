// The renderer's TroveApi when it is served by `trove serve`: calls are POSTs to /api/call with
// the per-run token as a bearer token; events arrive on one WebSocket that reconnects with
// backoff. Everything that comes back is validated against the contract before the UI sees it.
// Written against small structural types instead of the DOM lib so the same file type-checks in
// the Node project (tests pass `ws` and Node's fetch) and in the renderer's DOM build.
import { API_EVENTS, type ApiEvent, type ApiEventPayload } from '../common/api-events.ts';
import type { ApiMethod, ApiParams, ApiResult } from '../common/api-methods.ts';
import { resultFromOutcome } from '../common/api-call-outcome.ts';
import type { MediaKind } from '../common/bridge.ts';
import { ApiError, parseApiEvent, type TroveApi } from '../common/trove-api.ts';

export interface FetchResponseLike {
  status: number;
  json(): Promise<unknown>;
}
export type FetchLike = (url: string, init: { method: 'POST'; headers: Record<string, string>; body: string }) => Promise<FetchResponseLike>;

/** The part of the WebSocket API this client uses (the browser's, or the `ws` package's client). */
export interface WebSocketLike {
  addEventListener(type: 'open' | 'message' | 'close' | 'error', listener: (event: { data?: unknown }) => void): void;
  close(code?: number, reason?: string): void;
}
export type WebSocketConstructorLike = new (url: string) => WebSocketLike;

export interface HttpApiOptions {
  /** The server's origin, e.g. `http://127.0.0.1:5123` (a path or fragment is ignored). */
  baseUrl: string;
  /** The per-run token `trove serve` printed in its URL's `#token=` fragment. */
  token: string;
  /** Defaults to globalThis.fetch. */
  fetch?: FetchLike;
  /** Defaults to globalThis.WebSocket (Node 20 has none: pass the `ws` package's WebSocket). */
  WebSocket?: WebSocketConstructorLike;
  /** Reconnect delays: doubles from `initialMs` up to `maxMs`, with ±20 % jitter. */
  reconnect?: { initialMs?: number; maxMs?: number };
  /** Told about an event that failed the contract or could not be read (dropped instead of delivered). */
  onInvalidEvent?: (event: string, error: unknown) => void;
}

export interface HttpApi extends TroveApi {
  /** URL of an item's thumbnail or file for img/video tags (which cannot send headers: the token rides in the query). */
  mediaUrl(kind: MediaKind, itemId: number): string;
  /** Told true when the event socket opens and false when it drops; refetch state after a reconnect (events may have been missed). */
  onConnectionChange(listener: (connected: boolean) => void): () => void;
  /** Stops reconnecting and closes the event socket. */
  close(): void;
}

type AnyListener = (payload: never) => void;

export function createHttpApi(options: HttpApiOptions): HttpApi {
  const origin = new URL(options.baseUrl).origin;
  const { token } = options;
  const fetchImpl: FetchLike = options.fetch ?? ((url, init) => globalThis.fetch(url, init));
  const WebSocketImpl = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructorLike }).WebSocket;
  const initialDelay = options.reconnect?.initialMs ?? 500;
  const maxDelay = options.reconnect?.maxMs ?? 15_000;

  const listeners = new Map<ApiEvent, Set<AnyListener>>();
  const connectionListeners = new Set<(connected: boolean) => void>();
  let socket: WebSocketLike | null = null;
  let connected = false;
  let closed = false;
  let retryDelay = initialDelay;
  let retryTimer: ReturnType<typeof setTimeout> | null = null;

  function setConnected(value: boolean): void {
    if (connected === value) return;
    connected = value;
    for (const listener of connectionListeners) listener(value);
  }

  function deliver(raw: unknown): void {
    let message: { event?: unknown; payload?: unknown };
    try {
      message = JSON.parse(typeof raw === 'string' ? raw : String(raw)) as typeof message;
    } catch (error) {
      options.onInvalidEvent?.('(unreadable)', error);
      return;
    }
    const name = message?.event;
    // An event this client does not know (a newer server) is ignored, not an error.
    if (typeof name !== 'string' || !Object.prototype.hasOwnProperty.call(API_EVENTS, name)) return;
    const event = name as ApiEvent;
    const subscribers = listeners.get(event);
    if (!subscribers || subscribers.size === 0) return;
    let payload: ApiEventPayload<ApiEvent>;
    try {
      payload = parseApiEvent(event, message.payload);
    } catch (error) {
      options.onInvalidEvent?.(event, error);
      return;
    }
    for (const listener of [...subscribers]) (listener as (p: unknown) => void)(payload);
  }

  function scheduleReconnect(): void {
    if (closed || retryTimer) return;
    const jittered = retryDelay * (0.8 + Math.random() * 0.4);
    retryDelay = Math.min(retryDelay * 2, maxDelay);
    retryTimer = setTimeout(() => {
      retryTimer = null;
      connect();
    }, jittered);
  }

  function connect(): void {
    if (closed || socket) return;
    if (!WebSocketImpl) throw new TypeError('createHttpApi: no WebSocket implementation; pass options.WebSocket (in Node 20, the `ws` package)');
    const url = new URL('/api/events', origin);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    url.searchParams.set('token', token);
    const ws = new WebSocketImpl(url.toString());
    socket = ws;
    ws.addEventListener('open', () => {
      retryDelay = initialDelay;
      setConnected(true);
    });
    ws.addEventListener('message', (event) => deliver(event.data));
    ws.addEventListener('error', () => {
      // A 'close' always follows; reconnecting happens there.
    });
    ws.addEventListener('close', () => {
      if (socket === ws) socket = null;
      setConnected(false);
      scheduleReconnect();
    });
  }

  return {
    async call<M extends ApiMethod>(method: M, params: ApiParams<M>): Promise<ApiResult<M>> {
      let response: FetchResponseLike;
      try {
        response = await fetchImpl(new URL('/api/call', origin).toString(), {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ method, params }),
        });
      } catch (error) {
        throw new ApiError('unavailable', `${method}: cannot reach the Trove server at ${origin} (${error instanceof Error ? error.message : String(error)}); is \`trove serve\` still running?`);
      }
      if (response.status === 401) {
        throw new ApiError('unavailable', `${method}: the Trove server refused this page's token; open the URL \`trove serve\` printed (each run has a new token)`);
      }
      if (response.status === 413) throw new ApiError('invalid-params', `${method}: the request is too large for the server (paste a smaller image)`);
      if (response.status !== 200) throw new ApiError('failed', `${method}: the Trove server answered HTTP ${response.status}`);
      let body: unknown;
      try {
        body = await response.json();
      } catch {
        throw new ApiError('failed', `${method}: the Trove server answered with something that is not JSON`);
      }
      return resultFromOutcome(method, body);
    },

    on<E extends ApiEvent>(event: E, handler: (payload: ApiEventPayload<E>) => void): () => void {
      if (!Object.prototype.hasOwnProperty.call(API_EVENTS, event)) throw new TypeError(`unknown API event '${String(event)}'`);
      let subscribers = listeners.get(event);
      if (!subscribers) listeners.set(event, (subscribers = new Set()));
      // Wrapped so the same function subscribed twice gets two independent subscriptions.
      const listener: AnyListener = (payload) => handler(payload as ApiEventPayload<E>);
      subscribers.add(listener);
      connect();
      return () => {
        subscribers.delete(listener);
      };
    },

    mediaUrl(kind: MediaKind, itemId: number): string {
      const url = new URL(`/media/${kind}/${itemId}`, origin);
      url.searchParams.set('token', token);
      return url.toString();
    },

    onConnectionChange(listener: (connected: boolean) => void): () => void {
      connectionListeners.add(listener);
      return () => {
        connectionListeners.delete(listener);
      };
    },

    close(): void {
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      retryTimer = null;
      socket?.close(1000, 'client closed');
      socket = null;
      setConnected(false);
    },
  };
}

export interface LocationLike {
  readonly hash: string;
  readonly pathname: string;
  readonly search: string;
}
export interface HistoryLike {
  readonly state: unknown;
  replaceState(data: unknown, unused: string, url?: string): void;
}

/**
 * The token from the page URL's `#token=…` fragment (fragments never reach the server or a
 * Referer header), then removed from the address bar so it is not bookmarked, shared or kept in
 * history. Returns null when the page was opened without one.
 */
export function tokenFromLocation(location: LocationLike, history: HistoryLike | undefined = (globalThis as { history?: HistoryLike }).history): string | null {
  const fragment = new URLSearchParams(location.hash.replace(/^#/, ''));
  const token = fragment.get('token');
  if (!token) return null;
  fragment.delete('token');
  const rest = fragment.toString();
  history?.replaceState(history.state, '', `${location.pathname}${location.search}${rest ? `#${rest}` : ''}`);
  return token;
}
