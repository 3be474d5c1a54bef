// Keeps the files table in step with the folders on disk. Per root: the watcher starts first
// (when watching), then a full scan is reconciled against the store, so nothing that changes
// during the scan is missed. Every change to a root (scan plans, watcher batches, rescans) runs
// through that root's queue, one at a time. Renames and moves keep the file's id (no re-embedding);
// a vanished root keeps its files and is marked not present until it returns.
//
// Storms (10,000 files copied, renamed or deleted at once) are applied in bulk: a watcher batch (up
// to 500 changes) or a slice of a scan plan is one transaction, the fingerprints new files need are
// read a few at a time before it, and held removals are dropped together with one notification.
// A transaction is all-or-nothing, so a kill mid-storm loses at most the batch in flight, and the
// reconciling scan at the next start puts the files table right (docs/store.md, "Watcher storms").
// That scan of a million-file root is paced too: the stored rows are read a page at a time and
// reconcile hands the event loop back every RECONCILE_SLICE_MS, so the engine keeps answering.
import { lstatSync } from 'node:fs';
import pLimit from 'p-limit';
import type { Root } from '../../../contract/common/entities.ts';
import { reconcile, type ScannedEntry } from '../../library/common/reconcile.ts';
import { sizeRefusal } from '../../library/common/file-refusals.ts';
import { rootPathRules } from '../../library/node/root-path-rules.ts';
import { fingerprintFile } from '../../library/node/fingerprint.ts';
import { scanRoot as walkRoot, ScanRootError, type ScanProblem } from '../../library/node/scanner.ts';
import { watchRoot, type KnownFile, type RootWatcher, type WatchChange, type WatcherEvent } from '../../library/node/watcher.ts';
import type { Store } from '../../store/node/store.ts';
import type { AnnLabelsByModel } from '../../store/node/vectors-repo.ts';

/** A regular file is at `filePath` (a link there is not one: links are never followed, docs/file-kinds.md "Links"). */
function isFileThere(filePath: string): boolean {
  return lstatSync(filePath, { throwIfNoEntry: false })?.isFile() ?? false;
}

export interface LibrarySyncOptions {
  readonly store: Store;
  readonly watch: boolean;
  /** Files became pending: wake the indexer. */
  readonly onPending: () => void;
  /** Files were removed (the library changed). */
  readonly onRemoved: (count: number) => void;
  /** A root's presence changed. */
  readonly onRootsChanged: () => void;
  /** A scan started or ended (progress shows 'scanning'). */
  readonly onScanState: () => void;
  readonly log?: (line: string) => void;
  /** The directory walk (benchmarks fake one of a million files). */
  readonly scanRoot?: typeof walkRoot;
}

interface RootState {
  readonly root: Root;
  watcher: RootWatcher | null;
  queue: Promise<void>;
  /** Work items enqueued and not finished. */
  queued: number;
  removed: boolean;
}

/**
 * Each root has its own watcher, so a move between roots arrives as a removal in one root and an
 * addition in the other, in either order. A watched removal is therefore held at least this long
 * before the file's items and vectors are dropped, so an addition with the same fingerprint can
 * take the file over (a move: nothing is embedded again). Same length as the watcher's own move
 * window. Past it, the removal still waits while any root's watcher or queue has work (the added
 * half may be in there: in a storm that takes longer than any fixed window), up to
 * MAX_REMOVAL_HOLD_MS.
 */
const CROSS_ROOT_MOVE_WINDOW_MS = 2000;
const MAX_REMOVAL_HOLD_MS = 60_000;
/**
 * Storm writes run in transactions of about this long, with a turn of the event loop between
 * them: long enough that commits are few, short enough that an API call never waits much longer.
 * (Measured under load: one 500-change batch of moves was a 750 ms transaction, 500 removals a
 * second — each move rewrites its keyword rows through the files_fts_move trigger.)
 */
const WRITE_SLICE_MS = 40;
/**
 * Reconciling a scan with the stored rows hands the event loop back after about this much work
 * (a million-file root: seconds of maps, sets and sorts in all); the rows are read in pages of
 * STORED_PAGE.
 */
const RECONCILE_SLICE_MS = 20;
const STORED_PAGE = 4000;
/** A turn of the event loop: timers and I/O (API calls) run before the work goes on. */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
/** Held removals dropped per sweep at most (each sweep is one or more write slices). */
const SWEEP_MAX = 2000;
/** Fingerprints read at once for new files (cross-root move detection). */
const FINGERPRINT_CONCURRENCY = 8;

