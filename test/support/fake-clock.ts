// A clock for the watcher's parts (electron/engine/library/common/watch-clock.ts) that only moves
// when a test says so: `advance(ms)` fires the timers that fall due, in time order, and lets the
// promises they started settle after each, so a test walks through write-stable waits, move
// windows and root checks without sleeping and without depending on the machine's load.
import type { TimerHandle, WatchClock } from '../../electron/engine/library/common/watch-clock.ts';

interface Timer {
  at: number;
  readonly callback: () => void;
  /** Null for a one-off timeout. */
  readonly every: number | null;
  /** Creation order: timers due at the same time fire in the order they were set. */
  readonly order: number;
}

/** Lets every promise chain that needs no real I/O run to its end. */
export const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class FakeClock implements WatchClock {
  private time: number;
  private nextId = 1;
  private readonly timers = new Map<number, Timer>();

  constructor(start = 1_000_000) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    return this.add(callback, Math.max(0, ms), null);
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle as number);
  }

  setInterval(callback: () => void, ms: number): TimerHandle {
    return this.add(callback, Math.max(1, ms), Math.max(1, ms));
  }

  clearInterval(handle: TimerHandle): void {
    this.timers.delete(handle as number);
  }

  /** Timers waiting to fire (intervals included). */
  get pendingTimers(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, firing due timers in order; promises settle after each firing. */
  async advance(ms: number): Promise<void> {
    const until = this.time + ms;
    for (;;) {
      let next: [number, Timer] | undefined;
      for (const entry of this.timers) {
        const [, timer] = entry;
        if (timer.at > until) continue;
        if (next === undefined || timer.at < next[1].at || (timer.at === next[1].at && timer.order < next[1].order)) next = entry;
      }
      if (next === undefined) break;
      const [id, timer] = next;
      this.time = timer.at;
      if (timer.every === null) this.timers.delete(id);
      else timer.at += timer.every;
      timer.callback();
      await settle();
    }
    this.time = until;
    await settle();
  }

  private add(callback: () => void, delay: number, every: number | null): number {
    const id = this.nextId;
    this.nextId += 1;
    this.timers.set(id, { at: this.time + delay, callback, every, order: id });
    return id;
  }
}
