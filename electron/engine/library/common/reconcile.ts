// Turns "what the store knows about a root" and "what a fresh scan found" into a plan the engine
// applies: added, changed, touched (metadata only), removed and moved files. Pure apart from the
// injected fingerprint function, which is called only where an answer depends on content:
// - same size, different mtime: is the content the same (touched) or not (changed)?
// - a new path whose size equals a vanished file's: is it that file, moved (no re-embedding)?
// - an existing path whose new size equals a displaced file's: was that file moved over it (or were
//   two names swapped)?
// A size change alone proves a content change, so such files are not fingerprinted here.
//
// At a million files every pass over the lists (maps, sets, sorts) costs a noticeable fraction of
// a second, so each pass is paced: every `sliceMs` of work it hands the event loop back (`pause`),
// and the engine goes on answering while a big root is reconciled. The plan is the same.
import pLimit from 'p-limit';
import type { FileKind } from '../../../contract/common/entities.ts';

export interface StoredFile {
  readonly id: number;
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
  /** Null when never computed (then the file cannot be matched as moved). */
  readonly fingerprint: string | null;
}

export interface ScannedEntry {
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly kind: FileKind;
  /** Why it will not be indexed, when the scan knows without reading it (never fingerprinted then). */
  readonly refusal?: string | null;
}

export interface PlannedAdd extends ScannedEntry {
  /** Computed when it was needed for move matching; otherwise null (compute it when extracting). */
  readonly fingerprint: string | null;
}

export interface PlannedChange extends ScannedEntry {
  readonly id: number;
  /** The new fingerprint when computed; null when the size change alone decided it. */
  readonly fingerprint: string | null;
}

export interface PlannedTouch {
  readonly id: number;
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
}

export interface PlannedMove extends ScannedEntry {
  readonly id: number;
  /** The old path; `path` is the new one. */
  readonly from: string;
  readonly fingerprint: string;
}

export interface ReconcilePlan {
  readonly added: PlannedAdd[];
  /** Content differs: extract and embed again, keeping the id. */
  readonly changed: PlannedChange[];
  /** Only mtime differs, content is the same: update the row, nothing else. */
  readonly touched: PlannedTouch[];
  readonly removed: { readonly id: number; readonly path: string }[];
  /** Same content at a new path: update the path, keep items and vectors. */
  readonly moved: PlannedMove[];
  readonly unchanged: number;
  /** Files whose fingerprint could not be computed (they are planned as added/changed). */
  readonly problems: { readonly path: string; readonly message: string }[];
}

export type FingerprintOf = (path: string) => Promise<string>;

export interface ReconcileOptions {
  /** Fingerprints computed at the same time (default 4). */
  readonly concurrency?: number;
  /** Work done between two pauses, about (default 20 ms; Infinity: never pause). */
  readonly sliceMs?: number;
  /** Hands the event loop back (default: a zero-delay timer). */
  readonly pause?: () => Promise<void>;
}

/** Checks the clock once every this many steps of a pass. */
const STEPS_PER_CHECK = 512;

/**
 * Paces long passes: `step()` counts a step and, once `sliceMs` has passed since the last pause,
 * returns a pause to await (else null, so a tight loop costs no promise per step).
 */
export class Pacer {
  private steps = 0;
  private since = performance.now();
  /** Pauses taken so far. */
  pauses = 0;

  constructor(
    private readonly sliceMs: number,
    private readonly pauseFn: () => Promise<void>,
  ) {}

  static of(options: Pick<ReconcileOptions, 'sliceMs' | 'pause'>): Pacer {
    return new Pacer(options.sliceMs ?? 20, options.pause ?? (() => new Promise((resolve) => setTimeout(resolve, 0))));
  }

  step(): Promise<void> | null {
    if (++this.steps % STEPS_PER_CHECK !== 0 || performance.now() - this.since < this.sliceMs) return null;
    return this.pause();
  }

  async pause(): Promise<void> {
    this.pauses += 1;
    await this.pauseFn();
    this.since = performance.now();
  }

