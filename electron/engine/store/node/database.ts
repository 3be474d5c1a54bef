// Opening the SQLite file. One writer connection (the engine's, which also migrates) and any number
// of read-only connections (search workers): WAL lets readers run while the writer commits.
import Database from 'better-sqlite3';
import { migrate } from './migrations.ts';

export type Db = Database.Database;

/** How long a statement waits for another connection's lock before failing with SQLITE_BUSY. */
export const BUSY_TIMEOUT_MS = 5000;

/**
 * The addon binary to load. Unset under Node; the Electron shell in development points it at a
 * copy built for Electron's ABI (scripts/prepare-electron-sqlite.ts), so one checkout runs both.
 */
const nativeBinding = process.env.TROVE_SQLITE_BINDING || undefined;

/**
 * The engine's writer connection: WAL, foreign keys on, synchronous=NORMAL, migrated to the
 * latest schema.
 *
 * synchronous=NORMAL: in WAL mode a commit is then durable against a killed process (the WAL is
 * written before commit returns) and the file can never be corrupted; only an OS crash or power
 * loss can drop the last few commits. Everything here is rebuilt from the user's files anyway,
 * so that loss costs re-indexing a few files, while FULL would cost an fsync on every commit.
 */
export function openWriter(file: string): Db {
  const db = new Database(file, { timeout: BUSY_TIMEOUT_MS, nativeBinding });
  try {
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal') throw new Error(`SQLite refused WAL mode for ${file} (got '${String(mode)}'); keep the data folder on a local disk`);
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    // Vector and thumbnail blobs make rows large; a bigger cache keeps the item/vector b-trees hot.
    db.pragma('cache_size = -32000');
    migrate(db);
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}

/**
 * A read-only connection to a database the writer has already created and migrated (another
 * process's library: `trove status` while the app holds it).
 */
export function openReader(file: string): Db {
  const db = new Database(file, { readonly: true, fileMustExist: true, timeout: BUSY_TIMEOUT_MS, nativeBinding });
  db.pragma('query_only = ON');
  return db;
}

/**
 * A connection that only reads (`query_only`), for threads beside this process's writer (the ANN
 * workers). Opened read-write all the same: the last connection to close a WAL database
 * checkpoints it and removes its -wal and -shm files, which a read-only one cannot do, so a
 * worker that happens to close after the writer would leave both behind.
 */
export function openQueryOnly(file: string): Db {
  const db = new Database(file, { fileMustExist: true, timeout: BUSY_TIMEOUT_MS, nativeBinding });
  db.pragma('query_only = ON');
  return db;
}
