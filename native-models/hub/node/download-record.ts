// `.trove-download.json`: written last into a finished download folder, after every file was
// verified. Its presence means "complete and verified"; it is removed before a folder is changed,
// so a crash mid-change never leaves a record that lies. It also keeps the hashes, so the folder
// can be re-verified later without the network.
import { open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { ExpectedContent } from './file-verify.ts';
import type { HubFileEntry } from './hub-tree.ts';

export const DOWNLOAD_RECORD_FILE = '.trove-download.json';
const FORMAT = 'trove-hub-download';

export interface DownloadedFile {
  /** Repo path, `/`-separated; the file lives at `<dir>/<path>`. */
  path: string;
  size: number;
  /** SHA-256 (LFS files) or git blob sha1 (the rest), as the hub lists them. */
  sha256?: string;
  gitOid?: string;
}

export interface DownloadRecord {
  format: typeof FORMAT;
  version: 1;
  repo: string;
  revision: string;
  commit: string;
  endpoint: string;
  files: DownloadedFile[];
}

export function downloadedFileOf(entry: HubFileEntry): DownloadedFile {
  return entry.lfs ? { path: entry.path, size: entry.lfs.size, sha256: entry.lfs.sha256 } : { path: entry.path, size: entry.size, gitOid: entry.oid };
}

/** What a recorded file must hash to, or null when the record carries no hash for it. */
export function expectedOfRecord(file: DownloadedFile): ExpectedContent | null {
  if (file.sha256) return { size: file.size, algorithm: 'sha256', digest: file.sha256 };
  if (file.gitOid) return { size: file.size, algorithm: 'git-sha1', digest: file.gitOid };
  return null;
}

function isRecord(value: unknown): value is DownloadRecord {
  const r = value as DownloadRecord | null;
  return (
    r !== null &&
    typeof r === 'object' &&
    r.format === FORMAT &&
    r.version === 1 &&
    typeof r.repo === 'string' &&
    typeof r.commit === 'string' &&
    Array.isArray(r.files) &&
    r.files.every((f) => typeof f?.path === 'string' && typeof f.size === 'number')
  );
}

/** The folder's record, or null when it has none (or an unreadable one, which counts as none). */
export async function readDownloadRecord(dir: string): Promise<DownloadRecord | null> {
  try {
    const value: unknown = JSON.parse(await readFile(path.join(dir, DOWNLOAD_RECORD_FILE), 'utf8'));
    return isRecord(value) ? value : null;
  } catch {
    return null;
  }
}

/** Writes the record atomically (temp file, fsync, rename) so it is either absent or whole. */
export async function writeDownloadRecord(dir: string, record: Omit<DownloadRecord, 'format' | 'version'>): Promise<void> {
  const file = path.join(dir, DOWNLOAD_RECORD_FILE);
  const temp = `${file}.tmp-${process.pid}`;
  const handle = await open(temp, 'w');
  try {
    await handle.writeFile(`${JSON.stringify({ format: FORMAT, version: 1, ...record }, null, 2)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, file);
}

export async function removeDownloadRecord(dir: string): Promise<void> {
  await rm(path.join(dir, DOWNLOAD_RECORD_FILE), { force: true });
}
