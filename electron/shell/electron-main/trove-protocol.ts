// The trove:// scheme, as a plain function from Request to Response (no Electron import, so it is
// tested under Node; main.ts registers it with protocol.handle). Two hosts:
//   trove://app/…            the built renderer (renderer/dist), with the app's CSP
//   trove://media/thumb/:id  an item's stored thumbnail
//   trove://media/preview/:id  a PDF page or photo at preview size, drawn by the engine on demand
//   trove://media/file/:id   an item's file, with Range support for <video>
// Media is addressed by an opaque item id, never a path; every request asks the engine again and
// re-checks that the file is a library file (inside a current root, reached without following a
// link: docs/file-kinds.md, "Links"), opens it without following links and streams from that
// descriptor, so nothing else on disk can be read.
// Content types, URL-path checks, the roots check, byte ranges and the media CSP are the server's
// (electron/server/node), so the shell and the browser build refuse exactly the same things.
import { createReadStream } from 'node:fs';
import { stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { parseTroveMediaUrl, type MediaKind } from '../../contract/common/bridge.ts';
import { mediaContentType, staticContentType } from '../../server/node/content-types.ts';
import { appContentSecurityPolicy } from '../../server/node/content-security.ts';
import { parseByteRange } from '../../server/node/http-range.ts';
import { checkedLibraryFile, MEDIA_CSP, openedLibraryFile } from '../../server/node/media-routes.ts';
import { safePathSegments } from '../../server/node/static-files.ts';

/** Sent with every page of the app: only the app's own scripts run, media only from trove: (server/node/content-security.ts). */
export const APP_CSP = appContentSecurityPolicy('shell');

/**
 * The file under `rendererDir` that an app URL path names, or null when the path is malformed or
 * would leave the folder (`..`, encoded separators, NUL, drive segments). `/` is index.html.
 * Lexical only (no realpath): in a packaged app the renderer sits inside app.asar.
 */
export function resolveAppAsset(rendererDir: string, urlPath: string): string | null {
  const segments = safePathSegments(urlPath);
  if (segments === null) return null;
  if (segments.length === 0) segments.push('index.html');
  return path.join(path.resolve(rendererDir), ...segments);
}

/** Media URL → item; null for anything that is not exactly trove://media/(thumb|file)/<id>. */
export function parseMediaUrl(url: string): { kind: MediaKind; itemId: number } | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  // The query and fragment carry nothing (a <video> may add #t=…); the rest must match exactly.
  const media = parseTroveMediaUrl(`${parsed.protocol}//${parsed.host}${parsed.pathname}`);
  if (!media || !Number.isSafeInteger(media.itemId)) return null;
  return media;
}

export interface TroveProtocolDeps {
  /** Folder with the built renderer (index.html and assets). */
  readonly rendererDir: string;
  /** The engine's stored thumbnail for an item (asked over the engine channel). */
  thumbnail(itemId: number): Promise<{ mime: string; bytes: Uint8Array } | null>;
  /** The engine's preview-size picture of a PDF page or photo, drawn on demand; null when none. */
  preview?(itemId: number): Promise<{ mime: string; bytes: Uint8Array } | null>;
  /** The engine's answer for an item's file: an indexed file inside a current root, or null. */
  filePath(itemId: number): Promise<string | null>;
  /** Paths of the current roots, to re-check the engine's answer. */
  rootPaths(): Promise<readonly string[]>;
}

