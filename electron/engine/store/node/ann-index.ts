// The approximate-nearest-neighbour index of one embedding model: hnswlib-node over a normalised
// Matryoshka prefix of the stored vectors. SQLite is the system of record; this is a cache that is
// saved atomically, verified against SQLite when opened (count and high-water label), caught up or
// repaired when SQLite moved on, and rebuilt from SQLite whenever it cannot be verified.
//
// Concurrency: every hnswlib-node call used here is synchronous on the calling thread, and the
// library is unsafe with concurrent add/search/resize. This class must have ONE owner (the
// process that owns the store) and must not be called re-entrantly; then a resize can never race
// a search. It deliberately never uses the async readIndex/writeIndex, which run on the libuv pool.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
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
 * Chosen by bench/ann.ts (numbers in docs/store.md): recall@10 0.975 against exact search with
 * K' = 100 rescoring, ~60× faster than brute force, ~2.1 KB of RAM per vector. The prefix is
 * clamped to the model's dimension for smaller models.
 */
export const DEFAULT_ANN_PARAMS: AnnParams = { prefix: 512, m: 16, efConstruction: 128, ef: 256 };

/** K': how many ANN candidates the search layer rescores exactly against the full int8 vectors. */
export const DEFAULT_RESCORE_CANDIDATES = 100;

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

export class AnnIndex {
  readonly params: AnnParams;
  private index: Hnsw;
  private deletedCount = 0;
  private highWaterLabel = -1;
  private changedSinceSave = false;
  private lastReport!: AnnOpenReport;

  private constructor(
    private readonly opts: AnnOpenOptions,
    params: AnnParams,
  ) {
    this.params = params;
    this.index = this.emptyIndex(MIN_CAPACITY);
  }

  /**
   * Loads the saved index if it verifies (meta matches the parameters, file hash matches, counts
   * agree with SQLite), catching up or repairing small differences; otherwise rebuilds from
   * SQLite. An index that had to change is saved again before returning.
   */
  static open(opts: AnnOpenOptions): AnnIndex {
    const given = Object.fromEntries(Object.entries(opts.params ?? {}).filter(([, v]) => v !== undefined)) as Partial<AnnParams>;
    const params: AnnParams = { ...DEFAULT_ANN_PARAMS, prefix: Math.min(DEFAULT_ANN_PARAMS.prefix, opts.dims), ...given };
    if (!Number.isInteger(params.prefix) || params.prefix < 1 || params.prefix > opts.dims) {
      throw new RangeError(`ANN prefix must be an integer from 1 to the model's ${opts.dims} dimensions, got ${params.prefix}`);
    }
    const ann = new AnnIndex(opts, params);
    const t0 = performance.now();
    const outcome = ann.loadAndReconcile();
    ann.lastReport = { ...outcome, ms: performance.now() - t0 };
    if (outcome.action !== 'loaded') ann.save();
    return ann;
  }

  /** What `open` did, for logs and status. */
  get openReport(): AnnOpenReport {
    return this.lastReport;
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
    const dir = this.opts.dir;
    mkdirSync(dir, { recursive: true });
    const prefix = `ann-${this.opts.modelId}-`;
    const previous = this.readMeta()?.file;
    let gen = Date.now();
    while (existsSync(path.join(dir, `${prefix}${gen}.bin`)) || `${prefix}${gen}.bin` === previous) gen++;
    const file = `${prefix}${gen}.bin`;
    const binPath = path.join(dir, file);
    const tmp = `${binPath}.tmp`;
    this.index.writeIndexSync(tmp);
    fsyncFile(tmp);
    const { bytes, sha256 } = hashFile(tmp);
    renameSync(tmp, binPath);
    const meta: AnnMeta = {
      format: META_FORMAT,
      modelId: this.opts.modelId,
      dims: this.opts.dims,
      prefix: this.params.prefix,
      m: this.params.m,
      efConstruction: this.params.efConstruction,
      count: this.count,
      deleted: this.deletedCount,
      highWater: this.highWaterLabel,
      file,
      bytes,
      sha256,
      savedAt: Date.now(),
    };
    const metaPath = this.metaPath();
    writeFileSync(`${metaPath}.tmp`, JSON.stringify(meta, null, 2));
    fsyncFile(`${metaPath}.tmp`);
    renameSync(`${metaPath}.tmp`, metaPath);
    fsyncDir(dir);
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

  /** Paths of the files this index reads and writes (meta; the index file it names). */
  get files(): { meta: string; dir: string } {
    return { meta: this.metaPath(), dir: this.opts.dir };
  }

  private metaPath(): string {
    return path.join(this.opts.dir, `ann-${this.opts.modelId}.json`);
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
    const { source, modelId } = this.opts;
    const { count } = source.stats(modelId);
    this.index = this.emptyIndex(Math.max(MIN_CAPACITY, Math.ceil(count * GROWTH)));
    this.deletedCount = 0;
    this.highWaterLabel = -1;
    let added = 0;
    for (const row of source.iterateCodes(modelId)) {
      this.ensureCapacity(added + 1);
      this.index.addPoint(normalisedPrefix(row.codes, this.params.prefix), row.label);
      this.highWaterLabel = row.label;
      added++;
    }
    this.changedSinceSave = true;
    return added;
  }

  private loadAndReconcile(): Omit<AnnOpenReport, 'ms'> {
    const rebuilt = (reason: string): Omit<AnnOpenReport, 'ms'> => ({ action: 'rebuilt', reason, added: this.rebuild(), deleted: 0 });
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
