// The approximate-nearest-neighbour index of one embedding model (or of one shard of it): hnswlib-node
// over a normalised Matryoshka prefix of the stored vectors. SQLite is the system of record; this is a
// cache that is saved atomically, verified against SQLite when opened (count and high-water label),
// caught up or repaired when SQLite moved on, and rebuilt from SQLite whenever it cannot be verified.
//
// Concurrency: every hnswlib-node call used here is synchronous on the calling thread, and the
// library is unsafe with concurrent add/search/resize. This class must have ONE owner and must not
// be called re-entrantly; then a resize can never race a search. The engine keeps it inside a worker
// thread (ann-worker-main.ts, one per shard), which is that owner. hnswlib's async readIndex/writeIndex
// are never used: they run on the libuv pool, race with adds, and a worker stopped while one runs
// aborts the process (the completion callback throws into a dying environment).
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { open as openAsync } from 'node:fs/promises';
import path from 'node:path';
import hnswlib from 'hnswlib-node';
import { normalisedPrefix } from './vector-codec.ts';
import type { AnnVectorSource } from './vectors-repo.ts';

const { HierarchicalNSW } = hnswlib;
type Hnsw = InstanceType<typeof HierarchicalNSW>;

export interface AnnParams {
  /** Matryoshka prefix length the index holds (the full vector is used for exact rescoring). */
  readonly prefix: number;
  /** HNSW graph degree. */
  readonly m: number;
  readonly efConstruction: number;
  /** Default search breadth (hnswlib's own default, 10, gives poor recall). */
  readonly ef: number;
}

/**
 * Chosen by bench/ann.ts, bench/ann-corpus.ts and bench/store-million.ts (numbers in
 * docs/store.md): prefix 256 keeps the index at ~1.2 KB per vector (≤ 1.5 GB at 1M items, RAM and
 * disk), and rescoring K' = 200 candidates per shard against the full int8 vectors recovers what
 * the shorter prefix loses. The prefix is clamped to the model's dimension for smaller models.
 */
export const DEFAULT_ANN_PARAMS: AnnParams = { prefix: 256, m: 16, efConstruction: 128, ef: 256 };

/**
 * K': how many ANN candidates each shard's worker rescores exactly against the full int8 vectors
 * (400 in all with two shards; at 1M items ef 256 / K' 200 reaches the recall that more breadth or
 * more candidates reach, see docs/store.md).
 */
export const DEFAULT_RESCORE_CANDIDATES = 200;

/** Rebuild once this share of the nodes are deletion marks (they still cost memory and search time). */
export const DEFAULT_COMPACT_AT = 0.15;
const MIN_CAPACITY = 1024;
const GROWTH = 1.5;
const META_FORMAT = 1;

export interface AnnOpenOptions {
  /** Folder for the index files (created if needed). */
  readonly dir: string;
  readonly modelId: number;
  /** The model's full dimension (stored vectors have this many codes). */
  readonly dims: number;
  readonly source: AnnVectorSource;
  readonly params?: Partial<AnnParams>;
  readonly compactAt?: number;
  /** hnswlib's level generator seed, for reproducible graphs in tests. */
  readonly seed?: number;
  /**
   * File stem: the meta is `<stem>.json`, index files `<stem>-<generation>.bin` (default
   * `ann-<modelId>`; a shard uses `ann-<modelId>-s<k>`).
   */
  readonly stem?: string;
}

export type AnnOpenAction = 'loaded' | 'caught-up' | 'repaired' | 'rebuilt';

export interface AnnOpenReport {
  readonly action: AnnOpenAction;
  /** Why it was not simply loaded, in words (empty when loaded). */
  readonly reason: string;
  readonly added: number;
  readonly deleted: number;
  readonly ms: number;
}

export interface AnnHit {
  readonly label: number;
  /** Inner product of the normalised prefixes (cosine over the prefix). */
  readonly similarity: number;
}

export interface AnnSearchOptions {
  readonly ef?: number;
  /**
   * Keeps only labels it returns true for. Applied in JS to over-fetched results: a callback
   * handed to hnswlib runs inside C++, where an exception aborts the process.
   */
  readonly filter?: (label: number) => boolean;
}

