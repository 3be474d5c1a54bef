// What one shard of a model's ANN index reads from SQLite: the model's vectors whose label falls in
// the shard (label mod shards = shard), on the worker's own read-only connection. Labels are
// handed out in commit order, so the shards take turns and stay the same size.
import type { Db } from './database.ts';
import { blobToCodes, type Int8Vector } from './vector-codec.ts';
import type { AnnVectorSource } from './vectors-repo.ts';

export class AnnShardSource implements AnnVectorSource {
  private readonly where: string;

  constructor(
    private readonly db: Db,
    private readonly shard: number,
    private readonly shards: number,
  ) {
    this.where = `model_id = ? AND ann_label % ${Number(shards)} = ${Number(shard)}`;
  }

  stats(modelId: number): { count: number; maxLabel: number } {
    const count = this.db.prepare(`SELECT count(*) FROM vectors WHERE ${this.where}`).pluck().get(modelId) as number;
    // Walks the (model_id, ann_label) index from the top and stops at the shard's first label.
    const max = this.db.prepare(`SELECT ann_label FROM vectors WHERE ${this.where} ORDER BY ann_label DESC LIMIT 1`).pluck().get(modelId) as number | undefined;
    return { count, maxLabel: max ?? -1 };
  }

  countAtOrBelow(modelId: number, label: number): number {
    return this.db.prepare(`SELECT count(*) FROM vectors WHERE ${this.where} AND ann_label <= ?`).pluck().get(modelId, label) as number;
  }

  labels(modelId: number): Uint32Array {
    return Uint32Array.from(this.db.prepare(`SELECT ann_label FROM vectors WHERE ${this.where} ORDER BY ann_label`).pluck().all(modelId) as number[]);
  }

  codesByLabels(modelId: number, labels: readonly number[]): Array<{ label: number; codes: Int8Array }> {
    return this.db
      .prepare<{ ann_label: number; codes: Buffer }>(`SELECT ann_label, codes FROM vectors WHERE ${this.where} AND ann_label IN (SELECT value FROM json_each(?))`)
      .all(modelId, JSON.stringify(labels))
      .map((r) => ({ label: r.ann_label, codes: blobToCodes(r.codes) }));
  }

  /** Full vectors (with their item) of these labels, for exact rescoring; labels deleted meanwhile are absent. */
  vectorsByLabels(modelId: number, labels: readonly number[]): Array<Int8Vector & { label: number; itemId: number }> {
    return this.db
      .prepare<{ ann_label: number; item_id: number; codes: Buffer; scale: number }>(
        `SELECT ann_label, item_id, codes, scale FROM vectors WHERE ${this.where} AND ann_label IN (SELECT value FROM json_each(?))`,
      )
      .all(modelId, JSON.stringify(labels))
      .map((r) => ({ label: r.ann_label, itemId: r.item_id, codes: blobToCodes(r.codes), scale: r.scale }));
  }

  *iterateCodes(modelId: number, afterLabel = -1): IterableIterator<{ label: number; codes: Int8Array }> {
    const rows = this.db.prepare<{ ann_label: number; codes: Buffer }>(`SELECT ann_label, codes FROM vectors WHERE ${this.where} AND ann_label > ? ORDER BY ann_label`).iterate(modelId, afterLabel);
    for (const r of rows) yield { label: r.ann_label, codes: blobToCodes(r.codes) };
  }

  codesAfter(modelId: number, afterLabel: number, limit: number): Array<{ label: number; codes: Int8Array }> {
    return this.db
      .prepare<{ ann_label: number; codes: Buffer }>(`SELECT ann_label, codes FROM vectors WHERE ${this.where} AND ann_label > ? ORDER BY ann_label LIMIT ?`)
      .all(modelId, afterLabel, limit)
      .map((r) => ({ label: r.ann_label, codes: blobToCodes(r.codes) }));
  }

  /** The shard a label belongs to. */
  static shardOf(label: number, shards: number): number {
    return label % shards;
  }

  get description(): string {
    return `shard ${this.shard + 1} of ${this.shards}`;
  }
}
