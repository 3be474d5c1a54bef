// A content fingerprint that survives rename and move, cheap on big files: what lets Trove match
// a moved file to its stored items instead of embedding it again.
//
// Small files (≤ 4 MiB) are hashed whole. Larger ones hash their size, the first and last 1 MiB,
// and 16 evenly spaced 64 KiB blocks between them: at most 3 MiB read whatever the size, so
// fingerprinting a 40 GB video costs about as much as a photo.
//
// Trade-off, stated: two different large files of equal size that agree on every sampled byte get
// the same fingerprint. Real edits almost never do that (compressed formats change throughout;
// appends change the size), but an in-place edit of an uncompressed file (raw video, disk images,
// databases) confined to unsampled bytes is missed: a same-size rewrite is then taken as "unchanged"
// and a move between two such files could pair the wrong ones. Small files have no such gap.
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';

/** Bumped whenever the sampling changes, so stored fingerprints of another scheme never match. */
export const FINGERPRINT_SCHEME = 'fp1';
export const FULL_HASH_MAX_BYTES = 4 * 1024 * 1024;
export const EDGE_BYTES = 1024 * 1024;
export const SAMPLE_BYTES = 64 * 1024;
export const SAMPLE_COUNT = 16;

export class FingerprintError extends Error {
  override readonly name = 'FingerprintError';
}

/** The byte ranges hashed for a file of `size` bytes, in order. */
export function fingerprintRanges(size: number): { offset: number; length: number }[] {
  if (size <= FULL_HASH_MAX_BYTES) return [{ offset: 0, length: size }];
  const ranges = [{ offset: 0, length: EDGE_BYTES }];
  const middleStart = EDGE_BYTES;
  const middleLength = size - 2 * EDGE_BYTES;
  const stride = middleLength / SAMPLE_COUNT;
  for (let i = 0; i < SAMPLE_COUNT; i += 1) {
    const offset = middleStart + Math.floor(i * stride + (stride - SAMPLE_BYTES) / 2);
    ranges.push({ offset: Math.max(middleStart, offset), length: Math.min(SAMPLE_BYTES, middleLength) });
  }
  ranges.push({ offset: size - EDGE_BYTES, length: EDGE_BYTES });
  return ranges;
}

/**
 * `fp1:` + hex SHA-256 of the file's size and sampled content. Reads through one descriptor and
 * fails with a FingerprintError if the file shrinks while being read (it is still being written:
 * try again once it settles).
 */
export async function fingerprintFile(filePath: string): Promise<string> {
  let handle;
  try {
    // Non-blocking: a path that became a FIFO after the scan would otherwise wait forever for a
    // writer, holding one of libuv's four threads. Regular files ignore the flag. No-follow: a path
    // that became a link after the scan is not read (docs/file-kinds.md, "Links").
    handle = await open(filePath, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOFOLLOW ?? 0));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP' || code === 'EMLINK') {
      throw new FingerprintError(`'${filePath}' is a link; Trove does not follow links, so it is not read. To index what it points to, add that folder to the library.`);
    }
    throw new FingerprintError(`Cannot open '${filePath}' to fingerprint it: ${(error as Error).message}. Check that it exists and is readable.`);
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) {
      throw new FingerprintError(`'${filePath}' is not a regular file (a pipe, socket or device); Trove reads regular files only. Remove it from the folder or exclude it.`);
    }
    const { size } = stat;
    const hash = createHash('sha256');
    hash.update(`${FINGERPRINT_SCHEME}\0${size}\0`);
    const buffer = Buffer.allocUnsafe(Math.min(Math.max(size, 1), EDGE_BYTES));
    for (const range of fingerprintRanges(size)) {
      let done = 0;
      while (done < range.length) {
        const want = Math.min(buffer.length, range.length - done);
        const { bytesRead } = await handle.read(buffer, 0, want, range.offset + done);
        if (bytesRead === 0) {
          throw new FingerprintError(`'${filePath}' became shorter while it was read (expected ${size} bytes); it is still being written. Retry when it is complete.`);
        }
        hash.update(buffer.subarray(0, bytesRead));
        done += bytesRead;
      }
    }
    return `${FINGERPRINT_SCHEME}:${hash.digest('hex')}`;
  } catch (error) {
    if (error instanceof FingerprintError) throw error;
    throw new FingerprintError(`Cannot read '${filePath}' to fingerprint it: ${(error as Error).message}.`);
  } finally {
    await handle.close();
  }
}
