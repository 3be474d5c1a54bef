// Shared by the store tests: temp data folders, seeded vectors, and a consistency check.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Db } from '../../../electron/engine/store/node/database.ts';
import type { Int8Vector } from '../../../electron/engine/store/node/vector-codec.ts';

export function tempDir(tag: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), `trove-store-${tag}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export { seededRandom } from '../../../scripts/fixtures/seeded-random.ts';

/** A random unit vector, int8-quantised with scale max|x|/127. */
export function randomInt8Vector(dims: number, rand: () => number): Int8Vector {
  const x = new Float64Array(dims);
  let norm = 0;
  for (let i = 0; i < dims; i++) {
    x[i] = rand() * 2 - 1;
    norm += x[i]! * x[i]!;
  }
  norm = Math.sqrt(norm);
  let max = 0;
  for (let i = 0; i < dims; i++) max = Math.max(max, Math.abs(x[i]! / norm));
  const scale = max / 127;
  const codes = new Int8Array(dims);
  for (let i = 0; i < dims; i++) codes[i] = Math.round(x[i]! / norm / scale);
  return { codes, scale };
}

export function dequantise(v: Int8Vector): Float32Array {
  return Float32Array.from(v.codes, (c) => c * v.scale);
}

/** Everything that must hold after any kill: returns a list of violations (empty = consistent). */
export function consistencyProblems(db: Db): string[] {
  const problems: string[] = [];
  const one = (sql: string) => db.prepare(sql).pluck().get() as number | string;
  const integrity = db.prepare('PRAGMA integrity_check').pluck().all() as string[];
  if (integrity.join() !== 'ok') problems.push(`integrity_check: ${integrity.join('; ')}`);
  const fk = db.prepare('PRAGMA foreign_key_check').all();
  if (fk.length) problems.push(`foreign_key_check: ${fk.length} violations`);
  const orphanItems = one('SELECT count(*) FROM items WHERE file_id NOT IN (SELECT id FROM files)') as number;
  if (orphanItems) problems.push(`${orphanItems} items without a file`);
  const orphanVectors = one('SELECT count(*) FROM vectors WHERE item_id NOT IN (SELECT id FROM items)') as number;
  if (orphanVectors) problems.push(`${orphanVectors} vectors without an item`);
  const fts = one('SELECT count(*) FROM items_fts') as number;
  const items = one('SELECT count(*) FROM items') as number;
  if (fts !== items) problems.push(`items_fts has ${fts} rows, items ${items}`);
  const ftsOrphans = one('SELECT count(*) FROM items_fts WHERE rowid NOT IN (SELECT id FROM items)') as number;
  if (ftsOrphans) problems.push(`${ftsOrphans} keyword rows without an item`);
  // Every file these tests index has at least one item.
  const indexedEmpty = one(`SELECT count(*) FROM files f WHERE status = 'indexed' AND NOT EXISTS (SELECT 1 FROM items i WHERE i.file_id = f.id)`) as number;
  if (indexedEmpty) problems.push(`${indexedEmpty} indexed files without items`);
  problems.push(...keptCountProblems(db));
  const labelAhead = one('SELECT count(*) FROM vectors v JOIN models m ON m.id = v.model_id WHERE v.ann_label >= m.next_ann_label') as number;
  if (labelAhead) problems.push(`${labelAhead} vectors with a label not below their model's next_ann_label`);
  return problems;
}

/**
 * The counts the store keeps by trigger (migration 4) against a full recount: a list of
 * differences (empty = they agree). Rows of 0 in the kept tables are allowed; nothing else is.
 */
export function keptCountProblems(db: Db): string[] {
  const problems: string[] = [];
  const compare = (what: string, keptSql: string, recountSql: string): void => {
    const rows = (sql: string) => new Map((db.prepare(sql).raw().all() as unknown[][]).map((r) => [JSON.stringify(r.slice(0, -1)), Number(r[r.length - 1])]));
    const kept = rows(keptSql);
    const actual = rows(recountSql);
    for (const key of new Set([...kept.keys(), ...actual.keys()])) {
      const k = kept.get(key) ?? 0;
      const a = actual.get(key) ?? 0;
      if (k !== a) problems.push(`${what} ${key}: kept ${k}, recounted ${a}`);
    }
  };
  compare('files', 'SELECT root_id, kind, status, n FROM file_counts', 'SELECT root_id, kind, status, count(*) FROM files GROUP BY 1, 2, 3');
  compare('items', 'SELECT kind, n FROM item_counts', 'SELECT kind, count(*) FROM items GROUP BY 1');
  compare('vectors', 'SELECT model_id, n FROM vector_counts', 'SELECT model_id, count(*) FROM vectors GROUP BY 1');
  return problems;
}
