// What one file becomes in the library: its items (with what to embed for each) and metadata.
// Every kind has its extractor: images → one item with a thumbnail and photo metadata; text and
// documents → one item per token chunk; PDFs → one image item per page with its text layer;
// videos → one item per moment plus the whole video.
import type { FileKind } from '../../../contract/common/entities.ts';
import type { ChunkTokenizer } from '../../extract/common/text-chunker.ts';
import { textChunkFile } from '../../extract/node/text-items.ts';
import { extractText } from '../../extract/node/text-extract.ts';
import { preparePdfFile } from '../../extract/node/pdf-extract.ts';
import { prepareDocumentFile } from '../../extract/node/document-extract.ts';
import { prepareImageFile } from '../../extract/node/photo-metadata.ts';
import { prepareVideoFile } from '../../extract/node/video-extract.ts';
import type { PreparedFile } from '../../extract/node/prepared-file.ts';

export type { PreparedFile, PreparedItem } from '../../extract/node/prepared-file.ts';

/**
 * Without an embedding model there is no model tokenizer; chunks are then cut by an estimate of
 * 4 characters per token (about right for English prose with Qwen's BPE). When a model arrives the
 * files are indexed again with its tokenizer (see markFilesWithoutVectors).
 */
export const CHARACTER_ESTIMATE_TOKENIZER: ChunkTokenizer = {
  encodeText: (text) => new Array<number>(Math.ceil(text.length / 4)).fill(0),
};


export async function prepareFile(file: { path: string; kind: FileKind; mtimeMs: number }, tokenizer: ChunkTokenizer): Promise<PreparedFile> {
  const date = file.mtimeMs;
  switch (file.kind) {
    case 'image':
      return prepareImageFile(file);
    case 'text': {
      const extracted = await extractText(file.path);
      return textChunkFile(extracted.text, tokenizer, date, { encoding: extracted.encoding, note: extracted.note });
    }
    case 'pdf':
      return preparePdfFile(file);
    case 'document':
      return prepareDocumentFile(file, tokenizer);
    case 'video':
      return prepareVideoFile(file);
  }
}
