// PDF → one item per page: the page as the embedder sees it (an image, so scans and slides work)
// plus its text layer for keyword search and snippets. See docs/pdfs.md.
//
// Pages are deferred items: extraction only opens the document, checks that its pages load and
// lists them; each page is drawn (text, thumbnail, model image) by `openPdfPages` when the indexer
// is about to embed it, so a 2,000-page PDF never holds more than a few pages' pixels and is
// indexed in slices that share the queue with other files.
//
// Each page is rendered by MuPDF straight to the size smart_resize picks for it, so the embedder's
// own decode → smart_resize → resize chain finds nothing to resize (the Pillow-exact resize returns
// the image unchanged): no wasted pixels, no second resample, and at most 1,843,200 RGB pixels per
// page whatever the page size.
import { readFile } from 'node:fs/promises';
import type * as Mupdf from 'mupdf';
import sharp from 'sharp';
import type { FileKind } from '../../../contract/common/entities.ts';
import { smartResize } from '../../model-inputs/common/smart-resize.ts';
import { DEFAULT_THUMBNAIL_SIZE } from './image-extract.ts';
import type { CompletedItem, DeferredItems, PreparedFile, PreparedItem } from './prepared-file.ts';
import { parsePdfDate } from './pdf-date.ts';

/**
 * Nominal rendering resolution before smart_resize. At 144 DPI 10-pt body text is 20 px tall
 * (x-height ≈ 10 px), which survives the vision encoder's 16-px patches; at 72 DPI it would be
 * half that and illegible. A Letter or A4 page at 144 DPI is ≈ 1.9–2.0 MP, just over the model's
 * 1,843,200-pixel ceiling, so smart_resize caps ordinary pages at ≈ 140 DPI anyway: a higher
 * nominal DPI would change nothing for them and only enlarge small pages (receipts, cards).
 */
export const PDF_RENDER_DPI = 144;
export const DEFAULT_MAX_PDF_PAGES = 2000;
/** PDF user space is 1/72 inch per unit. */
const POINTS_PER_INCH = 72;
const PDF_MIME = 'application/pdf';

export interface PreparePdfOptions {
  /** Pages past this are not indexed (a note says so); default 2000. */
  readonly maxPages?: number;
  /** Checked between pages: an aborted extraction stops with the signal's reason. */
  readonly signal?: AbortSignal;
}

export class PdfExtractError extends Error {
  override readonly name = 'PdfExtractError';
}

let mupdfModule: Promise<typeof Mupdf> | null = null;
/** The Emscripten module object MuPDF fills in as it loads (its HEAPU8 is the WebAssembly memory). */
let mupdfRuntime: { HEAPU8?: Uint8Array } | null = null;
/** Warnings MuPDF logs while a document is being read; it logs to the console otherwise. */
let mupdfWarnings: string[] = [];

/**
 * MuPDF is WebAssembly (≈ 10 MB, ≈ 200 ms to instantiate): loaded on the first PDF, then reused.
 * A dynamic import also keeps the bundled CommonJS engine host working: mupdf is ESM with a
 * top-level await, which require() cannot load.
 */
function loadMupdf(): Promise<typeof Mupdf> {
  if (!mupdfModule) {
    // mupdf-wasm reads its module settings from this global and attaches its memory views to it.
    const globals = globalThis as { $libmupdf_wasm_Module?: { HEAPU8?: Uint8Array } };
    mupdfRuntime = globals.$libmupdf_wasm_Module ??= {};
  }
  mupdfModule ??= import('mupdf').then((mupdf) => {
    const collect = (message: string): void => {
      // Broken files can warn thousands of times; the first few say what is wrong. "… repeated N
      // times …" is MuPDF flushing the previous document's duplicate count, not news about this one.
      if (mupdfWarnings.length < 20 && !message.startsWith('... repeated')) mupdfWarnings.push(message);
    };
    mupdf.setLog({ error: collect, warning: collect });
    return mupdf;
  });
  return mupdfModule;
}