  /** Runs `visit` over `items`, pausing as needed. */
  async each<T>(items: Iterable<T>, visit: (item: T, index: number) => void): Promise<void> {
    let index = 0;
    for (const item of items) {
      visit(item, index++);
      const pause = this.step();
      if (pause) await pause;
    }
  }

  /** `items` sorted by `compare` (stable): a merge sort whose merges are paced. */
  async sort<T>(items: readonly T[], compare: (a: T, b: T) => number): Promise<T[]> {
    let from = items.slice();
    let to = new Array<T>(from.length);
    for (let width = 1; width < from.length; width *= 2) {
      for (let lo = 0; lo < from.length; lo += 2 * width) {
        const mid = Math.min(lo + width, from.length);
        const hi = Math.min(lo + 2 * width, from.length);
        let i = lo;
        let j = mid;
        let k = lo;
        while (i < mid && j < hi) {
          to[k++] = compare(from[j]!, from[i]!) < 0 ? from[j++]! : from[i++]!;
          const pause = this.step();
          if (pause) await pause;
        }
        while (i < mid) to[k++] = from[i++]!;
        while (j < hi) to[k++] = from[j++]!;
      }
      [from, to] = [to, from];
    }
    return from;
  }
}

const byPath = (a: { path: string }, b: { path: string }): number => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

function baseName(p: string): string {
  return p.slice(Math.max(p.lastIndexOf('/'), p.lastIndexOf('\\')) + 1);
}

