// Content-Type by file extension for the renderer's files and the library's media, for both the
// server and the shell's trove:// protocol. Types that a browser would execute when a file is
// opened directly (HTML, XML, SVG) are served as plain text: a user's file must never run script
// on the app's origin (where the API token lives), even if the sandbox CSP sent with it were lost.
import path from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.ico': 'image/x-icon',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.bmp': 'image/bmp',
  '.tif': 'image/tiff',
  '.tiff': 'image/tiff',
  '.heic': 'image/heic',
  '.heif': 'image/heif',
  '.svg': 'image/svg+xml',
  '.mp4': 'video/mp4',
  '.m4v': 'video/mp4',
  '.mov': 'video/quicktime',
  '.webm': 'video/webm',
  '.mkv': 'video/x-matroska',
  '.avi': 'video/x-msvideo',
  '.ogv': 'video/ogg',
  '.mp3': 'audio/mpeg',
  '.m4a': 'audio/mp4',
  '.ogg': 'audio/ogg',
  '.wav': 'audio/wav',
  '.flac': 'audio/flac',
  '.pdf': 'application/pdf',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
  '.markdown': 'text/plain; charset=utf-8',
  '.csv': 'text/plain; charset=utf-8',
};

// SVG is a document that can carry script, so a library .svg is text too (the renderer's own
// icons are served by staticContentType and stay images).
const ACTIVE_IN_LIBRARY = new Set(['.html', '.htm', '.xhtml', '.xml', '.svg', '.js', '.mjs', '.css', '.json', '.map', '.wasm']);

/** For the renderer's own built files. */
export function staticContentType(file: string): string {
  return TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/** For a library file: media types by extension, anything textual or active as plain text. */
export function mediaContentType(file: string): string {
  const ext = path.extname(file).toLowerCase();
  if (ACTIVE_IN_LIBRARY.has(ext)) return 'text/plain; charset=utf-8';
  return TYPES[ext] ?? 'application/octet-stream';
}
