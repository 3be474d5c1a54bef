// Live changes under one root, as batches the engine can apply in one transaction each.
//
// `watchRoot` joins chokidar (the events), the file system (lstat, walks, fingerprints) and the
// store's answers (`knownFiles`) to the watcher's parts, each a small module that a unit test
// drives alone with a fake clock (test/engine/library/watch-*.test.ts):
//
// - common/watch-write-stability.ts: a new or changed file is held back until its size and mtime
//   have been stable for `writeStableMs`, so a half-copied video is not extracted.
// - common/watch-folder-rechecks.ts: every new folder is walked once more after adds under it go
//   quiet, because chokidar misses files created before it watches a new folder.
// - common/watch-move-pairing.ts: a removal of known content is held (at least `moveWindowMs`,
//   longer while additions are on their way, up to `maxMoveHoldMs`) and an addition with the same
//   size and fingerprint takes it: one `moved` change, nothing re-embedded. The removed file's size
//   and fingerprint come from the store through `knownFiles`.
// - common/watch-root-presence.ts: the root disappearing emits `root-missing` and no removals;
//   when it is back, `root-present` asks for a rescan.
// - common/watch-batches.ts and watch-delivery.ts: events coalesced per path into batches (every
//   `batchIntervalMs`, at most `maxBatchSize` changes each), delivered one at a time, in order.
// - common/watch-problems.ts: chokidar errors and handler failures become `problem` events;
//   nothing is thrown into chokidar.
//
// What stays here is the flush, where the parts meet: removals prove the root is still there and
// are held or go out, additions are fingerprinted only when a held removal has their size and
// paired, held removals whose hold is over go out, and the changes are delivered in batches.
//
// Links are never followed, as in the scanner (docs/file-kinds.md, "Links"): chokidar is told to
// ignore them, and every file is looked at with lstat, because chokidar reports a file replaced by
// a link as a `change` with the stats of the link's target. A file that became a link (or anything
// but a regular file) is a removal.
import { lstat, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Stats } from 'node:fs';
import { watch, type FSWatcher } from 'chokidar';
import pLimit from 'p-limit';
import { compilePathRules, relativeToRoot, type PathRules } from '../common/path-rules.ts';
import { batchesOf, FlushSchedule, PendingChanges } from '../common/watch-batches.ts';
import { EventDelivery } from '../common/watch-delivery.ts';
import type { FileFacts, KnownFile, WatchChange, WatcherEvent } from '../common/watch-events.ts';
import { FolderRechecks } from '../common/watch-folder-rechecks.ts';
import { HeldRemovals } from '../common/watch-move-pairing.ts';
import { watchProblem } from '../common/watch-problems.ts';
import { RootPresence, type WatchState } from '../common/watch-root-presence.ts';
import { WriteStability } from '../common/watch-write-stability.ts';
import { fingerprintFile } from './fingerprint.ts';
import { scanRoot } from './scanner.ts';

export type { KnownFile, WatchChange, WatcherEvent } from '../common/watch-events.ts';

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
  /** The longest a removal waits while additions are still in flight (default 30,000 ms). */
  readonly maxMoveHoldMs?: number;
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
  readonly state: () => WatchState;
  /**
   * True while changes seen on disk have not all been delivered yet (files still being written or
   * waiting in a batch, new folders not yet walked again, removals waiting for their added half).
   * A caller pairing removals across roots waits for this instead of a fixed time.
   */
  readonly busy: () => boolean;
  close(): Promise<void>;
}

/** Files fingerprinted at once when pairing additions with removals. */
const FINGERPRINT_CONCURRENCY = 8;

/** A new folder is walked again at the latest this long after the first add under it. */
const RECHECK_MAX_WAIT_MS = 10_000;

