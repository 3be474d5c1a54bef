// The engine's side of a model's ANN index: the index itself lives in worker threads (ann-worker-main.ts),
// split into shards by label (label mod shards), so opening, rebuilding and saving a million-vector
// index never blocks the engine, and a rebuild uses every shard's core. Additions and deletions are
// posted in commit order (fire and forget); a search asks every shard and merges. Until every shard
// can search (loading, or building from SQLite), `search` answers null and the caller falls back
// (keyword search, or the exact path for narrow filters) and says so.
import type { Worker } from 'node:worker_threads';
import { startWorkerBeside } from '../../base/node/worker-beside.ts';
import type { AnnHit, AnnOpenReport, AnnParams } from './ann-index.ts';
import type { AnnFromWorker, AnnToWorker, AnnWorkerData, AnnWorkerState, RescoredHit } from './ann-protocol.ts';

/** Shards per model: one worker thread each; a rebuild runs on as many cores. */
export const DEFAULT_ANN_SHARDS = 2;

export interface AnnHandleOptions {
  readonly database: string;
  readonly annDir: string;
  readonly modelId: number;
  readonly dims: number;
  readonly params?: Partial<AnnParams>;
  readonly shards?: number;
  readonly compactAt?: number;
  readonly seed?: number;
  readonly rebuildStep?: number;
  /** Never write the index files (a read-only look at the library). */
  readonly readOnly?: boolean;
  /** Where the workers' notes go (saves, failures); default stderr for failures only. */
  readonly log?: (message: string) => void;
}

/** What status shows of the index: its state, live vectors, and how far a build has got. */
export interface AnnStatus {
  readonly state: AnnWorkerState;
  readonly count: number;
  /** 0..1 while building or compacting, else null. */
  readonly progress: number | null;
}

interface Shard {
  readonly worker: Worker;
  state: Extract<AnnFromWorker, { type: 'state' }> | null;
  exited: boolean;
}

export class AnnHandle {
  private readonly shards: Shard[];
  private readonly pending = new Map<number, { resolve: (m: Extract<AnnFromWorker, { type: 'reply' }>) => void; reject: (e: Error) => void }>();
  private readonly stateWaiters = new Set<() => void>();
  private nextId = 1;
  private closed = false;

  /**
   * The index of a model that has no row in the store (a read-only look with a model the library
   * has never used): no vectors, so no workers; it is ready and finds nothing.
   */
  static empty(modelId: number, dims: number): AnnHandle {
    return new AnnHandle({ database: '', annDir: '', modelId, dims, shards: 0 });
  }

  constructor(private readonly opts: AnnHandleOptions) {
    const count = opts.shards === 0 ? 0 : Math.max(1, opts.shards ?? DEFAULT_ANN_SHARDS);
    this.shards = Array.from({ length: count }, (_, shard) => {
      const workerData: AnnWorkerData = {
        database: opts.database,
        annDir: opts.annDir,
        modelId: opts.modelId,
        dims: opts.dims,
        shard,
        shards: count,
        params: opts.params,
        compactAt: opts.compactAt,
        seed: opts.seed,
        rebuildStep: opts.rebuildStep,
        readOnly: opts.readOnly,
      };
      const worker = startWorkerBeside(import.meta.url, 'ann-worker-main', { workerData });
      // The engine's open handles (a server, a window) keep it alive; the index alone must not.
      worker.unref();
      const entry: Shard = { worker, state: null, exited: false };
      worker.on('message', (m: AnnFromWorker) => this.onMessage(entry, m));
      worker.on('error', (error) => this.onMessage(entry, { type: 'log', message: `the ANN worker (shard ${shard + 1}) stopped: ${error.message}` }));
      worker.on('exit', () => {
        entry.exited = true;
        if (!this.closed) this.onMessage(entry, { ...(entry.state ?? emptyState()), state: 'failed', error: entry.state?.error ?? 'the ANN worker exited' });
      });
      return entry;
    });
  }

  get modelId(): number {
    return this.opts.modelId;
  }

  /** The least ready shard's state (failed > loading > building > compacting > ready). */
  get state(): AnnWorkerState {
    const order: AnnWorkerState[] = ['failed', 'loading', 'building', 'compacting', 'ready'];
    let worst = 4;
    for (const s of this.shards) worst = Math.min(worst, order.indexOf(s.state?.state ?? 'loading'));
    return order[worst]!;
  }