/**
 * Bytes of MuPDF's WebAssembly memory in this thread (0 before the first PDF). WebAssembly memory
 * grows and never shrinks: after a PDF that needed hundreds of MB, the thread keeps them until it
 * ends, so the extraction pool retires a worker whose memory grew past a limit.
 */
export function mupdfMemoryBytes(): number {
  return mupdfRuntime?.HEAPU8?.length ?? 0;
}

/**
 * Drops MuPDF's resource store (fonts, decoded images and streams kept for reuse, up to 256 MB by
 * default) once a document is closed: each PDF is read once, so nothing in it is worth keeping,
 * and the store's peak would otherwise set the size of the WebAssembly memory for good.
 */
function closeDocument(mupdf: typeof Mupdf, doc: Mupdf.Document): void {
  doc.destroy();
  mupdf.emptyStore();
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0]!.replace(/\.$/, '');
}

/** The page's size in pixels at the nominal DPI, then smart_resize's target for it, as [height, width]. */
export function pdfPageRenderSize(widthPt: number, heightPt: number, dpi = PDF_RENDER_DPI): { nominal: [number, number]; target: [number, number] } {
  const toPixels = (points: number): number => Math.max(1, Math.round((points * dpi) / POINTS_PER_INCH));
  const nominal: [number, number] = [toPixels(heightPt), toPixels(widthPt)];
  return { nominal, target: smartResize(nominal[0], nominal[1]) };
}

/** Longest side `size`, the page's own aspect ratio (the model render may be stretched by a few %). */
function thumbnailSizeOf(widthPt: number, heightPt: number, size: number): [number, number] {
  const scale = size / Math.max(widthPt, heightPt);
  return [Math.max(1, Math.round(heightPt * scale)), Math.max(1, Math.round(widthPt * scale))];
}

export interface RenderedPdfPage {
  /** 1-based. */
  readonly page: number;
  readonly text: string;
  /** PNG, exactly `width × height` = smart_resize of the page at PDF_RENDER_DPI; null when the page cannot be embedded or was drawn for display only. */
  readonly png: Buffer | null;
  readonly width: number;
  readonly height: number;
  readonly thumbnail: { mime: 'image/webp'; width: number; height: number; bytes: Buffer } | null;
  /** Why this page has no image (it is then found by its text only). */
  readonly problem: string | null;
}

export interface RenderPdfPageOptions {
  /** Longest side of the thumbnail (default 320). */
  readonly thumbnailSize?: number;
  /** Draw the model's image too (default true); false draws only the thumbnail, at its own size. */
  readonly embed?: boolean;
}

/** The page could not even be loaded (known at extraction: `preparePdfFile` loads every page). */
export class PdfPageLoadError extends Error {
  override readonly name = 'PdfPageLoadError';
}

let pageImagesRendered = 0;

/** Model-size page images drawn in this process so far: tests compare it with the pages embedded. */
export function pdfPageImagesRendered(): number {
  return pageImagesRendered;
}

type PageGeometry = { readonly problem: null; readonly bounds: Mupdf.Rect; readonly widthPt: number; readonly heightPt: number; readonly target: [number, number] } | { readonly problem: string };

/** The page box and the model's pixel size for it, or why the page cannot be embedded. */
function pageGeometry(page: Mupdf.Page, index: number): PageGeometry {
  const bounds = page.getBounds();
  const widthPt = bounds[2] - bounds[0];
  const heightPt = bounds[3] - bounds[1];
  if (!(widthPt > 0 && heightPt > 0)) return { problem: `page ${index + 1} has an empty page box` };
  try {
    return { problem: null, bounds, widthPt, heightPt, target: pdfPageRenderSize(widthPt, heightPt).target };
  } catch (error) {
    // smart_resize refuses aspect ratios over 200 (a strip of tape, not a page).
    return { problem: `page ${index + 1}: ${firstLine(error)}` };
  }
}

