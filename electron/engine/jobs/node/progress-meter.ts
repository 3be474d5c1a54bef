// Indexing rate and ETA over a sliding minute, and a coalescer that turns a storm of progress
// changes into at most a few events a second (the UI redraws on each one).

export const RATE_WINDOW_MS = 60_000;

export class RateMeter {
  private readonly done: number[] = [];
  private activeSince: number | null = null;

  constructor(private readonly now: () => number = Date.now) {}

  /** A file finished (indexed or failed). */
  record(): void {
    const t = this.now();
    this.activeSince ??= t;
    this.done.push(t);
    this.trim(t);
  }

  /** Work stopped (idle or paused): the next burst measures its own rate. */
  reset(): void {
    this.done.length = 0;
    this.activeSince = null;
  }

  /** Files per second over the last minute (or since work started, when that is shorter). */
  rate(): number {
    const t = this.now();
    this.trim(t);
    if (this.activeSince === null || this.done.length === 0) return 0;
    const span = Math.min(RATE_WINDOW_MS, Math.max(1000, t - this.activeSince));
    return (this.done.length * 1000) / span;
  }

  etaSeconds(pending: number): number | null {
    if (pending === 0) return 0;
    const r = this.rate();
    return r > 0 ? pending / r : null;
  }

  private trim(t: number): void {
    while (this.done.length && this.done[0]! < t - RATE_WINDOW_MS) this.done.shift();
  }
}

/** Calls `emit` at most once per `intervalMs`, always with the latest state (trailing edge). */
export class Coalescer {
  private timer: NodeJS.Timeout | null = null;
  private last = 0;

  constructor(
    private readonly emit: () => void,
    private readonly intervalMs = 250,
  ) {}

  request(): void {
    if (this.timer) return;
    const wait = Math.max(0, this.last + this.intervalMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      this.last = Date.now();
      this.emit();
    }, wait);
  }

  /** Emits now if something is waiting (before close, so the last state is not lost). */
  flush(): void {
    if (!this.timer) return;
    clearTimeout(this.timer);
    this.timer = null;
    this.last = Date.now();
    this.emit();
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
