// What one file becomes in the library: its items (with what to embed for each) and metadata.
// Images → one item with a stored thumbnail; text → one item per token chunk; PDFs → one image
// item per page with its text layer; kinds without a content extractor yet → one item found by
// name and path only.
import type { FileKind } from '../../../contract/common/entities.ts';
import { chunkText, type ChunkTokenizer } from '../../extract/common/text-chunker.ts';
import { extractImage } from '../../extract/node/image-extract.ts';
import { extractText } from '../../extract/node/text-extract.ts';
import { preparePdfFile } from '../../extract/node/pdf-extract.ts';
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

export const NAME_ONLY_NOTE = 'indexed by name and path only; content search for this kind arrives in a later version';

export async function prepareFile(file: { path: string; kind: FileKind; mtimeMs: number }, tokenizer: ChunkTokenizer): Promise<PreparedFile> {
  const date = file.mtimeMs;
  switch (file.kind) {
    case 'image': {
      const image = await extractImage(file.path);
      const thumbnail = { mime: image.thumbnail.mime, width: image.thumbnail.width, height: image.thumbnail.height, bytes: image.thumbnail.data };
      return {
        items: [{ item: { kind: 'image', locator: { type: 'whole' }, date, thumbnail }, embed: { images: [file.path] } }],
        dateTaken: null,
        metadata: { width: image.displayWidth, height: image.displayHeight, format: image.format },
      };
    }
    case 'text': {
      const extracted = await extractText(file.path);
      const chunks = chunkText(extracted.text, tokenizer);
      const metadata: PreparedFile['metadata'] = { encoding: extracted.encoding, chunks: chunks.length, note: extracted.note };
      if (chunks.length === 0) return { items: [{ item: { kind: 'text', locator: { type: 'whole' }, date }, embed: null }], dateTaken: null, metadata };
      return {
        items: chunks.map((c) => ({
          item: { kind: 'text', locator: { type: 'text', start: c.start, end: c.end, snippet: c.snippet }, text: c.text, date },
          embed: { texts: [c.text] },
        })),
        dateTaken: null,
        metadata,
      };
    }
    case 'pdf':
      return preparePdfFile(file);
    default:
      return {
        items: [{ item: { kind: file.kind === 'video' ? 'video' : 'text', locator: { type: 'whole' }, date }, embed: null }],
        dateTaken: null,
        metadata: { note: NAME_ONLY_NOTE },
      };
  }
}
