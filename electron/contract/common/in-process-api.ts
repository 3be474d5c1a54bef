// The CLI's transport: the same TroveApi, calling the engine's handlers in this process through
// dispatchApiCall, so a command validates its parameters and results exactly as a window would.
import type { ApiEvent, ApiEventPayload } from './api-events.ts';
import type { ApiMethod, ApiParams, ApiResult } from './api-methods.ts';
import { asApiError } from './api-call-outcome.ts';
import { dispatchApiCall, subscribeToValidEvents, type ApiHandlers, type TroveApi } from './trove-api.ts';

/** Where events come from on the engine side (an emitter, the job runner…). Returns an unsubscribe function. */
export interface ApiEventSource {
  on<E extends ApiEvent>(event: E, listener: (payload: ApiEventPayload<E>) => void): () => void;
}

export interface InProcessApiOptions {
  /** Told about an event payload that failed the contract (dropped instead of delivered). */
  onInvalidEvent?: (event: ApiEvent, error: unknown) => void;
}

export function createInProcessApi(handlers: ApiHandlers, events: ApiEventSource, options: InProcessApiOptions = {}): TroveApi {
  return {
    async call<M extends ApiMethod>(method: M, params: ApiParams<M>): Promise<ApiResult<M>> {
      try {
        return (await dispatchApiCall(handlers, method, params)) as ApiResult<M>;
      } catch (error) {
        throw asApiError(error);
      }
    },
    on<E extends ApiEvent>(event: E, handler: (payload: ApiEventPayload<E>) => void): () => void {
      return subscribeToValidEvents((name, listener) => events.on(name, listener), event, handler, options.onInvalidEvent);
    },
  };
}
