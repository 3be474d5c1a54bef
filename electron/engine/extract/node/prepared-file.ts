// What an extractor turns one file into: its items (each with what the embedder should read) and
// the file's metadata. The indexer embeds and commits these; extractors never touch the store.
import type { EmbedInput } from '../../models/node/embed-inputs.ts';
import type { NewItem } from '../../store/node/items-repo.ts';

export interface PreparedItem {
  readonly item: NewItem;
  /** What the embedder reads for this item; null: keyword-only (found by name, path and text). */
  readonly embed: EmbedInput | null;
}

export interface PreparedFile {
  readonly items: PreparedItem[];
  /** Epoch ms the photo/video was taken (EXIF, container metadata), when known. */
  readonly dateTaken: number | null;
  readonly metadata: Record<string, string | number | null>;
}
