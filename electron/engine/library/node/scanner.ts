// Walks one root and yields the files Trove indexes, with what reconciling needs (size, mtime).
//
// - Symlinks are never followed: one pointing inside the root reaches something the walk visits by
//   its real path anyway (following it would index duplicates), one pointing outside leads out of
//   the root. Link loops therefore cannot trap the walk; loops without links (bind mounts, Windows
//   junctions reported as directories) are caught by remembering each folder's device and inode.
// - Only regular files are yielded: FIFOs, sockets and devices would block or never end on read.
// - Bounded concurrency (folders read at once) and bounded buffering (the walk pauses while the
//   consumer is behind), so a million-file drive uses constant memory.
// - A folder or file that cannot be read is reported through `onProblem` and the walk goes on;
//   so is a name that is not valid UTF-8 (Node decodes it with U+FFFD, and no string path reaches
//   it). A file problem carries what the store needs to record the file as not indexed.
import { isUtf8 } from 'node:buffer';
import { lstat, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { FileKind } from '../../../contract/common/entities.ts';
import { invalidNameReason, mayBeUndecodableName } from '../common/file-refusals.ts';
import { compilePathRules, relativeToRoot, type PathRules } from '../common/path-rules.ts';

export interface ScannedFile {
  /** Absolute path as reached from the root path given (not resolved through links). */
  readonly path: string;
  /** Root-relative, `/`-separated. */
  readonly relativePath: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly kind: FileKind;
}

export type ScanProblemCode = 'unreadable-directory' | 'unreadable-file' | 'directory-loop' | 'invalid-name';

export interface ScanProblem {
  /** Absolute; a name that is not valid UTF-8 shows U+FFFD where its bytes are. */
  readonly path: string;
  readonly code: ScanProblemCode;
  /** In words, with what to do. */
  readonly message: string;
  /** A file Trove would index that it cannot reach: what is known of it (size and mtime 0 when unknown). */
  readonly file?: { readonly kind: FileKind; readonly size: number; readonly mtimeMs: number };
  /** A folder whose files are not indexed (unreadable, or a name that is not valid UTF-8). */
  readonly folder?: true;
}

export interface ScanOptions {
  readonly rules?: PathRules;
  /** Folders read at the same time (default 8). */
  readonly concurrency?: number;
  /** Files buffered ahead of a slow consumer before the walk pauses (default 1024). */
  readonly highWaterMark?: number;
  readonly onProblem?: (problem: ScanProblem) => void;
  readonly signal?: AbortSignal;
}

export type ScanRootErrorCode = 'root-missing' | 'root-not-directory' | 'root-unreadable';

/** The root itself cannot be walked; the caller decides (an unplugged drive is 'root-missing'). */
export class ScanRootError extends Error {
  override readonly name = 'ScanRootError';
  constructor(
    readonly code: ScanRootErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Hands files from the walkers to the consumer; walkers wait while it holds `highWaterMark`. */
class FileChannel {
  private items: ScannedFile[] = [];
  private closed = false;
  private failure: unknown = null;
  private takeWaiter: (() => void) | null = null;
  private spaceWaiters: (() => void)[] = [];
  abandoned = false;

  constructor(private readonly highWaterMark: number) {}

  async push(file: ScannedFile): Promise<void> {
    while (this.items.length >= this.highWaterMark && !this.abandoned) await new Promise<void>((resolve) => this.spaceWaiters.push(resolve));
    if (this.abandoned) return;
    this.items.push(file);
    this.wakeTaker();
  }

  close(failure: unknown = null): void {
    this.closed = true;
    this.failure = failure;
    this.wakeTaker();
  }

  /** The consumer went away: release walkers, drop what is buffered. */
  abandon(): void {
    this.abandoned = true;
    this.items = [];
    for (const wake of this.spaceWaiters.splice(0)) wake();
  }

  /** Everything buffered, or null once the walk is over and drained. */
  async take(): Promise<ScannedFile[] | null> {
    while (this.items.length === 0) {
      if (this.closed) {
        if (this.failure !== null) throw this.failure;
        return null;
      }
      await new Promise<void>((resolve) => (this.takeWaiter = resolve));
    }
    const batch = this.items;
    this.items = [];
    for (const wake of this.spaceWaiters.splice(0)) wake();
    return batch;
  }

  private wakeTaker(): void {
    const wake = this.takeWaiter;
    this.takeWaiter = null;
    wake?.();
  }
}

async function checkRoot(root: string): Promise<void> {
  try {
    const info = await stat(root);
    if (!info.isDirectory()) throw new ScanRootError('root-not-directory', `'${root}' is not a folder; add the folder that contains the files instead.`);
  } catch (error) {
    if (error instanceof ScanRootError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new ScanRootError('root-missing', `Folder '${root}' is not there (an unplugged drive or a moved folder); its files stay indexed until it is back or removed from the library.`);
    }
    throw new ScanRootError('root-unreadable', `Cannot open folder '${root}': ${(error as Error).message}. Grant read access to it or remove it from the library.`);
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The names in `dir` that are not valid UTF-8, by the string Node decodes them to (with U+FFFD).
 * Read only for a folder where a decoded name holds U+FFFD, which a valid name rarely does.
 */
async function undecodableNames(dir: string): Promise<Map<string, Buffer>> {
  const raw = await readdir(dir, { encoding: 'buffer' }).catch(() => [] as Buffer[]);
  return new Map(raw.filter((name) => !isUtf8(name)).map((name) => [name.toString('utf8'), name]));
}

/** Yields every indexed file under `root`. Throws ScanRootError when the root itself cannot be walked. */
export async function* scanRoot(root: string, options: ScanOptions = {}): AsyncGenerator<ScannedFile> {
  const rootPath = path.resolve(root);
  await checkRoot(rootPath);
  const rules = options.rules ?? compilePathRules();
  const concurrency = Math.max(1, options.concurrency ?? 8);
  const channel = new FileChannel(Math.max(1, options.highWaterMark ?? 1024));
  const report = (problem: ScanProblem): void => options.onProblem?.(problem);
  const visited = new Set<string>();
  const stopped = (): boolean => channel.abandoned || (options.signal?.aborted ?? false);

  async function visit(dir: string): Promise<string[]> {
    let entries;
    try {
      const identity = await stat(dir, { bigint: true });
      // Some file systems report inode 0 for everything; then loops are not detectable this way.
      if (identity.ino !== 0n) {
        const key = `${identity.dev}:${identity.ino}`;
        if (visited.has(key)) {
          report({ path: dir, code: 'directory-loop', message: `Folder '${dir}' is a folder already walked (a bind mount or junction loop); skipped. Remove the loop or exclude the path.` });
          return [];
        }
        visited.add(key);
      }
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') {
        report({ path: dir, code: 'unreadable-directory', message: `Cannot read folder '${dir}': ${errorText(error)}. Its files are not indexed; grant read access or exclude it.`, folder: true });
      }
      return [];
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const subdirs: string[] = [];
    let undecodable: Promise<Map<string, Buffer>> | null = null;
    for (const entry of entries) {
      if (stopped()) return [];
      const full = path.join(dir, entry.name);
      const relative = relativeToRoot(rootPath, full) ?? entry.name;
      const rawName = mayBeUndecodableName(entry.name) ? (await (undecodable ??= undecodableNames(dir))).get(entry.name) : undefined;
      if (entry.isDirectory()) {
        if (rules.skipsDirectory(relative) !== null) continue;
        if (rawName !== undefined) report({ path: full, code: 'invalid-name', message: invalidNameReason('folder'), folder: true });
        else subdirs.push(full);
        continue;
      }
      if (!entry.isFile()) continue; // symlinks, FIFOs, sockets, devices
      const decision = rules.decideFile(relative);
      if (!decision.indexed) continue;
      if (rawName !== undefined) {
        // Reached by its bytes, only to record its size and mtime beside the reason.
        const info = await lstat(Buffer.concat([Buffer.from(dir + path.sep), rawName])).catch(() => null);
        if (info === null || info.isFile()) {
          report({ path: full, code: 'invalid-name', message: invalidNameReason('file'), file: { kind: decision.kind, size: info?.size ?? 0, mtimeMs: info?.mtimeMs ?? 0 } });
        }
        continue;
      }
      try {
        const info = await lstat(full);
        if (!info.isFile()) continue;
        await channel.push({ path: full, relativePath: relative, size: info.size, mtimeMs: info.mtimeMs, kind: decision.kind });
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT') {
          report({ path: full, code: 'unreadable-file', message: `Cannot read '${full}': ${errorText(error)}. Grant read access or exclude it.`, file: { kind: decision.kind, size: 0, mtimeMs: 0 } });
        }
      }
    }
    return subdirs;
  }

  const walk = new Promise<void>((resolve, reject) => {
    const pending: string[] = [rootPath];
    let active = 0;
    const pump = (): void => {
      while (active < concurrency && pending.length > 0 && !stopped()) {
        const dir = pending.pop()!;
        active += 1;
        visit(dir).then((subdirs) => {
          active -= 1;
          pending.push(...subdirs.reverse());
          pump();
        }, reject);
      }
      if (active === 0 && (pending.length === 0 || stopped())) resolve();
    };
    pump();
  }).then(
    () => channel.close(),
    (error: unknown) => channel.close(error),
  );

  try {
    for (;;) {
      const files = await channel.take();
      if (files === null) break;
      yield* files;
      if (options.signal?.aborted) break;
    }
  } finally {
    channel.abandon();
    await walk;
  }
}

/** The whole scan in memory, problems included (tests, small roots). */
export async function scanRootToList(root: string, options: Omit<ScanOptions, 'onProblem'> = {}): Promise<{ files: ScannedFile[]; problems: ScanProblem[] }> {
  const files: ScannedFile[] = [];
  const problems: ScanProblem[] = [];
  for await (const file of scanRoot(root, { ...options, onProblem: (p) => problems.push(p) })) files.push(file);
  return { files, problems };
}
