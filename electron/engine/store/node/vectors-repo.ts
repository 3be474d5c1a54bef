// Embedding models and their vectors. Each vector row holds the full-dimension int8 codes (the
// system of record for exact rescoring) and the ANN label under which the model's HNSW index
// knows it. Labels come from models.next_ann_label and are never reused.
import type { SearchFilters } from '../../../contract/common/entities.ts';
import type { Db } from './database.ts';
import { filterSql } from './items-repo.ts';
import { blobToCodes, codesToBlob, type Int8Vector } from './vector-codec.ts';

export interface ModelRecord {
  readonly id: number;
  readonly name: string;
  readonly packagePath: string;
  readonly manifestSha: string;
  readonly dims: number;
}

export interface NewModel {
  readonly name: string;
  readonly packagePath: string;
  readonly manifestSha: string;
  readonly dims: number;
}

export interface StoredVector extends Int8Vector {
  readonly itemId: number;
  readonly label: number;
}

/** ANN labels per model id, e.g. the ones a delete removed, to pass to `AnnIndex.markDelete`. */
export type AnnLabelsByModel = Map<number, number[]>;

/** What the ANN index needs from SQLite to check, catch up and rebuild itself. */
export interface AnnVectorSource {
  /** Live vector rows of the model and the largest label among them (-1 when none). */
  stats(modelId: number): { count: number; maxLabel: number };
  /** Rows with a label ≤ `label`: with `stats`, tells "only newer rows are missing" apart from "rows were deleted". */
  countAtOrBelow(modelId: number, label: number): number;
  /** Every live label, ascending. */
  labels(modelId: number): Uint32Array;
  /** Codes of the given labels (missing ones are skipped). */
  codesByLabels(modelId: number, labels: readonly number[]): Array<{ label: number; codes: Int8Array }>;
  /** All rows with label > `afterLabel`, in label order, streamed. */
  iterateCodes(modelId: number, afterLabel?: number): IterableIterator<{ label: number; codes: Int8Array }>;
  /** The next `limit` rows with label > `afterLabel`, in label order (one short read). */
  codesAfter(modelId: number, afterLabel: number, limit: number): Array<{ label: number; codes: Int8Array }>;
}

interface ModelRow {
  id: number;
  name: string;
  package_path: string;
  manifest_sha: string;
  dims: number;
}

const toModel = (r: ModelRow): ModelRecord => ({ id: r.id, name: r.name, packagePath: r.package_path, manifestSha: r.manifest_sha, dims: r.dims });

/** ANN labels of the vectors under the files matched by `where` (over `files f`), grouped by model. */
export function annLabelsWhere(db: Db, where: string, ...params: unknown[]): AnnLabelsByModel {
  const rows = db
    .prepare<{ model_id: number; ann_label: number }>(
      `SELECT v.model_id, v.ann_label FROM vectors v JOIN items i ON i.id = v.item_id JOIN files f ON f.id = i.file_id WHERE ${where}`,
    )
    .all(...params);
  const out: AnnLabelsByModel = new Map();
  for (const r of rows) {
    let list = out.get(r.model_id);
    if (!list) out.set(r.model_id, (list = []));
    list.push(r.ann_label);
  }
  return out;
}

/**
 * The model id of an embedder a read-only look loaded without registering it (the library has
 * never used it): no row has it (ids start at 1), so it has no vectors and an empty ANN index.
 */
export const UNREGISTERED_MODEL_ID = 0;

export class VectorsRepo implements AnnVectorSource {
  constructor(private readonly db: Db) {}

  /**
   * The model row for this package (matched by manifest hash) as stored, writing nothing (a
   * read-only look); null when the library has never used it. Throws if the dimensions disagree.
   */
  findModel(model: Pick<NewModel, 'name' | 'manifestSha' | 'dims'>): ModelRecord | null {
    const existing = this.db.prepare<ModelRow>('SELECT * FROM models WHERE manifest_sha = ?').get(model.manifestSha);
    if (!existing) return null;
    if (existing.dims !== model.dims) throw new Error(`model ${model.name} (${model.manifestSha}) was recorded with ${existing.dims} dimensions, now ${model.dims}; the package is inconsistent — rebuild it`);
    return toModel(existing);
  }

