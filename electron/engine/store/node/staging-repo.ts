// The job journal's payload (issue 5). `files.status` says where a file stands; these rows hold
// the work already done for it, so a kill loses nothing finished: extraction stages every item
// (status `extracted`), embedding fills in each item's vector as it is computed (a 2,000-page PDF
// resumes at the first page without one), and `writeIndexedFile` moves them into items/vectors
// and deletes them in the commit transaction. Rows from an older fingerprint are stale: a changed
// file's staging is cleared by FilesRepo.upsertScanned.
//
// Deferred items (PDF pages, drawn only when about to be embedded) are staged without text or
// thumbnail; `completeItem` fills those in with the item's vector, or `settleItem` records that the
// item was drawn but cannot be embedded. A row is *settled* for a model when `model_id` is that
// model: with codes (its vector) or without (nothing to embed).
import type { Locator } from '../../../contract/common/entities.ts';
import type { Db } from './database.ts';
import type { IndexedItem } from './indexed-file-writer.ts';
import type { ItemKind, NewItem } from './items-repo.ts';
import { blobToCodes, codesToBlob, type Int8Vector } from './vector-codec.ts';

interface StagedRow {
  ordinal: number;
  kind: ItemKind;
  locator_json: string;
  text: string | null;
  date: number;
  thumb_mime: string | null;
  thumb_width: number | null;
  thumb_height: number | null;
  thumb: Buffer | null;
  model_id: number | null;
  codes: Buffer | null;
  scale: number | null;
}

export interface StagedFile {
  readonly items: IndexedItem[];
  /** Ordinals still without a vector for the model asked about. */
  readonly unembedded: number[];
}

/** Where each staged item of a file stands, without its text and thumbnail (cheap for 2,000 pages). */
export interface StagedProgress {
  readonly items: ReadonlyArray<Pick<IndexedItem, 'kind' | 'locator' | 'date' | 'vector'> & { readonly settled: boolean }>;
}

export class StagingRepo {
  constructor(private readonly db: Db) {}

