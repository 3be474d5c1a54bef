// Puts a file the user already has (a Hugging Face cache blob) into the download folder without
// downloading it: a hard link when the two are on one disk (no extra space, and the copy stays
// valid if the cache is cleaned later), a copy otherwise.
import { copyFile, link, mkdir, realpath, rename, rm } from 'node:fs/promises';
import path from 'node:path';

export async function linkOrCopy(source: string, target: string): Promise<'linked' | 'copied'> {
  const real = await realpath(source); // snapshot entries are symlinks into blobs/; link the blob itself
  await mkdir(path.dirname(target), { recursive: true });
  const temp = `${target}.tmp-${process.pid}`;
  await rm(temp, { force: true });
  let how: 'linked' | 'copied' = 'linked';
  try {
    await link(real, temp);
  } catch {
    // EXDEV (another disk), EPERM (FAT, some network shares): fall back to a plain copy.
    how = 'copied';
    await copyFile(real, temp);
  }
  try {
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  return how;
}
