// The commit point of indexing a file: its items, keyword rows (by trigger), thumbnails, vectors
// and its `indexed` status are written in ONE transaction, so after any kill a file is either
// fully searchable with its new content or still has its previous state. The ANN index is told
// afterwards (add the new labels, markDelete the replaced ones); if the process dies in between,
// the index's check at start finds the difference from SQLite and catches up.
import type { Db } from './database.ts';
import { ItemsRepo, type NewItem } from './items-repo.ts';
import type { Int8Vector } from './vector-codec.ts';
import { annLabelsWhere, VectorsRepo, type AnnLabelsByModel } from './vectors-repo.ts';

export interface IndexedItem extends NewItem {
  /** The item's embedding; absent for keyword-only items (e.g. while no model is installed). */
  readonly vector?: Int8Vector | null;
}

export interface IndexedFile {
  readonly fileId: number;
  /** The model the vectors belong to; required when any item has a vector. */
  readonly modelId?: number | null;
  /**
   * The fingerprint the items were extracted from. If the file's row now has another one (it
   * changed while being indexed), nothing is written and the call throws `StaleFileError`.
   */
  readonly fingerprint?: string | null;
  readonly items: readonly IndexedItem[];
}

export interface IndexedFileWrite {
  readonly itemIds: number[];
  /** The new vectors' labels, in item order (items without vectors are skipped); add these to the ANN. */
  readonly added: Array<{ itemId: number; label: number; vector: Int8Vector }>;
  /** Labels of the vectors this replaced; markDelete these in the ANN. */
  readonly removed: AnnLabelsByModel;
}

export class StaleFileError extends Error {}

export function writeIndexedFile(db: Db, file: IndexedFile, now = Date.now()): IndexedFileWrite {
  const items = new ItemsRepo(db);
  const vectors = new VectorsRepo(db);
  return db.transaction(() => {
    const row = db.prepare<{ fingerprint: string | null }>('SELECT fingerprint FROM files WHERE id = ?').get(file.fileId);
    if (!row) throw new StaleFileError(`file ${file.fileId} was removed while it was being indexed; drop its results`);
    if (file.fingerprint != null && row.fingerprint != null && row.fingerprint !== file.fingerprint) {
      throw new StaleFileError(`file ${file.fileId} changed while it was being indexed (fingerprint ${row.fingerprint}, indexed ${file.fingerprint}); index it again`);
    }
    const removed = annLabelsWhere(db, 'f.id = ?', file.fileId);
    const itemIds = items.replaceForFile(file.fileId, file.items);
    const added: IndexedFileWrite['added'] = [];
    file.items.forEach((item, i) => {
      if (!item.vector) return;
      if (file.modelId == null) throw new Error(`item ${i} of file ${file.fileId} has a vector but no modelId was given; pass the model the vectors came from`);
      added.push({ itemId: itemIds[i]!, label: vectors.put(file.modelId, itemIds[i]!, item.vector), vector: item.vector });
    });
    db.prepare(`UPDATE files SET status = 'indexed', error = NULL, attempts = 0, retry_at_start = 0, fingerprint = coalesce(?, fingerprint), updated_at = ? WHERE id = ?`).run(file.fingerprint ?? null, now, file.fileId);
    db.prepare('DELETE FROM staged_items WHERE file_id = ?').run(file.fileId);
    return { itemIds, added, removed };
  }).immediate();
}
