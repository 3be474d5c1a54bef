// The engine host's side of the conversation with main, without Electron or the real engine, so it
// runs under Node in tests. engine-host-main.ts wires it to process.parentPort and openTroveEngine.
// Params are validated here, on receipt, by dispatchApiCall (through settleApiCall): the main
// process passes renderer input through untouched and is not trusted to have checked it.
import { asApiError, settleApiCall } from '../../contract/common/api-call-outcome.ts';
import { API_EVENTS, type ApiEvent } from '../../contract/common/api-events.ts';
import type { EngineOptions, TroveEngine } from '../../engine/app/node/trove-engine-types.ts';
import type { HostToMain, MainToHost } from '../common/engine-protocol.ts';

export interface HostPort {
  postMessage(message: HostToMain): void;
  onMessage(listener: (message: unknown) => void): void;
}

export interface EngineHostDeps {
  openEngine(options: EngineOptions): Promise<TroveEngine>;
  /** Ends the process once the engine is closed (process.exit in the app). */
  exit(code: number): void;
  log?(message: string): void;
}

function isMainMessage(message: unknown): message is MainToHost {
  return typeof message === 'object' && message !== null && typeof (message as { type?: unknown }).type === 'string';
}

export function serveEngineHost(port: HostPort, deps: EngineHostDeps): void {
  let engine: TroveEngine | null = null;
  let opening: Promise<TroveEngine | null> | null = null;
  let closing = false;

  const start = (options: EngineOptions): void => {
    if (opening) return; // One engine per process; a second start is ignored.
    opening = deps.openEngine(options).then(
      (opened) => {
        engine = opened;
        for (const event of Object.keys(API_EVENTS) as ApiEvent[]) {
          opened.on(event, (payload) => port.postMessage({ type: 'event', event, payload }));
        }
        port.postMessage({ type: 'ready' });
        return opened;
      },
      (error: unknown) => {
        port.postMessage({ type: 'start-failed', error: asApiError(error).toData() });
        deps.log?.(`engine failed to open: ${asApiError(error).message}`);
        // Exit so the supervisor retries with back-off (a locked database may free itself).
        deps.exit(1);
        return null;
      },
    );
  };

  const notReady = { code: 'unavailable' as const, message: 'the engine is still opening; try again in a moment' };

  port.onMessage((message) => {
    if (!isMainMessage(message)) return;
    switch (message.type) {
      case 'start':
        start(message.options);
        return;
      case 'call': {
        const { id, method, params } = message;
        if (!engine || closing) {
          port.postMessage({ type: 'reply', id, outcome: { ok: false, error: notReady } });
          return;
        }
        void settleApiCall(engine.handlers, method, params).then((outcome) => port.postMessage({ type: 'reply', id, outcome }));
        return;
      }
      case 'media': {
        const { id, kind, itemId } = message;
        if (!engine || closing) {
          port.postMessage({ type: 'media-reply', id, error: notReady });
          return;
        }
        if (!Number.isSafeInteger(itemId)) {
          port.postMessage({ type: 'media-reply', id, error: { code: 'invalid-params', message: `item id must be an integer, got ${String(itemId)}` } });
          return;
        }
        const lookup =
          kind === 'thumb'
            ? engine.media.thumbnail(itemId).then((thumbnail) => ({ thumbnail }))
            : kind === 'preview'
              ? (engine.media.preview?.(itemId) ?? Promise.resolve(null)).then((thumbnail) => ({ thumbnail }))
              : engine.media.filePath(itemId).then((path) => ({ path }));
        void lookup.then(
          (found) => port.postMessage({ type: 'media-reply', id, ...found }),
          (error: unknown) => port.postMessage({ type: 'media-reply', id, error: asApiError(error).toData() }),
        );
        return;
      }
      case 'roots': {
        const { id } = message;
        if (!engine || closing) {
          port.postMessage({ type: 'media-reply', id, error: notReady });
          return;
        }
        void engine.media.rootPaths().then(
          (roots) => port.postMessage({ type: 'media-reply', id, roots }),
          (error: unknown) => port.postMessage({ type: 'media-reply', id, error: asApiError(error).toData() }),
        );
        return;
      }
      case 'shutdown': {
        if (closing) return;
        closing = true;
        void (async () => {
          const opened = engine ?? (opening ? await opening : null);
          let code = 0;
          try {
            await opened?.close();
          } catch (error) {
            code = 1;
            deps.log?.(`engine failed to close cleanly: ${asApiError(error).message}`);
          }
          port.postMessage({ type: 'closed' });
          deps.exit(code);
        })();
        return;
      }
    }
  });
}
