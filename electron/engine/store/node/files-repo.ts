// One row per file under a root: what the scanner saw (size, mtime, fingerprint), what kind it is,
// and where it stands in the indexing journal (pending -> extracted -> embedded -> indexed | failed).
import path from 'node:path';
import type Database from 'better-sqlite3';
import { FILE_KINDS, type FileFailure, type FileFailures, type FileKind, type KindCounts } from '../../../contract/common/entities.ts';
import { pathFreeReason } from '../../base/common/path-free-reason.ts';
import type { Db } from './database.ts';
import { annLabelsWhere, type AnnLabelsByModel } from './vectors-repo.ts';

export const FILE_STATUSES = ['pending', 'extracted', 'embedded', 'indexed', 'failed'] as const;
export type FileStatus = (typeof FILE_STATUSES)[number];

/**
 * Starts of indexing a file's content may take (counted when a round picks it, cleared when it is
 * indexed or makes progress): a file that crashed the engine or timed out this often is left
 * failed until it changes or someone retries it (docs/store.md, "Failures and retries").
 */
export const MAX_INDEX_ATTEMPTS = 3;

export interface FileRecord {
  readonly id: number;
  readonly rootId: number;
  readonly path: string;
  readonly name: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly fingerprint: string | null;
  readonly kind: FileKind;
  readonly status: FileStatus;
  readonly error: string | null;
  /** Times a round started indexing this content without indexing it (see MAX_INDEX_ATTEMPTS). */
  readonly attempts: number;
  /** Failed in a way that may pass by itself: tried again at the next start (below MAX_INDEX_ATTEMPTS). */
  readonly retryAtStart: boolean;
  readonly dateTaken: number | null;
  readonly metadata: Record<string, string | number | null>;
  readonly updatedAt: number;
}

interface FileRow {
  id: number;
  root_id: number;
  path: string;
  name: string;
  size: number;
  mtime_ms: number;
  fingerprint: string | null;
  kind: FileKind;
  status: FileStatus;
  error: string | null;
  attempts: number;
  retry_at_start: 0 | 1;
  date_taken: number | null;
  metadata_json: string;
  updated_at: number;
}

function toRecord(r: FileRow): FileRecord {
  return {
    id: r.id,
    rootId: r.root_id,
    path: r.path,
    name: r.name,
    size: r.size,
    mtimeMs: r.mtime_ms,
    fingerprint: r.fingerprint,
    kind: r.kind,
    status: r.status,
    error: r.error,
    attempts: r.attempts,
    retryAtStart: r.retry_at_start === 1,
    dateTaken: r.date_taken,
    metadata: JSON.parse(r.metadata_json) as FileRecord['metadata'],
    updatedAt: r.updated_at,
  };
}

export interface ScannedFile {
  readonly rootId: number;
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly kind: FileKind;
  /** When the scanner already hashed the file. */
  readonly fingerprint?: string | null;
  /**
   * Why Trove will not index it, when the scan already knows (too large, a name that is not valid
   * UTF-8, cannot be read): recorded as failed with this reason, nothing is read.
   */
  readonly refusal?: string | null;
}

/** What an upsert did: a new file, nothing (same size and mtime), or a changed file back to pending. */
export type ScanChange = 'new' | 'unchanged' | 'changed';

export interface FileCounts {
  readonly files: KindCounts;
  readonly byKind: Record<FileKind, KindCounts>;
}

const IN_PROGRESS: readonly FileStatus[] = ['pending', 'extracted', 'embedded'];

interface FailureRow {
  fileId: number | null;
  path: string;
  kind: FileKind | null;
  reason: string;
  at: number;
  attempts: number;
  retryAtStart: 0 | 1;
  files: number | null;
}

/**
 * A failure row as the API shows it, beside its path (so the reason leaves the path out,
 * base/common/path-free-reason.ts): the retry policy is said in the reason (docs/store.md,
 * "Failures and retries").
 */
function failureOf(r: FailureRow): FileFailure {
  if (r.fileId === null) {
    return { fileId: null, what: 'folder', path: r.path, kind: null, reason: pathFreeReason(r.reason, r.path, 'folder'), at: r.at, attempts: 0, files: r.files, nextTry: 'next-start' };
  }
  const retriesAtStart = r.retryAtStart === 1 && r.attempts < MAX_INDEX_ATTEMPTS;
  // Listed beside its path: the reason need not repeat it.
  let reason = pathFreeReason(r.reason, r.path);
  if (r.retryAtStart === 1) {
    // Some causes end without a full stop (an extractor's or Node's words): end the sentence first.
    reason = /[.!?)]$/.test(reason.trimEnd()) ? reason.trimEnd() : `${reason.trimEnd()}.`;
    reason += retriesAtStart
      ? ` Trove tries it again at its next start${r.attempts > 0 ? ` (tried ${r.attempts} of ${MAX_INDEX_ATTEMPTS} times)` : ''}.`
      : ` Tried ${r.attempts} times; Trove tries again when the file changes, or when you retry it.`;
  }
  return { fileId: r.fileId, what: 'file', path: r.path, kind: r.kind, reason, at: r.at, attempts: r.attempts, files: 1, nextTry: retriesAtStart ? 'next-start' : 'on-change' };
}

