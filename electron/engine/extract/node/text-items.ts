// Extracted text as library items, the same for plain text files and documents: one item per
// token chunk (locator into the text, embedded as that text), or — when there is no text at all —
// one item found by name and path only. A file gets at most `maxChunks` chunks: what one file may
// cost (chunking time, embedding time, rows) is bounded, and the rest of its text is left out with
// a note that says how much was indexed and why.
import { chunkTextUpTo, DEFAULT_CHUNK_TOKENS, type ChunkTokenizer } from '../common/text-chunker.ts';
import type { PreparedFile } from './prepared-file.ts';

/**
 * Chunks one file may have: ≈ 1M tokens, ≈ 4 MB of English prose (a thousand-page book). The same
 * count as the page limit of a PDF (DEFAULT_MAX_PDF_PAGES), and for the same reason: each is one
 * embedding, and past this a file is a dump, not a document someone reads. A 10 MiB line of base64
 * would otherwise be ~15,000 chunks and minutes of tokenizing before its first embedding.
 */
export const DEFAULT_MAX_TEXT_CHUNKS = 2000;

export interface TextChunkLimits {
  /** Most chunks (default DEFAULT_MAX_TEXT_CHUNKS). */
  readonly maxChunks?: number;
}

/**
 * The start of the note when chunks were capped, from the characters indexed: e.g. "Only the
 * first 2.3 MiB of 100.0 MiB is indexed".
 */
export type DescribeIndexedPart = (indexedChars: number) => string;

function capNote(describe: DescribeIndexedPart, indexedChars: number, maxChunks: number): string {
  const tokens = maxChunks * DEFAULT_CHUNK_TOKENS;
  const about = tokens >= 1e6 ? `${(tokens / 1e6).toFixed(1)}M` : tokens.toLocaleString('en-US');
  return `${describe(indexedChars)}: the rest is past the limit of ${maxChunks.toLocaleString('en-US')} text chunks per file (about ${about} tokens) and is found by the file's name only. Split the file to search all of it.`;
}

export function textChunkFile(
  text: string,
  tokenizer: ChunkTokenizer,
  date: number,
  metadata: PreparedFile['metadata'],
  limits: TextChunkLimits = {},
  describe: DescribeIndexedPart = (chars) => `Only the first ${chars.toLocaleString('en-US')} characters of the text are indexed`,
): PreparedFile {
  const maxChunks = limits.maxChunks ?? DEFAULT_MAX_TEXT_CHUNKS;
  const { chunks, truncated } = chunkTextUpTo(text, tokenizer, { maxChunks });
  if (chunks.length === 0) {
    return { items: [{ item: { kind: 'text', locator: { type: 'whole' }, date }, embed: null }], dateTaken: null, metadata: { ...metadata, chunks: 0 } };
  }
  return {
    items: chunks.map((chunk) => ({
      item: { kind: 'text', locator: { type: 'text', start: chunk.start, end: chunk.end, snippet: chunk.snippet }, text: chunk.text, date },
      embed: { texts: [chunk.text] },
    })),
    dateTaken: null,
    // The chunk cap says the most about what is missing, so it replaces a read-size note.
    metadata: { ...metadata, chunks: chunks.length, ...(truncated ? { note: capNote(describe, chunks.at(-1)!.end, maxChunks) } : {}) },
  };
}
