// Thumbnails, previews and library files for img/video tags: GET /media/thumb/:itemId,
// /media/preview/:itemId (a PDF page or photo at preview size) and /media/file/:itemId. The
// engine maps an opaque item id to bytes or a path; this module still
// refuses any path that is not an absolute, normalised, regular file inside a library root, reached
// without following a link (docs/file-kinds.md, "Links"), so a bug upstream or a file swapped for
// a link cannot turn the route into a file server for the disk. The file is opened without
// following links and streamed from that very descriptor.
import type { FileHandle } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { checkLibraryFile, LibraryFileError, openLibraryFile } from '../../engine/library/node/library-file.ts';
import { MEDIA_CSP } from './content-security.ts';
import { mediaContentType } from './content-types.ts';
import { parseByteRange } from './http-range.ts';

/** What the engine provides to the media routes. */
export interface MediaSource {
  /** The stored thumbnail of an item, or null when it has none (or the item does not exist). */
  thumbnail(itemId: number): Promise<{ mime: string; bytes: Uint8Array } | null> | { mime: string; bytes: Uint8Array } | null;
  /** A preview-size picture of a PDF page or photo, made on demand; null when the item has none. */
  preview?(itemId: number): Promise<{ mime: string; bytes: Uint8Array } | null> | { mime: string; bytes: Uint8Array } | null;
  /** The absolute path of the indexed file holding the item, or null. */
  filePath(itemId: number): Promise<string | null> | string | null;
  /** The library's root folders; a file outside every one of them is refused. */
  rootPaths(): Promise<string[]> | string[];
}

/**
 * A library file can be anything (an HTML page, an SVG with script): opened directly it must not
 * run on the server's origin, so every media response is sandboxed (content-security.ts). PDFs are
 * the exception: Chrome's built-in viewer refuses to render inside a sandbox, and it runs no script of the page.
 */
export { MEDIA_CSP };

export type MediaOutcome = { status: 'served' } | { status: 400 | 403 | 404; reason: string };

const ROUTE = /^\/media\/(thumb|preview|file)\/([0-9]{1,15})$/;

export function isMediaPath(rawPath: string): boolean {
  return rawPath === '/media' || rawPath.startsWith('/media/');
}

export async function serveMedia(media: MediaSource, rawPath: string, request: IncomingMessage, response: ServerResponse): Promise<MediaOutcome> {
  const match = ROUTE.exec(rawPath);
  if (!match) return { status: 400, reason: 'media URLs look like /media/thumb/<itemId>, /media/preview/<itemId> or /media/file/<itemId>' };
  const itemId = Number(match[2]);
  if (match[1] === 'thumb') {
    const thumbnail = await media.thumbnail(itemId);
    if (!thumbnail) return { status: 404, reason: `item ${itemId} has no thumbnail` };
    sendBytes(thumbnail.bytes, thumbnail.mime, request, response);
    return { status: 'served' };
  }
  const candidate = await media.filePath(itemId);
  if (candidate === null) return { status: 404, reason: `no indexed file for item ${itemId}` };
  if (match[1] === 'preview') {
    // Drawn from the file, so the file passes the same check as a file download first.
    if ((await checkedLibraryFile(candidate, await media.rootPaths())) === null) return { status: 403, reason: `item ${itemId}'s file is not a regular file inside a library folder` };
    const preview = (await media.preview?.(itemId)) ?? null;
    if (!preview) return { status: 404, reason: `item ${itemId} has no preview (only PDF pages and photos have one)` };
    sendBytes(preview.bytes, preview.mime, request, response);
    return { status: 'served' };
  }
  const file = await openedLibraryFile(candidate, await media.rootPaths());
  if (file === null) return { status: 403, reason: `item ${itemId}'s file is not a regular file inside a library folder (or it is a link, which Trove does not follow)` };
  await sendFile(file, request, response);
  return { status: 'served' };
}

/**
 * The real path of `candidate` when it is a library file: a regular file inside one of `roots`,
 * reached without following a link; else null. For callers that hand the path on (open, reveal).
 */
export async function checkedLibraryFile(candidate: string, roots: readonly string[]): Promise<string | null> {
  try {
    return (await checkLibraryFile(candidate, roots)).path;
  } catch {
    return null;
  }
}

/** A library file opened for serving (see checkedLibraryFile), or null; the caller closes the handle. */
export async function openedLibraryFile(candidate: string, roots: readonly string[]): Promise<{ handle: FileHandle; path: string; size: number; mtimeMs: number } | null> {
  try {
    return await openLibraryFile(candidate, roots);
  } catch (error) {
    if (error instanceof LibraryFileError || (error as NodeJS.ErrnoException).code !== undefined) return null;
    throw error;
  }
}

function mediaHeaders(contentType: string, cacheControl: string): Record<string, string> {
  return {
    'content-type': contentType,
    'cache-control': cacheControl,
    'accept-ranges': 'bytes',
    'cross-origin-resource-policy': 'same-origin',
    ...(contentType === 'application/pdf' ? {} : { 'content-security-policy': MEDIA_CSP }),
  };
}

function sendBytes(bytes: Uint8Array, mime: string, request: IncomingMessage, response: ServerResponse): void {
  // Thumbnails are regenerated when their file changes, so a short private cache is enough.
  const headers = mediaHeaders(/^image\/[a-z0-9.+-]+$/i.test(mime) ? mime : 'application/octet-stream', 'private, max-age=300');
  const range = parseByteRange(request.headers.range, bytes.length);
  if (range === 'unsatisfiable') {
    response.writeHead(416, { ...headers, 'content-range': `bytes */${bytes.length}` }).end();
    return;
  }
  const body = range ? bytes.subarray(range.start, range.end + 1) : bytes;
  response.writeHead(range ? 206 : 200, {
    ...headers,
    'content-length': String(body.length),
    ...(range ? { 'content-range': `bytes ${range.start}-${range.end}/${bytes.length}` } : {}),
  });
  response.end(request.method === 'HEAD' ? undefined : body);
}

async function sendFile(file: { handle: FileHandle; path: string; size: number; mtimeMs: number }, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const { handle, size } = file;
  const headers = { ...mediaHeaders(mediaContentType(file.path), 'private, no-cache'), 'last-modified': new Date(file.mtimeMs).toUTCString() };
  const range = parseByteRange(request.headers.range, size);
  if (range === 'unsatisfiable') {
    await handle.close();
    response.writeHead(416, { ...headers, 'content-range': `bytes */${size}` }).end();
    return;
  }
  const length = range ? range.end - range.start + 1 : size;
  response.writeHead(range ? 206 : 200, {
    ...headers,
    'content-length': String(length),
    ...(range ? { 'content-range': `bytes ${range.start}-${range.end}/${size}` } : {}),
  });
  if (request.method === 'HEAD' || length === 0) {
    await handle.close();
    response.end();
    return;
  }
  await pipeHandle(handle, response, range ?? { start: 0, end: size - 1 });
}

/** Streams from the descriptor that was checked (never the path again); closes it at the end. */
function pipeHandle(handle: FileHandle, response: ServerResponse, range: { start: number; end: number }): Promise<void> {
  return new Promise((resolve) => {
    const stream = handle.createReadStream({ start: range.start, end: range.end, autoClose: true });
    stream.on('error', () => {
      response.destroy();
      resolve();
    });
    response.on('close', () => {
      stream.destroy();
      resolve();
    });
    stream.pipe(response);
  });
}