function loadPage(doc: Mupdf.Document, index: number): Mupdf.Page {
  try {
    return doc.loadPage(index);
  } catch (error) {
    throw new PdfPageLoadError(`page ${index + 1}: ${firstLine(error)}`, { cause: error });
  }
}

/** Draws the page box onto white paper of exactly `width × height` RGB pixels (no row padding). */
function drawPage(mupdf: typeof Mupdf, page: Mupdf.Page, bounds: Mupdf.Rect, width: number, height: number): Buffer {
  // Scale each axis separately so the page box lands exactly on the target pixels (as the
  // reference's resize of a 144-DPI render would stretch it), and move the box's corner to 0,0.
  const sx = width / (bounds[2] - bounds[0]);
  const sy = height / (bounds[3] - bounds[1]);
  const matrix: Mupdf.Matrix = [sx, 0, 0, sy, -bounds[0] * sx, -bounds[1] * sy];
  const pixmap = new mupdf.Pixmap(mupdf.ColorSpace.DeviceRGB, [0, 0, width, height], false);
  try {
    pixmap.clear(255); // white paper: PDF pages have no background of their own
    const device = new mupdf.DrawDevice(mupdf.Matrix.identity, pixmap);
    try {
      page.run(device, matrix);
      device.close();
    } finally {
      device.destroy();
    }
    const stride = pixmap.getStride();
    const view = pixmap.getPixels();
    // Copy out of the WebAssembly heap (the pixmap is freed below), dropping any row padding.
    const pixels = Buffer.alloc(width * height * 3);
    for (let y = 0; y < height; y += 1) pixels.set(view.subarray(y * stride, y * stride + width * 3), y * width * 3);
    return pixels;
  } finally {
    pixmap.destroy();
  }
}

/**
 * Draws one page (0-based `index`): its text layer, thumbnail and, unless `embed: false`, the
 * model's image. Synchronous MuPDF work is one page long, so callers that yield between pages keep
 * the event loop responsive. Throws PdfPageLoadError when the page does not load.
 */
export async function renderPdfPage(mupdf: typeof Mupdf, doc: Mupdf.Document, index: number, options: RenderPdfPageOptions = {}): Promise<RenderedPdfPage> {
  const embed = options.embed ?? true;
  const page = loadPage(doc, index);
  let text = '';
  let pixels: Buffer;
  let width: number;
  let height: number;
  let thumbHeight: number;
  let thumbWidth: number;
  try {
    try {
      text = page.toStructuredText('preserve-whitespace').asText().trim();
    } catch {
      // A page whose text cannot be extracted may still render; it is then found by its picture.
    }
    const geometry = pageGeometry(page, index);
    if (geometry.problem !== null) return { page: index + 1, text, png: null, width: 0, height: 0, thumbnail: null, problem: geometry.problem };
    [thumbHeight, thumbWidth] = thumbnailSizeOf(geometry.widthPt, geometry.heightPt, options.thumbnailSize ?? DEFAULT_THUMBNAIL_SIZE);
    // Without a model only the thumbnail is needed: drawn straight at its size, a fraction of the work.
    [height, width] = embed ? geometry.target : [thumbHeight, thumbWidth];
    pixels = drawPage(mupdf, page, geometry.bounds, width, height);
  } finally {
    page.destroy();
  }
  const raw = { raw: { width, height, channels: 3 as const } };
  if (!embed) {
    const thumb = await sharp(pixels, raw).webp({ quality: 80 }).toBuffer({ resolveWithObject: true });
    return { page: index + 1, text, png: null, width, height, thumbnail: { mime: 'image/webp', width: thumb.info.width, height: thumb.info.height, bytes: thumb.data }, problem: null };
  }
  // sharp encodes on libuv's thread pool, off the event loop; level 6 is its default and ≈ 3× faster than 9 for ≈ 5 % more bytes.
  const [png, thumb] = await Promise.all([
    sharp(pixels, raw).png({ compressionLevel: 6 }).toBuffer(),
    sharp(pixels, raw).resize(thumbWidth, thumbHeight, { fit: 'fill' }).webp({ quality: 80 }).toBuffer({ resolveWithObject: true }),
  ]);
  pageImagesRendered += 1;
  return {
    page: index + 1,
    text,
    png,
    width,
    height,
    thumbnail: { mime: 'image/webp', width: thumb.info.width, height: thumb.info.height, bytes: thumb.data },
    problem: null,
  };
}