  /** The model row for this package (matched by manifest hash), created on first use. */
  ensureModel(model: NewModel, now = Date.now()): ModelRecord {
    const existing = this.db.prepare<ModelRow>('SELECT * FROM models WHERE manifest_sha = ?').get(model.manifestSha);
    if (existing) {
      if (existing.dims !== model.dims) throw new Error(`model ${model.name} (${model.manifestSha}) was recorded with ${existing.dims} dimensions, now ${model.dims}; the package is inconsistent — rebuild it`);
      if (existing.package_path !== model.packagePath) this.db.prepare('UPDATE models SET package_path = ? WHERE id = ?').run(model.packagePath, existing.id);
      return toModel({ ...existing, package_path: model.packagePath });
    }
    const row = this.db
      .prepare<ModelRow>('INSERT INTO models (name, package_path, manifest_sha, dims, added_at) VALUES (?, ?, ?, ?, ?) RETURNING *')
      .get(model.name, model.packagePath, model.manifestSha, model.dims, now)!;
    return toModel(row);
  }

  /**
   * Gives model `modelId` the identity of a rebuilt package that computes the same vectors (a
   * package update that changes only how the graphs are laid out, docs/model-setup.md#package-updates),
   * so its vectors and ANN index stay its own. A row already holding `manifestSha` with no
   * vectors (a failed earlier attempt loaded the package) is removed first.
   */
  adoptManifest(modelId: number, manifestSha: string, packagePath: string): void {
    this.db.transaction(() => {
      const other = this.db.prepare<{ id: number }>('SELECT id FROM models WHERE manifest_sha = ? AND id != ?').get(manifestSha, modelId);
      if (other) {
        if (this.count(other.id) > 0) throw new Error(`model ${other.id} already has the manifest ${manifestSha} and vectors of its own; the update cannot adopt it`);
        this.db.prepare('DELETE FROM models WHERE id = ?').run(other.id);
      }
      const changed = this.db.prepare('UPDATE models SET manifest_sha = ?, package_path = ? WHERE id = ?').run(manifestSha, packagePath, modelId).changes;
      if (changed !== 1) throw new Error(`there is no model ${modelId} to give the rebuilt package's identity`);
    })();
  }

  models(): ModelRecord[] {
    return this.db.prepare<ModelRow>('SELECT * FROM models ORDER BY id').all().map(toModel);
  }

  model(id: number): ModelRecord | null {
    const r = this.db.prepare<ModelRow>('SELECT * FROM models WHERE id = ?').get(id);
    return r ? toModel(r) : null;
  }

  /**
   * Stores (or replaces) an item's vector under a fresh ANN label and returns that label. Call
   * inside the caller's transaction; the label counter moves in the same transaction.
   */
  put(modelId: number, itemId: number, vector: Int8Vector): number {
    const m = this.db.prepare<{ dims: number; next_ann_label: number }>('SELECT dims, next_ann_label FROM models WHERE id = ?').get(modelId);
    if (!m) throw new Error(`there is no model ${modelId}; call ensureModel first`);
    if (vector.codes.length !== m.dims) throw new Error(`model ${modelId} has ${m.dims} dimensions but the vector for item ${itemId} has ${vector.codes.length}`);
    if (!Number.isFinite(vector.scale)) throw new Error(`the vector for item ${itemId} has scale ${vector.scale}; quantise a finite embedding`);
    const label = m.next_ann_label;
    if (label > 0xffffffff) throw new Error(`model ${modelId} ran out of ANN labels; rebuild the store for this model`);
    this.db.prepare('UPDATE models SET next_ann_label = ? WHERE id = ?').run(label + 1, modelId);
    // An upsert, not INSERT OR REPLACE: the replace's implicit delete would fire no trigger and
    // the kept vector count (migration 4) would drift.
    this.db
      .prepare(
        `INSERT INTO vectors (item_id, model_id, dims, codes, scale, ann_label) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (item_id, model_id) DO UPDATE SET dims = excluded.dims, codes = excluded.codes, scale = excluded.scale, ann_label = excluded.ann_label`,
      )
      .run(itemId, modelId, m.dims, codesToBlob(vector.codes), vector.scale, label);
    return label;
  }

  /** Vectors of these items, for exact rescoring and "more like this". */
  byItemIds(modelId: number, itemIds: readonly number[]): Map<number, StoredVector> {
    return this.selectIn('item_id', modelId, itemIds);
  }

  /** Vectors behind ANN hits: label -> item id and full codes. */
  byLabels(modelId: number, labels: readonly number[]): Map<number, StoredVector> {
    return this.selectIn('ann_label', modelId, labels);
  }

