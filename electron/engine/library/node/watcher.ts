// Live changes under one root, as batches the engine can apply in one transaction each.
//
// - chokidar sees the events; a new or changed file is held back until its size and mtime have
//   been stable for `writeStableMs`, so a half-copied video is not extracted. This is done here,
//   with one shared poll, not with chokidar's `awaitWriteFinish`: under load (2,000 files written
//   at once while other work runs) chokidar 4.0.3's per-file polling lost 20–30% of the adds.
// - Events are coalesced per path into batches (every `batchIntervalMs`, at most `maxBatchSize`
//   changes each): copying 10,000 files in yields tens of batches, not 10,000 callbacks, and a file
//   created then deleted inside one window yields nothing.
// - Moves: a removal waits up to `moveWindowMs` for an added file of the same size; if their
//   fingerprints agree the pair becomes one `moved` change (no re-embedding). The removed file's
//   size and fingerprint come from the store through `knownFiles`. A folder rename arrives from
//   chokidar as a removal and an addition per file inside, so it becomes one move per file.
// - The root disappearing (an unplugged drive, a renamed folder) emits `root-missing` and no
//   removals: pending removals are dropped, because a vanished root says nothing about its files.
//   The root is polled; when it is back, watching restarts and `root-present` asks for a rescan.
// - chokidar errors and handler failures become `problem` events; nothing is thrown into chokidar.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Stats } from 'node:fs';
import { watch, type FSWatcher } from 'chokidar';
import type { FileKind } from '../../../contract/common/entities.ts';
import { compilePathRules, relativeToRoot, type PathRules } from '../common/path-rules.ts';
import { fingerprintFile } from './fingerprint.ts';
import { scanRoot } from './scanner.ts';

interface FileFacts {
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

export interface WatchRootOptions {
  readonly root: string;
  readonly rules?: PathRules;
  /** Receives every event, one at a time: the next is not delivered until a returned promise settles. */
  readonly onEvent: (event: WatcherEvent) => void | Promise<void>;
  /** Stored size and fingerprint of paths that were removed; without it no moves are detected. */
  readonly knownFiles?: (paths: readonly string[]) => Promise<ReadonlyMap<string, KnownFile>> | ReadonlyMap<string, KnownFile>;
  /** Defaults to fingerprintFile; must match how the stored fingerprints were made. */
  readonly fingerprint?: (path: string) => Promise<string>;
  /** How long events gather before a batch goes out (default 250 ms). */
  readonly batchIntervalMs?: number;
  /** Most changes in one batch (default 500). */
  readonly maxBatchSize?: number;
  /** How long a removal waits for its added half before it is reported as removed (default 2000 ms). */
  readonly moveWindowMs?: number;
  /** A file counts as written once its size and mtime held for this long (default 300 ms), polled every `writePollMs` (default 100). */
  readonly writeStableMs?: number;
  readonly writePollMs?: number;
  /** How often the root's presence is checked (default 2000 ms). */
  readonly rootCheckIntervalMs?: number;
  /** Poll instead of OS events (network shares, some container mounts). */
  readonly usePolling?: boolean;
}

export interface RootWatcher {
  /** Settles once watching has started (or the root was found missing and `root-missing` went out). */
  readonly ready: Promise<void>;
  readonly state: () => 'starting' | 'watching' | 'missing' | 'closed';
  close(): Promise<void>;
}

type Pending =
  | { readonly present: true; readonly firstEvent: 'add' | 'change'; readonly facts: FileFacts }
  | { readonly present: false; readonly relativePath: string; readonly since: number; known?: KnownFile | null };

function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException | null)?.code ?? 'EUNKNOWN';
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function problemAdvice(code: string, root: string, where: string): { message: string; needsRescan: boolean } {
  switch (code) {
    case 'ENOSPC':
      return {
        message:
          `The system limit on watched folders is reached (Linux inotify), so changes under '${root}' are not seen live. ` +
          `Raise it: echo fs.inotify.max_user_watches=524288 | sudo tee /etc/sysctl.d/60-trove.conf && sudo sysctl --system; or exclude large folders. Rescan to pick up changes meanwhile.`,
        needsRescan: true,
      };
    case 'EMFILE':
      return {
        message: `Too many open files while watching '${root}' (one handle per folder on this system). Raise the open-file limit (ulimit -n) or exclude large folders. Rescan to pick up changes meanwhile.`,
        needsRescan: true,
      };
    case 'EACCES':
    case 'EPERM':
      return { message: `Cannot watch '${where}': permission denied. Grant read access to it or exclude it.`, needsRescan: false };
    default:
      return { message: `Watching '${where}' failed (${code}). Rescan the folder; if this repeats, remove and add it again.`, needsRescan: true };
  }
}