function textResponse(status: number, message: string, headers: Record<string, string> = {}): Response {
  return new Response(message, { status, headers: { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff', ...headers } });
}

function fileBody(filePath: string, start: number, end: number): ReadableStream<Uint8Array> {
  return Readable.toWeb(createReadStream(filePath, { start, end })) as ReadableStream<Uint8Array>;
}

/** A body read from an open descriptor (closed when the body ends or is cancelled). */
function handleBody(handle: FileHandle, start: number, end: number): ReadableStream<Uint8Array> {
  return Readable.toWeb(handle.createReadStream({ start, end, autoClose: true })) as ReadableStream<Uint8Array>;
}

async function serveAppAsset(deps: TroveProtocolDeps, url: URL): Promise<Response> {
  const appHeaders = { 'content-security-policy': APP_CSP, 'x-content-type-options': 'nosniff', 'cache-control': 'no-cache' };
  let file = resolveAppAsset(deps.rendererDir, url.pathname);
  if (!file) return textResponse(400, `Bad app path '${url.pathname}'.`, appHeaders);
  let info = await stat(file).catch(() => null);
  // Client-side routes (no extension) get the app's entry page, as a dev server would serve them.
  if ((!info || !info.isFile()) && path.extname(file) === '') {
    file = path.join(path.resolve(deps.rendererDir), 'index.html');
    info = await stat(file).catch(() => null);
  }
  if (!info || !info.isFile()) {
    const hint = url.pathname === '/' || url.pathname === '/index.html' ? ' Build the renderer first: npm run build.' : '';
    return textResponse(404, `Not found: ${url.pathname}.${hint}`, appHeaders);
  }
  return new Response(fileBody(file, 0, Math.max(0, info.size - 1)), {
    status: 200,
    headers: { ...appHeaders, 'content-type': staticContentType(file), 'content-length': String(info.size) },
  });
}

async function serveMedia(deps: TroveProtocolDeps, request: Request): Promise<Response> {
  const media = parseMediaUrl(request.url);
  if (!media) return textResponse(404, 'Not a media URL; expected trove://media/thumb/<itemId>, trove://media/preview/<itemId> or trove://media/file/<itemId>.');
  const mediaHeaders = { 'content-security-policy': MEDIA_CSP, 'x-content-type-options': 'nosniff', 'cache-control': 'no-cache' };
  if (media.kind === 'preview') {
    // Drawn from the file, so the file passes the same check as the file itself first.
    const [candidate, roots] = await Promise.all([deps.filePath(media.itemId), deps.rootPaths()]);
    if (candidate === null || (await checkedLibraryFile(candidate, roots)) === null) return textResponse(404, `Item ${media.itemId} is not an indexed file in a current folder.`, mediaHeaders);
  }
  if (media.kind === 'thumb' || media.kind === 'preview') {
    const thumb = media.kind === 'thumb' ? await deps.thumbnail(media.itemId) : ((await deps.preview?.(media.itemId)) ?? null);
    if (!thumb) return textResponse(404, `Item ${media.itemId} has no ${media.kind === 'thumb' ? 'thumbnail' : 'preview'}.`, mediaHeaders);
    if (!thumb.mime.startsWith('image/') || thumb.mime.includes('svg')) return textResponse(500, `Thumbnail of item ${media.itemId} is not a raster image.`, mediaHeaders);
    return new Response(thumb.bytes as Uint8Array<ArrayBuffer>, {
      status: 200,
      headers: { ...mediaHeaders, 'content-type': thumb.mime, 'content-length': String(thumb.bytes.byteLength) },
    });
  }
  const [candidate, roots] = await Promise.all([deps.filePath(media.itemId), deps.rootPaths()]);
  // Opened without following links, then proven to be the file at its real path inside a root.
  const file = candidate === null ? null : await openedLibraryFile(candidate, roots);
  if (!file) return textResponse(404, `Item ${media.itemId} is not an indexed file in a current folder (or it is gone from disk, or it became a link, which Trove does not follow; it will leave the library at the next scan).`, mediaHeaders);
  const { handle, size } = file;
  const headers = { ...mediaHeaders, 'content-type': mediaContentType(file.path), 'accept-ranges': 'bytes' };
  const range = parseByteRange(request.headers.get('range'), size);
  const [start, end] = range === null ? [0, size - 1] : range === 'unsatisfiable' ? [0, -1] : [range.start, range.end];
  if (range === 'unsatisfiable' || request.method === 'HEAD' || end < start) await handle.close();
  if (range === 'unsatisfiable') return textResponse(416, 'Range not satisfiable.', { ...headers, 'content-range': `bytes */${size}` });
  const body = request.method === 'HEAD' || end < start ? null : handleBody(handle, start, end);
  if (range === null) return new Response(body, { status: 200, headers: { ...headers, 'content-length': String(size) } });
  return new Response(body, {
    status: 206,
    headers: { ...headers, 'content-length': String(end - start + 1), 'content-range': `bytes ${start}-${end}/${size}` },
  });
}

/** The handler main.ts passes to protocol.handle('trove', …). Never throws: failures become responses. */
export function createTroveProtocolHandler(deps: TroveProtocolDeps): (request: Request) => Promise<Response> {
  return async (request) => {
    try {
      if (request.method !== 'GET' && request.method !== 'HEAD') return textResponse(405, `${request.method} is not supported on trove://.`);
      const url = new URL(request.url);
      if (url.host === 'app') return await serveAppAsset(deps, url);
      if (url.host === 'media') return await serveMedia(deps, request);
      return textResponse(404, `Unknown trove:// host '${url.host}'.`);
    } catch (error) {
      return textResponse(500, `trove:// failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
}