function metaOf(doc: Mupdf.Document, key: string): string | null {
  try {
    const value = doc.getMetaData(key)?.trim();
    return value ? value : null;
  } catch {
    return null;
  }
}

/** Lets timers, I/O and other files' work run between pages (MuPDF itself is synchronous). */
const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Opens a PDF for reading its pages, or throws a PdfExtractError that says what to do. */
async function openPdf(filePath: string, signal: AbortSignal | undefined): Promise<{ mupdf: typeof Mupdf; doc: Mupdf.Document; pageCount: number }> {
  const what = `PDF '${filePath}'`;
  let bytes: Buffer;
  try {
    bytes = await readFile(filePath, { signal });
  } catch (error) {
    signal?.throwIfAborted();
    throw new PdfExtractError(`Cannot read ${what}: ${firstLine(error)}. Check that the file exists and is readable.`);
  }
  if (bytes.length === 0) throw new PdfExtractError(`${what} is empty (0 bytes); it was not saved completely. Copy it again from its source.`);
  const mupdf = await loadMupdf();
  signal?.throwIfAborted();
  mupdfWarnings = [];
  let doc: Mupdf.Document;
  try {
    doc = mupdf.Document.openDocument(bytes, PDF_MIME);
  } catch (error) {
    throw new PdfExtractError(`Cannot open ${what}: ${firstLine(error)}. The file is damaged or not a PDF; re-save or re-export it.`);
  }
  try {
    if (doc.needsPassword()) {
      // Trying passwords (even the empty one MuPDF already tried) would be guessing; say so instead.
      throw new PdfExtractError(`${what} is password-protected; Trove cannot read it. Save an unprotected copy to index its pages.`);
    }
    let pageCount: number;
    try {
      pageCount = doc.countPages();
    } catch (error) {
      throw new PdfExtractError(`Cannot read the pages of ${what}: ${firstLine(error)}. The file is damaged; re-save or re-export it.`);
    }
    if (pageCount === 0) {
      const why = mupdfWarnings.length > 0 ? ` (${mupdfWarnings[0]})` : '';
      throw new PdfExtractError(`${what} has no readable pages${why}. The file is damaged or empty; re-save or re-export it.`);
    }
    return { mupdf, doc, pageCount };
  } catch (error) {
    closeDocument(mupdf, doc);
    throw error;
  }
}

/**
 * Lists a PDF's pages as deferred items (no page is drawn here; `openPdfPages` draws them) with the
 * file's metadata. Every page is loaded once to find the ones that cannot be embedded (unloadable,
 * empty or strip-shaped page boxes; ≈ 0.04 ms a page), so the note is complete and a file none of
 * whose pages load is refused now rather than after its pages were queued.
 */
