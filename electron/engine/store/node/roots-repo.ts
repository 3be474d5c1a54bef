// The folders the user added. Removing one cascades to its files, items, thumbnails and vectors;
// the caller gets the ANN labels that disappeared so it can mark them deleted in the index.
import path from 'node:path';
import type { Root } from '../../../contract/common/entities.ts';
import type { Db } from './database.ts';
import { annLabelsWhere, type AnnLabelsByModel } from './vectors-repo.ts';

interface RootRow {
  id: number;
  path: string;
  include_json: string;
  exclude_json: string;
  present: number;
  added_at: number;
}

function toRoot(r: RootRow): Root {
  return {
    id: r.id,
    path: r.path,
    include: JSON.parse(r.include_json) as string[],
    exclude: JSON.parse(r.exclude_json) as string[],
    present: r.present === 1,
    addedAt: r.added_at,
  };
}

export interface NewRoot {
  readonly path: string;
  readonly include?: readonly string[];
  readonly exclude?: readonly string[];
}

export class RootsRepo {
  constructor(private readonly db: Db) {}

  /**
   * Adds a folder, stored as an absolute, normalised path (the API stores real paths: app/node
   * api-handlers checks the folder first). Throws if it is relative or already a root.
   */
  add(root: NewRoot, now = Date.now()): Root {
    // A relative path would be resolved against whatever folder the engine runs in.
    if (!path.isAbsolute(root.path)) throw new Error(`'${root.path}' is not an absolute path; give the folder's full path`);
    const abs = path.resolve(root.path);
    const existing = this.byPath(abs);
    if (existing) throw new Error(`'${abs}' is already in the library; to index it with other patterns, remove it first, then add it again`);
    const r = this.db
      .prepare<RootRow>('INSERT INTO roots (path, include_json, exclude_json, present, added_at) VALUES (?, ?, ?, 1, ?) RETURNING *')
      .get(abs, JSON.stringify(root.include ?? []), JSON.stringify(root.exclude ?? []), now)!;
    return toRoot(r);
  }

  list(): Root[] {
    return this.db.prepare<RootRow>('SELECT * FROM roots ORDER BY path').all().map(toRoot);
  }

  get(id: number): Root | null {
    const r = this.db.prepare<RootRow>('SELECT * FROM roots WHERE id = ?').get(id);
    return r ? toRoot(r) : null;
  }

  byPath(p: string): Root | null {
    const r = this.db.prepare<RootRow>('SELECT * FROM roots WHERE path = ?').get(path.resolve(p));
    return r ? toRoot(r) : null;
  }

  /** The root whose folder contains `filePath` (the deepest one when roots nest), or null. */
  containing(filePath: string): Root | null {
    const abs = path.resolve(filePath);
    let best: Root | null = null;
    for (const root of this.list()) {
      const rel = path.relative(root.path, abs);
      const inside = rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
      if (inside && (!best || root.path.length > best.path.length)) best = root;
    }
    return best;
  }

  setPresent(id: number, present: boolean): void {
    this.db.prepare('UPDATE roots SET present = ? WHERE id = ?').run(present ? 1 : 0, id);
  }

  setPatterns(id: number, include: readonly string[], exclude: readonly string[]): void {
    const r = this.db.prepare('UPDATE roots SET include_json = ?, exclude_json = ? WHERE id = ?').run(JSON.stringify(include), JSON.stringify(exclude), id);
    if (r.changes === 0) throw new Error(`there is no root ${id}; list the roots to get a valid id`);
  }

  /** Deletes the root and everything indexed under it, in one transaction. */
  remove(id: number): AnnLabelsByModel {
    return this.db.transaction(() => {
      const labels = annLabelsWhere(this.db, 'f.root_id = ?', id);
      this.db.prepare('DELETE FROM roots WHERE id = ?').run(id);
      return labels;
    })();
  }
}
