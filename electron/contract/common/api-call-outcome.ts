// The settled form of one API call as it crosses a transport boundary (HTTP body, IPC reply):
// errors travel as data so every client sees the same `{ code, message }`, whatever threw.
import { ApiError, dispatchApiCall, parseApiResult, apiErrorFromData, type ApiErrorData, type ApiHandlers } from './trove-api.ts';
import type { ApiMethod, ApiResult } from './api-methods.ts';

export type ApiCallOutcome = { ok: true; result: unknown } | { ok: false; error: ApiErrorData };

/** Any thrown value as an ApiError: handlers may throw plain Errors, the wire carries only data. */
export function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof Error) return new ApiError('failed', error.message || error.name);
  return new ApiError('failed', `the engine failed: ${String(error)}`);
}

/** Server side: validate, run and validate the answer, never throwing (transports send the outcome as is). */
export async function settleApiCall(handlers: ApiHandlers, method: string, params: unknown): Promise<ApiCallOutcome> {
  try {
    return { ok: true, result: await dispatchApiCall(handlers, method, params) };
  } catch (error) {
    return { ok: false, error: asApiError(error).toData() };
  }
}

/** Client side: an outcome from the wire into the validated result, or a thrown ApiError. */
export function resultFromOutcome<M extends ApiMethod>(method: M, outcome: unknown): ApiResult<M> {
  if (typeof outcome === 'object' && outcome !== null && 'ok' in outcome) {
    const o = outcome as { ok: unknown; result?: unknown; error?: unknown };
    if (o.ok === true) return parseApiResult(method, o.result);
    if (o.ok === false) throw apiErrorFromData(o.error);
  }
  throw new ApiError('failed', `${method}: the engine answered with something that is not an API outcome; is the server the same Trove version as this window?`);
}
