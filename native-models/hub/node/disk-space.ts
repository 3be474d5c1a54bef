// Refuses a pull that cannot fit before its first byte is fetched: a multi-gigabyte download
// that dies at 95 % on a full disk wastes the user's time and leaves the disk full.
import { statfs } from 'node:fs/promises';
import path from 'node:path';
import { HubError } from '../common/hub-errors.ts';

/** Free bytes available to this user on the disk holding `dir`. Injectable so tests can fake a full disk. */
export type FreeBytes = (dir: string) => Promise<number>;

/** Kept free on top of the download: the package build and the OS need room too, and sizes drift. */
export function diskMarginBytes(bytes: number): number {
  return 64 * 1024 * 1024 + Math.ceil(bytes * 0.01);
}

/** statfs on `dir`, or on its nearest existing parent when it is not created yet. */
export const freeBytesOnDisk: FreeBytes = async (dir) => {
  let at = path.resolve(dir);
  for (;;) {
    try {
      const info = await statfs(at);
      return info.bavail * info.bsize;
    } catch (error) {
      const parent = path.dirname(at);
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || parent === at) throw error;
      at = parent;
    }
  }
};

function gib(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}

/** Throws 'disk-full' unless `needed` bytes plus the margin fit on the disk holding `dir`. */
export async function checkFreeSpace(dir: string, needed: number, freeBytes: FreeBytes = freeBytesOnDisk): Promise<void> {
  if (needed <= 0) return;
  const free = await freeBytes(dir);
  const wanted = needed + diskMarginBytes(needed);
  if (free < wanted) {
    throw new HubError(
      'disk-full',
      `the download needs ${gib(needed)} (plus ${gib(wanted - needed)} to spare) but only ${gib(free)} is free on the disk holding ${dir}; free some space or choose another models folder, then retry.`,
    );
  }
}
