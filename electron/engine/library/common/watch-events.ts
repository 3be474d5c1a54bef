// What a root watcher (library/node/watcher.ts) tells its user: batches of changes to files under
// the root, the root going missing and coming back, and problems in words. Types only, shared by the
// watcher's parts (watch-*.ts beside this file) and by library sync, which applies the events.
import type { FileKind } from '../../../contract/common/entities.ts';

/** A file as the watcher last saw it. */
export interface FileFacts {
  /** Absolute path. */
  readonly path: string;
  readonly relativePath: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly kind: FileKind;
}

/**
 * One change. `added` and `changed` are hints from the watcher's view: apply both as "upsert by
 * path" (the store knows whether the path exists; a `changed` path may be new to it and vice versa).
 */
export type WatchChange =
  | ({ readonly type: 'added' } & FileFacts)
  | ({ readonly type: 'changed' } & FileFacts)
  | { readonly type: 'removed'; readonly path: string; readonly relativePath: string }
  | ({ readonly type: 'moved'; readonly from: string; readonly fingerprint: string } & FileFacts);

export type WatcherEvent =
  | { readonly type: 'batch'; readonly root: string; readonly changes: readonly WatchChange[] }
  /** The root folder is gone; its files stay indexed (do NOT delete them). */
  | { readonly type: 'root-missing'; readonly root: string }
  /** The root is back (or was replaced by another folder): rescan and reconcile it. */
  | { readonly type: 'root-present'; readonly root: string; readonly rescan: true }
  | {
      readonly type: 'problem';
      readonly root: string;
      readonly path: string | null;
      readonly code: string;
      /** In words, with what to do. */
      readonly message: string;
      /** Live changes may have been missed: rescan the root (now, or periodically until fixed). */
      readonly needsRescan: boolean;
    };

/** What the store knows of a path that just disappeared: enough to recognise it elsewhere. */
export interface KnownFile {
  readonly size: number;
  readonly fingerprint: string | null;
}