interface AnnMeta {
  format: number;
  modelId: number;
  dims: number;
  prefix: number;
  m: number;
  efConstruction: number;
  /** Live (not deleted) nodes. */
  count: number;
  deleted: number;
  /** Largest label ever added to the saved index. */
  highWater: number;
  file: string;
  bytes: number;
  sha256: string;
  savedAt: number;
}

/** What loading the saved index found: an open report, or why it must be rebuilt from SQLite. */
export type AnnLoadOutcome = { readonly report: AnnOpenReport } | { readonly rebuild: string };

/** Vectors added per step of a stepwise rebuild (about 0.1-0.7 ms each): a few hundred ms of work. */
const REBUILD_STEP = 512;

export class AnnIndex {
  readonly params: AnnParams;
  private index: Hnsw;
  private deletedCount = 0;
  private highWaterLabel = -1;
  private changedSinceSave = false;
  private lastReport: AnnOpenReport = { action: 'rebuilt', reason: 'not opened yet', added: 0, deleted: 0, ms: 0 };

  private constructor(
    private readonly opts: AnnOpenOptions,
    params: AnnParams,
  ) {
    this.params = params;
    this.index = this.emptyIndex(MIN_CAPACITY);
  }

  /** An empty index with the options' parameters (the defaults, prefix clamped to the model). */
  static create(opts: AnnOpenOptions): AnnIndex {
    const given = Object.fromEntries(Object.entries(opts.params ?? {}).filter(([, v]) => v !== undefined)) as Partial<AnnParams>;
    const params: AnnParams = { ...DEFAULT_ANN_PARAMS, prefix: Math.min(DEFAULT_ANN_PARAMS.prefix, opts.dims), ...given };
    if (!Number.isInteger(params.prefix) || params.prefix < 1 || params.prefix > opts.dims) {
      throw new RangeError(`ANN prefix must be an integer from 1 to the model's ${opts.dims} dimensions, got ${params.prefix}`);
    }
    return new AnnIndex(opts, params);
  }

  /**
   * Loads the saved index if it verifies (meta matches the parameters, file hash matches, counts
   * agree with SQLite), catching up or repairing small differences; otherwise rebuilds from
   * SQLite. An index that had to change is saved again before returning. All on the calling
   * thread: the engine does this inside its ANN worker (ann-worker-main.ts), rebuilding step by step.
   */
  static open(opts: AnnOpenOptions): AnnIndex {
    const ann = AnnIndex.create(opts);
    const t0 = performance.now();
    const outcome = ann.load();
    if ('report' in outcome) {
      ann.lastReport = outcome.report;
    } else {
      const added = ann.rebuild();
      ann.lastReport = { action: 'rebuilt', reason: outcome.rebuild, added, deleted: 0, ms: performance.now() - t0 };
    }
    if (ann.lastReport.action !== 'loaded') ann.save();
    return ann;
  }

  /** What `open` did, for logs and status. */
  get openReport(): AnnOpenReport {
    return this.lastReport;
  }

  set openReport(report: AnnOpenReport) {
    this.lastReport = report;
  }

  /** Live vectors in the index (deleted marks excluded): must equal the model's vector rows. */
  get count(): number {
    return this.index.getCurrentCount() - this.deletedCount;
  }

  get deleted(): number {
    return this.deletedCount;
  }

  get highWater(): number {
    return this.highWaterLabel;
  }

  get capacity(): number {
    return this.index.getMaxElements();
  }

  /** True when there are changes a `save()` would write. */
  get dirty(): boolean {
    return this.changedSinceSave;
  }

  get needsCompaction(): boolean {
    const total = this.index.getCurrentCount();
    return total > 0 && this.deletedCount / total > (this.opts.compactAt ?? DEFAULT_COMPACT_AT);
  }

