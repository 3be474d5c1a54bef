// `trove serve`: the one API over HTTP + WebSocket for a browser on this machine, plus the built
// renderer and the library's media. Bound to 127.0.0.1 only, with a per-run token; no CORS
// headers at all (no other origin may read anything), Host checked against DNS rebinding, Origin
// checked on the WebSocket and on calls. Details and reasons: docs/api.md, "Security rules".
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { settleApiCall } from '../../contract/common/api-call-outcome.ts';
import type { ApiEventSource } from '../../contract/common/in-process-api.ts';
import type { ApiHandlers } from '../../contract/common/trove-api.ts';
import { createEventSocketHub } from './event-socket.ts';
import { isMediaPath, serveMedia, type MediaSource } from './media-routes.ts';
import { createRequestGuards, newToken, type RequestGuards } from './request-guards.ts';
import { serveStatic } from './static-files.ts';

export type { MediaSource } from './media-routes.ts';

/** Big enough for a pasted screenshot as base64 JSON (25 MB of image ≈ 33 MB of text). */
export const DEFAULT_MAX_BODY_BYTES = 36 * 1024 * 1024;
const CLOSE_GRACE_MS = 2000;

export interface ApiServerOptions {
  handlers: ApiHandlers;
  events: ApiEventSource;
  media: MediaSource;
  /** The built renderer (renderer/dist); without it only the API and media routes answer. */
  staticDir?: string;
  /** 0 (the default) picks any free port. */
  port?: number;
  /** Loopback only: the token is the only credential, so nothing else on the network may connect. */
  host?: '127.0.0.1';
  maxBodyBytes?: number;
  /** Operational messages (never tokens or query strings). Default: silent. */
  log?: (line: string) => void;
}

export interface ApiServer {
  /** Open this in a browser: `http://127.0.0.1:PORT/#token=…` (the fragment never reaches a server or a log). */
  url: string;
  token: string;
  port: number;
  close(): Promise<void>;
}

const COMMON_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
} as const;