export class LibrarySync {
  private readonly roots = new Map<number, RootState>();
  /** Files removed from disk, by id (with when), whose removal waits for a possible cross-root move. */
  private readonly heldRemovals = new Map<number, number>();
  private sweepTimer: ReturnType<typeof setTimeout> | null = null;
  private sweeping: Promise<void> | null = null;
  private scans = 0;
  private closed = false;

  constructor(private readonly options: LibrarySyncOptions) {}

  /** Scans (or reconciliations) running now. */
  get scanning(): boolean {
    return this.scans > 0;
  }

  /** Starts syncing every stored root (at engine start: catches up with changes made while closed). */
  startAll(): void {
    for (const root of this.options.store.roots.list()) this.attach(root);
  }

  /** Starts syncing a root: watcher first (when watching), then a full scan. Returns at once. */
  attach(root: Root): void {
    if (this.closed || this.roots.has(root.id)) return;
    const state: RootState = { root, watcher: null, queue: Promise.resolve(), queued: 0, removed: false };
    this.roots.set(root.id, state);
    this.beginScan();
    const start = async (): Promise<void> => {
      if (this.options.watch) {
        state.watcher = watchRoot({
          root: root.path,
          rules: rootPathRules(root),
          onEvent: (event) => this.enqueue(state, () => this.onWatcherEvent(state, event)),
          knownFiles: (paths) => this.knownFiles(paths),
        });
        await state.watcher.ready;
      }
      await this.enqueue(state, () => this.scan(state));
    };
    void start()
      .catch((error: unknown) => this.log(`syncing ${root.path} failed: ${error instanceof Error ? error.message : String(error)}; rescan the folder`))
      .finally(() => this.endScan());
  }

  /** Stops the root's watcher and deletes it and everything indexed under it. */
  async detach(rootId: number): Promise<void> {
    const state = this.roots.get(rootId);
    if (state) {
      state.removed = true;
      this.roots.delete(rootId);
      await state.watcher?.close();
      await state.queue;
    }
    const labels = this.options.store.roots.remove(rootId);
    this.options.store.forgetLabels(labels);
  }

  /** Scans a root again (after a watcher problem, or when asked). */
  rescan(rootId: number): void {
    const state = this.roots.get(rootId);
    if (!state) return;
    this.beginScan();
    void this.enqueue(state, () => this.scan(state)).finally(() => this.endScan());
  }

  async close(): Promise<void> {
    this.closed = true;
    const states = [...this.roots.values()];
    for (const s of states) s.removed = true;
    await Promise.all(states.map((s) => s.watcher?.close()));
    await Promise.all(states.map((s) => s.queue));
    if (this.sweepTimer !== null) clearTimeout(this.sweepTimer);
    this.sweepTimer = null;
    await this.sweeping;
    await this.dropHeldRemovals([...this.heldRemovals.keys()]);
  }

  /** True while a watched removal waits for a possible move (idle() waits for these too). */
  get holdingRemovals(): boolean {
    return this.heldRemovals.size > 0;
  }

  private holdRemoval(fileId: number, now = Date.now()): void {
    if (this.heldRemovals.has(fileId)) return;
    this.heldRemovals.set(fileId, now);
    this.scheduleSweep(CROSS_ROOT_MOVE_WINDOW_MS);
  }

  private scheduleSweep(delayMs: number): void {
    if (this.sweepTimer !== null || this.closed) return;
    this.sweepTimer = setTimeout(() => {
      this.sweepTimer = null;
      this.sweepHeldRemovals();
    }, delayMs);
  }

  /** Some root (other than `except`) still has changes on their way, in its watcher or queued: a move's other half may be among them. */
  private changesInFlight(except: RootState | null = null): boolean {
    for (const s of this.roots.values()) if (s !== except && (s.queued > 0 || (s.watcher?.busy() ?? false))) return true;
    return false;
  }

