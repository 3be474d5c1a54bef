// Errors as data, for crossing a worker_threads boundary: structured clone keeps neither the class
// nor DOMException's identity, and callers tell a cancel from a failure by the name AbortError.

export interface SerializedError {
  readonly name: string;
  readonly message: string;
  /** A system error's code (ENOENT, EACCES, …): callers decide by it whether a failure may pass. */
  readonly code?: string;
}

export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error || error instanceof DOMException) {
    const code = (error as { code?: unknown }).code;
    return { name: error.name, message: error.message, ...(typeof code === 'string' ? { code } : {}) };
  }
  return { name: 'Error', message: String(error) };
}

/** The error to reject with on the caller's side: AbortError stays recognisable by name. */
export function deserializeError(error: SerializedError): Error {
  if (error.name === 'AbortError') return new DOMException(error.message, 'AbortError') as unknown as Error;
  const out = new Error(error.message) as Error & { code?: string };
  out.name = error.name;
  if (error.code !== undefined) out.code = error.code;
  return out;
}