  /**
   * Adds vectors under labels that SQLite handed out (VectorsRepo.put / writeIndexedFile).
   * `values` may be int8 codes or floats of the full dimension; the prefix is taken and normalised
   * here. Grows the capacity ×1.5 when needed.
   */
  add(entries: ReadonlyArray<{ readonly label: number; readonly values: ArrayLike<number> }>): void {
    if (entries.length === 0) return;
    this.ensureCapacity(this.index.getCurrentCount() + entries.length);
    for (const e of entries) {
      if (!Number.isInteger(e.label) || e.label < 0 || e.label > 0xffffffff) throw new RangeError(`ANN labels are uint32, got ${e.label}`);
      this.index.addPoint(normalisedPrefix(e.values, this.params.prefix), e.label);
      if (e.label > this.highWaterLabel) this.highWaterLabel = e.label;
    }
    this.changedSinceSave = true;
  }

  /** Marks labels deleted (they stop appearing in results); returns how many were live. */
  markDelete(labels: Iterable<number>): number {
    let n = 0;
    for (const label of labels) {
      try {
        this.index.markDelete(label);
        n++;
      } catch {
        // Unknown or already deleted: either way it is not in results any more.
      }
    }
    this.deletedCount += n;
    if (n) this.changedSinceSave = true;
    return n;
  }

  /**
   * The k nearest labels to `query` (a full-dimension or longer-than-prefix vector; only the
   * prefix is used), best first. With a filter, over-fetches ×4 until k pass or all were seen.
   */
  search(query: ArrayLike<number>, k: number, opts: AnnSearchOptions = {}): AnnHit[] {
    const live = this.count;
    if (live === 0 || k <= 0) return [];
    const q = normalisedPrefix(query, this.params.prefix);
    const ef = opts.ef ?? this.params.ef;
    let fetch = Math.min(live, opts.filter ? Math.max(k * 4, k + 32) : k);
    for (;;) {
      this.index.setEf(Math.max(ef, fetch));
      const r = this.index.searchKnn(q, fetch);
      const hits: AnnHit[] = [];
      for (let i = 0; i < r.neighbors.length; i++) {
        const label = r.neighbors[i]!;
        if (!opts.filter || opts.filter(label)) hits.push({ label, similarity: 1 - r.distances[i]! });
      }
      hits.sort((a, b) => b.similarity - a.similarity);
      if (hits.length >= k || fetch >= live) return hits.slice(0, k);
      fetch = Math.min(live, fetch * 4);
    }
  }

  /** Rebuilds from SQLite without the deletion marks. */
  compact(): void {
    this.rebuild();
  }

  /**
   * Writes the index to a new file, then its meta (naming that file) by write-to-temp + rename,
   * then removes older index files. A kill at any point leaves a meta that names a complete file.
   */
  save(): void {
    const { file, tmp } = this.nextFile();
    this.index.writeIndexSync(tmp);
    fsyncFile(tmp);
    this.publish(file, tmp, hashFile(tmp), this.snapshot());
  }

  /**
   * `save()` with the slow parts off the calling thread's event loop: hnswlib writes the file
   * synchronously (it must: its async writer runs on the libuv pool, and a worker thread stopped
   * while that runs aborts the whole process), then the fsync and the hash run on the libuv pool
   * (the hash in 8 MiB reads), during which the index may change freely: the meta records the state
   * the file was written from, and later changes keep the index dirty.
   */
  async saveAsync(): Promise<void> {
    const state = this.snapshot();
    const { file, tmp } = this.nextFile();
    this.index.writeIndexSync(tmp);
    const handle = await openAsync(tmp, 'r');
    let digest: { bytes: number; sha256: string };
    try {
      await handle.sync();
      const hash = createHash('sha256');
      const buf = Buffer.allocUnsafe(8 << 20);
      let bytes = 0;
      for (;;) {
        const { bytesRead } = await handle.read(buf, 0, buf.length, bytes);
        if (bytesRead === 0) break;
        hash.update(buf.subarray(0, bytesRead));
        bytes += bytesRead;
      }
      digest = { bytes, sha256: hash.digest('hex') };
    } finally {
      await handle.close();
    }
    this.publish(file, tmp, digest, state);
    if (this.count !== state.count || this.deletedCount !== state.deleted || this.highWaterLabel !== state.highWater) this.changedSinceSave = true;
  }

