// What the Electron preload exposes to the sandboxed renderer on `window.trove`, shared by the
// preload (which builds it over ipcRenderer) and the renderer (which wraps it in createIpcApi).
// Everything crossing it is untyped on purpose: the renderer validates it against the contract,
// and the main process validates what it receives, so neither trusts the other side's types.
import type { ApiCallOutcome } from './api-call-outcome.ts';

export interface TroveBridge {
  /** Runs one API method in the engine; never rejects for API errors (they come back as `ok: false`). */
  call(method: string, params: unknown): Promise<ApiCallOutcome>;
  /** Subscribes to one API event; returns an unsubscribe function. */
  on(event: string, listener: (payload: unknown) => void): () => void;
}

/** The global name the preload passes to contextBridge.exposeInMainWorld. */
export const TROVE_BRIDGE_GLOBAL = 'trove';

/**
 * IPC channel names for the shell. Main handles `call` with ipcMain.handle (checking
 * event.senderFrame) and sends every event on `event` as `{ event, payload }`; the preload
 * filters by name so a renderer never gets ipcRenderer itself.
 */
export const TROVE_IPC_CHANNELS = { call: 'trove:api-call', event: 'trove:api-event' } as const;

/** thumb: the stored 320 px tile picture; preview: a PDF page or photo at preview size; file: the file itself. */
export type MediaKind = 'thumb' | 'preview' | 'file';

/**
 * URL of an item's thumbnail, preview or file through the shell's `trove://` protocol. The protocol handler
 * parses the same shape with parseTroveMediaUrl and re-checks the item on every request.
 */
export function troveMediaUrl(kind: MediaKind, itemId: number): string {
  return `trove://media/${kind}/${itemId}`;
}

export function parseTroveMediaUrl(url: string): { kind: MediaKind; itemId: number } | null {
  const match = /^trove:\/\/media\/(thumb|preview|file)\/(\d{1,15})$/.exec(url);
  if (!match) return null;
  return { kind: match[1] as MediaKind, itemId: Number(match[2]) };
}
