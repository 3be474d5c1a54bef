// Keeps the files table in step with the folders on disk. Per root: the watcher starts first
// (when watching), then a full scan is reconciled against the store, so nothing that changes
// during the scan is missed. Every change to a root (scan plans, watcher batches, rescans) runs
// through that root's queue, one at a time. Renames and moves keep the file's id (no re-embedding);
// a vanished root keeps its files and is marked not present until it returns.
import { existsSync } from 'node:fs';
import type { Root } from '../../../contract/common/entities.ts';
import { reconcile, type ScannedEntry } from '../../library/common/reconcile.ts';
import { compilePathRules } from '../../library/common/path-rules.ts';
import { fingerprintFile } from '../../library/node/fingerprint.ts';
import { scanRoot, ScanRootError } from '../../library/node/scanner.ts';
import { watchRoot, type KnownFile, type RootWatcher, type WatchChange, type WatcherEvent } from '../../library/node/watcher.ts';
import type { Store } from '../../store/node/store.ts';

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
}

interface RootState {
  readonly root: Root;
  watcher: RootWatcher | null;
  queue: Promise<void>;
  removed: boolean;
}

/**
 * Each root has its own watcher, so a move between roots arrives as a removal in one root and an
 * addition in the other, in either order. A watched removal is therefore held this long before
 * the file's items and vectors are dropped, so an addition with the same fingerprint can take the
 * file over (a move: nothing is embedded again). Same length as the watcher's own move window.
 */
const CROSS_ROOT_MOVE_WINDOW_MS = 2000;