export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const host = options.host ?? '127.0.0.1';
  if (host !== '127.0.0.1') {
    throw new Error(`trove serve binds 127.0.0.1 only (asked for '${host}'); to reach it from another machine, use an SSH tunnel`);
  }
  const log = options.log ?? (() => {});
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const token = newToken();
  let guards: RequestGuards | null = null;
  const hub = createEventSocketHub(options.events, log);
  const sockets = new Set<Socket>();

  const server: Server = createServer((request, response) => {
    for (const [name, value] of Object.entries(COMMON_HEADERS)) response.setHeader(name, value);
    handleRequest(request, response).catch((error: unknown) => {
      log(`${request.method} ${pathOf(request)} failed: ${error instanceof Error ? error.message : String(error)}`);
      if (!response.headersSent) sendText(response, 500, 'internal error; see the trove serve output');
      else response.destroy();
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const refusal = upgradeRefusal(request);
    if (refusal) {
      socket.end(`HTTP/1.1 ${refusal}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    hub.accept(request, socket, head);
  });

  function upgradeRefusal(request: IncomingMessage): string | null {
    if (!guards) return '503 Service Unavailable';
    if (!guards.hostAllowed(request)) return '403 Forbidden';
    if (pathOf(request) !== '/api/events') return '404 Not Found';
    if (!guards!.originAllowed(request)) return '403 Forbidden';
    if (!guards!.tokenMatches(queryOf(request).get('token'))) return '401 Unauthorized';
    return null;
  }

  async function handleRequest(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (!guards) {
      sendText(response, 503, 'starting; try again');
      return;
    }
    if (!guards.hostAllowed(request)) {
      sendText(response, 403, 'this server answers only to http://127.0.0.1 or http://localhost with its own port');
      return;
    }
    // No CORS: a preflight gets no Access-Control-* headers, so the browser refuses the real request.
    if (request.method === 'OPTIONS') {
      sendText(response, 405, 'cross-origin requests are not allowed', { allow: 'GET, HEAD, POST' });
      return;
    }
    const path = pathOf(request);
    if (path === '/api/call') return handleCall(request, response);
    if (path === '/api/events') {
      sendText(response, 426, 'GET /api/events is a WebSocket endpoint', { upgrade: 'websocket' });
      return;
    }
    if (path.startsWith('/api/')) {
      sendJson(response, 404, { ok: false, error: { code: 'unknown-method', message: `no route ${path}; calls go to POST /api/call` } });
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      sendText(response, 405, 'only GET and HEAD are allowed here', { allow: 'GET, HEAD' });
      return;
    }
    if (isMediaPath(path)) {
      const candidate = queryOf(request).get('token') ?? guards!.bearerToken(request);
      if (!guards!.tokenMatches(candidate)) {
        sendText(response, 401, 'media URLs need the token: ?token=…', { 'www-authenticate': 'Bearer' });
        return;
      }
      const outcome = await serveMedia(options.media, path, request, response);
      if (outcome.status !== 'served') sendText(response, outcome.status, outcome.reason);
      return;
    }
    if (!options.staticDir) {
      sendText(response, 404, 'this server has no renderer build; build the renderer (vite build) and pass its folder as staticDir');
      return;
    }
    const outcome = await serveStatic(options.staticDir, path, request, response);
    if (outcome === 'refused') sendText(response, 400, 'bad path');
    else if (outcome === 'not-found') sendText(response, 404, 'not found');
  }

  async function handleCall(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (request.method !== 'POST') {
      sendText(response, 405, 'POST a JSON { method, params } to /api/call', { allow: 'POST' });
      return;
    }
    if (!guards!.tokenMatches(guards!.bearerToken(request))) {
      sendText(response, 401, 'missing or wrong token: send Authorization: Bearer <token from the trove serve URL>', { 'www-authenticate': 'Bearer' });
      return;
    }
    // The token already stops other pages; a foreign Origin with a valid token is still refused.
    if (!guards!.originAllowed(request)) {
      sendText(response, 403, 'calls from other origins are refused');
      return;
    }
    const body = await readBody(request, maxBodyBytes);
    if (body === 'too-large') {
      sendText(response, 413, `request body over ${maxBodyBytes} bytes; paste a smaller image`, { connection: 'close' });
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      sendText(response, 400, 'the body is not JSON; send { "method": "...", "params": { ... } }');
      return;
    }
    const call = parsed as { method?: unknown; params?: unknown } | null;
    if (typeof call !== 'object' || call === null || Array.isArray(call) || typeof call.method !== 'string') {
      sendText(response, 400, 'the body must be { "method": "...", "params": { ... } }');
      return;
    }
    sendJson(response, 200, await settleApiCall(options.handlers, call.method, call.params));
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: options.port ?? 0, host, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('trove serve: the server did not report a TCP port');
  const port = address.port;
  guards = createRequestGuards(token, port);

  let closing: Promise<void> | null = null;
  return {
    url: `http://127.0.0.1:${port}/#token=${token}`,
    token,
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        hub.close();
        server.close(() => resolve());
        server.closeIdleConnections();
        // Requests still running (a long search) get a grace period, then their sockets are cut.
        const timer = setTimeout(() => {
          for (const socket of sockets) socket.destroy();
        }, CLOSE_GRACE_MS);
        timer.unref();
      });
      return closing;
    },
  };
}

function pathOf(request: IncomingMessage): string {
  const url = request.url ?? '/';
  const end = url.search(/[?#]/);
  return end === -1 ? url : url.slice(0, end);
}

function queryOf(request: IncomingMessage): URLSearchParams {
  const url = request.url ?? '';
  const start = url.indexOf('?');
  return new URLSearchParams(start === -1 ? '' : url.slice(start + 1).split('#')[0]);
}

function readBody(request: IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > limit) return Promise.resolve('too-large');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    request.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        done = true;
        resolve('too-large');
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => {
      if (!done) resolve(Buffer.concat(chunks));
    });
    request.on('error', reject);
  });
}

function sendText(response: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...headers });
  response.end(`${text}\n`);
}

function sendJson(response: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
  response.end(body);
}
