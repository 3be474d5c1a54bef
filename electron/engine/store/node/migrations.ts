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
  {
    version: 4,
    name: 'kept counts (files, items, vectors) and the vectors-complete mark',
    // docs/store.md, "Kept counts". Status and progress read these few rows instead of counting a
    // million (files.counts 40-48 ms, vectors.count 16 ms at 1M items). Triggers keep them in the
    // same transaction as the rows they count, so a kill can never leave them off. Cascades fire
    // the child tables' delete triggers too. (INSERT OR REPLACE would not: its implicit delete fires
    // no trigger unless recursive_triggers is on, so no counted table is written with it.)
    sql: `
      CREATE TABLE file_counts (
        root_id INTEGER NOT NULL,
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        n INTEGER NOT NULL,
        PRIMARY KEY (root_id, kind, status)
      ) WITHOUT ROWID;
      INSERT INTO file_counts SELECT root_id, kind, status, count(*) FROM files GROUP BY root_id, kind, status;
      CREATE TRIGGER file_counts_insert AFTER INSERT ON files BEGIN
        INSERT INTO file_counts VALUES (new.root_id, new.kind, new.status, 1) ON CONFLICT DO UPDATE SET n = n + 1;
      END;
      CREATE TRIGGER file_counts_delete AFTER DELETE ON files BEGIN
        UPDATE file_counts SET n = n - 1 WHERE root_id = old.root_id AND kind = old.kind AND status = old.status;
      END;
      CREATE TRIGGER file_counts_update AFTER UPDATE OF root_id, kind, status ON files
        WHEN old.root_id IS NOT new.root_id OR old.kind IS NOT new.kind OR old.status IS NOT new.status BEGIN
        UPDATE file_counts SET n = n - 1 WHERE root_id = old.root_id AND kind = old.kind AND status = old.status;
        INSERT INTO file_counts VALUES (new.root_id, new.kind, new.status, 1) ON CONFLICT DO UPDATE SET n = n + 1;
      END;
      CREATE TRIGGER file_counts_root_delete AFTER DELETE ON roots BEGIN
        DELETE FROM file_counts WHERE root_id = old.id;
      END;

      CREATE TABLE item_counts (kind TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
      INSERT INTO item_counts SELECT kind, count(*) FROM items GROUP BY kind;
      CREATE TRIGGER item_counts_insert AFTER INSERT ON items BEGIN
        INSERT INTO item_counts VALUES (new.kind, 1) ON CONFLICT DO UPDATE SET n = n + 1;
      END;
      CREATE TRIGGER item_counts_delete AFTER DELETE ON items BEGIN
        UPDATE item_counts SET n = n - 1 WHERE kind = old.kind;
      END;
      CREATE TRIGGER item_counts_update AFTER UPDATE OF kind ON items WHEN old.kind IS NOT new.kind BEGIN
        UPDATE item_counts SET n = n - 1 WHERE kind = old.kind;
        INSERT INTO item_counts VALUES (new.kind, 1) ON CONFLICT DO UPDATE SET n = n + 1;
      END;

      CREATE TABLE vector_counts (model_id INTEGER PRIMARY KEY, n INTEGER NOT NULL);
      INSERT INTO vector_counts SELECT model_id, count(*) FROM vectors GROUP BY model_id;
      CREATE TRIGGER vector_counts_insert AFTER INSERT ON vectors BEGIN
        INSERT INTO vector_counts VALUES (new.model_id, 1) ON CONFLICT DO UPDATE SET n = n + 1;
      END;
      CREATE TRIGGER vector_counts_delete AFTER DELETE ON vectors BEGIN
        UPDATE vector_counts SET n = n - 1 WHERE model_id = old.model_id;
      END;
      CREATE TRIGGER vector_counts_update AFTER UPDATE OF model_id ON vectors WHEN old.model_id IS NOT new.model_id BEGIN
        UPDATE vector_counts SET n = n - 1 WHERE model_id = old.model_id;
        INSERT INTO vector_counts VALUES (new.model_id, 1) ON CONFLICT DO UPDATE SET n = n + 1;
      END;
      CREATE TRIGGER vector_counts_model_delete AFTER DELETE ON models BEGIN
        DELETE FROM vector_counts WHERE model_id = old.id;
      END;

      -- Small facts about the whole store. 'vectors-complete-model' = a model id for which every
      -- indexed file was last found to have its vectors (FilesRepo.requeueWithoutVectors): the start
      -- of the engine skips that O(files) check while it holds. The triggers below drop the mark
      -- whenever a file becomes indexed without them, or a vector of that model goes while its
      -- item stays (a cascade from a deleted item sees the item gone and keeps the mark).
      CREATE TABLE store_flags (key TEXT PRIMARY KEY, value) WITHOUT ROWID;
      CREATE TRIGGER vectors_complete_file AFTER UPDATE OF status ON files
        WHEN new.status = 'indexed' AND EXISTS (SELECT 1 FROM store_flags WHERE key = 'vectors-complete-model') BEGIN
        DELETE FROM store_flags WHERE key = 'vectors-complete-model' AND (
          EXISTS (
            SELECT 1 FROM items i WHERE i.file_id = new.id
              AND (i.kind = 'image' OR json_extract(i.locator_json, '$.type') = 'text')
              AND NOT EXISTS (SELECT 1 FROM vectors v WHERE v.item_id = i.id AND v.model_id = store_flags.value))
          OR (new.kind IN ('pdf', 'video')
              AND EXISTS (SELECT 1 FROM items i WHERE i.file_id = new.id AND i.kind IN ('page', 'moment', 'video'))
              AND NOT EXISTS (SELECT 1 FROM items i JOIN vectors v ON v.item_id = i.id AND v.model_id = store_flags.value WHERE i.file_id = new.id)));
      END;
      CREATE TRIGGER vectors_complete_vector AFTER DELETE ON vectors
        WHEN EXISTS (SELECT 1 FROM store_flags WHERE key = 'vectors-complete-model' AND value = old.model_id)
          AND EXISTS (SELECT 1 FROM items WHERE id = old.item_id) BEGIN
        DELETE FROM store_flags WHERE key = 'vectors-complete-model';
      END;
      CREATE TRIGGER vectors_complete_model AFTER DELETE ON models BEGIN
        DELETE FROM store_flags WHERE key = 'vectors-complete-model' AND value = old.id;
      END;
    `,
  },
  {
    version: 5,
    name: 'the keyword index terms, for prefix expansion',
    // docs/store.md, "Keyword search at a million items". A prefix query ("libr"*) makes FTS5 merge
    // the doclist of every term with that prefix before its first row (a million entries for a word
    // in every path); the words as typed stream instead. This view of the index's terms (nothing is
    // stored: it reads the FTS5 b-tree) lets a prefix be expanded into the terms it stands for, one
    // seek per term, so the search can name them. The 'instance' form, because a seek on it never
    // walks a term's doclist (the 'row' form counts every document of each term it passes).
    sql: `CREATE VIRTUAL TABLE items_fts_terms USING fts5vocab(items_fts, instance);`,
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
