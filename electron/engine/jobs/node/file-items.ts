// What one file becomes in the library: its items (with what to embed for each) and metadata.
// Every kind has its extractor: images → one item with a thumbnail and photo metadata; text and
// documents → one item per token chunk; PDFs → one image item per page with its text layer;
// videos → one item per moment plus the whole video.
import type { FileKind } from '../../../contract/common/entities.ts';
import type { ChunkTokenizer, ChunkTokenizerRef } from '../../extract/common/text-chunker.ts';
import { loadQwenTokenizer } from '../../model-inputs/node/qwen-tokenizer.ts';
import { textChunkFile } from '../../extract/node/text-items.ts';
import { formatBytes } from '../../../contract/common/display-units.ts';
import { encodedLength, extractText } from '../../extract/node/text-extract.ts';
import { openPdfPages, preparePdfFile } from '../../extract/node/pdf-extract.ts';
import { prepareDocumentFile } from '../../extract/node/document-extract.ts';
import { prepareImageFile } from '../../extract/node/photo-metadata.ts';
import { prepareVideoFile } from '../../extract/node/video-extract.ts';
import { completeDeferredItems, type DeferredItems, type PreparedFile } from '../../extract/node/prepared-file.ts';

export type { CompletedItem, DeferredItems, PreparedFile, PreparedItem } from '../../extract/node/prepared-file.ts';

/**
 * Without an embedding model there is no model tokenizer; chunks are then cut by an estimate of
 * 4 characters per token (about right for English prose with Qwen's BPE). When a model arrives the
 * files are indexed again with its tokenizer (see markFilesWithoutVectors).
 */
export const CHARACTER_ESTIMATE_TOKENIZER: ChunkTokenizer = {
  encodeText: (text) => new Array<number>(Math.ceil(text.length / 4)).fill(0),
};

/** The tokenizer itself, or loaded from its reference (a model's tokenizer once per folder, cached). */
export function chunkTokenizerOf(tokenizer: ChunkTokenizer | ChunkTokenizerRef): Promise<ChunkTokenizer> {
  if ('encodeText' in tokenizer) return Promise.resolve(tokenizer);
  return tokenizer.kind === 'model' ? loadQwenTokenizer(tokenizer.dir) : Promise.resolve(CHARACTER_ESTIMATE_TOKENIZER);
}

type FileRef = { readonly path: string; readonly kind: FileKind; readonly mtimeMs: number };

export interface PrepareFileOptions {
  /** Aborting stops the extraction (a child decoder is killed, a PDF stops between pages). */
  readonly signal?: AbortSignal;
  /**
   * Items made on demand (PDF pages): 'defer' leaves them to `openDeferredItems` (the indexer draws
   * each page just before embedding it); 'embed' completes them with their embed inputs (every
   * page's pixels in memory at once: ≈ 0.5 MB a page); 'display' with text and thumbnails only
   * (nothing to embed them with). Default 'embed'.
   */
  readonly deferred?: 'defer' | 'embed' | 'display';
  /** Most text chunks of a text file or document (default DEFAULT_MAX_TEXT_CHUNKS); the rest is left out with a note. */
  readonly maxTextChunks?: number;
}

/** Kinds whose items may be deferred: their staged items are resumed without extracting the file again. */
export function hasDeferredItems(kind: FileKind): boolean {
  return kind === 'pdf';
}

/** Opens a file to complete its deferred items; close it when done. */
export function openDeferredItems(file: FileRef, options: { signal?: AbortSignal } = {}): Promise<DeferredItems> {
  if (file.kind === 'pdf') return openPdfPages(file.path, options);
  return Promise.reject(new Error(`${file.kind} files have no deferred items ('${file.path}')`));
}

export async function prepareFile(file: FileRef, tokenizerOrRef: ChunkTokenizer | ChunkTokenizerRef, options: PrepareFileOptions = {}): Promise<PreparedFile> {
  const { signal } = options;
  const date = file.mtimeMs;
  switch (file.kind) {
    case 'image':
      return prepareImageFile(file);
    case 'text': {
      const tokenizer = await chunkTokenizerOf(tokenizerOrRef);
      const extracted = await extractText(file.path);
      const limits = { maxChunks: options.maxTextChunks };
      return textChunkFile(extracted.text, tokenizer, date, { encoding: extracted.encoding, note: extracted.note }, limits, (chars) => {
        return `Only the first ${formatBytes(encodedLength(extracted.text, chars, extracted.encoding))} of ${formatBytes(extracted.totalBytes)} is indexed`;
      });
    }
    case 'pdf': {
      const prepared = await preparePdfFile(file, { signal });
      const mode = options.deferred ?? 'embed';
      return mode === 'defer' ? prepared : completeDeferredItems(prepared, () => openDeferredItems(file, { signal }), { embed: mode === 'embed', signal });
    }
    case 'document':
      return prepareDocumentFile(file, await chunkTokenizerOf(tokenizerOrRef), { maxChunks: options.maxTextChunks });
    case 'video':
      return prepareVideoFile(file, { signal });
  }
}
