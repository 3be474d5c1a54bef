// Messages between model-client.ts (caller's thread) and model-worker-main.ts (worker thread).
// Requests carry plain data (image Buffers arrive as Uint8Array); embeddings come back as
// transferred Float32Array buffers.
import type { EmbedInput } from '../../../model-inputs/node/embed-inputs.ts';
import type { SerializedError } from '../../../base/common/serialized-error.ts';
import type { ProviderChoice, ProviderEnvironment } from './execution-providers.ts';

/** workerData: which packages to open (either or both). */
export interface ModelWorkerInit {
  readonly embeddingPackage?: string;
  readonly rerankerPackage?: string;
  readonly fastImages?: boolean;
  readonly environment?: ProviderEnvironment;
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