  /**
   * Drops the held removals whose window passed (unless changes are still in flight), a slice per
   * transaction; the next slice follows on the next turn of the event loop.
   */
  private sweepHeldRemovals(): void {
    if (this.heldRemovals.size === 0 || this.sweeping !== null) return;
    const now = Date.now();
    const busy = this.changesInFlight();
    const due: number[] = [];
    let next = Infinity;
    for (const [id, since] of this.heldRemovals) {
      const age = now - since;
      if (age >= CROSS_ROOT_MOVE_WINDOW_MS && (!busy || age >= MAX_REMOVAL_HOLD_MS)) {
        if (due.length < SWEEP_MAX) due.push(id);
        else next = 0;
      } else {
        next = Math.min(next, age < CROSS_ROOT_MOVE_WINDOW_MS ? CROSS_ROOT_MOVE_WINDOW_MS - age : 250);
      }
    }
    this.sweeping = this.dropHeldRemovals(due)
      .catch((error: unknown) => this.log(`removing ${due.length} deleted files from the index failed: ${error instanceof Error ? error.message : String(error)}; rescan the folder`))
      .finally(() => {
        this.sweeping = null;
        if (this.heldRemovals.size > 0) this.scheduleSweep(next);
      });
  }

  /** Removes the files (in write slices) unless they came back or were taken over by a move. */
  private async dropHeldRemovals(ids: readonly number[]): Promise<void> {
    if (ids.length === 0) return;
    const { store } = this.options;
    let removed = 0;
    await this.writeInSlices(ids, (id, forget) => {
      if (!this.heldRemovals.delete(id)) return;
      const file = store.files.get(id);
      if (!file || isFileThere(file.path)) return; // taken over by a move, or back on disk
      forget(store.files.remove(id));
      removed += 1;
    });
    if (removed > 0) this.options.onRemoved(removed);
    // idle() waits while removals are held; this wakes its check when the last one went.
    else if (this.heldRemovals.size === 0) this.options.onPending();
  }

  /**
   * Runs `work` in one transaction; the ANN labels of rows it removed (handed to `forget`) leave
   * the open indexes only after the commit, so a rolled-back batch leaves the ANN as it was.
   */
  private write<T>(work: (forget: (labels: AnnLabelsByModel) => void) => T): T {
    const { store } = this.options;
    const forgotten: AnnLabelsByModel[] = [];
    const result = store.db.transaction(() => work((labels) => forgotten.push(labels)))();
    for (const labels of forgotten) store.forgetLabels(labels);
    return result;
  }

  /**
   * `apply` for every item, in `write` transactions of about WRITE_SLICE_MS each, with a turn of
   * the event loop between them (and a `stop` check after it). Each item's write
   * re-reads what it depends on, so work done by other roots in between is taken into account.
   */
  private async writeInSlices<T>(items: Iterable<T>, apply: (item: T, forget: (labels: AnnLabelsByModel) => void) => void, stop: () => boolean = () => false): Promise<void> {
    const iterator = items[Symbol.iterator]();
    let next = iterator.next();
    let first = true;
    while (!next.done) {
      if (!first) {
        await nextTurn();
        if (stop()) return;
      }
      first = false;
      const started = performance.now();
      this.write((forget) => {
        do {
          apply(next.value as T, forget);
          next = iterator.next();
        } while (!next.done && performance.now() - started < WRITE_SLICE_MS);
      });
    }
  }

  /** A root's stored files, read a page (one short read) per turn of the event loop. */
  private async storedUnder(rootId: number, stop: () => boolean): Promise<Array<{ id: number; path: string; size: number; mtimeMs: number; fingerprint: string | null }>> {
    const out: Array<{ id: number; path: string; size: number; mtimeMs: number; fingerprint: string | null }> = [];
    for (let after = -1; ; ) {
      const page = this.options.store.files.pageUnderRoot(rootId, after, STORED_PAGE);
      for (const row of page) out.push(row);
      if (page.length < STORED_PAGE || stop()) return out;
      after = page[page.length - 1]!.id;
      await nextTurn();
    }
  }

  private beginScan(): void {
    this.scans += 1;
    this.options.onScanState();
  }

  private endScan(): void {
    this.scans -= 1;
    this.options.onScanState();
  }

  private log(line: string): void {
    (this.options.log ?? ((l: string) => console.error(`trove: ${l}`)))(line);
  }

  private enqueue(state: RootState, work: () => Promise<void>): Promise<void> {
    state.queued += 1;
    const next = state.queue.then(async () => {
      if (state.removed || this.closed) return;
      await work();
    });
    state.queue = next
      .catch((error: unknown) => this.log(`updating ${state.root.path} failed: ${error instanceof Error ? error.message : String(error)}; rescan the folder`))
      .finally(() => (state.queued -= 1));
    return state.queue;
  }