  /** Paths of the files this index reads and writes (meta; the index file it names). */
  get files(): { meta: string; dir: string } {
    return { meta: this.metaPath(), dir: this.opts.dir };
  }

  private get stem(): string {
    return this.opts.stem ?? `ann-${this.opts.modelId}`;
  }

  private metaPath(): string {
    return path.join(this.opts.dir, `${this.stem}.json`);
  }

  private snapshot(): { count: number; deleted: number; highWater: number } {
    return { count: this.count, deleted: this.deletedCount, highWater: this.highWaterLabel };
  }

  private nextFile(): { file: string; tmp: string } {
    mkdirSync(this.opts.dir, { recursive: true });
    const prefix = `${this.stem}-`;
    const previous = this.readMeta()?.file;
    let gen = Date.now();
    while (existsSync(path.join(this.opts.dir, `${prefix}${gen}.bin`)) || `${prefix}${gen}.bin` === previous) gen++;
    const file = `${prefix}${gen}.bin`;
    return { file, tmp: `${path.join(this.opts.dir, file)}.tmp` };
  }

  /** Renames the written, synced index file into place, then writes its meta, then drops older files. */
  private publish(file: string, tmp: string, digest: { bytes: number; sha256: string }, state: { count: number; deleted: number; highWater: number }): void {
    const dir = this.opts.dir;
    renameSync(tmp, path.join(dir, file));
    const meta: AnnMeta = {
      format: META_FORMAT,
      modelId: this.opts.modelId,
      dims: this.opts.dims,
      prefix: this.params.prefix,
      m: this.params.m,
      efConstruction: this.params.efConstruction,
      count: state.count,
      deleted: state.deleted,
      highWater: state.highWater,
      file,
      bytes: digest.bytes,
      sha256: digest.sha256,
      savedAt: Date.now(),
    };
    const metaPath = this.metaPath();
    writeFileSync(`${metaPath}.tmp`, JSON.stringify(meta, null, 2));
    fsyncFile(`${metaPath}.tmp`);
    renameSync(`${metaPath}.tmp`, metaPath);
    fsyncDir(dir);
    const prefix = `${this.stem}-`;
    for (const name of readdirSync(dir)) {
      if (name.startsWith(prefix) && name !== file && (name.endsWith('.bin') || name.endsWith('.tmp'))) {
        try {
          unlinkSync(path.join(dir, name));
        } catch {
          // Another file we could not remove is harmless: only the meta's file is ever read.
        }
      }
    }
    this.changedSinceSave = false;
  }

  private emptyIndex(capacity: number): Hnsw {
    const index = new HierarchicalNSW('ip', this.params.prefix);
    index.initIndex(capacity, this.params.m, this.params.efConstruction, this.opts.seed ?? 100);
    index.setEf(this.params.ef);
    return index;
  }

  private ensureCapacity(needed: number): void {
    const cap = this.index.getMaxElements();
    if (needed <= cap) return;
    // Safe only because this class is the index's sole owner: no search can be running.
    this.index.resizeIndex(Math.max(MIN_CAPACITY, Math.ceil(needed * GROWTH)));
  }

  private readMeta(): AnnMeta | null {
    try {
      const m = JSON.parse(readFileSync(this.metaPath(), 'utf8')) as AnnMeta;
      return m && typeof m === 'object' && m.format === META_FORMAT ? m : null;
    } catch {
      return null;
    }
  }

  private rebuild(): number {
    const rebuild = this.startRebuild();
    while (!rebuild.step()) {
      // Nothing between steps: the synchronous path (tests, AnnIndex.open).
    }
    return rebuild.finish();
  }