export class LibrarySync {
  private readonly roots = new Map<number, RootState>();
  /** Files removed from disk, by id, whose removal waits for a possible cross-root move. */
  private readonly heldRemovals = new Map<number, ReturnType<typeof setTimeout>>();
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
    const state: RootState = { root, watcher: null, queue: Promise.resolve(), removed: false };
    this.roots.set(root.id, state);
    this.beginScan();
    const start = async (): Promise<void> => {
      if (this.options.watch) {
        state.watcher = watchRoot({
          root: root.path,
          rules: compilePathRules({ include: root.include, exclude: root.exclude }),
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
    for (const id of [...this.heldRemovals.keys()]) this.dropHeldRemoval(id);
  }

  /** True while a watched removal waits for a possible move (idle() waits for these too). */
  get holdingRemovals(): boolean {
    return this.heldRemovals.size > 0;
  }

  private holdRemoval(fileId: number): void {
    if (this.heldRemovals.has(fileId)) return;
    this.heldRemovals.set(fileId, setTimeout(() => this.dropHeldRemoval(fileId), CROSS_ROOT_MOVE_WINDOW_MS));
  }

  private dropHeldRemoval(fileId: number): void {
    const timer = this.heldRemovals.get(fileId);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.heldRemovals.delete(fileId);
    const { store } = this.options;
    const file = store.files.get(fileId);
    if (!file || existsSync(file.path)) return; // taken over by a move, or back on disk
    store.forgetLabels(store.files.remove(fileId));
    this.options.onRemoved(1);
  }

  /**
   * A new path whose content matches a file that just vanished (from any root): that file moved,
   * so it keeps its items and vectors. Returns the fingerprint, and whether the move was taken.
   */
  private async adoptVanished(rootId: number, c: Extract<WatchChange, { type: 'added' | 'changed' }>): Promise<{ fingerprint: string | null; adopted: boolean }> {
    const fingerprint = await fingerprintFile(c.path).catch(() => null);
    if (fingerprint === null) return { fingerprint, adopted: false };
    const vanished = this.options.store.files.findByFingerprint(fingerprint).find((f) => f.path !== c.path && !existsSync(f.path));
    if (!vanished) return { fingerprint, adopted: false };
    const timer = this.heldRemovals.get(vanished.id);
    if (timer !== undefined) {
      clearTimeout(timer);
      this.heldRemovals.delete(vanished.id);
    }
    this.moveOrUpsert(rootId, vanished.id, c.path, c.size, c.mtimeMs, c.kind, fingerprint);
    return { fingerprint, adopted: true };
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
    const next = state.queue.then(async () => {
      if (state.removed || this.closed) return;
      await work();
    });
    state.queue = next.catch((error: unknown) => this.log(`updating ${state.root.path} failed: ${error instanceof Error ? error.message : String(error)}; rescan the folder`));
    return state.queue;
  }

  private knownFiles(paths: readonly string[]): Map<string, KnownFile> {
    const out = new Map<string, KnownFile>();
    for (const p of paths) {
      const f = this.options.store.files.byPath(p);
      if (f) out.set(p, { size: f.size, fingerprint: f.fingerprint });
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
    try {
      for await (const f of scanRoot(state.root.path, {
        rules: compilePathRules({ include: state.root.include, exclude: state.root.exclude }),
        onProblem: (p) => this.log(p.message),
      })) {
        if (state.removed || this.closed) return;
        scanned.push({ path: f.path, size: f.size, mtimeMs: f.mtimeMs, kind: f.kind });
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
    const stored = store.files.listUnderRoot(rootId);
    // Stored mtimes are whole milliseconds; compare like with like so unchanged files stay unchanged.
    const plan = await reconcile(
      stored,
      scanned.map((s) => ({ ...s, mtimeMs: Math.round(s.mtimeMs) })),
      fingerprintFile,
    );
    if (state.removed || this.closed) return;
    let removed = 0;
    for (const r of plan.removed) {
      store.forgetLabels(store.files.remove(r.id));
      removed += 1;
    }
    for (const m of plan.moved) this.moveOrUpsert(rootId, m.id, m.path, m.size, m.mtimeMs, m.kind, m.fingerprint);
    for (const t of plan.touched) store.files.move(t.id, t.path, { mtimeMs: t.mtimeMs });
    for (const a of [...plan.added, ...plan.changed]) {
      store.files.upsertScanned({ rootId, path: a.path, size: a.size, mtimeMs: a.mtimeMs, kind: a.kind, fingerprint: a.fingerprint });
    }
    if (removed) this.options.onRemoved(removed);
    // Always wake: files left pending by an earlier run (killed mid-index) need indexing too.
    this.options.onPending();
  }

  private moveOrUpsert(rootId: number, id: number, to: string, size: number, mtimeMs: number, kind: ScannedEntry['kind'], fingerprint: string | null): void {
    const { store } = this.options;
    try {
      const clash = store.files.byPath(to);
      if (clash && clash.id !== id) store.forgetLabels(store.files.remove(clash.id));
      store.files.move(id, to, { rootId, mtimeMs });
    } catch {
      store.files.upsertScanned({ rootId, path: to, size, mtimeMs, kind, fingerprint });
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

  private async applyChanges(state: RootState, changes: readonly WatchChange[]): Promise<void> {
    const { store } = this.options;
    const rootId = state.root.id;
    let pending = 0;
    for (const c of changes) {
      if (c.type === 'removed') {
        const f = store.files.byPath(c.path);
        if (f) this.holdRemoval(f.id);
      } else if (c.type === 'moved') {
        const from = store.files.byPath(c.from);
        if (from) this.moveOrUpsert(rootId, from.id, c.path, c.size, c.mtimeMs, c.kind, c.fingerprint);
        else if (store.files.upsertScanned({ rootId, path: c.path, size: c.size, mtimeMs: c.mtimeMs, kind: c.kind, fingerprint: c.fingerprint }).change !== 'unchanged') pending += 1;
      } else {
        let fingerprint: string | null = null;
        if (!store.files.byPath(c.path)) {
          const adoption = await this.adoptVanished(rootId, c);
          if (adoption.adopted) continue;
          fingerprint = adoption.fingerprint;
        }
        const { change } = store.files.upsertScanned({ rootId, path: c.path, size: c.size, mtimeMs: c.mtimeMs, kind: c.kind, ...(fingerprint ? { fingerprint } : {}) });
        if (change !== 'unchanged') pending += 1;
      }
    }
    if (pending) this.options.onPending();
  }

}
