// The one API, as a TypeScript interface every transport implements and every client uses, plus
// the validation both ends of a transport run. Errors cross transports as data, never as throws
// of foreign objects.
import type { z } from 'zod';
import { API_EVENTS, type ApiEvent, type ApiEventPayload } from './api-events.ts';
import { API_METHODS, isApiMethod, type ApiMethod, type ApiParams, type ApiParsedParams, type ApiResult } from './api-methods.ts';

export interface TroveApi {
  call<M extends ApiMethod>(method: M, params: ApiParams<M>): Promise<ApiResult<M>>;
  /** Returns an unsubscribe function. */
  on<E extends ApiEvent>(event: E, handler: (payload: ApiEventPayload<E>) => void): () => void;
}

/** What the engine implements: methods receive already-validated parameters. */
export type ApiHandlers = { [M in ApiMethod]: (params: ApiParsedParams<M>) => Promise<ApiResult<M>> };

/** A failure as it crosses a transport: a code a program can switch on and a message for people. */
export interface ApiErrorData {
  code: 'invalid-params' | 'unknown-method' | 'not-found' | 'unavailable' | 'failed';
  message: string;
}

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly code: ApiErrorData['code'],
    message: string,
  ) {
    super(message);
  }
  toData(): ApiErrorData {
    return { code: this.code, message: this.message };
  }
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(params)'}: ${i.message}`).join('; ');
}

/** Server side of any transport: validate the request, run it, validate the answer. */
export async function dispatchApiCall(handlers: ApiHandlers, method: string, params: unknown): Promise<unknown> {
  if (!isApiMethod(method)) throw new ApiError('unknown-method', `unknown API method '${method}'`);
  const spec = API_METHODS[method];
  const parsed = spec.params.safeParse(params ?? {});
  if (!parsed.success) throw new ApiError('invalid-params', `${method}: ${describeIssues(parsed.error)}`);
  const handler = handlers[method] as (p: unknown) => Promise<unknown>;
  const result = await handler(parsed.data);
  const checked = spec.result.safeParse(result);
  if (!checked.success) throw new ApiError('failed', `${method} produced an invalid result: ${describeIssues(checked.error)}`);
  return checked.data;
}

/** Client side: validate what came back over the wire before the UI trusts it. */
export function parseApiResult<M extends ApiMethod>(method: M, value: unknown): ApiResult<M> {
  const checked = API_METHODS[method].result.safeParse(value);
  if (!checked.success) throw new ApiError('failed', `${method}: unexpected answer from the engine: ${describeIssues(checked.error)}`);
  return checked.data as ApiResult<M>;
}

export function parseApiEvent<E extends ApiEvent>(event: E, payload: unknown): ApiEventPayload<E> {
  return API_EVENTS[event].parse(payload) as ApiEventPayload<E>;
}

/**
 * `handler` subscribed to `event` through `subscribe` (a transport's raw event source), given only
 * payloads that pass the contract: a bad one is dropped and reported to `onInvalid`, so the UI
 * never sees an unchecked payload. An event name the contract lacks throws at once (a typo would
 * otherwise just never fire). Returns the unsubscribe function.
 */
export function subscribeToValidEvents<E extends ApiEvent>(
  subscribe: (event: E, listener: (payload: unknown) => void) => () => void,
  event: E,
  handler: (payload: ApiEventPayload<E>) => void,
  onInvalid?: (event: E, error: unknown) => void,
): () => void {
  if (!Object.prototype.hasOwnProperty.call(API_EVENTS, event)) throw new TypeError(`unknown API event '${String(event)}'`);
  return subscribe(event, (payload) => {
    let parsed: ApiEventPayload<E>;
    try {
      parsed = parseApiEvent(event, payload);
    } catch (error) {
      onInvalid?.(event, error);
      return;
    }
    handler(parsed);
  });
}

/** An error value from the wire back into an ApiError. */
export function apiErrorFromData(data: unknown): ApiError {
  const d = data as Partial<ApiErrorData> | null;
  const code = d && typeof d.code === 'string' ? (d.code as ApiErrorData['code']) : 'failed';
  return new ApiError(code, d && typeof d.message === 'string' ? d.message : 'the engine failed without a message');
}
