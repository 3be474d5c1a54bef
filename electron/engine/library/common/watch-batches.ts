// Batches for the root watcher: changes are gathered per path and go out together, every
// `intervalMs` (the watcher's default: 250 ms), in batches of at most `maxBatchSize` (500) changes,
// so copying 10,000 files in yields tens of batches, not 10,000 callbacks, and a library sync can
// apply each batch in one transaction.
//
// - `PendingChanges` coalesces what happened to one path since the last flush: a file created and
//   deleted inside one window (temp files, aborted copies) yields nothing; a file removed and back
//   is a change; an added file changed again is still an addition.
// - `FlushSchedule` decides when a flush runs: `intervalMs` after the first change, at once when
//   `maxBatchSize` changes wait, never two at a time, and again after one while work is left (held
//   removals wait over several flushes).
// - `batchesOf` cuts one flush's changes into batches of at most `maxBatchSize`.
import type { FileFacts, WatchChange } from './watch-events.ts';
import { systemClock, type TimerHandle, type WatchClock } from './watch-clock.ts';

/** A path seen present (added or changed) since the last flush, with what it first was. */
export interface PresentChange {
  readonly firstEvent: 'add' | 'change';
  readonly facts: FileFacts;
}

/** A path seen removed since the last flush, and since when. */
export interface AbsentChange {
  readonly relativePath: string;
  readonly since: number;
}

type Pending = ({ readonly present: true } & PresentChange) | ({ readonly present: false } & AbsentChange);

export class PendingChanges {
  private readonly pending = new Map<string, Pending>();

  get size(): number {
    return this.pending.size;
  }

  has(path: string): boolean {
    return this.pending.has(path);
  }

  /** True while some path waits to go out as added or changed: an addition is on its way. */
  hasPresent(): boolean {
    for (const p of this.pending.values()) if (p.present) return true;
    return false;
  }

  /** The file at `path` is gone (`now`: when that was seen). */
  removed(path: string, relativePath: string, now: number): void {
    const before = this.pending.get(path);
    // Created and deleted within the window (temp files, aborted copies): nothing to say.
    if (before?.present === true && before.firstEvent === 'add') this.pending.delete(path);
    else this.pending.set(path, { present: false, relativePath, since: before?.present === false ? before.since : now });
  }

  /** The file at `path` was written; `replacedHeld`: its removal was held for pairing, so the content was replaced (a change). */
  present(path: string, event: 'add' | 'change', facts: FileFacts, replacedHeld: boolean): void {
    const before = this.pending.get(path);
    // Removed then back at the same path: the content was replaced, which is a change.
    const firstEvent = replacedHeld ? 'change' : before === undefined ? event : before.present ? before.firstEvent : 'change';
    this.pending.set(path, { present: true, firstEvent, facts });
  }

  /** Everything pending, split into present and absent paths (each in the order first seen); the list is empty after. */
  take(): { present: [string, PresentChange][]; absent: [string, AbsentChange][] } {
    const present: [string, PresentChange][] = [];
    const absent: [string, AbsentChange][] = [];
    for (const [path, p] of this.pending) {
      if (p.present) present.push([path, p]);
      else absent.push([path, p]);
    }
    this.pending.clear();
    return { present, absent };
  }

  clear(): void {
    this.pending.clear();
  }
}

export interface FlushScheduleOptions {
  /** How long changes gather before a flush. */
  readonly intervalMs: number;
  /** False while the watcher is not watching: no flush is scheduled then. */
  readonly canSchedule: () => boolean;
  readonly flush: () => Promise<void>;
  /** True when work is left after a flush (pending changes, held removals): another is scheduled. */
  readonly workLeft: () => boolean;
  /** A flush failed. */
  readonly onError: (error: unknown) => void;
  readonly clock?: WatchClock;
}

export class FlushSchedule {
  private timer: TimerHandle | null = null;
  private flushing: Promise<void> | null = null;
  private readonly clock: WatchClock;

  constructor(private readonly options: FlushScheduleOptions) {
    this.clock = options.clock ?? systemClock;
  }

  /** True while a flush runs. */
  get running(): boolean {
    return this.flushing !== null;
  }

  /** Flushes `intervalMs` from now, unless a flush is scheduled already. */
  soon(): void {
    if (this.timer !== null || !this.options.canSchedule()) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      void this.now();
    }, this.options.intervalMs);
  }

  /** Flushes now; while a flush runs, that one's promise (the changes it missed are scheduled after it). */
  now(): Promise<void> {
    if (this.flushing !== null) return this.flushing;
    this.flushing = this.options
      .flush()
      .catch((error: unknown) => this.options.onError(error))
      .finally(() => {
        this.flushing = null;
        if (this.options.workLeft()) this.soon();
      });
    return this.flushing;
  }

  /** Drops the scheduled flush (a running one goes on). */
  cancel(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  /** Settles once the running flush (if any) has. */
  async settled(): Promise<void> {
    await this.flushing;
  }
}

/** `changes` cut into batches of at most `maxBatchSize` (at least 1), in order. */
export function batchesOf(changes: readonly WatchChange[], maxBatchSize: number): WatchChange[][] {
  const size = Math.max(1, maxBatchSize);
  const batches: WatchChange[][] = [];
  for (let i = 0; i < changes.length; i += size) batches.push(changes.slice(i, i + size));
  return batches;
}
