// The engine's handle on its data folder: the lock, the writer connection, the repositories and
// one ANN index per embedding model (opened on demand in worker threads, verified against SQLite
// there, so a million-vector index loads, rebuilds and saves without blocking the engine).
import { mkdirSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import type { AnnParams } from './ann-index.ts';
import { AnnHandle } from './ann-handle.ts';
import { openReader, openWriter, type Db } from './database.ts';
import { dataDirLayout, lockDataDir, type DataDirLock } from './data-dir.ts';
import { FilesRepo } from './files-repo.ts';
import { writeIndexedFile, type IndexedFile, type IndexedFileWrite } from './indexed-file-writer.ts';
import { ItemsRepo } from './items-repo.ts';
import { RootsRepo } from './roots-repo.ts';
import { StagingRepo } from './staging-repo.ts';
import { VectorsRepo, type AnnLabelsByModel } from './vectors-repo.ts';
import { nearestItems, type NearestItem, type NearestOptions } from './vector-search.ts';

export class Store {
  readonly roots: RootsRepo;
  readonly files: FilesRepo;
  readonly items: ItemsRepo;
  readonly vectors: VectorsRepo;
  readonly staging: StagingRepo;
  private readonly anns = new Map<number, AnnHandle>();
  private closed = false;

  private constructor(
    readonly dataDir: string,
    readonly db: Db,
    private readonly lock: DataDirLock,
    /** A read-only look (`trove status`, `trove search`): the ANN index files are never written. */
    readonly snapshot: boolean,
  ) {
    this.roots = new RootsRepo(db);
    this.files = new FilesRepo(db);
    this.items = new ItemsRepo(db);
    this.vectors = new VectorsRepo(db);
    this.staging = new StagingRepo(db);
  }

  /**
   * Locks `dataDir` (creating it), opens and migrates the database. Throws if another engine holds
   * it. `snapshot`: a read-only look at the library (the caller writes nothing either): the ANN
   * indexes load, catch up or build in memory and are never saved, and a model without a row gets
   * an empty index instead of an error (see `ann`).
   */
  static open(dataDir: string, opts: { snapshot?: boolean } = {}): Store {
    const lock = lockDataDir(dataDir);
    try {
      const layout = dataDirLayout(dataDir);
      if (!opts.snapshot) mkdirSync(layout.annDir, { recursive: true });
      return new Store(dataDir, openWriter(layout.database), lock, opts.snapshot ?? false);
    } catch (e) {
      lock.release();
      throw e;
    }
  }

  /** A read-only connection for a search worker (any number may be open beside the writer). */
  static openReadOnly(dataDir: string): Db {
    return openReader(dataDirLayout(dataDir).database);
  }

  /**
   * The model's ANN index. The first call starts its workers, which load (verify, catch up or
   * rebuild) it in the background: `status.state` says where that stands, `search` answers null
   * until it can search. `params` and `tuning` apply to that first call (tests use small ones).
   * In a snapshot, a model the store has no row for (never registered: it has no vectors) gets an
   * empty index that is ready at once.
   */
  ann(modelId: number, params?: Partial<AnnParams>, tuning: { shards?: number; rebuildStep?: number } = {}): AnnHandle {
    let ann = this.anns.get(modelId);
    if (!ann) {
      const model = this.vectors.model(modelId);
      if (!model && this.snapshot) {
        ann = AnnHandle.empty(modelId, 0);
        this.anns.set(modelId, ann);
        return ann;
      }
      if (!model) throw new Error(`there is no model ${modelId}; register it with vectors.ensureModel first`);
      const layout = dataDirLayout(this.dataDir);
      if (!this.snapshot) removeUnshardedAnnFiles(layout.annDir, modelId);
      ann = new AnnHandle({ database: layout.database, annDir: layout.annDir, modelId, dims: model.dims, params, readOnly: this.snapshot, ...tuning });
      this.anns.set(modelId, ann);
    }
    return ann;
  }

  /**
   * Semantic candidates: ANN on the prefix + exact rescoring, filters applied during the search.
   * Null while the ANN index is still loading or building and the filters leave too many vectors
   * to score them all exactly.
   */
  nearest(modelId: number, query: ArrayLike<number>, opts: NearestOptions): Promise<NearestItem[] | null> {
    return nearestItems(this.ann(modelId), this.vectors, modelId, query, opts);
  }

  /**
   * Commits a file's items and vectors (one transaction), then updates the open ANN indexes:
   * the new labels are added and the replaced ones marked deleted.
   */
  commitIndexedFile(file: IndexedFile): IndexedFileWrite {
    const result = writeIndexedFile(this.db, file);
    this.forgetLabels(result.removed);
    if (file.modelId != null && result.added.length) {
      const ann = this.anns.get(file.modelId);
      ann?.add(result.added.map((a) => ({ label: a.label, values: a.vector.codes })));
    }
    return result;
  }

  /** Marks labels removed from SQLite (by a file or root removal) deleted in the open indexes. */
  forgetLabels(removed: AnnLabelsByModel): void {
    for (const [modelId, labels] of removed) this.anns.get(modelId)?.markDelete(labels);
  }

  /**
   * Asks every ANN index to save its unsaved changes, off the engine's thread (rate-limited; an
   * index past the deletion threshold is compacted instead). Returns at once; `saveAnnNow` waits.
   */
  saveAnn(): void {
    for (const ann of this.anns.values()) {
      ann.save().catch((error: unknown) => console.error(`trove: the ANN index could not be saved: ${error instanceof Error ? error.message : String(error)}`));
    }
  }

  /** Saves every ANN index now (not rate-limited) and waits for it. */
  async saveAnnNow(): Promise<void> {
    await Promise.all([...this.anns.values()].map((ann) => ann.save(true)));
  }

  /** Resolves once every open ANN index can search and has applied every change posted so far. */
  async annSettled(): Promise<void> {
    await Promise.all(
      [...this.anns.values()].map(async (ann) => {
        try {
          await ann.whenReady();
          await ann.settled();
        } catch {
          // A failed index answers searches with null (keyword fallback); nothing to wait for.
        }
      }),
    );
  }

  /** Saves the ANN indexes that have changes and stops their workers (before `close`). */
  async closeAnn(): Promise<void> {
    const anns = [...this.anns.values()];
    this.anns.clear();
    await Promise.all(anns.map((ann) => ann.close(true)));
  }

  /**
   * Forgets a model: its vectors (by cascade), its row and its ANN files. Used when a model switch
   * completes, so the old model's vectors never mix with the new ones and their disk is freed.
   * A kill between the SQLite delete and the file removal leaves only unreferenced ANN files,
   * which nothing reads (a new model gets a new id).
   */
  dropModel(modelId: number): void {
    this.anns.get(modelId)?.terminate();
    this.anns.delete(modelId);
    this.db.prepare('DELETE FROM models WHERE id = ?').run(modelId);
    const annDir = dataDirLayout(this.dataDir).annDir;
    for (const name of readdirSync(annDir)) {
      // Its meta (ann-<id>.json, and a .tmp of it) and its index files (ann-<id>-<generation>.bin).
      if (name.startsWith(`ann-${modelId}.json`) || name.startsWith(`ann-${modelId}-`)) {
        try {
          unlinkSync(path.join(annDir, name));
        } catch {
          // Unreferenced once the row is gone; a leftover file costs only disk.
        }
      }
    }
  }

  /** Bytes on disk: database (with WAL) and ANN files. Thumbnails live in the database. */
  diskBytes(): number {
    return dataDirDiskBytes(this.dataDir);
  }

  /**
   * Checkpoints the WAL, closes the database and releases the lock. ANN workers still open are
   * stopped without saving (call `closeAnn` first to save): SQLite holds every vector, and the
   * next open catches the index up.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const ann of this.anns.values()) ann.terminate();
    this.anns.clear();
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      this.db.close();
      this.lock.release();
    }
  }
}

/**
 * Index files from before the index was sharded (ann-<model>.json, ann-<model>-<generation>.bin):
 * never read again, so their disk is freed.
 */
function removeUnshardedAnnFiles(annDir: string, modelId: number): void {
  let names: string[];
  try {
    names = readdirSync(annDir);
  } catch {
    return;
  }
  for (const name of names) {
    if (name === `ann-${modelId}.json` || new RegExp(`^ann-${modelId}-\\d+\\.bin(\\.tmp)?$`).test(name)) {
      try {
        unlinkSync(path.join(annDir, name));
      } catch {
        // Left behind: costs disk only.
      }
    }
  }
}

/** Bytes a data folder takes on disk (database with its WAL, ANN files), read without opening it. */
export function dataDirDiskBytes(dataDir: string): number {
  let total = 0;
  const sizeOf = (p: string) => {
    try {
      return statSync(p).size;
    } catch {
      return 0;
    }
  };
  const layout = dataDirLayout(dataDir);
  for (const suffix of ['', '-wal', '-shm']) total += sizeOf(layout.database + suffix);
  try {
    for (const name of readdirSync(layout.annDir)) total += sizeOf(path.join(layout.annDir, name));
  } catch {
    // No ANN folder yet.
  }
  return total;
}