export async function reconcile(
  stored: readonly StoredFile[],
  scanned: readonly ScannedEntry[],
  fingerprintOf: FingerprintOf,
  options: ReconcileOptions = {},
): Promise<ReconcilePlan> {
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const pacer = Pacer.of(options);
  const storedByPath = new Map<string, StoredFile>();
  await pacer.each(stored, (file) => storedByPath.set(file.path, file));
  const scannedPaths = new Set<string>();
  await pacer.each(scanned, (entry) => scannedPaths.add(entry.path));
  const problems: { path: string; message: string }[] = [];

  type Candidate = { entry: ScannedEntry; previous: StoredFile | undefined };
  const candidates: Candidate[] = [];
  let unchanged = 0;
  await pacer.each(scanned, (entry) => {
    const previous = storedByPath.get(entry.path);
    if (previous !== undefined && previous.size === entry.size && previous.mtimeMs === entry.mtimeMs) unchanged += 1;
    else candidates.push({ entry, previous });
  });

  // Possible move sources: stored content no longer where it was (its path vanished, or the path
  // now holds something else). Only their sizes are known without reading, so only new or changed
  // files of those sizes are fingerprinted.
  const candidatePaths = new Set<string>();
  await pacer.each(candidates, (c) => candidatePaths.add(c.entry.path));
  const maybeDisplaced: StoredFile[] = [];
  await pacer.each(stored, (file) => {
    if (file.fingerprint !== null && (!scannedPaths.has(file.path) || candidatePaths.has(file.path))) maybeDisplaced.push(file);
  });
  const sourceSizes = new Set(maybeDisplaced.map((file) => file.size));

  const fingerprintOrNull = async (path: string): Promise<string | null> => {
    try {
      return await fingerprintOf(path);
    } catch (error) {
      problems.push({ path, message: error instanceof Error ? error.message : String(error) });
      return null;
    }
  };
  const needsFingerprint = ({ entry, previous }: Candidate): boolean =>
    !entry.refusal && (sourceSizes.has(entry.size) || (previous !== undefined && previous.size === entry.size && previous.fingerprint !== null));
  // Only the candidates whose answer depends on content are read (a few, unless much moved).
  const toRead: number[] = [];
  await pacer.each(candidates, (candidate, index) => {
    if (needsFingerprint(candidate)) toRead.push(index);
  });
  const fingerprints = new Array<string | null>(candidates.length).fill(null);
  await pLimit(concurrency).map(toRead, async (index) => void (fingerprints[index] = await fingerprintOrNull(candidates[index]!.entry.path)));

  const touched: PlannedTouch[] = [];
  const touchedIds = new Set<number>();
  const unsorted: { entry: ScannedEntry; previous: StoredFile | undefined; fingerprint: string | null; path: string }[] = [];
  await pacer.each(candidates, ({ entry, previous }, index) => {
    const fingerprint = fingerprints[index]!;
    if (previous !== undefined && fingerprint !== null && fingerprint === previous.fingerprint) {
      touched.push({ id: previous.id, path: entry.path, size: entry.size, mtimeMs: entry.mtimeMs });
      touchedIds.add(previous.id);
    } else {
      unsorted.push({ entry, previous, fingerprint, path: entry.path });
    }
  });
  const targets = await pacer.sort(unsorted, byPath);

  // Pair new content with displaced content of the same fingerprint, one to one; among duplicates
  // prefer the same file name, then path order, so the plan is deterministic.
  const sourcesByFingerprint = new Map<string, StoredFile[]>();
  const displaced = await pacer.sort(
    maybeDisplaced.filter((f) => !touchedIds.has(f.id)),
    byPath,
  );
  await pacer.each(displaced, (file) => {
    const list = sourcesByFingerprint.get(file.fingerprint!) ?? [];
    list.push(file);
    sourcesByFingerprint.set(file.fingerprint!, list);
  });
  const takeSource = (fingerprint: string, path: string): StoredFile | undefined => {
    const list = sourcesByFingerprint.get(fingerprint);
    if (list === undefined || list.length === 0) return undefined;
    const sameName = list.findIndex((file) => baseName(file.path) === baseName(path));
    return list.splice(sameName >= 0 ? sameName : 0, 1)[0];
  };
  const sources: (StoredFile | undefined)[] = [];
  await pacer.each(targets, ({ entry, fingerprint }) => sources.push(fingerprint === null ? undefined : takeSource(fingerprint, entry.path)));
  const movedIds = new Set<number>();
  for (const source of sources) if (source !== undefined) movedIds.add(source.id);

  const added: PlannedAdd[] = [];
  const changed: PlannedChange[] = [];
  const moved: PlannedMove[] = [];
  await pacer.each(targets, ({ entry, previous, fingerprint }, index) => {
    const source = sources[index];
    if (source !== undefined) moved.push({ ...entry, id: source.id, from: source.path, fingerprint: fingerprint! });
    // The path keeps its id unless that id's content moved elsewhere (then this is new content).
    else if (previous !== undefined && !movedIds.has(previous.id)) changed.push({ ...entry, id: previous.id, fingerprint });
    else added.push({ ...entry, fingerprint });
  });

  const kept = new Set([...touchedIds, ...movedIds, ...changed.map((c) => c.id)]);
  const removed: { id: number; path: string }[] = [];
  await pacer.each(stored, (file) => {
    if (scannedPaths.has(file.path) && !candidatePaths.has(file.path)) return; // unchanged: kept
    if (!kept.has(file.id)) removed.push({ id: file.id, path: file.path });
  });
  return { added, changed, touched, removed, moved, unchanged, problems };
}

/**
 * The stored state after a plan, for tests and for callers that keep files in memory: removals
 * first, then moves, changes and touches by id, then additions with ids from `nextId`.
 */
export function applyReconcilePlan(stored: readonly StoredFile[], plan: ReconcilePlan, nextId: () => number): StoredFile[] {
  const byId = new Map(stored.map((file) => [file.id, file]));
  for (const { id } of plan.removed) byId.delete(id);
  for (const move of plan.moved) byId.set(move.id, { id: move.id, path: move.path, size: move.size, mtimeMs: move.mtimeMs, fingerprint: move.fingerprint });
  for (const change of plan.changed) byId.set(change.id, { id: change.id, path: change.path, size: change.size, mtimeMs: change.mtimeMs, fingerprint: change.fingerprint });
  for (const touch of plan.touched) {
    const file = byId.get(touch.id)!;
    byId.set(touch.id, { ...file, path: touch.path, size: touch.size, mtimeMs: touch.mtimeMs });
  }
  for (const add of plan.added) {
    const id = nextId();
    byId.set(id, { id, path: add.path, size: add.size, mtimeMs: add.mtimeMs, fingerprint: add.fingerprint });
  }
  return [...byId.values()];
}
