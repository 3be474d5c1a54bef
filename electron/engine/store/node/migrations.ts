// The schema, as numbered migrations. `PRAGMA user_version` holds the last one applied; each runs in
// its own transaction together with the version bump, so a kill mid-migration leaves the previous
// version intact. Never edit a shipped migration: add the next one. docs/store.md explains the
// tables and the choices behind them.
import type Database from 'better-sqlite3';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'roots, files, items, thumbnails, models, vectors, FTS5, staging journal',
    sql: `
      CREATE TABLE roots (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,
        include_json TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(include_json)),
        exclude_json TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(exclude_json)),
        present INTEGER NOT NULL DEFAULT 1 CHECK (present IN (0, 1)),
        added_at INTEGER NOT NULL
      );

      CREATE TABLE files (
        id INTEGER PRIMARY KEY,
        root_id INTEGER NOT NULL REFERENCES roots(id) ON DELETE CASCADE,
        path TEXT NOT NULL UNIQUE,
        -- The base name, kept beside the path because FTS indexes it as its own column.
        name TEXT NOT NULL,
        size INTEGER NOT NULL,
        mtime_ms INTEGER NOT NULL,
        -- Content hash; NULL until hashed. Moves are matched by it, so a rename never re-embeds.
        fingerprint TEXT,
        kind TEXT NOT NULL CHECK (kind IN ('image', 'video', 'pdf', 'text', 'document')),
        -- The job journal (issue 5): pending -> extracted -> embedded -> indexed, or failed.
        status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'extracted', 'embedded', 'indexed', 'failed')),
        error TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        date_taken INTEGER,
        metadata_json TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata_json)),
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX files_fingerprint ON files(fingerprint);
      CREATE INDEX files_status ON files(status);
      CREATE INDEX files_root ON files(root_id);

      CREATE TABLE items (
        id INTEGER PRIMARY KEY,
        file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
        ordinal INTEGER NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('image', 'video', 'moment', 'page', 'text')),
        locator_json TEXT NOT NULL CHECK (json_valid(locator_json)),
        text TEXT,
        -- Date taken, else the file's mtime: what date filters and "sort by date" compare.
        date INTEGER NOT NULL,
        UNIQUE (file_id, ordinal)
      );
      CREATE INDEX items_date ON items(date);

      CREATE TABLE thumbnails (
        item_id INTEGER PRIMARY KEY REFERENCES items(id) ON DELETE CASCADE,
        mime TEXT NOT NULL,
        width INTEGER NOT NULL,
        height INTEGER NOT NULL,
        bytes BLOB NOT NULL
      );

      CREATE TABLE models (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        package_path TEXT NOT NULL,
        manifest_sha TEXT NOT NULL UNIQUE,
        dims INTEGER NOT NULL CHECK (dims > 0),
        -- Next ANN label to hand out. Labels are never reused: the ANN check at start relies on
        -- "a label above the saved high-water mark is new" (docs/store.md).
        next_ann_label INTEGER NOT NULL DEFAULT 0,
        added_at INTEGER NOT NULL
      );

      CREATE TABLE vectors (
        item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
        model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
        dims INTEGER NOT NULL,
        -- Full-dimension int8 codes; value = code * scale.
        codes BLOB NOT NULL CHECK (length(codes) = dims),
        scale REAL NOT NULL,
        ann_label INTEGER NOT NULL CHECK (ann_label BETWEEN 0 AND 4294967295),
        PRIMARY KEY (item_id, model_id),
        UNIQUE (model_id, ann_label)
      );

      -- Keyword search over file names, paths and item text. A regular FTS5 table (it keeps its own
      -- copy of the text) rather than external-content: a move rewrites name/path with one UPDATE,
      -- a delete needs only the rowid, and snippet() works. rowid = items.id.
      CREATE VIRTUAL TABLE items_fts USING fts5(name, path, text, tokenize = 'unicode61 remove_diacritics 2');

      CREATE TRIGGER items_fts_insert AFTER INSERT ON items BEGIN
        INSERT INTO items_fts(rowid, name, path, text)
          SELECT new.id, f.name, f.path, coalesce(new.text, '') FROM files f WHERE f.id = new.file_id;
      END;
      CREATE TRIGGER items_fts_delete AFTER DELETE ON items BEGIN
        DELETE FROM items_fts WHERE rowid = old.id;
      END;
      CREATE TRIGGER items_fts_text AFTER UPDATE OF text ON items BEGIN
        UPDATE items_fts SET text = coalesce(new.text, '') WHERE rowid = new.id;
      END;
      CREATE TRIGGER files_fts_move AFTER UPDATE OF path, name ON files BEGIN
        UPDATE items_fts SET name = new.name, path = new.path
          WHERE rowid IN (SELECT id FROM items WHERE file_id = new.id);
      END;

      -- The journal's payload (issue 5): what a file's extraction produced, and, once embedded,
      -- its vector, kept until the commit transaction moves it into items/vectors. A kill between
      -- stages loses no finished work; rows made from an older fingerprint are stale.
      CREATE TABLE staged_items (
        file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
        fingerprint TEXT NOT NULL,
        ordinal INTEGER NOT NULL,
        kind TEXT NOT NULL,
        locator_json TEXT NOT NULL,
        text TEXT,
        date INTEGER NOT NULL,
        thumb_mime TEXT,
        thumb_width INTEGER,
        thumb_height INTEGER,
        thumb BLOB,
        model_id INTEGER REFERENCES models(id) ON DELETE CASCADE,
        codes BLOB,
        scale REAL,
        PRIMARY KEY (file_id, ordinal)
      );
    `,
  },
  {
    version: 2,
    name: 'files by kind and status (progress counts)',
    // FilesRepo.counts() runs on every progress event and idle check; with this covering index its
    // GROUP BY reads the index alone: 18 ms → 3 ms at 20,000 files.
    sql: `CREATE INDEX files_kind_status ON files(kind, status);`,
  },
  {
    version: 3,
    name: 'failures: retry at start, unreadable folders',
    // docs/store.md, "Failures and retries".
    sql: `
      -- 1 for a failure that may pass by itself (a timeout, a read error): the file is tried again
      -- at the next start while it has fewer than MAX_INDEX_ATTEMPTS attempts.
      ALTER TABLE files ADD COLUMN retry_at_start INTEGER NOT NULL DEFAULT 0 CHECK (retry_at_start IN (0, 1));

      -- Folders under a root that the last scan could not read: none of their files are indexed.
      -- Replaced root by root at every scan.
      CREATE TABLE unreadable_folders (
        id INTEGER PRIMARY KEY,
        root_id INTEGER NOT NULL REFERENCES roots(id) ON DELETE CASCADE,
        path TEXT NOT NULL UNIQUE,
        reason TEXT NOT NULL,
        -- Files known in it (listed, or indexed before it became unreadable); NULL when unknown.
        files INTEGER,
        at INTEGER NOT NULL
      );
      CREATE INDEX unreadable_folders_root ON unreadable_folders(root_id);
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** Applies every migration above the database's `user_version`, each in one transaction. */
export function migrate(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS): { from: number; to: number } {
  const from = db.pragma('user_version', { simple: true }) as number;
  const latest = migrations.length ? migrations[migrations.length - 1]!.version : 0;
  if (from > latest) {
    throw new Error(`this database has schema version ${from}, newer than this Trove knows (${latest}); update Trove, or point --data at another folder`);
  }
  for (const m of migrations) {
    if (m.version <= from) continue;
    const apply = db.transaction(() => {
      db.exec(m.sql);
      // PRAGMA takes no bound parameters; the version is a number from this file.
      db.pragma(`user_version = ${Number(m.version)}`);
    });
    try {
      apply.immediate();
    } catch (e) {
      throw new Error(`migration ${m.version} (${m.name}) failed and was rolled back: ${(e as Error).message}`, { cause: e });
    }
  }
  return { from, to: Math.max(from, latest) };
}
