// The renderer's TroveApi inside Electron: a thin wrapper over the preload's `window.trove`
// bridge that validates every answer and event against the contract before the UI sees it.
import type { ApiEvent, ApiEventPayload } from '../common/api-events.ts';
import type { ApiMethod, ApiParams, ApiResult } from '../common/api-methods.ts';
import { resultFromOutcome } from '../common/api-call-outcome.ts';
import { troveMediaUrl, type MediaKind, type TroveBridge } from '../common/bridge.ts';
import { ApiError, subscribeToValidEvents, type TroveApi } from '../common/trove-api.ts';

export interface IpcApi extends TroveApi {
  /** A `trove://` URL for an item's thumbnail or file, for img/video tags. */
  mediaUrl(kind: MediaKind, itemId: number): string;
  /**
   * The link to the engine, as the HTTP transport's WebSocket reports it: up from the start, down
   * while the shell says the engine process is (re)starting or stopped, up again once it is ready.
   * Events sent while it was down are lost, so the UI reloads its state when it comes back.
   */
  onConnectionChange(listener: (connected: boolean) => void): () => void;
}

export interface IpcApiOptions {
  /** Told about an event payload that failed the contract (dropped instead of delivered). */
  onInvalidEvent?: (event: ApiEvent, error: unknown) => void;
}

export function createIpcApi(bridge: TroveBridge, options: IpcApiOptions = {}): IpcApi {
  return {
    async call<M extends ApiMethod>(method: M, params: ApiParams<M>): Promise<ApiResult<M>> {
      let outcome: unknown;
      try {
        outcome = await bridge.call(method, params);
      } catch (error) {
        // Only the IPC itself fails here (a structured-clone error, a closing window): API errors are outcomes.
        throw new ApiError('unavailable', `${method}: the app's engine did not answer (${error instanceof Error ? error.message : String(error)}); restart Trove if this persists`);
      }
      return resultFromOutcome(method, outcome);
    },
    on<E extends ApiEvent>(event: E, handler: (payload: ApiEventPayload<E>) => void): () => void {
      return subscribeToValidEvents((name, listener) => bridge.on(name, listener), event, handler, options.onInvalidEvent);
    },
    mediaUrl: troveMediaUrl,
    onConnectionChange(listener: (connected: boolean) => void): () => void {
      // The window opens once the engine is up (or answers "unavailable" until it is): start as up.
      listener(true);
      let connected = true;
      return subscribeToValidEvents(
        (name, l) => bridge.on(name, l),
        'engine.status',
        (status) => {
          const now = status.state === 'ready';
          if (now !== connected) {
            connected = now;
            listener(now);
          }
        },
        options.onInvalidEvent,
      );
    },
  };
}
