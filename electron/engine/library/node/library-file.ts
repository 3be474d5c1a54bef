// The one rule for links, applied wherever Trove reads or hands out a library file (docs/file-kinds.md,
// "Links"): a library file is a regular file reached from its root without following any link.
// The scanner and the watcher never follow links; this module is the check at the moment of use,
// for the extraction that reads a file, the media routes that serve one and the open/reveal calls,
// so a file swapped for a link after it was indexed (a link to ~/.ssh/id_ed25519, /etc/passwd) is
// never read or served.
//
// - `checkLibraryFile`: the path itself is not a link (lstat), and its real path (every folder on
//   the way resolved) is inside one of the roots' real paths, so a folder swapped for a link
//   leading out is refused too.
// - `openLibraryFile`: the same, race-free for serving: opened with O_NOFOLLOW (a link in the last
//   place cannot be opened), and the opened file must be the very file at the checked real path
//   (same device and inode), so a swap between the check and the open is refused.
// - `readLibraryFile`: for extractors that open the file by path themselves (sharp, MuPDF,
//   ffmpeg): checked before and after, and the result is dropped unless both name the same file.
import { constants } from 'node:fs';
import { lstat, open, realpath, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

export type LibraryFileProblem = 'not-absolute' | 'missing' | 'link' | 'not-file' | 'outside-roots' | 'changed';

export class LibraryFileError extends Error {
  override readonly name = 'LibraryFileError';
  constructor(
    readonly code: LibraryFileProblem,
    message: string,
  ) {
    super(message);
  }
}

export interface LibraryFile {
  /** The file's real path (equal to the path asked for unless a root was given through a link). */
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
  /** Device and inode: the file's identity, to notice a swap. */
  readonly identity: string;
}

/** O_NOFOLLOW where the platform has it (not on Windows, where the lstat check stands alone). */
const NO_FOLLOW = constants.O_NOFOLLOW ?? 0;

function isInsideFolder(folder: string, file: string): boolean {
  const relative = path.relative(folder, file);
  return relative !== '' && relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative);
}

function refuse(code: LibraryFileProblem, file: string): LibraryFileError {
  switch (code) {
    case 'not-absolute':
      return new LibraryFileError(code, `'${file}' is not an absolute, normalised path; Trove reads library files by their full path only.`);
    case 'missing':
      return new LibraryFileError(code, `'${file}' is gone from disk; it leaves the library at the next scan.`);
    case 'link':
      return new LibraryFileError(code, `'${file}' is a link; Trove does not follow links, so it is not read. To index what it points to, add that folder to the library.`);
    case 'not-file':
      return new LibraryFileError(code, `'${file}' is not a regular file (a folder, pipe, socket or device); Trove reads regular files only.`);
    case 'outside-roots':
      return new LibraryFileError(code, `'${file}' leads outside the library's folders (a folder on its way is a link); Trove does not follow links, so it is not read. To index what it points to, add that folder to the library.`);
    case 'changed':
      return new LibraryFileError(code, `'${file}' was replaced while Trove was reading it; it is read again when it settles.`);
  }
}

function lexicallyValid(file: string): boolean {
  return typeof file === 'string' && !file.includes('\0') && path.isAbsolute(file) && path.normalize(file) === file;
}

async function insideSomeRoot(real: string, roots: readonly string[]): Promise<boolean> {
  for (const root of roots) {
    try {
      if (isInsideFolder(await realpath(root), real)) return true;
    } catch {
      // A root that is missing (an unplugged drive) contains nothing.
    }
  }
  return false;
}

const identityOf = (info: { dev: number | bigint; ino: number | bigint }): string => `${info.dev}:${info.ino}`;

function errnoCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}

/** The library file at `file` when it is one (see the rule above); throws LibraryFileError otherwise. */
export async function checkLibraryFile(file: string, roots: readonly string[]): Promise<LibraryFile> {
  if (!lexicallyValid(file)) throw refuse('not-absolute', String(file));
  let info;
  let real: string;
  try {
    info = await lstat(file, { bigint: true });
    if (info.isSymbolicLink()) throw refuse('link', file);
    if (!info.isFile()) throw refuse('not-file', file);
    real = await realpath(file);
  } catch (error) {
    if (error instanceof LibraryFileError) throw error;
    if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') throw refuse('missing', file);
    throw error;
  }
  if (!(await insideSomeRoot(real, roots))) throw refuse('outside-roots', file);
  return { path: real, size: Number(info.size), mtimeMs: Number(info.mtimeMs), identity: identityOf(info) };
}

/**
 * Opens a library file for reading (never through a link, never blocking on a FIFO) and proves the
 * open file is the checked one. The caller owns the handle and closes it.
 */
export async function openLibraryFile(file: string, roots: readonly string[]): Promise<LibraryFile & { readonly handle: FileHandle }> {
  if (!lexicallyValid(file)) throw refuse('not-absolute', String(file));
  let handle: FileHandle;
  try {
    // Without O_NOFOLLOW (Windows) the lstat below is the only guard, with a window between the two.
    if (NO_FOLLOW === 0 && (await lstat(file)).isSymbolicLink()) throw refuse('link', file);
    handle = await open(file, constants.O_RDONLY | NO_FOLLOW | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    if (error instanceof LibraryFileError) throw error;
    const code = errnoCode(error);
    // ELOOP: Linux and macOS answer O_NOFOLLOW on a link with it (EMLINK on FreeBSD).
    if (code === 'ELOOP' || code === 'EMLINK') throw refuse('link', file);
    if (code === 'ENOENT' || code === 'ENOTDIR') throw refuse('missing', file);
    throw error;
  }
  try {
    const opened = await handle.stat({ bigint: true });
    if (!opened.isFile()) throw refuse('not-file', file);
    let real: string;
    let atReal;
    try {
      real = await realpath(file);
      atReal = await stat(real, { bigint: true });
    } catch (error) {
      if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') throw refuse('changed', file);
      throw error;
    }
    if (!(await insideSomeRoot(real, roots))) throw refuse('outside-roots', file);
    if (identityOf(atReal) !== identityOf(opened)) throw refuse('changed', file);
    return { handle, path: real, size: Number(opened.size), mtimeMs: Number(opened.mtimeMs), identity: identityOf(opened) };
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error;
  }
}

/**
 * Runs `read` (an extractor that opens `file` by path) only on a library file, and keeps its
 * result only if the file is still the same library file afterwards: a swap for a link in between
 * is refused instead of indexing what the link points to. A file replaced by another regular file
 * meanwhile (an editor's atomic save) is read once more. `discard` releases a result that is
 * dropped (an open document).
 */
export async function readLibraryFile<T>(file: string, roots: readonly string[], read: () => Promise<T>, discard?: (result: T) => void): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    const before = await checkLibraryFile(file, roots);
    const result = await read();
    let after: LibraryFile;
    try {
      after = await checkLibraryFile(file, roots);
    } catch (error) {
      discard?.(result);
      throw error;
    }
    if (after.identity === before.identity && after.path === before.path) return result;
    discard?.(result);
    if (attempt >= 1) throw refuse('changed', file);
  }
}
