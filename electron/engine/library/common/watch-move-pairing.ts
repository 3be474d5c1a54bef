// Move pairing for the root watcher: a removal whose content the store knows (size and
// fingerprint) is held, and an addition of the same size and fingerprint takes it, so the pair
// becomes one `moved` change (same row, nothing extracted or embedded again). A folder rename
// arrives from chokidar as a removal and an addition per file inside, so it becomes one move per file.
//
// A removal is held at least `moveWindowMs`; while additions are still on their way (being written,
// not yet flushed, a new folder not yet walked again: the caller says so) it is held longer, up to
// `maxHoldMs`. In a storm the added halves of a folder rename take longer than any fixed window to
// come through: a fixed 2 s window lost moves (seen: 2,809 of 5,000 files extracted again after
// renaming their folder; docs/store.md, "Watcher storms").
//
// Held removals are indexed by size + fingerprint, so pairing an addition is one lookup (it was a
// scan of every held removal per addition: quadratic in a folder rename), and by size alone, so an
// addition is fingerprinted only when some held removal has its size.

/** A removal of known content, waiting for an addition with the same size and fingerprint. */
export interface HeldRemoval {
  readonly relativePath: string;
  /** When the removal was seen (the clock's ms). */
  readonly since: number;
  readonly size: number;
  readonly fingerprint: string;
}

export interface MovePairingOptions {
  /** The least a removal is held (the watcher's default: 2,000 ms). */
  readonly moveWindowMs: number;
  /** The most a removal is held while additions are in flight (default 30,000 ms; never less than `moveWindowMs`). */
  readonly maxHoldMs: number;
  /** The file name of a path (Node's `path.basename`): among equal contents, the same name is preferred. */
  readonly baseName: (path: string) => string;
}

const contentKey = (size: number, fingerprint: string): string => `${size}\0${fingerprint}`;

export class HeldRemovals {
  private readonly held = new Map<string, HeldRemoval>();
  private readonly byContent = new Map<string, Set<string>>();
  private readonly sizes = new Map<number, number>();
  private readonly maxHoldMs: number;

  constructor(private readonly options: MovePairingOptions) {
    this.maxHoldMs = Math.max(options.moveWindowMs, options.maxHoldMs);
  }

  get size(): number {
    return this.held.size;
  }

  has(path: string): boolean {
    return this.held.has(path);
  }

  /** True when some held removal has this size: only then is an addition worth fingerprinting. */
  hasSize(size: number): boolean {
    return this.sizes.has(size);
  }

  hold(path: string, removal: HeldRemoval): void {
    this.held.set(path, removal);
    const key = contentKey(removal.size, removal.fingerprint);
    let paths = this.byContent.get(key);
    if (paths === undefined) this.byContent.set(key, (paths = new Set()));
    paths.add(path);
    this.sizes.set(removal.size, (this.sizes.get(removal.size) ?? 0) + 1);
  }

  /** Takes a removal out of the hold (its path is back, or it goes out as removed); undefined when it was not held. */
  release(path: string): HeldRemoval | undefined {
    const removal = this.held.get(path);
    if (removal === undefined) return undefined;
    this.held.delete(path);
    const key = contentKey(removal.size, removal.fingerprint);
    const paths = this.byContent.get(key);
    paths?.delete(path);
    if (paths?.size === 0) this.byContent.delete(key);
    const left = (this.sizes.get(removal.size) ?? 1) - 1;
    if (left > 0) this.sizes.set(removal.size, left);
    else this.sizes.delete(removal.size);
    return removal;
  }

  /** The path of the held removal an addition at `newPath` with this content pairs with, preferring the same file name; taken out of the hold. */
  take(size: number, fingerprint: string, newPath: string): string | undefined {
    const paths = this.byContent.get(contentKey(size, fingerprint));
    if (paths === undefined) return undefined;
    const name = this.options.baseName(newPath);
    let best: string | undefined;
    for (const candidate of paths) {
      if (this.options.baseName(candidate) === name) {
        best = candidate;
        break;
      }
      best ??= candidate;
    }
    if (best !== undefined) this.release(best);
    return best;
  }

  /**
   * The held removals whose hold is over at `now` (left in the hold: release each that goes out).
   * With `additionsInFlight`, only those held `maxHoldMs`; otherwise those held `moveWindowMs`.
   */
  due(now: number, additionsInFlight: boolean): [string, HeldRemoval][] {
    const { moveWindowMs } = this.options;
    return [...this.held].filter(([, h]) => now - h.since >= moveWindowMs && (!additionsInFlight || now - h.since >= this.maxHoldMs));
  }

  clear(): void {
    this.held.clear();
    this.byContent.clear();
    this.sizes.clear();
  }
}
