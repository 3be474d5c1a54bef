// Errors as data, for crossing a worker_threads boundary: structured clone keeps neither the class
// nor DOMException's identity, and callers tell a cancel from a failure by the name AbortError.

export interface SerializedError {
  readonly name: string;
  readonly message: string;
}

export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error || error instanceof DOMException) return { name: error.name, message: error.message };
  return { name: 'Error', message: String(error) };
}

/** The error to reject with on the caller's side: AbortError stays recognisable by name. */
export function deserializeError(error: SerializedError): Error {
  if (error.name === 'AbortError') return new DOMException(error.message, 'AbortError') as unknown as Error;
  const out = new Error(error.message);
  out.name = error.name;
  return out;
}