  /** Records a file's extracted items (replacing earlier staging) and moves it to `extracted`. */
  stageExtracted(fileId: number, fingerprint: string, items: readonly NewItem[]): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM staged_items WHERE file_id = ?').run(fileId);
      const insert = this.db.prepare(
        `INSERT INTO staged_items (file_id, fingerprint, ordinal, kind, locator_json, text, date, thumb_mime, thumb_width, thumb_height, thumb)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      items.forEach((it, ordinal) => {
        const t = it.thumbnail ?? null;
        insert.run(fileId, fingerprint, ordinal, it.kind, JSON.stringify(it.locator), it.text ?? null, Math.round(it.date), t?.mime ?? null, t?.width ?? null, t?.height ?? null, t?.bytes ?? null);
      });
      this.db.prepare(`UPDATE files SET status = 'extracted', error = NULL, updated_at = ? WHERE id = ?`).run(Date.now(), fileId);
    })();
  }

  /**
   * Records one item's embedding; when every staged item is settled for the model (embedded, or
   * drawn and found not embeddable), the file moves to `embedded`.
   */
  stageVector(fileId: number, ordinal: number, modelId: number, vector: Int8Vector, options: { readonly promote?: boolean } = {}): void {
    this.db.transaction(() => {
      const r = this.db.prepare('UPDATE staged_items SET model_id = ?, codes = ?, scale = ? WHERE file_id = ? AND ordinal = ?').run(modelId, codesToBlob(vector.codes), vector.scale, fileId, ordinal);
      if (r.changes === 0) throw new Error(`file ${fileId} has no staged item ${ordinal}; stage its extraction first`);
      if (options.promote ?? true) this.promoteIfEmbedded(fileId, modelId);
    })();
  }

  /**
   * Marks the file `embedded` once every staged item is settled for `modelId`. The check reads all
   * of the file's staged rows, so a caller staging many vectors of one file (2,000 text chunks)
   * stages them with `promote: false` and calls this once per batch.
   */
  promoteIfEmbedded(fileId: number, modelId: number): void {
    const left = this.db.prepare('SELECT count(*) FROM staged_items WHERE file_id = ? AND (model_id IS NULL OR model_id != ?)').pluck().get(fileId, modelId) as number;
    if (left === 0) this.db.prepare(`UPDATE files SET status = 'embedded', updated_at = ? WHERE id = ?`).run(Date.now(), fileId);
  }

  /** Fills in a deferred item's text and thumbnail (made when it was drawn). */
  completeItem(fileId: number, ordinal: number, content: Pick<NewItem, 'text' | 'thumbnail'>): void {
    const t = content.thumbnail ?? null;
    const r = this.db
      .prepare('UPDATE staged_items SET text = ?, thumb_mime = ?, thumb_width = ?, thumb_height = ?, thumb = ? WHERE file_id = ? AND ordinal = ?')
      .run(content.text ?? null, t?.mime ?? null, t?.width ?? null, t?.height ?? null, t?.bytes ?? null, fileId, ordinal);
    if (r.changes === 0) throw new Error(`file ${fileId} has no staged item ${ordinal}; stage its extraction first`);
  }

  /** Records that a deferred item was drawn for `modelId` and has nothing to embed (it stays findable by its text). */
  settleItem(fileId: number, ordinal: number, modelId: number): void {
    const r = this.db.prepare('UPDATE staged_items SET model_id = ?, codes = NULL, scale = NULL WHERE file_id = ? AND ordinal = ?').run(modelId, fileId, ordinal);
    if (r.changes === 0) throw new Error(`file ${fileId} has no staged item ${ordinal}; stage its extraction first`);
  }

  /** Like `load`, without texts and thumbnails: which items are settled for `modelId`, with their vectors. */
  progress(fileId: number, fingerprint: string, modelId: number): StagedProgress | null {
    const rows = this.db
      .prepare<Pick<StagedRow, 'kind' | 'locator_json' | 'date' | 'model_id' | 'codes' | 'scale'>>(
        'SELECT kind, locator_json, date, model_id, codes, scale FROM staged_items WHERE file_id = ? AND fingerprint = ? ORDER BY ordinal',
      )
      .all(fileId, fingerprint);
    if (rows.length === 0) return null;
    return {
      items: rows.map((r) => ({
        kind: r.kind,
        locator: JSON.parse(r.locator_json) as Locator,
        date: r.date,
        vector: r.codes !== null && r.model_id === modelId && r.scale !== null ? { codes: blobToCodes(r.codes), scale: r.scale } : null,
        settled: r.model_id === modelId,
      })),
    };
  }

  /** The staged work for a file made from `fingerprint`, or null when none (or it is stale). */
  load(fileId: number, fingerprint: string, modelId: number): StagedFile | null {
    const rows = this.db.prepare<StagedRow>('SELECT * FROM staged_items WHERE file_id = ? AND fingerprint = ? ORDER BY ordinal').all(fileId, fingerprint);
    if (rows.length === 0) return null;
    const unembedded: number[] = [];
    const items = rows.map((r): IndexedItem => {
      const hasVector = r.codes !== null && r.model_id === modelId && r.scale !== null;
      if (!hasVector) unembedded.push(r.ordinal);
      return {
        kind: r.kind,
        locator: JSON.parse(r.locator_json) as Locator,
        text: r.text,
        date: r.date,
        thumbnail: r.thumb && r.thumb_mime ? { mime: r.thumb_mime, width: r.thumb_width ?? 0, height: r.thumb_height ?? 0, bytes: r.thumb } : null,
        vector: hasVector ? { codes: blobToCodes(r.codes!), scale: r.scale! } : null,
      };
    });
    return { items, unembedded };
  }

  clear(fileId: number): void {
    this.db.prepare('DELETE FROM staged_items WHERE file_id = ?').run(fileId);
  }
}
