// The object the preload exposes as `window.trove`, built over an ipcRenderer-like object so it is
// tested under Node. It forwards only known API methods and events and hands the page plain
// payloads: the page never sees ipcRenderer, an IPC event object, or a way to pick a channel.
import type { ApiCallOutcome } from '../../contract/common/api-call-outcome.ts';
import { API_EVENTS } from '../../contract/common/api-events.ts';
import { isApiMethod } from '../../contract/common/api-methods.ts';
import { TROVE_IPC_CHANNELS, type TroveBridge } from '../../contract/common/bridge.ts';
import { SHELL_EVENTS } from '../common/shell-events.ts';

export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: unknown, message: unknown) => void): void;
}

const KNOWN_EVENTS: ReadonlySet<string> = new Set([...Object.keys(API_EVENTS), ...SHELL_EVENTS]);

function isOutcome(value: unknown): value is ApiCallOutcome {
  return typeof value === 'object' && value !== null && ((value as { ok?: unknown }).ok === true || (value as { ok?: unknown }).ok === false);
}

export function createTroveBridge(ipc: IpcRendererLike): TroveBridge {
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  ipc.on(TROVE_IPC_CHANNELS.event, (_event, message) => {
    if (typeof message !== 'object' || message === null) return;
    const { event, payload } = message as { event?: unknown; payload?: unknown };
    if (typeof event !== 'string') return;
    for (const listener of listeners.get(event) ?? []) {
      try {
        listener(payload);
      } catch (error) {
        // One failing listener must not stop the others from hearing the event.
        console.error(`trove: a listener for '${event}' threw`, error);
      }
    }
  });

  return Object.freeze({
    async call(method: string, params: unknown): Promise<ApiCallOutcome> {
      if (typeof method !== 'string' || !isApiMethod(method)) {
        return { ok: false, error: { code: 'unknown-method', message: `unknown API method '${String(method)}'` } };
      }
      try {
        const outcome = await ipc.invoke(TROVE_IPC_CHANNELS.call, method, params);
        if (isOutcome(outcome)) return outcome;
        return { ok: false, error: { code: 'failed', message: `${method}: the shell answered with something that is not an API outcome` } };
      } catch (error) {
        return { ok: false, error: { code: 'unavailable', message: `${method}: the shell did not answer (${error instanceof Error ? error.message : String(error)}); restart Trove if this persists` } };
      }
    },
    on(event: string, listener: (payload: unknown) => void): () => void {
      if (typeof event !== 'string' || !KNOWN_EVENTS.has(event)) throw new TypeError(`unknown Trove event '${String(event)}'; known: ${[...KNOWN_EVENTS].join(', ')}`);
      if (typeof listener !== 'function') throw new TypeError('trove.on needs a listener function');
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(listener);
      return () => {
        set.delete(listener);
      };
    },
  });
}
