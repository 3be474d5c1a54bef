// Extracted text as library items, the same for plain text files and documents: one item per
// token chunk (locator into the text, embedded as that text), or — when there is no text at all —
// one item found by name and path only.
import { chunkText, type ChunkTokenizer } from '../common/text-chunker.ts';
import type { PreparedFile } from './prepared-file.ts';

export function textChunkFile(text: string, tokenizer: ChunkTokenizer, date: number, metadata: PreparedFile['metadata']): PreparedFile {
  const chunks = chunkText(text, tokenizer);
  if (chunks.length === 0) {
    return { items: [{ item: { kind: 'text', locator: { type: 'whole' }, date }, embed: null }], dateTaken: null, metadata: { ...metadata, chunks: 0 } };
  }
  return {
    items: chunks.map((chunk) => ({
      item: { kind: 'text', locator: { type: 'text', start: chunk.start, end: chunk.end, snippet: chunk.snippet }, text: chunk.text, date },
      embed: { texts: [chunk.text] },
    })),
    dateTaken: null,
    metadata: { ...metadata, chunks: chunks.length },
  };
}
