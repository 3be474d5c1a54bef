// Picks the transport once at start: inside Electron the preload exposes `window.trove` (IPC);
// in a browser opened from `trove serve`, calls go over HTTP with the per-run token from the URL.
// Each transport also knows how the page reaches media, so the media URL builder comes from here.
import { TROVE_BRIDGE_GLOBAL, type MediaKind, type TroveBridge } from '#contract/common/bridge.ts';
import type { TroveApi } from '#contract/common/trove-api.ts';
import { createHttpApi, tokenFromLocation } from '#contract/browser/http-transport.ts';
import { createIpcApi } from '#contract/browser/ipc-transport.ts';

export type MediaUrlBuilder = (kind: MediaKind, itemId: number) => string;

export interface Connection {
  transport: 'ipc' | 'http';
  api: TroveApi;
  mediaUrl: MediaUrlBuilder;
  /** Live link state: the event WebSocket over HTTP; the engine process's restarts inside Electron. */
  onConnectionChange(listener: (connected: boolean) => void): () => void;
}

export type ConnectOutcome = { ok: true; connection: Connection } | { ok: false; reason: string };

/** tokenFromLocation removes the token from the address bar; keeping it for this tab lets a reload work. */
const TOKEN_KEY = 'trove.token';

function sessionToken(): string | null {
  const fromUrl = tokenFromLocation(window.location, window.history);
  try {
    if (fromUrl) sessionStorage.setItem(TOKEN_KEY, fromUrl);
    return fromUrl ?? sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return fromUrl;
  }
}

export function connect(): ConnectOutcome {
  const bridge = (window as unknown as Record<string, TroveBridge | undefined>)[TROVE_BRIDGE_GLOBAL];
  if (bridge) {
    const api = createIpcApi(bridge, { onInvalidEvent: (event, error) => console.warn(`dropped invalid ${event} event`, error) });
    return { ok: true, connection: { transport: 'ipc', api, mediaUrl: api.mediaUrl, onConnectionChange: (l) => api.onConnectionChange(l) } };
  }
  const token = sessionToken();
  if (!token) {
    return {
      ok: false,
      reason: 'This page needs the address that `trove serve` printed: it ends with #token=… and is new for every run. Copy it from the terminal and open it here.',
    };
  }
  const api = createHttpApi({
    baseUrl: window.location.origin,
    token,
    onInvalidEvent: (event, error) => console.warn(`dropped invalid ${event} event`, error),
  });
  return { ok: true, connection: { transport: 'http', api, mediaUrl: (kind, id) => api.mediaUrl(kind, id), onConnectionChange: (l) => api.onConnectionChange(l) } };
}