  /** Looked up in read transactions of about WRITE_SLICE_MS each (a folder rename asks about thousands of paths). */
  private async knownFiles(paths: readonly string[]): Promise<Map<string, KnownFile>> {
    const out = new Map<string, KnownFile>();
    let next = 0;
    while (next < paths.length) {
      if (next > 0) await new Promise((resolve) => setImmediate(resolve));
      if (this.closed) break;
      const started = performance.now();
      this.options.store.db
        .transaction(() => {
          do {
            const p = paths[next]!;
            const f = this.options.store.files.byPath(p);
            if (f) out.set(p, { size: f.size, fingerprint: f.fingerprint });
            next += 1;
          } while (next < paths.length && performance.now() - started < WRITE_SLICE_MS);
        })
        .deferred();
    }
    return out;
  }

  private setPresent(state: RootState, present: boolean): void {
    const current = this.options.store.roots.get(state.root.id);
    if (!current || current.present === present) return;
    this.options.store.roots.setPresent(state.root.id, present);
    this.options.onRootsChanged();
  }

  private async scan(state: RootState): Promise<void> {
    const { store } = this.options;
    const rootId = state.root.id;
    const scanned: ScannedEntry[] = [];
    // Files the scan cannot reach are recorded as failed with its reason, and unreadable folders
    // are listed, so nothing that is not indexed vanishes without a word (docs/store.md, "Failures and retries").
    const folders: ScanProblem[] = [];
    // Stored mtimes are whole milliseconds; compare like with like so unchanged files stay unchanged.
    try {
      for await (const f of (this.options.scanRoot ?? walkRoot)(state.root.path, {
        rules: rootPathRules(state.root),
        onProblem: (p) => {
          this.log(p.message);
          if (p.folder) folders.push(p);
          else if (p.file) scanned.push({ path: p.path, size: p.file.size, mtimeMs: Math.round(p.file.mtimeMs), kind: p.file.kind, refusal: p.message });
        },
      })) {
        if (state.removed || this.closed) return;
        scanned.push({ path: f.path, size: f.size, mtimeMs: Math.round(f.mtimeMs), kind: f.kind, refusal: sizeRefusal(f.kind, f.size) });
      }
    } catch (error) {
      if (error instanceof ScanRootError) {
        // An unplugged drive or a renamed folder: keep its files, say it is missing.
        this.setPresent(state, false);
        return;
      }
      throw error;
    }
    this.setPresent(state, true);
    // Counted before the plan drops them: the files an unreadable folder held when it was readable.
    const unreadable = folders.map((p) => ({ path: p.path, reason: p.message, files: store.files.countUnder(p.path) || null }));
    const stopped = (): boolean => state.removed || this.closed;
    const stored = await this.storedUnder(rootId, stopped);
    if (stopped()) return;
    const plan = await reconcile(stored, scanned, fingerprintFile, { sliceMs: RECONCILE_SLICE_MS, pause: nextTurn });
    if (stopped()) return;
    // In write slices: one transaction per file made a 10,000-file plan slow, one for all would
    // stall API calls. Removals first, so a moved file never clashes with a path that is going away.
    type Write = (forget: (labels: AnnLabelsByModel) => void) => void;
    const writes = function* (self: LibrarySync): Generator<Write> {
      for (const r of plan.removed) yield (forget) => forget(store.files.remove(r.id));
      for (const m of plan.moved) yield (forget) => self.moveOrUpsert(rootId, m.id, m.path, m.size, m.mtimeMs, m.kind, m.fingerprint, forget);
      // A failed file touched (same content, new mtime) is tried again.
      for (const t of plan.touched) yield () => void store.files.touch(t.id, t.path, t.mtimeMs);
      for (const list of [plan.added, plan.changed]) {
        for (const a of list) {
          yield () => void store.files.upsertScanned({ rootId, path: a.path, size: a.size, mtimeMs: a.mtimeMs, kind: a.kind, fingerprint: a.fingerprint, refusal: a.refusal ?? null });
        }
      }
    };
    await this.writeInSlices(writes(this), (w, forget) => w(forget), stopped);
    if (state.removed || this.closed) return;
    store.files.replaceUnreadableFolders(rootId, unreadable);
    const removed = plan.removed.length;
    if (removed) this.options.onRemoved(removed);
    // Always wake: files left pending by an earlier run (killed mid-index) need indexing too.
    this.options.onPending();
  }

