// Messages between the extraction pool (extraction-pool.ts, the engine's thread) and its workers
// (extraction-worker-main.ts). A worker runs one task at a time; `abort` and `close-handle` may arrive
// while it works.
import type { FileKind } from '../../../contract/common/entities.ts';
import type { SerializedError } from '../../base/common/serialized-error.ts';
import type { ChunkTokenizerRef } from '../../extract/common/text-chunker.ts';
import type { CompletedItem, PreparedFile } from '../../extract/node/prepared-file.ts';
import type { NewItem } from '../../store/node/items-repo.ts';

export interface ExtractionWorkerData {
  /** MuPDF memory (bytes) above which the worker asks to be retired after a task. */
  readonly retireAboveBytes: number;
}

export interface ExtractionFile {
  readonly path: string;
  readonly kind: FileKind;
  readonly mtimeMs: number;
}

export type ExtractionTask =
  /** A file's items (prepareFile). */
  | { readonly type: 'prepare'; readonly file: ExtractionFile; readonly tokenizer: ChunkTokenizerRef; readonly deferred: 'defer' | 'embed' | 'display'; readonly maxTextChunks?: number }
  /** Opens a file's deferred items (a PDF) under `handle`, kept open in the worker until `close-handle`. */
  | { readonly type: 'open'; readonly file: ExtractionFile; readonly handle: number }
  /** Draws one deferred item of `handle`; a worker that does not hold the handle opens `file` for it. */
  | { readonly type: 'draw'; readonly file: ExtractionFile; readonly handle: number; readonly item: Pick<NewItem, 'kind' | 'locator'>; readonly embed: boolean };

export type ExtractionRequest = (ExtractionTask & { readonly id: number }) | { readonly type: 'abort'; readonly id: number } | { readonly type: 'close-handle'; readonly handle: number };

/** On a task's answer: the worker's memory grew past what it should keep (MuPDF's WebAssembly memory never shrinks); retire it once free. */
interface Retire {
  readonly retire?: boolean;
}

export type ExtractionReply =
  /** The task's own work begins (the tokenizer it needs is loaded): its time limit runs from here. */
  | { readonly type: 'started'; readonly id: number }
  | ({ readonly type: 'prepared'; readonly id: number; readonly result: PreparedFile } & Retire)
  | ({ readonly type: 'opened'; readonly id: number } & Retire)
  | ({ readonly type: 'drawn'; readonly id: number; readonly result: CompletedItem } & Retire)
  | ({ readonly type: 'error'; readonly id: number; readonly error: SerializedError } & Retire);
