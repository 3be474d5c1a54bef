// Folder rechecks for the root watcher: chokidar misses files created in a new folder before its
// watch on that folder is set up (seen: 800 of 2,000 under load). So every new folder is walked
// again once adds under it go quiet for `quietMs` (or at the latest `maxWaitMs` after its first
// add), and the walk (passed in) adds the files chokidar did not report.
//
// One walk per folder at a time, and a folder inside one already waiting is covered by it: adds
// during a walk ask for one more walk after it. (Before, every add after the first 10 s started
// another walk of the whole folder, so a 10,000-file copy spent most of its time re-walking: the
// super-linear cost of large storms; docs/benchmarks.md, bench/watcher-storm.ts.)
//
// It also keeps the files reported present (added or changed, not removed since): a walk skips
// them, and when a folder goes, chokidar reports removals only for files it tracked itself, so the
// watcher removes the ones under it from this list too (seen: 60 of 160 files in a renamed folder
// would otherwise have stayed indexed under their old path).
import { systemClock, type TimerHandle, type WatchClock } from './watch-clock.ts';

export interface FolderRechecksOptions {
  /** A folder is walked once adds under it were quiet this long… */
  readonly quietMs: number;
  /** …or at the latest this long after the first add under it. */
  readonly maxWaitMs: number;
  /** Between folder names in the paths given (Node's `path.sep`). */
  readonly separator: string;
  /** False while the watcher is not watching: nothing is walked then. */
  readonly isActive: () => boolean;
  /**
   * Walks the folder and reports the files it finds that are not present yet. `stillWanted` turns
   * false when the walk is no longer needed (the watcher stopped or the rechecks were cleared):
   * stop then. A rejection is ignored (the folder went away again; its unlink events say what happened).
   */
  readonly walk: (folder: string, stillWanted: () => boolean) => Promise<void>;
  readonly clock?: WatchClock;
}

interface Recheck {
  timer: TimerHandle | null;
  firstAt: number;
  lastAddAt: number;
  running: boolean;
  again: boolean;
}

export class FolderRechecks {
  private readonly rechecks = new Map<string, Recheck>();
  private readonly present = new Set<string>();
  private readonly clock: WatchClock;

  constructor(private readonly options: FolderRechecksOptions) {
    this.clock = options.clock ?? systemClock;
  }

  /** True while a folder waits for its walk or is being walked: files may still be found. */
  busy(): boolean {
    return this.rechecks.size > 0;
  }

  /** A new folder appeared: walk it once adds under it go quiet (unless a folder around it will be walked). */
  folderAdded(folder: string): void {
    if (!this.options.isActive()) return;
    const covering = this.covering(folder);
    if (covering !== undefined) {
      this.noteAdd(covering);
      return;
    }
    const now = this.clock.now();
    const recheck: Recheck = { timer: null, firstAt: now, lastAddAt: now, running: false, again: false };
    this.rechecks.set(folder, recheck);
    this.arm(folder, recheck);
  }

  /** A file was added: a folder around it waiting for quiet waits longer; one being walked is walked again after. */
  fileAdded(path: string): void {
    if (this.rechecks.size === 0) return;
    const covering = this.covering(path);
    if (covering !== undefined) this.noteAdd(covering);
  }

  notePresent(path: string): void {
    this.present.add(path);
  }

  noteGone(path: string): void {
    this.present.delete(path);
  }

  isPresent(path: string): boolean {
    return this.present.has(path);
  }

  /** The present files under `folder` (the folder itself excluded). */
  presentInside(folder: string): string[] {
    return [...this.present].filter((path) => this.isInside(folder, path));
  }

  /** Forgets every waiting walk and every present file; walks running stop at their next file. */
  clear(): void {
    for (const { timer } of this.rechecks.values()) if (timer !== null) this.clock.clearTimeout(timer);
    this.rechecks.clear();
    this.present.clear();
  }

  private isInside(folder: string, path: string): boolean {
    return path.startsWith(folder) && path.charAt(folder.length) === this.options.separator;
  }

  private covering(path: string): Recheck | undefined {
    for (const [folder, recheck] of this.rechecks) if (folder === path || this.isInside(folder, path)) return recheck;
    return undefined;
  }

  private noteAdd(recheck: Recheck): void {
    recheck.lastAddAt = this.clock.now();
    if (recheck.running) recheck.again = true;
  }

  /** Fires when adds have been quiet for `quietMs`, or `maxWaitMs` after the first. */
  private arm(folder: string, recheck: Recheck): void {
    const due = (): number => Math.min(recheck.lastAddAt + this.options.quietMs, recheck.firstAt + this.options.maxWaitMs);
    const fire = (): void => {
      recheck.timer = null;
      if (this.rechecks.get(folder) !== recheck || !this.options.isActive()) return;
      if (this.clock.now() < due()) recheck.timer = this.clock.setTimeout(fire, due() - this.clock.now());
      else void this.walk(folder, recheck);
    };
    recheck.timer = this.clock.setTimeout(fire, Math.max(0, due() - this.clock.now()));
  }

  private async walk(folder: string, recheck: Recheck): Promise<void> {
    recheck.running = true;
    recheck.again = false;
    try {
      await this.options.walk(folder, () => this.options.isActive() && this.rechecks.get(folder) === recheck);
    } catch {
      // The folder went away again; its unlink events say what happened.
    } finally {
      recheck.running = false;
      if (this.rechecks.get(folder) === recheck) {
        if (recheck.again && this.options.isActive()) {
          recheck.firstAt = this.clock.now();
          this.arm(folder, recheck);
        } else {
          this.rechecks.delete(folder);
        }
      }
    }
  }
}
