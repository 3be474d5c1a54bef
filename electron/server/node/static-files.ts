// The built renderer (renderer/dist), served without a token (the page reads its token from the
// URL fragment) under a strict CSP. Paths are decoded segment by segment and refused when they
// could leave the folder, before touching the file system; symlinks are resolved and re-checked.
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { appContentSecurityPolicy } from './content-security.ts';
import { staticContentType } from './content-types.ts';

/** The app page's policy as `trove serve` sends it (content-security.ts holds every policy). */
export const RENDERER_CSP = appContentSecurityPolicy('server');

/** URL path → path segments, or null when the path is malformed or tries to climb out. */
export function safePathSegments(rawPath: string): string[] | null {
  if (rawPath.includes('\\')) return null;
  const segments: string[] = [];
  for (const raw of rawPath.split('/')) {
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return null;
    }
    // A decoded slash, backslash or NUL inside one segment is a traversal or truncation attempt;
    // a drive segment (C:) would make path.join leave the folder on Windows.
    if (segment === '..' || segment === '.' || /[/\\\0]/.test(segment) || /^[a-zA-Z]:$/.test(segment)) return null;
    if (segment !== '') segments.push(segment);
  }
  return segments;
}

export type StaticOutcome = 'served' | 'not-found' | 'refused';

export async function serveStatic(staticDir: string, rawPath: string, request: IncomingMessage, response: ServerResponse): Promise<StaticOutcome> {
  const segments = safePathSegments(rawPath);
  if (segments === null) return 'refused';
  const root = await realpath(staticDir);
  const wanted = segments.length === 0 ? 'index.html' : path.join(...segments);
  let file = await resolveInside(root, wanted);
  let immutable = segments[0] === 'assets';
  // SPA fallback: a route-like path (no extension) gets the app; a missing asset stays a 404.
  if (file === null && !path.extname(segments.at(-1) ?? '')) {
    file = await resolveInside(root, 'index.html');
    immutable = false;
  }
  if (file === null) return 'not-found';
  const info = await stat(file);
  response.writeHead(200, {
    'content-type': staticContentType(file),
    'content-length': info.size,
    // Vite's assets/ carry content hashes in their names; everything else must revalidate.
    'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    'content-security-policy': RENDERER_CSP,
    'cross-origin-opener-policy': 'same-origin',
    'x-frame-options': 'DENY',
  });
  if (request.method === 'HEAD') {
    response.end();
    return 'served';
  }
  await pipeFile(file, response);
  return 'served';
}

/** The real path of a regular file inside root, or null. */
async function resolveInside(root: string, relative: string): Promise<string | null> {
  let real: string;
  try {
    real = await realpath(path.join(root, relative));
    if (!(await stat(real)).isFile()) return null;
  } catch {
    return null;
  }
  return isInside(root, real) ? real : null;
}

export function isInside(folder: string, file: string): boolean {
  const relative = path.relative(folder, file);
  return relative !== '' && relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative);
}

export function pipeFile(file: string, response: ServerResponse, range?: { start: number; end: number }): Promise<void> {
  return new Promise((resolve) => {
    const stream = createReadStream(file, range);
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