export function watchRoot(options: WatchRootOptions): RootWatcher {
  const root = path.resolve(options.root);
  const rules = options.rules ?? compilePathRules();
  const fingerprint = options.fingerprint ?? fingerprintFile;
  const maxBatchSize = Math.max(1, options.maxBatchSize ?? 500);
  const writeStableMs = options.writeStableMs ?? 300;

  let watcher: FSWatcher | null = null;
  const watching = (): boolean => presence.state === 'watching';

  const delivery: EventDelivery = new EventDelivery({ root, onEvent: options.onEvent, isClosed: (): boolean => presence.state === 'closed' });
  const report = (error: unknown, where: string | null): void => void delivery.deliver(watchProblem(error, root, where));

  const presence: RootPresence = new RootPresence({
    checkEveryMs: options.rootCheckIntervalMs ?? 2000,
    probe: probeRoot,
    watch: startChokidar,
    unwatch: stopChokidar,
    forget: (why) => {
      pending.clear();
      held.clear();
      stability.clear();
      if (why === 'missing') {
        rechecks.clear();
        flushes.cancel();
      }
    },
    announce: (type): Promise<void> => delivery.deliver(type === 'root-missing' ? { type, root } : { type, root, rescan: true }),
    onError: (error) => report(error, root),
  });
  const pending = new PendingChanges();
  const held = new HeldRemovals({ moveWindowMs: options.moveWindowMs ?? 2000, maxHoldMs: options.maxMoveHoldMs ?? 30_000, baseName: path.basename });
  const flushes = new FlushSchedule({
    intervalMs: options.batchIntervalMs ?? 250,
    canSchedule: watching,
    flush,
    workLeft: () => pending.size > 0 || held.size > 0,
    onError: (error) => report(error, null),
  });
  const stability = new WriteStability({
    stableMs: writeStableMs,
    pollMs: options.writePollMs ?? 100,
    stat: lstat, // never through a link: a file swapped for one is seen as what it is now
    isActive: watching,
    onWritten: (filePath, firstSeenAs, info) => record(firstSeenAs, filePath, info),
    onNoLongerAFile: (filePath) => {
      rechecks.noteGone(filePath);
      record('unlink', filePath, undefined);
    },
  });
  const rechecks = new FolderRechecks({
    quietMs: Math.max(500, 2 * writeStableMs),
    maxWaitMs: RECHECK_MAX_WAIT_MS,
    separator: path.sep,
    isActive: watching,
    walk: walkFolder,
  });

  /** Null when the root is not a reachable folder; otherwise its identity, to notice a replaced root. */
  async function probeRoot(): Promise<string | null> {
    try {
      const info = await stat(root, { bigint: true });
      return info.isDirectory() ? `${info.dev}:${info.ino}` : null;
    } catch {
      return null; // ENOENT, ENOTDIR, EIO from a yanked drive: all mean "not reachable now"
    }
  }

  /**
   * True while an addition may still be on its way: a file waiting to finish writing, a change not
   * yet flushed, a new folder not yet walked again, or a batch being worked on. Held removals wait
   * for this (up to `maxMoveHoldMs`).
   */
  function additionsInFlight(insideFlush = false): boolean {
    if (rechecks.busy() || (!insideFlush && flushes.running)) return true;
    return pending.hasPresent() || stability.waitingForAdditions();
  }

  /** What chokidar (or a folder walk) saw: a file to wait for until written, or one gone. */
  function observe(event: 'add' | 'change' | 'unlink', filePath: string, stats: { size: number; mtimeMs: number } | undefined): void {
    if (!watching()) return;
    const relativePath = relativeToRoot(root, filePath);
    if (relativePath === null || relativePath === '' || !rules.decideFile(relativePath).indexed) return;
    if (event === 'unlink') {
      const firstSeenAs = stability.forget(filePath);
      rechecks.noteGone(filePath);
      // A file that never finished appearing leaves no trace; anything else is a removal.
      if (firstSeenAs !== 'add') record('unlink', filePath, undefined);
      return;
    }
    rechecks.notePresent(filePath);
    if (event === 'add') rechecks.fileAdded(filePath); // a folder around it still busy: wait for quiet
    stability.track(filePath, event, stats);
  }

  /** A change ready to go out with the next batch. */
  function record(event: 'add' | 'change' | 'unlink', filePath: string, stats: { size: number; mtimeMs: number } | undefined): void {
    if (!watching()) return;
    const relativePath = relativeToRoot(root, filePath);
    if (relativePath === null || relativePath === '') return;
    const decision = rules.decideFile(relativePath);
    if (!decision.indexed) return;
    if (event === 'unlink') {
      if (held.has(filePath)) return; // already waiting for its added half
      pending.removed(filePath, relativePath, Date.now());
    } else {
      const facts: FileFacts = { path: filePath, relativePath, size: stats?.size ?? 0, mtimeMs: stats?.mtimeMs ?? 0, kind: decision.kind };
      pending.present(filePath, event, facts, held.release(filePath) !== undefined);
    }
    if (pending.size >= maxBatchSize) void flushes.now();
    else flushes.soon();
  }

  /** A folder recheck: the files under a new folder that chokidar did not report. */
  async function walkFolder(dirPath: string, stillWanted: () => boolean): Promise<void> {
    const prefix = relativeToRoot(root, dirPath)!;
    const scoped: PathRules = {
      skipsDirectory: (relative) => rules.skipsDirectory(`${prefix}/${relative}`),
      decideFile: (relative) => rules.decideFile(`${prefix}/${relative}`),
      skipsEitherWay: (relative) => rules.skipsEitherWay(`${prefix}/${relative}`),
    };
    for await (const file of scanRoot(dirPath, { rules: scoped })) {
      if (!stillWanted()) break;
      if (!rechecks.isPresent(file.path) && !stability.has(file.path)) observe('add', file.path, file);
    }
  }

  async function refreshStats(facts: FileFacts): Promise<FileFacts | null> {
    if (facts.size !== 0 || facts.mtimeMs !== 0) return facts;
    try {
      const info = await lstat(facts.path);
      return info.isFile() ? { ...facts, size: info.size, mtimeMs: info.mtimeMs } : null;
    } catch {
      return null;
    }
  }

  async function flush(): Promise<void> {
    if (!watching()) return;
    const { present, absent } = pending.take();
    const changes: WatchChange[] = [];

    let rootChecked = false;
    /** Removals first prove the root is still there: a vanished root explains them all. */
    const rootStillThere = async (): Promise<boolean> => {
      if (rootChecked) return true;
      if (!(await presence.confirm())) return false;
      rootChecked = true;
      return true;
    };

    if (absent.length > 0) {
      if (!(await rootStillThere())) return;
      let known: ReadonlyMap<string, KnownFile> = new Map();
      if (options.knownFiles !== undefined) {
        try {
          known = await options.knownFiles(absent.map(([filePath]) => filePath));
        } catch (error) {
          report(error, null);
        }
      }
      for (const [filePath, p] of absent) {
        if (pending.has(filePath)) continue; // back meanwhile: its new event says what it is
        const k = known.get(filePath);
        // Only a removal whose content is known can pair with an addition; the rest go out now.
        if (k?.fingerprint != null) held.hold(filePath, { relativePath: p.relativePath, since: p.since, size: k.size, fingerprint: k.fingerprint });
        else changes.push({ type: 'removed', path: filePath, relativePath: p.relativePath });
      }
    }

    // Pair additions with held removals of the same size and fingerprint (fingerprints read a few
    // at a time; only additions whose size some held removal has are read at all).
    const facts = await pLimit(FINGERPRINT_CONCURRENCY).map(present, async ([, p]) => {
      const refreshed = await refreshStats(p.facts);
      if (refreshed === null || p.firstEvent !== 'add' || !held.hasSize(refreshed.size)) return { facts: refreshed, print: null };
      // Unreadable now: report it as added and let extraction record why.
      const print = await fingerprint(refreshed.path).catch(() => null);
      return { facts: refreshed, print };
    });
    present.forEach(([, p], i) => {
      const { facts: f, print } = facts[i]!;
      if (f === null) return; // gone again before we looked
      const from = print === null ? undefined : held.take(f.size, print, f.path);
      if (from !== undefined) changes.push({ type: 'moved', from, fingerprint: print!, ...f });
      else changes.push({ type: p.firstEvent === 'add' ? 'added' : 'changed', ...f });
    });

    // Held removals whose hold is over go out as removals (it lasts longer while additions are on their way).
    const due = held.due(Date.now(), additionsInFlight(true));
    if (due.length > 0) {
      if (!(await rootStillThere())) return;
      for (const [filePath, h] of due) if (held.release(filePath) !== undefined) changes.push({ type: 'removed', path: filePath, relativePath: h.relativePath });
    }

    for (const batch of batchesOf(changes, maxBatchSize)) await delivery.deliver({ type: 'batch', root, changes: batch });
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
        // A link is never followed: chokidar would report it as a file (and watch its target).
        if (stats?.isSymbolicLink()) return true;
        if (stats?.isDirectory()) return rules.skipsDirectory(relativePath) !== null;
        if (stats?.isFile()) return !rules.decideFile(relativePath).indexed;
        return rules.skipsEitherWay(relativePath);
      },
    });
    watcher = instance;
    const current = (): boolean => watcher === instance && watching();
    instance.on('add', (filePath, stats) => current() && observe('add', filePath, stats));
    instance.on('change', (filePath, stats) => current() && observe('change', filePath, stats));
    instance.on('unlink', (filePath) => current() && observe('unlink', filePath, undefined));
    instance.on('addDir', (dirPath) => {
      if (!current()) return;
      const folder = path.resolve(dirPath);
      const prefix = relativeToRoot(root, folder);
      if (prefix !== null && prefix !== '') rechecks.folderAdded(folder);
    });
    instance.on('unlinkDir', (dirPath) => {
      if (!current()) return;
      const removedDir = path.resolve(dirPath);
      if (removedDir === root) {
        void presence.check();
        return;
      }
      // chokidar reports unlinks only for files it tracked; files a folder recheck found (the ones
      // it missed) are removed here, or they would stay indexed under their old path.
      for (const filePath of rechecks.presentInside(removedDir)) observe('unlink', filePath, undefined);
    });
    instance.on('error', (error) => {
      if (watcher !== instance) return;
      report(error, (error as NodeJS.ErrnoException).path ?? null);
      void presence.check();
    });
    await new Promise<void>((resolve) => instance.once('ready', () => resolve()));
  }

  async function stopChokidar(): Promise<void> {
    const instance = watcher;
    watcher = null;
    if (instance !== null) await instance.close().catch(() => undefined);
  }

  const ready = presence.start();

  return {
    ready,
    state: () => presence.state,
    busy: () => watching() && (held.size > 0 || additionsInFlight()),
    async close() {
      presence.stopChecking();
      flushes.cancel();
      await presence.settled();
      await flushes.settled();
      presence.close();
      pending.clear();
      held.clear();
      stability.close();
      rechecks.clear();
      await stopChokidar();
      await delivery.idle();
    },
  };
}
