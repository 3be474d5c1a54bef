// A look at a library another Trove holds (the app, `trove serve`, `trove index`): what `trove
// status` can say while that Trove has the data folder's lock. It reads through a read-only SQLite
// connection beside that Trove's writer (WAL lets readers in while the writer commits, see
// docs/store.md), and takes no lock, loads no model, opens no ANN index and writes nothing. The
// counts are the last ones committed, so they may move while that Trove indexes; what only the
// holder knows (the model it runs, its ANN index, its indexing state) is left to it.
import type { FileCounts } from '../../store/node/files-repo.ts';
import { FilesRepo } from '../../store/node/files-repo.ts';
import { ItemsRepo } from '../../store/node/items-repo.ts';
import { VectorsRepo } from '../../store/node/vectors-repo.ts';
import type { LockOwner } from '../../store/node/data-dir.ts';
import { dataDirDiskBytes, Store } from '../../store/node/store.ts';
import type { FileFailures } from '../../../contract/common/entities.ts';

export interface LibraryGlance {
  /** The Trove process holding the library (from its lock file). */
  readonly heldBy: LockOwner;
  readonly files: FileCounts['files'];
  readonly items: number;
  /** Vectors stored per embedding model (those with any); which model the holder uses is its own. */
  readonly vectorsByModel: { name: string; vectors: number }[];
  readonly unreadableFolders: { count: number; files: number };
  readonly dataDir: string;
  readonly diskBytes: number;
}

export interface LibraryGlancer {
  glance(): LibraryGlance;
  failures(limit: number, offset: number): FileFailures;
  close(): void;
}

/** Opens `dataDir`'s database read-only (it must exist: the holder created and migrated it). */
export function glanceAtLibrary(dataDir: string, heldBy: LockOwner): LibraryGlancer {
  const db = Store.openReadOnly(dataDir);
  const files = new FilesRepo(db);
  const items = new ItemsRepo(db);
  const vectors = new VectorsRepo(db);
  return {
    glance() {
      // One read transaction: the counts agree with each other even while the holder commits.
      return db.transaction(() => ({
        heldBy,
        files: files.counts().files,
        items: items.count(),
        vectorsByModel: vectors
          .models()
          .map((m) => ({ name: m.name, vectors: vectors.count(m.id) }))
          .filter((m) => m.vectors > 0),
        unreadableFolders: files.unreadableFolders(),
        dataDir,
        diskBytes: dataDirDiskBytes(dataDir),
      }))();
    },
    failures: (limit, offset) => files.failures(limit, offset),
    close: () => db.close(),
  };
}
