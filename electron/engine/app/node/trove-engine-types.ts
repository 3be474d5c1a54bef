// The engine as the adapters (CLI, `trove serve`, the Electron shell) see it: the API handlers,
// the event stream, media lookups for thumbnails and files, and a lifecycle.
import type { ApiEvent, ApiEventPayload } from '../../../contract/common/api-events.ts';
import type { ApiHandlers } from '../../../contract/common/trove-api.ts';

export interface EngineOptions {
  /** The data folder (database, ANN index, thumbnails); see store/node/data-dir.ts. */
  readonly dataDir: string;
  /** Embedding model package folder; null → keyword search only until a model is installed. */
  readonly embeddingModel?: string | null;
  /** Reranker model package folder; null → results are not reranked. */
  readonly rerankerModel?: string | null;
  /** Watch the roots for changes (the app and `trove serve`); false for one-shot CLI runs. */
  readonly watch?: boolean;
  /**
   * The library as it is stored, for `trove status`: no scan of the folders, no indexing, no model
   * task resumed, so the answer describes the library (idle, N pending) rather than this process
   * checking it ("scanning").
   */
  readonly snapshot?: boolean;
  readonly fileTimeoutMs?: number; // per-file extraction limit, default DEFAULT_FILE_TIMEOUT_MS (120 s); tests shorten it
}

export interface EngineMedia {
  /** The stored thumbnail of an item, or null. */
  thumbnail(itemId: number): Promise<{ mime: string; bytes: Uint8Array } | null>;
  /** A preview-size picture of a PDF page or photo (media-previews.ts), or null (other kinds, undecodable). */
  preview?(itemId: number): Promise<{ mime: string; bytes: Uint8Array } | null>;
  /** Absolute path of the item's file, only if it is an indexed file inside a current root. */
  filePath(itemId: number): Promise<string | null>;
  /** The library's root folders (media servers refuse any path outside them). */
  rootPaths(): Promise<string[]>;
}

export interface TroveEngine {
  readonly handlers: ApiHandlers;
  readonly media: EngineMedia;
  on<E extends ApiEvent>(event: E, listener: (payload: ApiEventPayload<E>) => void): () => void;
  /** Resolves when every pending file has been indexed or failed (for `trove index --once` and tests). */
  idle(): Promise<void>;
  close(): Promise<void>;
}
