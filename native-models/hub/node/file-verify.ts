// Checks a file is exactly what the hub says it is: size plus SHA-256 for LFS files (the hub's
// lfs.oid), size plus git blob sha1 for the rest (git hashes "blob <size>\0" + content). The
// hasher is incremental so downloads hash bytes as they arrive instead of re-reading the file.
import { createHash, type Hash } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
import type { HubFileEntry } from './hub-tree.ts';

export type HashAlgorithm = 'sha256' | 'git-sha1';

/** What a file must be: its size and one digest. */
export interface ExpectedContent {
  size: number;
  algorithm: HashAlgorithm;
  digest: string;
}

export function expectedContent(entry: HubFileEntry): ExpectedContent {
  return entry.lfs ? { size: entry.lfs.size, algorithm: 'sha256', digest: entry.lfs.sha256 } : { size: entry.size, algorithm: 'git-sha1', digest: entry.oid };
}

/** The digest a Hugging Face cache blob name stands for: 64 hex = SHA-256, 40 hex = git sha1. */
export function algorithmOfEtag(etag: string): HashAlgorithm | null {
  if (/^[0-9a-f]{64}$/.test(etag)) return 'sha256';
  if (/^[0-9a-f]{40}$/.test(etag)) return 'git-sha1';
  return null;
}

export interface ContentHasher {
  update(chunk: Uint8Array): void;
  digest(): string;
}

/** A hasher for `expected`; a git-sha1 hasher needs the size up front for the blob header. */
export function createContentHasher(expected: Pick<ExpectedContent, 'size' | 'algorithm'>): ContentHasher {
  let hash: Hash;
  if (expected.algorithm === 'sha256') hash = createHash('sha256');
  else {
    hash = createHash('sha1');
    hash.update(`blob ${expected.size}\0`);
  }
  return { update: (chunk) => void hash.update(chunk), digest: () => hash.digest('hex') };
}

const READ_CHUNK_BYTES = 4 * 1024 * 1024;

/** Feeds the first `bytes` bytes of `file` (all of it by default) to `hasher`, in fixed chunks; checks `signal` between chunks. */
export async function hashFileInto(hasher: ContentHasher, file: string, options: { bytes?: number; signal?: AbortSignal; onBytes?: (n: number) => void } = {}): Promise<number> {
  const handle = await open(file, 'r');
  try {
    const limit = options.bytes ?? Infinity;
    const buffer = Buffer.allocUnsafe(READ_CHUNK_BYTES);
    let done = 0;
    while (done < limit) {
      options.signal?.throwIfAborted();
      const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, limit - done), done);
      if (bytesRead === 0) break;
      hasher.update(buffer.subarray(0, bytesRead));
      done += bytesRead;
      options.onBytes?.(bytesRead);
    }
    return done;
  } finally {
    await handle.close();
  }
}

export type VerifyResult = { ok: true } | { ok: false; reason: string };

/** Compares a finished hash to what was expected; the reason names sizes or digests for the error message. */
export function compareContent(expected: ExpectedContent, size: number, digest: string | null): VerifyResult {
  if (size !== expected.size) return { ok: false, reason: `${size} bytes instead of ${expected.size}` };
  if (digest !== null && digest !== expected.digest) return { ok: false, reason: `${expected.algorithm} ${digest} instead of ${expected.digest}` };
  return { ok: true };
}

/** Size check first (cheap), then the full hash. A missing file is "not ok", not an error. */
export async function verifyFile(file: string, expected: ExpectedContent, options: { signal?: AbortSignal; onBytes?: (n: number) => void } = {}): Promise<VerifyResult> {
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { ok: false, reason: 'missing' };
    throw error;
  }
  const sized = compareContent(expected, size, null);
  if (!sized.ok) return sized;
  const hasher = createContentHasher(expected);
  await hashFileInto(hasher, file, options);
  return compareContent(expected, size, hasher.digest());
}