  /** Every shard can answer a search (ready, or compacting beside a serving index). */
  get searchable(): boolean {
    return this.shards.every((s) => s.state?.state === 'ready' || s.state?.state === 'compacting');
  }

  /** A shard is writing its file (off the engine's thread). */
  get saving(): boolean {
    return this.shards.some((s) => s.state?.saving);
  }

  /** Live vectors as the shards last reported them (0 until loaded). */
  get count(): number {
    return this.shards.reduce((n, s) => n + (s.state?.count ?? 0), 0);
  }

  get status(): AnnStatus {
    const building = this.shards.filter((s) => s.state?.progress);
    const done = building.reduce((n, s) => n + s.state!.progress!.done, 0);
    const total = building.reduce((n, s) => n + s.state!.progress!.total, 0);
    return { state: this.state, count: this.count, progress: building.length ? (total ? Math.min(1, done / total) : 0) : null };
  }

  /** What each shard's open did (null until it finished loading or building). */
  get openReports(): Array<AnnOpenReport | null> {
    return this.shards.map((s) => s.state?.report ?? null);
  }

  /** Resolves once every shard can search; rejects if one failed. */
  async whenReady(): Promise<void> {
    for (;;) {
      if (this.searchable) return;
      const failed = this.shards.find((s) => s.state?.state === 'failed');
      if (failed) throw new Error(`the ANN index could not be opened: ${failed.state?.error ?? 'its worker stopped'}`);
      await new Promise<void>((resolve) => {
        this.stateWaiters.add(resolve);
        this.updateRef();
      });
      this.updateRef();
    }
  }

  /** Vectors SQLite just committed (labels from VectorsRepo.put), in commit order. */
  add(entries: ReadonlyArray<{ readonly label: number; readonly values: Int8Array }>): void {
    if (entries.length === 0 || this.closed || this.shards.length === 0) return;
    const dims = this.opts.dims;
    const n = this.shards.length;
    const groups = Array.from({ length: n }, () => [] as Array<{ label: number; values: Int8Array }>);
    for (const e of entries) groups[e.label % n]!.push(e);
    groups.forEach((group, shard) => {
      if (group.length === 0) return;
      const labels = Uint32Array.from(group, (e) => e.label);
      const codes = new Int8Array(group.length * dims);
      group.forEach((e, i) => codes.set(e.values.subarray(0, dims), i * dims));
      this.post(shard, { op: 'add', labels, codes }, [labels.buffer, codes.buffer]);
    });
  }

  /** Labels SQLite just deleted. */
  markDelete(labels: Iterable<number>): void {
    if (this.closed || this.shards.length === 0) return;
    const n = this.shards.length;
    const groups = Array.from({ length: n }, () => [] as number[]);
    for (const label of labels) groups[label % n]!.push(label);
    groups.forEach((group, shard) => {
      if (group.length === 0) return;
      const array = Uint32Array.from(group);
      this.post(shard, { op: 'delete', labels: array }, [array.buffer]);
    });
  }

  /**
   * The k nearest labels to `query` over all shards, best first; null while the index cannot
   * search yet. `allowed`: only these labels (sorted ascending), for filtered searches.
   */
  async search(query: ArrayLike<number>, k: number, opts: { ef?: number; allowed?: Uint32Array } = {}): Promise<AnnHit[] | null> {
    if (!this.searchable || this.closed) return null;
    const replies = await Promise.all(
      this.shards.map((_, shard) => this.request(shard, (id) => ({ op: 'search', id, query: Float32Array.from(query), k, ef: opts.ef, allowed: opts.allowed }))),
    );
    if (replies.some((r) => !r.hits)) return null;
    const hits = replies.flatMap((r) => r.hits!);
    hits.sort((a, b) => b.similarity - a.similarity);
    return hits.slice(0, k);
  }

  /**
   * The k items nearest to `query` (a unit vector of the model's full dimension), best first, with
   * their exact cosine: each shard takes its `candidates` nearest on the prefix and rescores them
   * against their full int8 vectors, in parallel, off the engine's thread; the shards' best are
   * merged. Every shard rescoring its own top `candidates` covers the top `candidates` of the whole
   * index. Null while the index cannot search yet. `allowed`: only these labels (sorted ascending).
   */
  async nearest(query: ArrayLike<number>, k: number, opts: { candidates: number; ef?: number; allowed?: Uint32Array }): Promise<RescoredHit[] | null> {
    if (!this.searchable || this.closed) return null;
    if (this.shards.length === 0) return [];
    const candidates = Math.max(k, opts.candidates);
    const replies = await Promise.all(
      this.shards.map((_, shard) => this.request(shard, (id) => ({ op: 'nearest', id, query: Float32Array.from(query), k, candidates, ef: opts.ef, allowed: opts.allowed }))),
    );
    if (replies.some((r) => !r.nearest)) return null;
    const hits = replies.flatMap((r) => r.nearest!);
    hits.sort((a, b) => b.similarity - a.similarity);
    return hits.slice(0, k);
  }

