// The root watcher's state machine: is the root folder there, and is it being watched?
//
//   starting → watching    the root is there
//   starting → missing     it is not (root-missing)
//   watching → missing     it went (root-missing)
//   missing  → watching    it is back (root-present: rescan)
//   watching → watching    another folder now stands at its place (root-present: rescan)
//   any      → closed
//
// The root disappearing (an unplugged drive, a renamed folder) emits `root-missing` and no
// removals: what was pending is forgotten, because a vanished root says nothing about its files.
// The root is checked every `checkEveryMs` (and when the watcher asks, e.g. after chokidar saw it
// unlinked); when it is back, watching restarts and `root-present` asks for a rescan. A root
// replaced by another folder (deleted and recreated, another drive mounted at the same place:
// its identity, device and inode, changed) is watched anew the same way. Checks never overlap.
import { systemClock, type TimerHandle, type WatchClock } from './watch-clock.ts';

export type WatchState = 'starting' | 'watching' | 'missing' | 'closed';

export interface RootPresenceOptions {
  /** How often the root is checked (the watcher's default: 2,000 ms). */
  readonly checkEveryMs: number;
  /** The root's identity (e.g. `dev:ino`) when it is a reachable folder; null when it is not. Never rejects. */
  readonly probe: () => Promise<string | null>;
  /** Starts watching the root; the state is 'watching' already. */
  readonly watch: () => Promise<void>;
  /** Stops watching the root (after `forget`). */
  readonly unwatch: () => Promise<void>;
  /**
   * Forgets what was seen under the root, synchronously: when it went `missing`, everything; when it
   * was `replaced`, the changes not yet delivered (walks of new folders run on).
   */
  readonly forget: (why: 'missing' | 'replaced') => void;
  /** Delivers `root-missing` or `root-present` (a rescan) to the watcher's user. */
  readonly announce: (event: 'root-missing' | 'root-present') => Promise<void>;
  /** A start or a check failed. */
  readonly onError: (error: unknown) => void;
  readonly clock?: WatchClock;
}

export class RootPresence {
  private current: WatchState = 'starting';
  private identity: string | null = null;
  private ready: Promise<void> | null = null;
  private checking: Promise<void> | null = null;
  private timer: TimerHandle | null = null;
  private readonly clock: WatchClock;

  constructor(private readonly options: RootPresenceOptions) {
    this.clock = options.clock ?? systemClock;
  }

  get state(): WatchState {
    return this.current;
  }

  /** Starts the periodic check and looks at the root once: watching, or missing (announced). */
  start(): Promise<void> {
    this.timer = this.clock.setInterval(() => void this.check(), this.options.checkEveryMs);
    // In Node, this timer alone does not keep the process alive.
    (this.timer as { unref?: () => void } | null)?.unref?.();
    this.ready = (async () => {
      const identity = await this.options.probe();
      if (identity === null) {
        this.current = 'missing';
        await this.options.announce('root-missing');
      } else {
        await this.enterWatching(identity, false);
      }
    })().catch((error: unknown) => this.options.onError(error));
    return this.ready;
  }

  /** Looks at the root now (a check already running answers for this one too). */
  check(): Promise<void> {
    this.checking ??= (async () => {
      const identity = await this.options.probe();
      if (this.current === 'closed') return;
      if (identity === null) {
        if (this.current === 'watching') await this.enterMissing();
      } else if (this.current === 'missing') {
        await this.enterWatching(identity, true);
      } else if (this.current === 'watching' && identity !== this.identity) {
        // Deleted and recreated (or another drive mounted at the same place): start over.
        this.options.forget('replaced');
        await this.options.unwatch();
        await this.enterWatching(identity, true);
      }
    })()
      .catch((error: unknown) => this.options.onError(error))
      .finally(() => (this.checking = null));
    return this.checking;
  }

  /** True when the root is still there; otherwise it is missing from now on (announced). Removals call this first: a vanished root explains them all. */
  async confirm(): Promise<boolean> {
    if ((await this.options.probe()) !== null) return true;
    await this.enterMissing();
    return false;
  }

  /** Stops the periodic check (closing). */
  stopChecking(): void {
    if (this.timer !== null) this.clock.clearInterval(this.timer);
    this.timer = null;
  }

  /** Settles once the start and any check running have. */
  async settled(): Promise<void> {
    await this.ready;
    await this.checking;
  }

  /** Closed: nothing is watched or announced any more. */
  close(): void {
    this.stopChecking();
    this.current = 'closed';
  }

  private async enterMissing(): Promise<void> {
    if (this.current !== 'watching' && this.current !== 'starting') return;
    this.current = 'missing';
    this.options.forget('missing');
    await this.options.unwatch();
    await this.options.announce('root-missing');
  }

  private async enterWatching(identity: string, announce: boolean): Promise<void> {
    this.identity = identity;
    this.current = 'watching';
    await this.options.watch();
    if (announce) await this.options.announce('root-present');
  }
}