  /** Inside `write`: moves row `id` to `to` (removing a row recorded there), or records `to` anew. */
  private moveOrUpsert(
    rootId: number,
    id: number,
    to: string,
    size: number,
    mtimeMs: number,
    kind: ScannedEntry['kind'],
    fingerprint: string | null,
    forget: (labels: AnnLabelsByModel) => void,
  ): void {
    const { store } = this.options;
    try {
      const clash = store.files.byPath(to);
      if (clash && clash.id !== id) forget(store.files.remove(clash.id));
      store.files.move(id, to, { rootId, mtimeMs });
    } catch {
      store.files.upsertScanned({ rootId, path: to, size, mtimeMs, kind, fingerprint, refusal: sizeRefusal(kind, size) });
    }
  }

  private async onWatcherEvent(state: RootState, event: WatcherEvent): Promise<void> {
    switch (event.type) {
      case 'batch':
        await this.applyChanges(state, event.changes);
        return;
      case 'root-missing':
        this.setPresent(state, false);
        return;
      case 'root-present':
        this.setPresent(state, true);
        this.beginScan();
        try {
          await this.scan(state);
        } finally {
          this.endScan();
        }
        return;
      case 'problem':
        this.log(event.message);
        if (event.needsRescan) {
          this.beginScan();
          try {
            await this.scan(state);
          } finally {
            this.endScan();
          }
        }
        return;
    }
  }

  /**
   * One watcher batch, in one transaction. A new path whose content matches a file that vanished
   * (from any root) is that file, moved: it keeps its items and vectors. That needs the new file's
   * fingerprint, read before the transaction (a few at a time), and only while the removal can
   * still be on its way: held here, or not yet through another root's watcher or queue (a move
   * inside one root is paired by its watcher). A plain copy-in reads nothing here.
   */
  private async applyChanges(state: RootState, changes: readonly WatchChange[]): Promise<void> {
    const { store } = this.options;
    const rootId = state.root.id;
    const adopting = this.heldRemovals.size > 0 || this.changesInFlight(state);
    const fresh = adopting ? changes.filter((c) => (c.type === 'added' || c.type === 'changed') && !store.files.byPath(c.path)) : [];
    const prints = new Map<string, string | null>();
    await pLimit(FINGERPRINT_CONCURRENCY).map(fresh, async (c) => void prints.set(c.path, await fingerprintFile(c.path).catch(() => null)));
    if (state.removed || this.closed) return;
    let pending = 0;
    let tookHeld = false;
    const now = Date.now();
    await this.writeInSlices(
      changes,
      (c, forget) => {
        if (c.type === 'removed') {
          const f = store.files.byPath(c.path);
          if (f) this.holdRemoval(f.id, now);
        } else if (c.type === 'moved') {
          const from = store.files.byPath(c.from);
          if (from) this.moveOrUpsert(rootId, from.id, c.path, c.size, c.mtimeMs, c.kind, c.fingerprint, forget);
          else if (store.files.upsertScanned({ rootId, path: c.path, size: c.size, mtimeMs: c.mtimeMs, kind: c.kind, fingerprint: c.fingerprint, refusal: sizeRefusal(c.kind, c.size) }).change !== 'unchanged') pending += 1;
        } else {
          let fingerprint: string | null = null;
          if (!store.files.byPath(c.path)) {
            fingerprint = prints.get(c.path) ?? null;
            const vanished = fingerprint === null ? undefined : store.files.findByFingerprint(fingerprint).find((f) => f.path !== c.path && !isFileThere(f.path));
            if (vanished) {
              if (this.heldRemovals.delete(vanished.id)) tookHeld = true;
              this.moveOrUpsert(rootId, vanished.id, c.path, c.size, c.mtimeMs, c.kind, fingerprint, forget);
              return;
            }
          }
          const refusal = sizeRefusal(c.kind, c.size);
          const { change } = store.files.upsertScanned({ rootId, path: c.path, size: c.size, mtimeMs: c.mtimeMs, kind: c.kind, refusal, ...(fingerprint ? { fingerprint } : {}) });
          if (change !== 'unchanged') pending += 1;
        }
      },
      () => state.removed || this.closed,
    );
    // Waking the indexer also re-checks idle(), which waits while removals are held.
    if (pending || (tookHeld && this.heldRemovals.size === 0)) this.options.onPending();
  }
}