export function watchRoot(options: WatchRootOptions): RootWatcher {
  const root = path.resolve(options.root);
  const rules = options.rules ?? compilePathRules();
  const fingerprint = options.fingerprint ?? fingerprintFile;
  const batchIntervalMs = options.batchIntervalMs ?? 250;
  const maxBatchSize = Math.max(1, options.maxBatchSize ?? 500);
  const moveWindowMs = options.moveWindowMs ?? 2000;
  const rootCheckIntervalMs = options.rootCheckIntervalMs ?? 2000;

  let state: 'starting' | 'watching' | 'missing' | 'closed' = 'starting';
  let watcher: FSWatcher | null = null;
  let rootIdentity: string | null = null;
  const pending = new Map<string, Pending>();
  let flushTimer: NodeJS.Timeout | null = null;
  let flushing: Promise<void> | null = null;

  // Events go out strictly in order; a failing handler is reported once and never reaches chokidar.
  let delivery = Promise.resolve();
  const deliver = (event: WatcherEvent): Promise<void> => {
    delivery = delivery.then(async () => {
      if (state === 'closed') return;
      try {
        await options.onEvent(event);
      } catch (error) {
        if (event.type === 'problem') return;
        try {
          await options.onEvent({ type: 'problem', root, path: null, code: 'EHANDLER', message: `Handling a '${event.type}' event failed: ${errorText(error)}. Rescan the folder.`, needsRescan: true });
        } catch {
          // The handler fails on problems too; nothing more can be done here.
        }
      }
    });
    return delivery;
  };

  const report = (error: unknown, where: string | null): void => {
    const code = errorCode(error);
    const advice = problemAdvice(code, root, where ?? root);
    void deliver({ type: 'problem', root, path: where, code, message: `${advice.message} (${errorText(error)})`, needsRescan: advice.needsRescan });
  };

  /** Null when the root is not a reachable folder; otherwise its identity, to notice a replaced root. */
  async function probeRoot(): Promise<string | null> {
    try {
      const info = await stat(root, { bigint: true });
      return info.isDirectory() ? `${info.dev}:${info.ino}` : null;
    } catch {
      return null; // ENOENT, ENOTDIR, EIO from a yanked drive: all mean "not reachable now"
    }
  }

  function scheduleFlush(delay: number): void {
    if (flushTimer !== null || state !== 'watching') return;
    flushTimer = setTimeout(() => {
      flushTimer = null;
      void runFlush();
    }, delay);
  }

  function runFlush(): Promise<void> {
    if (flushing !== null) return flushing;
    flushing = flush()
      .catch((error: unknown) => report(error, null))
      .finally(() => {
        flushing = null;
        if (pending.size > 0) scheduleFlush(batchIntervalMs);
      });
    return flushing;
  }

  // Write-finish detection: files seen added or changed, polled until size and mtime hold still.
  const writeStableMs = options.writeStableMs ?? 300;
  const writePollMs = options.writePollMs ?? 100;
  const settling = new Map<string, { event: 'add' | 'change'; size: number; mtimeMs: number; stableSince: number }>();
  let settleTimer: NodeJS.Timeout | null = null;
  let settlingNow = false;

  // chokidar misses files created in a new folder before its watch on that folder is set up (seen:
  // 800 of 2,000 under load). So every new folder is walked again once adds under it go quiet,
  // and files chokidar did not report are added then.
  const folderRechecks = new Map<string, { timer: NodeJS.Timeout; firstAt: number }>();
  /** Files reported present (added or changed) and not unlinked since: a recheck skips them. */
  const seenPresent = new Set<string>();
  const recheckQuietMs = Math.max(500, 2 * writeStableMs);
  const recheckMaxWaitMs = 10_000;

  function scheduleFolderRecheck(dirPath: string): void {
    const prefix = relativeToRoot(root, dirPath);
    if (prefix === null || prefix === '' || state !== 'watching') return;
    const covering = [...folderRechecks.keys()].find((d) => d === dirPath || relativeToRoot(d, dirPath) !== null);
    const key = covering ?? dirPath;
    const existing = folderRechecks.get(key);
    const firstAt = existing?.firstAt ?? Date.now();
    if (existing !== undefined) clearTimeout(existing.timer);
    const delay = Date.now() - firstAt > recheckMaxWaitMs ? 0 : recheckQuietMs;
    const entry = { firstAt, timer: setTimeout(() => void recheckFolder(key, entry), delay) };
    folderRechecks.set(key, entry);
  }

  async function recheckFolder(dirPath: string, entry: { timer: NodeJS.Timeout }): Promise<void> {
    const prefix = relativeToRoot(root, dirPath)!;
    const scoped: PathRules = {
      skipsDirectory: (relative) => rules.skipsDirectory(`${prefix}/${relative}`),
      decideFile: (relative) => rules.decideFile(`${prefix}/${relative}`),
      skipsEitherWay: (relative) => rules.skipsEitherWay(`${prefix}/${relative}`),
    };
    try {
      for await (const file of scanRoot(dirPath, { rules: scoped })) {
        if (state !== 'watching') break;
        if (!seenPresent.has(file.path) && !settling.has(file.path)) observe('add', file.path, file);
      }
    } catch {
      // The folder went away again; its unlink events say what happened.
    } finally {
      if (folderRechecks.get(dirPath) === entry) folderRechecks.delete(dirPath);
    }
  }

  function clearFolderRechecks(): void {
    for (const { timer } of folderRechecks.values()) clearTimeout(timer);
    folderRechecks.clear();
    seenPresent.clear();
  }

  function observe(event: 'add' | 'change' | 'unlink', filePath: string, stats: { size: number; mtimeMs: number } | undefined): void {
    if (state !== 'watching') return;
    const relativePath = relativeToRoot(root, filePath);
    if (relativePath === null || relativePath === '' || !rules.decideFile(relativePath).indexed) return;
    const before = settling.get(filePath);
    if (event === 'unlink') {
      settling.delete(filePath);
      seenPresent.delete(filePath);
      // A file that never finished appearing leaves no trace; anything else is a removal.
      if (before?.event !== 'add') record('unlink', filePath, undefined);
      return;
    }
    seenPresent.add(filePath);
    if (event === 'add' && folderRechecks.size > 0) {
      const covering = [...folderRechecks.keys()].find((d) => relativeToRoot(d, filePath) !== null);
      if (covering !== undefined) scheduleFolderRecheck(covering); // still busy: wait for quiet
    }
    settling.set(filePath, { event: before?.event ?? event, size: stats?.size ?? -1, mtimeMs: stats?.mtimeMs ?? -1, stableSince: Date.now() });
    settleTimer ??= setInterval(() => void settle(), writePollMs);
  }

  async function settle(): Promise<void> {
    if (settlingNow) return;
    settlingNow = true;
    try {
      const paths = [...settling.keys()];
      for (let i = 0; i < paths.length; i += 256) {
        await Promise.all(
          paths.slice(i, i + 256).map(async (filePath) => {
            let info: Stats | null = null;
            try {
              info = await stat(filePath);
            } catch {
              info = null;
            }
            const entry = settling.get(filePath);
            if (entry === undefined || state !== 'watching') return;
            if (info === null || !info.isFile()) {
              settling.delete(filePath); // gone (chokidar reports the unlink) or no longer a file
              return;
            }
            const now = Date.now();
            if (info.size !== entry.size || info.mtimeMs !== entry.mtimeMs) {
              settling.set(filePath, { ...entry, size: info.size, mtimeMs: info.mtimeMs, stableSince: now });
            } else if (now - entry.stableSince >= writeStableMs) {
              settling.delete(filePath);
              record(entry.event, filePath, info);
            }
          }),
        );
      }
    } finally {
      settlingNow = false;
      if (settling.size === 0 && settleTimer !== null) {
        clearInterval(settleTimer);
        settleTimer = null;
      }
    }
  }

  function record(event: 'add' | 'change' | 'unlink', filePath: string, stats: Stats | undefined): void {
    if (state !== 'watching') return;
    const relativePath = relativeToRoot(root, filePath);
    if (relativePath === null || relativePath === '') return;
    const decision = rules.decideFile(relativePath);
    if (!decision.indexed) return;
    const before = pending.get(filePath);
    if (event === 'unlink') {
      // Created and deleted within the window (temp files, aborted copies): nothing to say.
      if (before?.present === true && before.firstEvent === 'add') pending.delete(filePath);
      else pending.set(filePath, { present: false, relativePath, since: before?.present === false ? before.since : Date.now() });
    } else {
      const facts: FileFacts = { path: filePath, relativePath, size: stats?.size ?? 0, mtimeMs: stats?.mtimeMs ?? 0, kind: decision.kind };
      // Removed then back at the same path: the content was replaced, which is a change.
      const firstEvent = before === undefined ? event : before.present ? before.firstEvent : 'change';
      pending.set(filePath, { present: true, firstEvent, facts });
    }
    if (pending.size >= maxBatchSize) void runFlush();
    else scheduleFlush(batchIntervalMs);
  }

  async function refreshStats(facts: FileFacts): Promise<FileFacts | null> {
    if (facts.size !== 0 || facts.mtimeMs !== 0) return facts;
    try {
      const info = await stat(facts.path);
      return { ...facts, size: info.size, mtimeMs: info.mtimeMs };
    } catch {
      return null;
    }
  }

  async function flush(): Promise<void> {
    if (state !== 'watching' || pending.size === 0) return;
    const entries = [...pending.entries()];
    pending.clear();
    const present = entries.filter((e): e is [string, Extract<Pending, { present: true }>] => e[1].present);
    const absent = entries.filter((e): e is [string, Extract<Pending, { present: false }>] => !e[1].present);

    if (absent.length > 0) {
      // Removals first prove the root is still there: a vanished root explains them all.
      const identity = await probeRoot();
      if (identity === null) {
        await enterMissing();
        return;
      }
      const unknown = absent.filter(([, p]) => p.known === undefined).map(([filePath]) => filePath);
      if (unknown.length > 0) {
        let known: ReadonlyMap<string, KnownFile> = new Map();
        if (options.knownFiles !== undefined) {
          try {
            known = await options.knownFiles(unknown);
          } catch (error) {
            report(error, null);
          }
        }
        for (const [filePath, p] of absent) if (p.known === undefined) p.known = known.get(filePath) ?? null;
      }
    }

    // Pair additions with removals of the same size and fingerprint.
    const changes: WatchChange[] = [];
    const candidates = absent.filter(([, p]) => p.known?.fingerprint != null);
    const candidateSizes = new Set(candidates.map(([, p]) => p.known!.size));
    const matchedAbsent = new Set<string>();
    for (const [, p] of present) {
      const facts = await refreshStats(p.facts);
      if (facts === null) continue; // gone again before we looked
      let move: WatchChange | null = null;
      if (p.firstEvent === 'add' && candidateSizes.has(facts.size)) {
        let print: string | null = null;
        try {
          print = await fingerprint(facts.path);
        } catch {
          print = null; // unreadable now: report it as added and let extraction record why
        }
        const matches = candidates.filter(([filePath, c]) => !matchedAbsent.has(filePath) && c.known!.fingerprint === print && c.known!.size === facts.size);
        const best = matches.find(([filePath]) => path.basename(filePath) === path.basename(facts.path)) ?? matches[0];
        if (best !== undefined && print !== null) {
          matchedAbsent.add(best[0]);
          move = { type: 'moved', from: best[0], fingerprint: print, ...facts };
        }
      }
      changes.push(move ?? { type: p.firstEvent === 'add' ? 'added' : 'changed', ...facts });
    }

    // Unmatched removals of files that could still pair wait for their added half.
    const now = Date.now();
    for (const [filePath, p] of absent) {
      if (matchedAbsent.has(filePath)) continue;
      const couldPair = p.known?.fingerprint != null;
      if (couldPair && now - p.since < moveWindowMs && !pending.has(filePath)) pending.set(filePath, p);
      else if (!pending.has(filePath)) changes.push({ type: 'removed', path: filePath, relativePath: p.relativePath });
    }

    for (let i = 0; i < changes.length; i += maxBatchSize) {
      await deliver({ type: 'batch', root, changes: changes.slice(i, i + maxBatchSize) });
    }
  }

  async function startChokidar(): Promise<void> {
    const instance = watch(root, {
      ignoreInitial: true,
      followSymlinks: false,
      alwaysStat: true,
      usePolling: options.usePolling ?? false,
      awaitWriteFinish: false,
      ignored: (filePath: string, stats?: Stats) => {
        const relativePath = relativeToRoot(root, filePath);
        if (relativePath === null || relativePath === '') return false;
        if (stats?.isDirectory()) return rules.skipsDirectory(relativePath) !== null;
        if (stats?.isFile()) return !rules.decideFile(relativePath).indexed;
        return rules.skipsEitherWay(relativePath);
      },
    });
    watcher = instance;
    const current = (): boolean => watcher === instance && state === 'watching';
    instance.on('add', (filePath, stats) => current() && observe('add', filePath, stats));
    instance.on('change', (filePath, stats) => current() && observe('change', filePath, stats));
    instance.on('unlink', (filePath) => current() && observe('unlink', filePath, undefined));
    instance.on('addDir', (dirPath) => current() && scheduleFolderRecheck(path.resolve(dirPath)));
    instance.on('unlinkDir', (dirPath) => {
      if (!current()) return;
      const removedDir = path.resolve(dirPath);
      if (removedDir === root) {
        void checkRoot();
        return;
      }
      // chokidar reports unlinks only for files it tracked. Files that a folder recheck found (the
      // ones it missed) would otherwise stay indexed under their old path after a folder rename or
      // delete, and their new paths would be embedded again (seen: 60 of 160 in a renamed folder).
      for (const filePath of [...seenPresent]) {
        if (relativeToRoot(removedDir, filePath) !== null) observe('unlink', filePath, undefined);
      }
    });
    instance.on('error', (error) => {
      if (watcher !== instance) return;
      report(error, (error as NodeJS.ErrnoException).path ?? null);
      void checkRoot();
    });
    await new Promise<void>((resolve) => instance.once('ready', () => resolve()));
  }

  async function stopChokidar(): Promise<void> {
    const instance = watcher;
    watcher = null;
    if (instance !== null) await instance.close().catch(() => undefined);
  }

  async function enterMissing(): Promise<void> {
    if (state !== 'watching' && state !== 'starting') return;
    state = 'missing';
    pending.clear();
    settling.clear();
    clearFolderRechecks();
    if (flushTimer !== null) clearTimeout(flushTimer);
    flushTimer = null;
    await stopChokidar();
    await deliver({ type: 'root-missing', root });
  }

  async function enterWatching(identity: string, announce: boolean): Promise<void> {
    rootIdentity = identity;
    state = 'watching';
    await startChokidar();
    if (announce) await deliver({ type: 'root-present', root, rescan: true });
  }

  let checking: Promise<void> | null = null;
  function checkRoot(): Promise<void> {
    checking ??= (async () => {
      const identity = await probeRoot();
      if (state === 'closed') return;
      if (identity === null) {
        if (state === 'watching') await enterMissing();
      } else if (state === 'missing') {
        await enterWatching(identity, true);
      } else if (state === 'watching' && identity !== rootIdentity) {
        // Deleted and recreated (or another drive mounted at the same place): start over.
        pending.clear();
        settling.clear();
        await stopChokidar();
        await enterWatching(identity, true);
      }
    })()
      .catch((error: unknown) => report(error, root))
      .finally(() => (checking = null));
    return checking;
  }

  const rootTimer = setInterval(() => void checkRoot(), rootCheckIntervalMs);
  rootTimer.unref();

  const ready = (async () => {
    const identity = await probeRoot();
    if (identity === null) {
      state = 'missing';
      await deliver({ type: 'root-missing', root });
    } else {
      await enterWatching(identity, false);
    }
  })().catch((error: unknown) => report(error, root));

  return {
    ready,
    state: () => state,
    async close() {
      clearInterval(rootTimer);
      if (flushTimer !== null) clearTimeout(flushTimer);
      flushTimer = null;
      await ready;
      await checking;
      await flushing;
      state = 'closed';
      pending.clear();
      settling.clear();
      clearFolderRechecks();
      if (settleTimer !== null) clearInterval(settleTimer);
      settleTimer = null;
      await stopChokidar();
      await delivery;
    },
  };
}
