// Messages between model-client.ts (caller's thread) and model-worker.ts (worker thread).
// Requests carry plain data (image Buffers arrive as Uint8Array); embeddings come back as
// transferred Float32Array buffers.
import type { EmbedInput } from '../embed-inputs.ts';
import type { ProviderChoice, ProviderEnvironment } from './execution-providers.ts';

/** workerData: which packages to open (either or both). */
export interface ModelWorkerInit {
  readonly embeddingPackage?: string;
  readonly rerankerPackage?: string;
  readonly fastImages?: boolean;
  readonly environment?: ProviderEnvironment;
}

export interface SerializedError {
  readonly name: string;
  readonly message: string;
}

/**
 * Interactive requests (a search the user is waiting for) run before queued background work
 * (indexing), so indexing never makes search wait for more than the batch already running.
 */
export type RequestPriority = 'interactive' | 'background';

export type ModelWorkerRequest =
  | { readonly type: 'embed'; readonly id: number; readonly priority?: RequestPriority; readonly inputs: readonly EmbedInput[]; readonly instruction?: string; readonly dims?: number }
  | { readonly type: 'rerank'; readonly id: number; readonly priority?: RequestPriority; readonly query: EmbedInput; readonly documents: readonly EmbedInput[]; readonly instruction?: string }
  /** Abort request `id`: the worker stops at its next check (between batches) and answers AbortError. */
  | { readonly type: 'cancel'; readonly id: number }
  | { readonly type: 'close' };

export type ModelWorkerReply =
  | { readonly type: 'ready'; readonly embedding: ProviderChoice | null; readonly reranker: ProviderChoice | null }
  | { readonly type: 'init-error'; readonly error: SerializedError }
  | { readonly type: 'embeddings'; readonly id: number; readonly embeddings: Float32Array[] }
  | { readonly type: 'scores'; readonly id: number; readonly scores: number[] }
  | { readonly type: 'error'; readonly id: number; readonly error: SerializedError }
  | { readonly type: 'closed' };

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
