// What an extractor turns one file into: its items (each with what the embedder should read) and
// the file's metadata. The indexer embeds and commits these; extractors never touch the store.
import type { EmbedInput } from '../../model-inputs/node/embed-inputs.ts';
import type { NewItem, Thumbnail } from '../../store/node/items-repo.ts';

export interface PreparedItem {
  readonly item: NewItem;
  /** What the embedder reads for this item; null: keyword-only (found by name, path and text). */
  readonly embed: EmbedInput | null;
  /**
   * The item's text, thumbnail and embed input are made on demand by `DeferredItems.complete`,
   * not at extraction (PDF pages: rendering every page of a 2,000-page file up front would hold
   * ≈ 1 GB of pixels). Until then `item` has no text or thumbnail and `embed` is null.
   */
  readonly deferred?: boolean;
}

export interface PreparedFile {
  readonly items: PreparedItem[];
  /** Epoch ms the photo/video was taken (EXIF, container metadata), when known. */
  readonly dateTaken: number | null;
  readonly metadata: Record<string, string | number | null>;
}

/** A deferred item, made. */
export interface CompletedItem {
  readonly text: string | null;
  readonly thumbnail: Thumbnail | null;
  /** Null when the item cannot be embedded (`problem` says why) or only display parts were asked for. */
  readonly embed: EmbedInput | null;
  /** Why the item has no embed input; it stays findable by name, path and text. */
  readonly problem: string | null;
  /**
   * The problem was not foreseen at extraction, so the file's `note` does not list it yet (a page
   * that loaded but failed to draw); the indexer adds it.
   */
  readonly unforeseen: boolean;
}

/**
 * The clock of one file's time limit. Work that waits for its turn (a free extraction worker, while
 * another file has it) calls `waiting()` and `working()` once it runs again, so the limit measures
 * the file's own work, never the time it spent behind another file.
 */
export interface WorkClock {
  waiting(): void;
  working(): void;
}

export interface CompleteOptions {
  /** `false` makes only the text and thumbnail (there is no model to embed it). */
  readonly embed: boolean;
  /** Drawing in a worker: aborting abandons the draw. */
  readonly signal?: AbortSignal;
  readonly clock?: WorkClock;
}

/** Makes a file's deferred items, one at a time; holds the file open until `close()`. */
export interface DeferredItems {
  complete(item: Pick<NewItem, 'kind' | 'locator'>, options: CompleteOptions): Promise<CompletedItem>;
  close(): void;
}

/** Longest a file's note grows by problems found while completing its items. */
const MAX_NOTE_CHARS = 1000;

/** The file's note with a problem found after extraction added (capped: a note is read by a person). */
export function noteWithProblem(note: string | number | null | undefined, problem: string): string {
  const before = typeof note === 'string' && note ? note : '';
  if (before.length >= MAX_NOTE_CHARS) return before.endsWith('…') ? before : `${before} …`;
  return `${before ? `${before}. ` : ''}not embedded: ${problem}`;
}

/**
 * Completes every deferred item in one go, one at a time (for callers that want all inputs in hand;
 * the indexer instead completes a few per round just before embedding them).
 */
export async function completeDeferredItems(prepared: PreparedFile, open: () => Promise<DeferredItems>, options: { readonly embed: boolean; readonly signal?: AbortSignal }): Promise<PreparedFile> {
  if (!prepared.items.some((pi) => pi.deferred)) return prepared;
  const source = await open();
  try {
    const metadata = { ...prepared.metadata };
    const items: PreparedItem[] = [];
    for (const pi of prepared.items) {
      if (!pi.deferred) {
        items.push(pi);
        continue;
      }
      options.signal?.throwIfAborted();
      const done = await source.complete(pi.item, { embed: options.embed });
      if (done.unforeseen && done.problem) metadata.note = noteWithProblem(metadata.note, done.problem);
      items.push({ item: { ...pi.item, text: done.text, thumbnail: done.thumbnail }, embed: done.embed });
    }
    return { ...prepared, items, metadata };
  } finally {
    source.close();
  }
}