  /**
   * A rebuild from SQLite that runs a step at a time (REBUILD_STEP vectors each, read in label
   * order, each step its own short read), into a new graph while this one keeps serving. Between
   * steps the owner passes on what changes meanwhile: `added` and `deleted`. Labels only grow and
   * the writer hands them out inside its transaction, so once a step has read past a label, every
   * label below it that will ever be visible was visible then. Hence: a change to a label at or
   * below the cursor is already read (an addition) or is marked in the new graph (a deletion); a
   * change above it is applied now and remembered, and the steps skip such labels when they reach
   * them — whether the change's transaction committed before or after its message arrived.
   * `finish()` swaps the new graph in, without the old graph's deletion marks.
   */
  startRebuild(stepSize = REBUILD_STEP): AnnRebuild {
    const { source, modelId } = this.opts;
    const { count } = source.stats(modelId);
    const next = this.emptyIndex(Math.max(MIN_CAPACITY, Math.ceil(count * GROWTH)));
    const prefix = this.params.prefix;
    /** Labels above the cursor already settled by a message: added (in the graph) or deleted. */
    const early = new Set<number>();
    let cursor = -1;
    let highWater = -1;
    let nodes = 0;
    let marks = 0;
    let done = false;
    const addPoint = (values: ArrayLike<number>, label: number): void => {
      if (nodes + 1 > next.getMaxElements()) next.resizeIndex(Math.max(MIN_CAPACITY, Math.ceil((nodes + 1) * GROWTH)));
      next.addPoint(normalisedPrefix(values, prefix), label);
      nodes++;
      if (label > highWater) highWater = label;
    };
    return {
      total: count,
      get nodes() {
        return nodes;
      },
      step: (): boolean => {
        if (done) return true;
        const rows = source.codesAfter(modelId, cursor, stepSize);
        for (const row of rows) {
          cursor = row.label;
          if (early.delete(row.label)) continue;
          addPoint(row.codes, row.label);
        }
        if (cursor > highWater) highWater = cursor;
        done = rows.length < stepSize;
        return done;
      },
      added: (entries: ReadonlyArray<{ readonly label: number; readonly values: ArrayLike<number> }>): void => {
        for (const e of entries) {
          if (e.label <= cursor || early.has(e.label)) continue;
          addPoint(e.values, e.label);
          early.add(e.label);
        }
      },
      deleted: (labels: Iterable<number>): void => {
        for (const label of labels) {
          if (label > cursor && !early.has(label)) {
            early.add(label); // never to be added by a step
            continue;
          }
          try {
            next.markDelete(label);
            marks++;
          } catch {
            // Never read (deleted before its step), or deleted twice: nothing to mark.
          }
        }
      },
      finish: (): number => {
        if (!done) throw new Error('the ANN rebuild has steps left; call step() until it returns true');
        this.index = next;
        this.deletedCount = marks;
        this.highWaterLabel = highWater;
        this.changedSinceSave = true;
        return nodes - marks;
      },
    };
  }

  /**
   * Reads the saved index and reconciles it with SQLite (loaded / caught up / repaired), or says
   * why it must be rebuilt. Reads SQLite through `source`; a caller on another connection than the
   * writer's should hold one read transaction around this call, so every count sees one snapshot.
   */
  load(): AnnLoadOutcome {
    const t0 = performance.now();
    const outcome = this.loadAndReconcile();
    return 'rebuild' in outcome ? outcome : { report: { ...outcome, ms: performance.now() - t0 } };
  }

