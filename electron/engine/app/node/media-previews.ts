// Preview-size pictures of items, for the preview pane and quick look: a PDF page drawn at a
// readable size, and photos the browser cannot show itself (HEIC, TIFF, …) upright at screen size.
// The stored 320 px thumbnail is for result tiles; blown up in a preview a page cannot be read.
//
// Made on demand and kept in a small in-memory cache, not at index time: a preview costs one page
// draw or one photo decode (tens to hundreds of ms, docs/benchmarks.md "Preview renderings") for
// the few items a person opens, whereas making one for every page and photo at index time would
// add that to every file and ~100–300 KB a page to the data folder for pictures few are looked at.
import { extractImage } from '../../extract/node/image-extract.ts';
import { openPdfPages } from '../../extract/node/pdf-extract.ts';
import { readLibraryFile } from '../../library/node/library-file.ts';
import type { Store } from '../../store/node/store.ts';

/** Longest side of a PDF page preview: an A4 page at 1131 × 1600 px reads comfortably in quick look. */
export const PAGE_PREVIEW_SIZE = 1600;
/** Longest side of a photo preview: sharp on a large screen, a fraction of a 24 MP original. */
export const IMAGE_PREVIEW_SIZE = 2048;
/** Bytes of previews kept in memory (a page preview is ~100–300 KB): the last few dozen opened. */
const CACHE_BYTES = 48 * 1024 * 1024;

export interface PreviewPicture {
  readonly mime: string;
  readonly bytes: Uint8Array;
}

export class MediaPreviews {
  /** Insertion order is recency: a hit is moved to the end, the oldest is evicted first. */
  private readonly cache = new Map<string, PreviewPicture>();
  private cachedBytes = 0;
  private readonly inFlight = new Map<string, Promise<PreviewPicture | null>>();

  constructor(private readonly store: Store) {}

  /** A preview of the item, or null when it has none (text, video) or it cannot be drawn. */
  async preview(itemId: number): Promise<PreviewPicture | null> {
    const detail = this.store.items.detail(itemId);
    if (!detail || (detail.kind !== 'pdf' && detail.kind !== 'image')) return null;
    // Keyed by the file's state too: a changed file is drawn again.
    const key = `${itemId}:${detail.mtime}:${detail.size}`;
    const cached = this.cache.get(key);
    if (cached) {
      this.cache.delete(key);
      this.cache.set(key, cached);
      return cached;
    }
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.draw(detail.path, detail.kind, detail.locator).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    const picture = await pending;
    if (picture) this.remember(key, picture);
    return picture;
  }

  private async draw(path: string, kind: 'pdf' | 'image', locator: { type: string; page?: number }): Promise<PreviewPicture | null> {
    try {
      // Drawn only from a library file, never through a link (docs/file-kinds.md, "Links").
      const roots = this.store.roots.list().map((r) => r.path);
      if (kind === 'image') {
        const image = await readLibraryFile(path, roots, () => extractImage(path, { thumbnailSize: IMAGE_PREVIEW_SIZE, quality: 82 }));
        return { mime: image.thumbnail.mime, bytes: image.thumbnail.data };
      }
      if (locator.type !== 'page' || locator.page === undefined) return null;
      const pages = await readLibraryFile(path, roots, () => openPdfPages(path, { thumbnailSize: PAGE_PREVIEW_SIZE }), (opened) => opened.close());
      try {
        const drawn = await pages.complete({ kind: 'page', locator: { type: 'page', page: locator.page } }, { embed: false });
        return drawn.thumbnail ? { mime: drawn.thumbnail.mime, bytes: drawn.thumbnail.bytes } : null;
      } finally {
        pages.close();
      }
    } catch {
      // The file changed, vanished or cannot be decoded: the UI shows the stored thumbnail instead.
      return null;
    }
  }

  private remember(key: string, picture: PreviewPicture): void {
    if (this.cache.has(key) || picture.bytes.byteLength > CACHE_BYTES) return;
    this.cache.set(key, picture);
    this.cachedBytes += picture.bytes.byteLength;
    for (const [oldKey, old] of this.cache) {
      if (this.cachedBytes <= CACHE_BYTES) break;
      this.cache.delete(oldKey);
      this.cachedBytes -= old.bytes.byteLength;
    }
  }
}
