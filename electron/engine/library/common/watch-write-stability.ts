// Write-finish detection for the root watcher: a file seen added or changed is handed on only once
// its size and mtime held still for `stableMs` (the watcher's default: 300 ms), so a half-copied
// video is not extracted.
//
// One shared poll every `pollMs` looks only at the files that are due (quiet that long since their
// last known change): a write in between changes the mtime, and chokidar reports it as a change
// anyway. Polling every waiting file on every poll cost 10,000 stats per poll in a storm. This is
// done here, not with chokidar's `awaitWriteFinish`: under load (2,000 files written at once while
// other work runs) chokidar 4.0.3's per-file polling lost 20–30% of the adds.
//
// Files are looked at with `stat` as passed in, which must not follow links (the watcher passes
// lstat; docs/file-kinds.md, "Links"): chokidar reports a file replaced by a link as a `change`
// with the stats of the link's target, and such a file is reported through `onNoLongerAFile`.
import { systemClock, type TimerHandle, type WatchClock } from './watch-clock.ts';

/** What the poll needs of a file's lstat. */
export interface FileState {
  isFile(): boolean;
  readonly size: number;
  readonly mtimeMs: number;
}

/** How the watcher first saw the file: an `add` that never finished leaves no trace when it goes. */
export type FirstSeenAs = 'add' | 'change';

export interface WriteStabilityOptions {
  /** A file counts as written once its size and mtime held for this long. */
  readonly stableMs: number;
  readonly pollMs: number;
  /** The file's state without following a link; a rejection means it cannot be seen (gone). */
  readonly stat: (path: string) => Promise<FileState>;
  /** False while the watcher is not watching: results of a poll that ran meanwhile are dropped. */
  readonly isActive: () => boolean;
  /** The file held still: hand it on. */
  readonly onWritten: (path: string, firstSeenAs: FirstSeenAs, state: FileState) => void;
  /**
   * A file seen as changed is now a link (or a FIFO…): chokidar said 'change' and may never say
   * more, so the file that was there is gone. (A file that is gone altogether is left to chokidar's
   * unlink; a new file that turned out not to be a regular file is dropped silently.)
   */
  readonly onNoLongerAFile: (path: string) => void;
  readonly clock?: WatchClock;
}

interface Waiting {
  readonly firstSeenAs: FirstSeenAs;
  /** -1 when unknown: the first poll that finds it due records it and starts the quiet time again. */
  readonly size: number;
  readonly mtimeMs: number;
  readonly stableSince: number;
}

/** Files stat'ed at once by one poll. */
const STATS_AT_ONCE = 256;

export class WriteStability {
  private readonly waiting = new Map<string, Waiting>();
  private readonly clock: WatchClock;
  private timer: TimerHandle | null = null;
  private polling = false;

  constructor(private readonly options: WriteStabilityOptions) {
    this.clock = options.clock ?? systemClock;
  }

  /** A file was seen added or changed, with the size and mtime its event gave (if any). */
  track(path: string, event: FirstSeenAs, stats: { readonly size: number; readonly mtimeMs: number } | undefined): void {
    const before = this.waiting.get(path);
    this.waiting.set(path, { firstSeenAs: before?.firstSeenAs ?? event, size: stats?.size ?? -1, mtimeMs: stats?.mtimeMs ?? -1, stableSince: this.clock.now() });
    this.timer ??= this.clock.setInterval(() => void this.poll(), this.options.pollMs);
  }

  /** Stops waiting for a file (it was removed); how it was first seen, or undefined if it was not waiting. */
  forget(path: string): FirstSeenAs | undefined {
    const before = this.waiting.get(path);
    this.waiting.delete(path);
    return before?.firstSeenAs;
  }

  has(path: string): boolean {
    return this.waiting.has(path);
  }

  /** True while a new file is still being written: an addition is on its way. */
  waitingForAdditions(): boolean {
    for (const entry of this.waiting.values()) if (entry.firstSeenAs === 'add') return true;
    return false;
  }

  /** Forgets every waiting file (the poll stops by itself once it finds nothing waiting). */
  clear(): void {
    this.waiting.clear();
  }

  close(): void {
    this.waiting.clear();
    if (this.timer !== null) this.clock.clearInterval(this.timer);
    this.timer = null;
  }

  /** One poll; the timer runs it every `pollMs` while files wait. A poll still running skips the next. */
  async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const { stableMs } = this.options;
      const now = this.clock.now();
      const due: string[] = [];
      for (const [path, entry] of this.waiting) if (now - entry.stableSince >= stableMs) due.push(path);
      for (let i = 0; i < due.length; i += STATS_AT_ONCE) {
        await Promise.all(due.slice(i, i + STATS_AT_ONCE).map((path) => this.look(path)));
      }
    } finally {
      this.polling = false;
      if (this.waiting.size === 0 && this.timer !== null) {
        this.clock.clearInterval(this.timer);
        this.timer = null;
      }
    }
  }

  private async look(path: string): Promise<void> {
    let info: FileState | null;
    try {
      info = await this.options.stat(path);
    } catch {
      info = null;
    }
    const entry = this.waiting.get(path);
    if (entry === undefined || !this.options.isActive()) return;
    if (info === null || !info.isFile()) {
      this.waiting.delete(path);
      if (info !== null && entry.firstSeenAs === 'change') this.options.onNoLongerAFile(path);
      return;
    }
    if (info.size !== entry.size || info.mtimeMs !== entry.mtimeMs) {
      this.waiting.set(path, { ...entry, size: info.size, mtimeMs: info.mtimeMs, stableSince: this.clock.now() });
    } else if (this.clock.now() - entry.stableSince >= this.options.stableMs) {
      this.waiting.delete(path);
      this.options.onWritten(path, entry.firstSeenAs, info);
    }
  }
}