function emptyCounts(): { total: number; indexed: number; failed: number; pending: number } {
  return { total: 0, indexed: 0, failed: 0, pending: 0 };
}

function addTo(c: ReturnType<typeof emptyCounts>, status: FileStatus, n: number): void {
  c.total += n;
  if (status === 'indexed') c.indexed += n;
  else if (status === 'failed') c.failed += n;
  else if (IN_PROGRESS.includes(status)) c.pending += n;
}

/**
 * A file (`files`) whose items lack the vectors of the model bound twice as `?`: an image or a text
 * chunk without one, or a PDF/video none of whose pages or moments has one (a page that cannot be
 * drawn rightly has none). Migration 4's trigger vectors_complete_file tests the same for one file.
 */
export const FILE_LACKS_VECTORS = `
  EXISTS (
    SELECT 1 FROM items i WHERE i.file_id = files.id
      AND (i.kind = 'image' OR json_extract(i.locator_json, '$.type') = 'text')
      AND NOT EXISTS (SELECT 1 FROM vectors v WHERE v.item_id = i.id AND v.model_id = ?))
  OR (files.kind IN ('pdf', 'video')
      AND EXISTS (SELECT 1 FROM items i WHERE i.file_id = files.id AND i.kind IN ('page', 'moment', 'video'))
      AND NOT EXISTS (SELECT 1 FROM items i JOIN vectors v ON v.item_id = i.id AND v.model_id = ? WHERE i.file_id = files.id))`;

export class FilesRepo {
  constructor(private readonly db: Db) {}

  /**
   * Statements of the per-file calls a watcher storm makes thousands of times, prepared once:
   * preparing an UPDATE of `files` (its trigger and foreign keys compiled in) costs more than
   * running it. Never `pluck`/`raw` one of these: the setting would stick to the shared statement.
   */
  private readonly statements = new Map<string, Database.Statement>();
  private cached<Row>(sql: string): Database.Statement<Row> {
    let statement = this.statements.get(sql);
    if (statement === undefined) this.statements.set(sql, (statement = this.db.prepare(sql)));
    return statement as Database.Statement<Row>;
  }

