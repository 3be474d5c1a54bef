// The messages between the engine's AnnHandle (ann-handle.ts) and its shard workers (ann-worker-main.ts).
import type { AnnHit, AnnOpenReport, AnnParams } from './ann-index.ts';

/** An ANN candidate rescored exactly: the cosine of the query with the item's full stored vector. */
export interface RescoredHit {
  readonly itemId: number;
  readonly label: number;
  readonly similarity: number;
}

export interface AnnWorkerData {
  readonly database: string;
  readonly annDir: string;
  readonly modelId: number;
  readonly dims: number;
  readonly shard: number;
  readonly shards: number;
  readonly params?: Partial<AnnParams>;
  readonly compactAt?: number;
  readonly seed?: number;
  /** Vectors per rebuild step (tests make steps small so a kill can land inside a rebuild). */
  readonly rebuildStep?: number;
  /** Never write the index files (a read-only look at the library): load, catch up, build in memory only. */
  readonly readOnly?: boolean;
}

/**
 * Where a shard stands: `loading` (verifying and reading the saved file, catching up with SQLite),
 * `building` (no usable saved index: built from SQLite, not searchable yet), `ready`, `compacting`
 * (ready; a rebuild without the deletion marks runs beside it), `failed`.
 */
export type AnnWorkerState = 'loading' | 'building' | 'ready' | 'compacting' | 'failed';

export type AnnToWorker =
  | { readonly op: 'add'; readonly labels: Uint32Array; readonly codes: Int8Array }
  | { readonly op: 'delete'; readonly labels: Uint32Array }
  | { readonly op: 'search'; readonly id: number; readonly query: Float32Array; readonly k: number; readonly ef?: number; readonly allowed?: Uint32Array }
  /** The shard's `candidates` nearest labels on the prefix, rescored exactly against their full vectors (SQLite); the best k. */
  | {
      readonly op: 'nearest';
      readonly id: number;
      readonly query: Float32Array;
      readonly k: number;
      readonly candidates: number;
      readonly ef?: number;
      readonly allowed?: Uint32Array;
    }
  | { readonly op: 'save'; readonly id: number; readonly force: boolean }
  | { readonly op: 'compact'; readonly id: number }
  | { readonly op: 'ping'; readonly id: number }
  | { readonly op: 'close'; readonly id: number; readonly save: boolean };

export type AnnFromWorker =
  | {
      readonly type: 'state';
      readonly state: AnnWorkerState;
      readonly count: number;
      readonly deleted: number;
      readonly progress: { readonly done: number; readonly total: number } | null;
      readonly report: AnnOpenReport | null;
      readonly saving: boolean;
      readonly error: string | null;
      readonly capacity: number;
    }
  | { readonly type: 'reply'; readonly id: number; readonly hits?: AnnHit[] | null; readonly nearest?: RescoredHit[] | null; readonly saved?: boolean; readonly error?: string }
  | { readonly type: 'log'; readonly message: string };