export async function preparePdfFile(file: { path: string; kind: FileKind; mtimeMs: number }, options: PreparePdfOptions = {}): Promise<PreparedFile> {
  const maxPages = options.maxPages ?? DEFAULT_MAX_PDF_PAGES;
  const what = `PDF '${file.path}'`;
  const { mupdf, doc, pageCount } = await openPdf(file.path, options.signal);
  try {
    const repaired = doc instanceof mupdf.PDFDocument && doc.wasRepaired();
    const encryption = metaOf(doc, mupdf.Document.META_ENCRYPTION);
    const created = parsePdfDate(metaOf(doc, mupdf.Document.META_INFO_CREATIONDATE));
    const date = created ?? file.mtimeMs;
    const indexed = Math.min(pageCount, maxPages);
    const items: PreparedItem[] = [];
    const problems: string[] = [];
    let unreadablePages = 0;
    for (let index = 0; index < indexed; index += 1) {
      if (index % 256 === 0) {
        options.signal?.throwIfAborted();
        if (index > 0) await yieldToEventLoop();
      }
      try {
        const page = loadPage(doc, index);
        try {
          const geometry = pageGeometry(page, index);
          if (geometry.problem !== null) problems.push(geometry.problem);
        } finally {
          page.destroy();
        }
      } catch (error) {
        // One broken page should not cost the other pages: it stays findable by name.
        problems.push(error instanceof PdfPageLoadError ? error.message : `page ${index + 1}: ${firstLine(error)}`);
        unreadablePages += 1;
      }
      items.push({ item: { kind: 'page', locator: { type: 'page', page: index + 1 }, text: null, date }, embed: null, deferred: true });
    }
    if (unreadablePages === indexed) {
      // Pages that load but cannot be embedded (odd shapes) stay findable by their text; a file
      // none of whose pages even load is recorded as unreadable instead.
      throw new PdfExtractError(`No page of ${what} can be read (${problems[0]}). The file is damaged; re-save or re-export it.`);
    }
    const notes: string[] = [];
    if (pageCount > indexed) notes.push(`only the first ${indexed} of ${pageCount} pages are indexed (the limit is ${maxPages} pages per PDF)`);
    if (problems.length > 0) notes.push(`${problems.length} page(s) not embedded: ${problems.slice(0, 3).join('; ')}${problems.length > 3 ? '; …' : ''}`);
    return {
      items,
      dateTaken: created,
      metadata: {
        pages: pageCount,
        indexedPages: indexed,
        title: metaOf(doc, mupdf.Document.META_INFO_TITLE),
        author: metaOf(doc, mupdf.Document.META_INFO_AUTHOR),
        encrypted: encryption !== null && encryption !== 'None' ? 1 : 0,
        encryption: encryption !== 'None' ? encryption : null,
        repaired: repaired ? 1 : 0,
        note: notes.length > 0 ? notes.join('. ') : null,
      },
    };
  } finally {
    closeDocument(mupdf, doc);
  }
}

/**
 * Opens a PDF to draw its page items one at a time (see `preparePdfFile`). A page that fails is
 * returned as a problem, never thrown: the other pages go on. Close it to free the document.
 */
export async function openPdfPages(filePath: string, options: { readonly signal?: AbortSignal; readonly thumbnailSize?: number } = {}): Promise<DeferredItems> {
  const { mupdf, doc } = await openPdf(filePath, options.signal);
  let open = true;
  return {
    async complete(item, { embed }): Promise<CompletedItem> {
      if (!open) throw new Error(`PDF '${filePath}' was closed before page ${JSON.stringify(item.locator)} was drawn`);
      if (item.kind !== 'page' || item.locator.type !== 'page') throw new Error(`PDF '${filePath}' has only page items, not ${item.kind} ${JSON.stringify(item.locator)}`);
      const page = item.locator.page;
      try {
        const rendered = await renderPdfPage(mupdf, doc, page - 1, { thumbnailSize: options.thumbnailSize, embed });
        return { text: rendered.text || null, thumbnail: rendered.thumbnail, embed: rendered.png ? { images: [rendered.png] } : null, problem: rendered.problem, unforeseen: false };
      } catch (error) {
        // A page that does not load was already counted at extraction; one that loads but cannot be drawn was not.
        const problem = error instanceof PdfPageLoadError ? error.message : `page ${page}: ${firstLine(error)}`;
        return { text: null, thumbnail: null, embed: null, problem, unforeseen: !(error instanceof PdfPageLoadError) };
      }
    },
    close(): void {
      if (!open) return;
      open = false;
      closeDocument(mupdf, doc);
    },
  };
}