  /** Saves every shard with unsaved changes (rate-limited unless `force`); resolves when done. */
  async save(force = false): Promise<void> {
    if (this.closed) return;
    await Promise.all(this.shards.map((_, shard) => this.request(shard, (id) => ({ op: 'save', id, force }))));
  }

  /** Starts rebuilding every shard without its deletion marks (the old graphs serve meanwhile). */
  async compact(): Promise<void> {
    await Promise.all(this.shards.map((_, shard) => this.request(shard, (id) => ({ op: 'compact', id }))));
  }

  /** Resolves once every shard has applied everything posted before (count is then current). */
  async settled(): Promise<void> {
    await Promise.all(this.shards.map((_, shard) => this.request(shard, (id) => ({ op: 'ping', id }))));
  }

  /**
   * Saves (if asked and useful) and stops the workers: each finishes the save in flight, saves if
   * asked, and ends by itself. Never `terminate()` a worker in the middle of a save: its file
   * would be left half-written (harmless, never named by a meta, but the save is lost).
   */
  async close(save = true): Promise<void> {
    if (this.closed) return;
    const exited = this.shards.map((s) => (s.exited ? Promise.resolve() : new Promise<void>((resolve) => s.worker.once('exit', () => resolve()))));
    await Promise.all(this.shards.map((s, shard) => (s.exited ? undefined : this.request(shard, (id) => ({ op: 'close', id, save })).catch(() => undefined))));
    this.closed = true;
    for (const s of this.shards) s.worker.ref();
    // Each ends by itself once its port is closed; a worker stuck in native code is stopped.
    const stuck = setTimeout(() => this.shards.forEach((s) => void s.worker.terminate()), 30_000);
    await Promise.all(exited);
    clearTimeout(stuck);
  }

  /** Stops the workers now, without saving: SQLite has every vector, the next open catches up. */
  terminate(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.shards) void s.worker.terminate();
    for (const p of this.pending.values()) p.reject(new Error('the ANN index was closed'));
    this.pending.clear();
  }

  /** Workers keep the process alive only while someone waits on them (a search, whenReady, close). */
  private updateRef(): void {
    const waiting = this.pending.size > 0 || this.stateWaiters.size > 0;
    for (const s of this.shards) {
      if (waiting) s.worker.ref();
      else s.worker.unref();
    }
  }

  private post(shard: number, message: AnnToWorker, transfer: ArrayBuffer[] = []): void {
    const s = this.shards[shard]!;
    if (s.exited) return;
    s.worker.postMessage(message, transfer);
  }

  private request(shard: number, make: (id: number) => AnnToWorker): Promise<Extract<AnnFromWorker, { type: 'reply' }>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.closed || this.shards[shard]!.exited) {
        reject(new Error('the ANN index was closed'));
        return;
      }
      this.pending.set(id, { resolve, reject });
      this.updateRef();
      this.post(shard, make(id));
    });
  }

  private onMessage(shard: Shard, m: AnnFromWorker): void {
    if (m.type === 'state') {
      shard.state = m;
      for (const wake of [...this.stateWaiters]) {
        this.stateWaiters.delete(wake);
        wake();
      }
      if (m.state === 'failed') {
        for (const p of this.pending.values()) p.reject(new Error(`the ANN index failed: ${m.error ?? 'its worker stopped'}`));
        this.pending.clear();
      }
      this.updateRef();
    } else if (m.type === 'reply') {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      this.updateRef();
      if (m.error) p.reject(new Error(m.error));
      else p.resolve(m);
    } else if (this.opts.log) {
      this.opts.log(m.message);
    } else if (m.message.includes('could not') || m.message.includes('stopped')) {
      console.error(`trove: ${m.message}`);
    }
  }
}

function emptyState(): Extract<AnnFromWorker, { type: 'state' }> {
  return { type: 'state', state: 'failed', count: 0, deleted: 0, progress: null, report: null, saving: false, error: null, capacity: 0 };
}