  private selectIn(column: 'item_id' | 'ann_label', modelId: number, keys: readonly number[]): Map<number, StoredVector> {
    const out = new Map<number, StoredVector>();
    // json_each keeps it one statement for any number of keys (no 32k bound-parameter limit).
    const rows = this.db
      .prepare<{ item_id: number; ann_label: number; codes: Buffer; scale: number }>(
        `SELECT item_id, ann_label, codes, scale FROM vectors WHERE model_id = ? AND ${column} IN (SELECT value FROM json_each(?))`,
      )
      .all(modelId, JSON.stringify(keys));
    for (const r of rows) {
      const v: StoredVector = { itemId: r.item_id, label: r.ann_label, codes: blobToCodes(r.codes), scale: r.scale };
      out.set(column === 'item_id' ? r.item_id : r.ann_label, v);
    }
    return out;
  }

  /** Labels of the model's vectors whose items pass the filters (to filter ANN hits, or to search a small set exactly). */
  labelsPassing(modelId: number, filters: SearchFilters): Set<number> {
    const f = filterSql(filters);
    const labels = this.db
      .prepare(`SELECT v.ann_label FROM vectors v JOIN items i ON i.id = v.item_id JOIN files f ON f.id = i.file_id WHERE v.model_id = ? AND ${f.sql}`)
      .pluck()
      .all(modelId, ...f.params) as number[];
    return new Set(labels);
  }

  /** An item's stored vector as floats (code × scale): the query for "more like this". */
  dequantised(modelId: number, itemId: number): Float32Array | null {
    const v = this.byItemIds(modelId, [itemId]).get(itemId);
    return v ? Float32Array.from(v.codes, (c) => c * v.scale) : null;
  }

  /** Vectors of one model (or of all), from the counts migration 4's triggers keep (O(1)). */
  count(modelId?: number): number {
    return modelId === undefined
      ? (this.db.prepare('SELECT coalesce(sum(n), 0) FROM vector_counts').pluck().get() as number)
      : ((this.db.prepare('SELECT n FROM vector_counts WHERE model_id = ?').pluck().get(modelId) as number | undefined) ?? 0);
  }

  stats(modelId: number): { count: number; maxLabel: number } {
    // max() over the (model_id, ann_label) unique index is one seek.
    const max = this.db.prepare('SELECT max(ann_label) FROM vectors WHERE model_id = ?').pluck().get(modelId) as number | null;
    return { count: this.count(modelId), maxLabel: max ?? -1 };
  }

  countAtOrBelow(modelId: number, label: number): number {
    return this.db.prepare('SELECT count(*) FROM vectors WHERE model_id = ? AND ann_label <= ?').pluck().get(modelId, label) as number;
  }

  labels(modelId: number): Uint32Array {
    const list = this.db.prepare('SELECT ann_label FROM vectors WHERE model_id = ? ORDER BY ann_label').pluck().all(modelId) as number[];
    return Uint32Array.from(list);
  }

  codesByLabels(modelId: number, labels: readonly number[]): Array<{ label: number; codes: Int8Array }> {
    return [...this.byLabels(modelId, labels).values()].map((v) => ({ label: v.label, codes: v.codes }));
  }

  *iterateCodes(modelId: number, afterLabel = -1): IterableIterator<{ label: number; codes: Int8Array }> {
    const rows = this.db
      .prepare<{ ann_label: number; codes: Buffer }>('SELECT ann_label, codes FROM vectors WHERE model_id = ? AND ann_label > ? ORDER BY ann_label')
      .iterate(modelId, afterLabel);
    for (const r of rows) yield { label: r.ann_label, codes: blobToCodes(r.codes) };
  }

  codesAfter(modelId: number, afterLabel: number, limit: number): Array<{ label: number; codes: Int8Array }> {
    return this.db
      .prepare<{ ann_label: number; codes: Buffer }>('SELECT ann_label, codes FROM vectors WHERE model_id = ? AND ann_label > ? ORDER BY ann_label LIMIT ?')
      .all(modelId, afterLabel, limit)
      .map((r) => ({ label: r.ann_label, codes: blobToCodes(r.codes) }));
  }

  /** Deletes the vectors of a file's items (all models); returns their labels. */
  deleteByFile(fileId: number): AnnLabelsByModel {
    return this.db.transaction(() => {
      const labels = annLabelsWhere(this.db, 'f.id = ?', fileId);
      this.db.prepare('DELETE FROM vectors WHERE item_id IN (SELECT id FROM items WHERE file_id = ?)').run(fileId);
      return labels;
    })();
  }
}
