// The checks every request to `trove serve` passes before routing: the Host header (a DNS
// rebinding guard: a hostile site resolving its own name to 127.0.0.1 still sends its own Host),
// the Origin of browser requests, and the per-run token, compared in constant time.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

export interface RequestGuards {
  hostAllowed(request: IncomingMessage): boolean;
  /** True when the request carries no Origin (not a browser page) or the server's own. */
  originAllowed(request: IncomingMessage): boolean;
  tokenMatches(candidate: string | null | undefined): boolean;
  bearerToken(request: IncomingMessage): string | null;
}

export function createRequestGuards(token: string, port: number): RequestGuards {
  const hosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  const origins = new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`]);
  const tokenDigest = createHash('sha256').update(token).digest();
  return {
    hostAllowed: (request) => hosts.has((request.headers.host ?? '').toLowerCase()),
    originAllowed: (request) => request.headers.origin === undefined || origins.has(request.headers.origin.toLowerCase()),
    tokenMatches(candidate) {
      if (!candidate) return false;
      // Hashing first makes the comparison constant-time whatever the candidate's length.
      return timingSafeEqual(createHash('sha256').update(candidate).digest(), tokenDigest);
    },
    bearerToken(request) {
      const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
      return match ? match[1] : null;
    },
  };
}