  /**
   * Records what the scanner saw. A file whose size or mtime changed (or whose fingerprint is
   * now known to differ) goes back to pending and loses its staged work; its committed items stay
   * searchable until the new ones are committed.
   */
  upsertScanned(file: ScannedFile, now = Date.now()): { file: FileRecord; change: ScanChange } {
    return this.db.transaction(() => {
      const abs = path.resolve(file.path);
      const old = this.cached<FileRow>('SELECT * FROM files WHERE path = ?').get(abs);
      const fingerprint = file.fingerprint ?? null;
      const refusal = file.refusal ?? null;
      const status: FileStatus = refusal === null ? 'pending' : 'failed';
      if (!old) {
        const row = this.cached<FileRow>(
          `INSERT INTO files (root_id, path, name, size, mtime_ms, fingerprint, kind, status, error, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
        ).get(file.rootId, abs, path.basename(abs), file.size, Math.round(file.mtimeMs), fingerprint, file.kind, status, refusal, now)!;
        return { file: toRecord(row), change: 'new' as const };
      }
      const sameStat = old.size === file.size && old.mtime_ms === Math.round(file.mtimeMs) && old.kind === file.kind && old.root_id === file.rootId;
      const sameContent = fingerprint === null || old.fingerprint === null || old.fingerprint === fingerprint;
      if (sameStat && sameContent) {
        if (fingerprint !== null && old.fingerprint === null) this.setFingerprint(old.id, fingerprint);
        return { file: toRecord({ ...old, fingerprint: fingerprint ?? old.fingerprint }), change: 'unchanged' as const };
      }
      this.cached('DELETE FROM staged_items WHERE file_id = ?').run(old.id);
      const row = this.cached<FileRow>(
        `UPDATE files SET root_id = ?, size = ?, mtime_ms = ?, fingerprint = ?, kind = ?, status = ?, error = ?,
           attempts = 0, retry_at_start = 0, updated_at = ? WHERE id = ? RETURNING *`,
      ).get(file.rootId, file.size, Math.round(file.mtimeMs), fingerprint, file.kind, status, refusal, now, old.id)!;
      return { file: toRecord(row), change: 'changed' as const };
    })();
  }

  get(id: number): FileRecord | null {
    const r = this.cached<FileRow>('SELECT * FROM files WHERE id = ?').get(id);
    return r ? toRecord(r) : null;
  }

  byPath(p: string): FileRecord | null {
    const r = this.cached<FileRow>('SELECT * FROM files WHERE path = ?').get(path.resolve(p));
    return r ? toRecord(r) : null;
  }

  /** Files with this content hash: the candidates when a new path may be a moved file. */
  findByFingerprint(fingerprint: string): FileRecord[] {
    return this.cached<FileRow>('SELECT * FROM files WHERE fingerprint = ? ORDER BY id').all(fingerprint).map(toRecord);
  }

  /**
   * Path, size, mtime and fingerprint of a root's files, for a scan to diff against the disk: one
   * page in id order after `afterId` (keyset paging: each page is one short read, so a
   * million-file root is listed without one long stall).
   */
  pageUnderRoot(rootId: number, afterId: number, limit: number): Array<Pick<FileRecord, 'id' | 'path' | 'size' | 'mtimeMs' | 'fingerprint'>> {
    return this.cached<{ id: number; path: string; size: number; mtime_ms: number; fingerprint: string | null }>(
      'SELECT id, path, size, mtime_ms, fingerprint FROM files WHERE root_id = ? AND id > ? ORDER BY id LIMIT ?',
    )
      .all(rootId, afterId, limit)
      .map((r) => ({ id: r.id, path: r.path, size: r.size, mtimeMs: r.mtime_ms, fingerprint: r.fingerprint }));
  }

  /**
   * A rename or move: the row keeps its id, so its items, thumbnails and vectors stay as they are
   * (nothing is re-embedded); FTS picks up the new name and path through a trigger.
   * Throws if another file already has `newPath` (remove that one first).
   */
  move(id: number, newPath: string, opts: { rootId?: number; mtimeMs?: number } = {}, now = Date.now()): FileRecord {
    const abs = path.resolve(newPath);
    const clash = this.cached<{ id: number }>('SELECT id FROM files WHERE path = ? AND id != ?').get(abs, id);
    if (clash) throw new Error(`cannot move file ${id} to ${abs}: file ${clash.id} is recorded at that path; remove it first`);
    const row = this.cached<FileRow>(
      `UPDATE files SET path = ?, name = ?, root_id = coalesce(?, root_id), mtime_ms = coalesce(?, mtime_ms), updated_at = ?
       WHERE id = ? RETURNING *`,
    ).get(abs, path.basename(abs), opts.rootId ?? null, opts.mtimeMs === undefined ? null : Math.round(opts.mtimeMs), now, id);
    if (!row) throw new Error(`there is no file ${id} to move; rescan the folder`);
    return toRecord(row);
  }

  /**
   * Same content, new mtime (and perhaps a new path: a scan's "touched"). A failed file is tried
   * again: whatever made it fail may have been fixed with it (a re-saved file, a finished copy).
   */
  touch(id: number, newPath: string, mtimeMs: number, now = Date.now()): FileRecord {
    const moved = this.move(id, newPath, { mtimeMs }, now);
    if (moved.status !== 'failed') return moved;
    return toRecord(
      this.cached<FileRow>(`UPDATE files SET status = 'pending', error = NULL, attempts = 0, retry_at_start = 0 WHERE id = ? RETURNING *`).get(id)!,
    );
  }

  setFingerprint(id: number, fingerprint: string): void {
    this.db.prepare('UPDATE files SET fingerprint = ? WHERE id = ?').run(fingerprint, id);
  }

  /** Photo metadata from extraction: date taken (epoch ms) and a flat key/value map. */
  setMetadata(id: number, dateTaken: number | null, metadata: Record<string, string | number | null>): void {
    this.db.prepare('UPDATE files SET date_taken = ?, metadata_json = ? WHERE id = ?').run(dateTaken, JSON.stringify(metadata), id);
  }

  /** Moves a file along the journal. `failed` needs a reason a person can act on (see markFailed). */
  markStatus(id: number, status: FileStatus, error: string | null = null, now = Date.now()): void {
    if (status === 'failed') return this.markFailed(id, error ?? '', { retryAtStart: false }, now);
    const r = this.cached(`UPDATE files SET status = ?, error = NULL, retry_at_start = 0, updated_at = ? WHERE id = ?`).run(status, now, id);
    if (r.changes === 0) throw new Error(`there is no file ${id}; it was removed while being indexed`);
  }

  /**
   * Records why a file failed. `retryAtStart`: the cause may pass by itself (a timeout, a read
   * error), so the next start tries it again while it has attempts left; otherwise it waits for
   * the file to change or for a retry. The attempt itself was counted when it started.
   */
  markFailed(id: number, reason: string, how: { retryAtStart: boolean }, now = Date.now()): void {
    if (!reason.trim()) throw new Error('a failed file needs a reason; pass what went wrong, in words');
    const r = this.cached(`UPDATE files SET status = 'failed', error = ?, retry_at_start = ?, updated_at = ? WHERE id = ?`).run(reason, how.retryAtStart ? 1 : 0, now, id);
    if (r.changes === 0) throw new Error(`there is no file ${id}; it was removed while being indexed`);
  }

  /** A round starts on these files: one attempt each, written before any work (a crash keeps it). */
  beginAttempts(ids: readonly number[]): void {
    const begin = this.cached('UPDATE files SET attempts = attempts + 1 WHERE id = ?');
    this.db.transaction(() => ids.forEach((id) => begin.run(id)))();
  }

  /** The work on these files moved forward (or they were stopped on purpose): their attempts start over. */
  clearAttempts(ids: readonly number[]): void {
    const clear = this.cached('UPDATE files SET attempts = 0 WHERE id = ?');
    this.db.transaction(() => ids.forEach((id) => clear.run(id)))();
  }

  /** Trove is closing while these files are worked on: the start of that work was no attempt. */
  undoAttempts(ids: readonly number[]): void {
    const undo = this.cached(`UPDATE files SET attempts = max(0, attempts - 1) WHERE id = ? AND status IN ('pending', 'extracted', 'embedded')`);
    this.db.transaction(() => ids.forEach((id) => undo.run(id)))();
  }

  /** At start: failures that may have passed by themselves, with attempts left, go back to pending. Returns how many. */
  requeueRetryableFailures(now = Date.now()): number {
    return this.db
      .prepare(`UPDATE files SET status = 'pending', error = NULL, updated_at = ? WHERE status = 'failed' AND retry_at_start = 1 AND attempts < ?`)
      .run(now, MAX_INDEX_ATTEMPTS).changes;
  }

  /**
   * Failed files back to pending with a fresh count of attempts: the ones named (files not failed
   * are left as they are), or every failed file. Returns how many were queued.
   */
  retryFailed(ids?: readonly number[], now = Date.now()): number {
    const requeue = `UPDATE files SET status = 'pending', error = NULL, attempts = 0, retry_at_start = 0, updated_at = ? WHERE status = 'failed'`;
    if (ids === undefined) return this.db.prepare(requeue).run(now).changes;
    const statement = this.cached(`${requeue} AND id = ?`);
    return this.db.transaction(() => ids.reduce((queued, id) => queued + statement.run(now, id).changes, 0))();
  }

  /** Files still to work on, oldest first, with where each stopped (resume from that stage). */
  nextInProgress(limit: number): FileRecord[] {
    return this.db
      .prepare<FileRow>(`SELECT * FROM files WHERE status IN ('pending', 'extracted', 'embedded') ORDER BY id LIMIT ?`)
      .all(limit)
      .map(toRecord);
  }

  /** Failed files and unreadable folders, newest first, a page at a time, with how many there are. */
  failures(limit = 500, offset = 0): FileFailures {
    const total = this.db
      .prepare(`SELECT (SELECT count(*) FROM files WHERE status = 'failed') + (SELECT count(*) FROM unreadable_folders)`)
      .pluck()
      .get() as number;
    const rows = this.db
      .prepare<FailureRow>(
        `SELECT id AS fileId, path, kind, error AS reason, updated_at AS at, attempts, retry_at_start AS retryAtStart, 1 AS files
           FROM files WHERE status = 'failed'
         UNION ALL
         SELECT NULL, path, NULL, reason, at, 0, 1, files FROM unreadable_folders
         ORDER BY at DESC, path LIMIT ? OFFSET ?`,
      )
      .all(limit, offset);
    return { total, failures: rows.map(failureOf) };
  }

  /** Unreadable folders and the files known in them. */
  unreadableFolders(): { count: number; files: number } {
    const r = this.db.prepare<{ count: number; files: number }>('SELECT count(*) AS count, coalesce(sum(files), 0) AS files FROM unreadable_folders').get()!;
    return { count: r.count, files: r.files };
  }

  /** Roots with an unreadable folder (a retry of everything rescans them). */
  rootsWithUnreadableFolders(): number[] {
    return this.db.prepare('SELECT DISTINCT root_id FROM unreadable_folders ORDER BY root_id').pluck().all() as number[];
  }

  /** Files recorded under a folder (any depth): what an unreadable folder is known to hold. */
  countUnder(folder: string): number {
    const prefix = path.resolve(folder) + path.sep;
    // substr, not LIKE: paths may hold % and _.
    return this.db.prepare('SELECT count(*) FROM files WHERE substr(path, 1, ?) = ?').pluck().get(prefix.length, prefix) as number;
  }

  /**
   * What the last scan of a root found unreadable, replacing what an earlier scan found. A folder
   * seen before keeps its first `at`, and its file count when the new one is unknown (its files
   * left the index when it became unreadable).
   */
  replaceUnreadableFolders(rootId: number, folders: readonly { path: string; reason: string; files: number | null }[], now = Date.now()): void {
    this.db.transaction(() => {
      const before = new Map(
        this.db
          .prepare<{ path: string; files: number | null; at: number }>('SELECT path, files, at FROM unreadable_folders WHERE root_id = ?')
          .all(rootId)
          .map((r) => [r.path, r]),
      );
      this.db.prepare('DELETE FROM unreadable_folders WHERE root_id = ?').run(rootId);
      const insert = this.db.prepare('INSERT OR REPLACE INTO unreadable_folders (root_id, path, reason, files, at) VALUES (?, ?, ?, ?, ?)');
      for (const f of folders) {
        const abs = path.resolve(f.path);
        const old = before.get(abs);
        insert.run(rootId, abs, f.reason, f.files ?? old?.files ?? null, old?.at ?? now);
      }
    })();
  }

  /**
   * Totals for status and progress: extracted and embedded count as pending (not yet searchable).
   * Read from the counts the triggers keep (migration 4): a few rows at any library size.
   */
  counts(): FileCounts {
    const byKind = Object.fromEntries(FILE_KINDS.map((k) => [k, emptyCounts()])) as Record<FileKind, ReturnType<typeof emptyCounts>>;
    const files = emptyCounts();
    const rows = this.cached<{ kind: FileKind; status: FileStatus; n: number }>('SELECT kind, status, sum(n) AS n FROM file_counts WHERE n != 0 GROUP BY kind, status').all();
    for (const r of rows) {
      for (const c of [files, byKind[r.kind]]) addTo(c, r.status, r.n);
    }
    return { files, byKind };
  }

  /** The same counts per root folder (the folders view), one entry per root that has files. */
  countsByRoot(): Map<number, KindCounts> {
    const out = new Map<number, ReturnType<typeof emptyCounts>>();
    const rows = this.cached<{ rootId: number; status: FileStatus; n: number }>('SELECT root_id AS rootId, status, sum(n) AS n FROM file_counts WHERE n != 0 GROUP BY root_id, status').all();
    for (const r of rows) {
      let c = out.get(r.rootId);
      if (!c) out.set(r.rootId, (c = emptyCounts()));
      addTo(c, r.status, r.n);
    }
    return out;
  }

  /**
   * Indexed files that lack the vectors of `modelId` (indexed before the model was there, or with
   * another one) go back to pending so they gain them; returns how many. O(files) the first time
   * for a model, then O(1) while the store's 'vectors-complete-model' mark holds (migration 4's
   * triggers drop it as soon as a file is indexed without them).
   */
  requeueWithoutVectors(modelId: number): number {
    return this.db.transaction(() => {
      const mark = this.db.prepare(`SELECT value FROM store_flags WHERE key = 'vectors-complete-model'`).pluck().get();
      if (mark === modelId) return 0;
      const requeued = this.db.prepare(`UPDATE files SET status = 'pending' WHERE status = 'indexed' AND (${FILE_LACKS_VECTORS})`).run(modelId, modelId).changes;
      this.db.prepare(`INSERT INTO store_flags (key, value) VALUES ('vectors-complete-model', ?) ON CONFLICT DO UPDATE SET value = excluded.value`).run(modelId);
      return requeued;
    }).immediate();
  }

  /** Deletes the file and everything derived from it; returns the ANN labels that went with it. */
  remove(id: number): AnnLabelsByModel {
    return this.db.transaction(() => {
      const labels = annLabelsWhere(this.db, 'f.id = ?', id);
      this.cached('DELETE FROM files WHERE id = ?').run(id);
      return labels;
    })();
  }
}