  private loadAndReconcile(): Omit<AnnOpenReport, 'ms'> | { rebuild: string } {
    const rebuilt = (reason: string) => ({ rebuild: reason });
    const { source, modelId } = this.opts;

    const meta = this.readMeta();
    if (!meta) return rebuilt('no saved index (or its meta file is unreadable)');
    const expected = { modelId, dims: this.opts.dims, prefix: this.params.prefix, m: this.params.m, efConstruction: this.params.efConstruction };
    for (const [key, value] of Object.entries(expected)) {
      if (meta[key as keyof AnnMeta] !== value) return rebuilt(`saved index has ${key} ${String(meta[key as keyof AnnMeta])}, wanted ${value}`);
    }
    const binPath = path.join(this.opts.dir, path.basename(meta.file));
    let actual: { bytes: number; sha256: string };
    try {
      actual = hashFile(binPath);
    } catch {
      return rebuilt(`index file ${meta.file} is missing`);
    }
    if (actual.bytes !== meta.bytes || actual.sha256 !== meta.sha256) return rebuilt(`index file ${meta.file} does not match its recorded hash (corrupt or truncated)`);
    const index = new HierarchicalNSW('ip', this.params.prefix);
    try {
      index.readIndexSync(binPath);
    } catch (e) {
      return rebuilt(`index file ${meta.file} could not be read: ${(e as Error).message}`);
    }
    if (index.getCurrentCount() !== meta.count + meta.deleted) return rebuilt(`index file holds ${index.getCurrentCount()} nodes, its meta says ${meta.count + meta.deleted}`);
    index.setEf(this.params.ef);
    this.index = index;
    this.deletedCount = meta.deleted;
    this.highWaterLabel = meta.highWater;

    const sql = source.stats(modelId);
    let result: Omit<AnnOpenReport, 'ms'>;
    if (sql.maxLabel <= meta.highWater && sql.count === meta.count) {
      result = { action: 'loaded', reason: '', added: 0, deleted: 0 };
    } else if (sql.maxLabel > meta.highWater && source.countAtOrBelow(modelId, meta.highWater) === meta.count) {
      // Only rows newer than the save are missing (a kill after commit, before the next save).
      let added = 0;
      const batch: Array<{ label: number; values: Int8Array }> = [];
      for (const row of source.iterateCodes(modelId, meta.highWater)) {
        batch.push({ label: row.label, values: row.codes });
        if (batch.length === 1024) {
          this.add(batch);
          added += batch.length;
          batch.length = 0;
        }
      }
      this.add(batch);
      added += batch.length;
      result = { action: 'caught-up', reason: `${added} vectors newer than the saved index`, added, deleted: 0 };
    } else {
      result = this.repair();
    }
    if (this.count !== sql.count) return rebuilt(`after ${result.action} the index holds ${this.count} live vectors but SQLite has ${sql.count}`);
    if (this.needsCompaction) return rebuilt(`${this.deletedCount} of ${this.index.getCurrentCount()} nodes are deletion marks`);
    return result;
  }

  /** Label-by-label diff against SQLite: marks vanished labels deleted, adds missing ones. */
  private repair(): Omit<AnnOpenReport, 'ms'> {
    const { source, modelId } = this.opts;
    const sqlLabels = source.labels(modelId);
    const inSql = new Set(sqlLabels);
    const inIndex = new Set(this.index.getIdsList());
    const vanished: number[] = [];
    for (const label of inIndex) if (!inSql.has(label)) vanished.push(label);
    const deleted = this.markDelete(vanished);
    const missing: number[] = [];
    for (const label of sqlLabels) if (!inIndex.has(label)) missing.push(label);
    for (let i = 0; i < missing.length; i += 1024) {
      this.add(source.codesByLabels(modelId, missing.slice(i, i + 1024)).map((r) => ({ label: r.label, values: r.codes })));
    }
    return { action: 'repaired', reason: `${vanished.length} vectors deleted and ${missing.length} added since the index was saved`, added: missing.length, deleted };
  }
}

/** A stepwise rebuild (AnnIndex.startRebuild). */
export interface AnnRebuild {
  /** Vectors SQLite held when it started (for progress). */
  readonly total: number;
  /** Nodes in the new graph so far. */
  readonly nodes: number;
  /** Adds the next REBUILD_STEP vectors; true once every vector was read. */
  step(): boolean;
  /** Vectors added meanwhile (also add them to the live index, if one serves). */
  added(entries: ReadonlyArray<{ readonly label: number; readonly values: ArrayLike<number> }>): void;
  /** Labels deleted meanwhile (also mark them in the live index). */
  deleted(labels: Iterable<number>): void;
  /** Swaps the new graph in; returns its live count. */
  finish(): number;
}

function fsyncFile(file: string): void {
  const fd = openSync(file, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Makes the renames durable; directories cannot be opened for fsync on Windows. */
function fsyncDir(dir: string): void {
  if (process.platform === 'win32') return;
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function hashFile(file: string): { bytes: number; sha256: string } {
  const bytes = statSync(file).size;
  const hash = createHash('sha256');
  const buf = Buffer.allocUnsafe(8 << 20);
  const fd = openSync(file, 'r');
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return { bytes, sha256: hash.digest('hex') };
}
