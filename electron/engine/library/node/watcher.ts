// Live changes under one root, as batches the engine can apply in one transaction each.
//
// - chokidar sees the events; a new or changed file is held back until its size and mtime have
//   been stable for `writeStableMs`, so a half-copied video is not extracted. This is done here,
//   with one shared poll, not with chokidar's `awaitWriteFinish`: under load (2,000 files written
//   at once while other work runs) chokidar 4.0.3's per-file polling lost 20–30% of the adds.
// - Events are coalesced per path into batches (every `batchIntervalMs`, at most `maxBatchSize`
//   changes each): copying 10,000 files in yields tens of batches, not 10,000 callbacks, and a file
//   created then deleted inside one window yields nothing.
// - Moves: a removal waits at least `moveWindowMs` for an added file of the same size; if their
//   fingerprints agree the pair becomes one `moved` change (no re-embedding). The removed file's
//   size and fingerprint come from the store through `knownFiles`. A folder rename arrives from
//   chokidar as a removal and an addition per file inside, so it becomes one move per file. While
//   additions are still on their way (being written, not yet flushed, a new folder not yet walked
//   again) removals keep waiting, up to `maxMoveHoldMs`: in a storm of thousands of files the
//   added halves come through later than any fixed window. Pairing is a lookup by size +
//   fingerprint, so a rename of N files costs O(N).
// - The root disappearing (an unplugged drive, a renamed folder) emits `root-missing` and no
//   removals: pending removals are dropped, because a vanished root says nothing about its files.
//   The root is polled; when it is back, watching restarts and `root-present` asks for a rescan.
// - chokidar errors and handler failures become `problem` events; nothing is thrown into chokidar.
// - Links are never followed, as in the scanner (docs/file-kinds.md, "Links"): chokidar is told to
//   ignore them, and every file is looked at with lstat, because chokidar reports a file replaced
//   by a link as a `change` with the stats of the link's target. A file that became a link (or
//   anything but a regular file) is a removal.
import { lstat, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Stats } from 'node:fs';
import { watch, type FSWatcher } from 'chokidar';
import type { FileKind } from '../../../contract/common/entities.ts';
import { compilePathRules, relativeToRoot, type PathRules } from '../common/path-rules.ts';
import { mapBounded } from '../common/reconcile.ts';
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
  readonly state: () => 'starting' | 'watching' | 'missing' | 'closed';
  /**
   * True while changes seen on disk have not all been delivered yet (files still being written or
   * waiting in a batch, new folders not yet walked again, removals waiting for their added half).
   * A caller pairing removals across roots waits for this instead of a fixed time.
   */
  readonly busy: () => boolean;
  close(): Promise<void>;
}

type Pending =
  | { readonly present: true; readonly firstEvent: 'add' | 'change'; readonly facts: FileFacts }
  | { readonly present: false; readonly relativePath: string; readonly since: number };

/** A removal of known content, waiting for an addition with the same size and fingerprint. */
interface Held {
  readonly relativePath: string;
  readonly since: number;
  readonly known: { readonly size: number; readonly fingerprint: string };
}

/** Files fingerprinted at once when pairing additions with removals. */
const FINGERPRINT_CONCURRENCY = 8;

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
  const maxMoveHoldMs = Math.max(moveWindowMs, options.maxMoveHoldMs ?? 30_000);
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
        if (pending.size > 0 || held.size > 0) scheduleFlush(batchIntervalMs);
      });
    return flushing;
  }

  // Write-finish detection: files seen added or changed wait until size and mtime held still for
  // `writeStableMs`. Each poll stats only the files that are due (quiet that long since their last
  // known change): a write in between changes the mtime, and chokidar reports it as a change
  // anyway. Polling every waiting file every `writePollMs` cost 10,000 stats per poll in a storm.
  const writeStableMs = options.writeStableMs ?? 300;
  const writePollMs = options.writePollMs ?? 100;
  const settling = new Map<string, { event: 'add' | 'change'; size: number; mtimeMs: number; stableSince: number }>();
  let settleTimer: NodeJS.Timeout | null = null;
  let settlingNow = false;

  // chokidar misses files created in a new folder before its watch on that folder is set up (seen:
  // 800 of 2,000 under load). So every new folder is walked again once adds under it go quiet (or
  // at the latest `recheckMaxWaitMs` after its first add), and files chokidar did not report are
  // added then. One walk per folder at a time: adds during a walk ask for one more walk after it.
  // (Before, every add after the first 10 s started another walk of the whole folder, so a 10,000
  // file copy spent most of its time re-walking: the super-linear cost of large storms.)
  interface Recheck {
    timer: NodeJS.Timeout | null;
    firstAt: number;
    lastAddAt: number;
    running: boolean;
    again: boolean;
  }
  const folderRechecks = new Map<string, Recheck>();
  /** Files reported present (added or changed) and not unlinked since: a recheck skips them. */
  const seenPresent = new Set<string>();
  const recheckQuietMs = Math.max(500, 2 * writeStableMs);
  const recheckMaxWaitMs = 10_000;

  const isInside = (dir: string, filePath: string): boolean => filePath.startsWith(dir) && filePath.charAt(dir.length) === path.sep;

  function coveringRecheck(filePath: string): Recheck | undefined {
    for (const [dir, recheck] of folderRechecks) if (dir === filePath || isInside(dir, filePath)) return recheck;
    return undefined;
  }

  function scheduleFolderRecheck(dirPath: string): void {
    const prefix = relativeToRoot(root, dirPath);
    if (prefix === null || prefix === '' || state !== 'watching') return;
    const covering = coveringRecheck(dirPath);
    if (covering !== undefined) {
      noteAddUnder(covering);
      return;
    }
    const now = Date.now();
    const recheck: Recheck = { timer: null, firstAt: now, lastAddAt: now, running: false, again: false };
    folderRechecks.set(dirPath, recheck);
    armRecheck(dirPath, recheck);
  }

  function noteAddUnder(recheck: Recheck): void {
    recheck.lastAddAt = Date.now();
    if (recheck.running) recheck.again = true;
  }

  /** Fires when adds have been quiet for recheckQuietMs, or recheckMaxWaitMs after the first. */
  function armRecheck(dirPath: string, recheck: Recheck): void {
    const due = (): number => Math.min(recheck.lastAddAt + recheckQuietMs, recheck.firstAt + recheckMaxWaitMs);
    const fire = (): void => {
      recheck.timer = null;
      if (folderRechecks.get(dirPath) !== recheck || state !== 'watching') return;
      if (Date.now() < due()) recheck.timer = setTimeout(fire, due() - Date.now());
      else void recheckFolder(dirPath, recheck);
    };
    recheck.timer = setTimeout(fire, Math.max(0, due() - Date.now()));
  }

  async function recheckFolder(dirPath: string, recheck: Recheck): Promise<void> {
    recheck.running = true;
    recheck.again = false;
    const prefix = relativeToRoot(root, dirPath)!;
    const scoped: PathRules = {
      skipsDirectory: (relative) => rules.skipsDirectory(`${prefix}/${relative}`),
      decideFile: (relative) => rules.decideFile(`${prefix}/${relative}`),
      skipsEitherWay: (relative) => rules.skipsEitherWay(`${prefix}/${relative}`),
    };
    try {
      for await (const file of scanRoot(dirPath, { rules: scoped })) {
        if (state !== 'watching' || folderRechecks.get(dirPath) !== recheck) break;
        if (!seenPresent.has(file.path) && !settling.has(file.path)) observe('add', file.path, file);
      }
    } catch {
      // The folder went away again; its unlink events say what happened.
    } finally {
      recheck.running = false;
      if (folderRechecks.get(dirPath) === recheck) {
        if (recheck.again && state === 'watching') {
          recheck.firstAt = Date.now();
          armRecheck(dirPath, recheck);
        } else {
          folderRechecks.delete(dirPath);
        }
      }
    }
  }

  function clearFolderRechecks(): void {
    for (const { timer } of folderRechecks.values()) if (timer !== null) clearTimeout(timer);
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
      const covering = coveringRecheck(filePath);
      if (covering !== undefined) noteAddUnder(covering); // still busy: wait for quiet
    }
    settling.set(filePath, { event: before?.event ?? event, size: stats?.size ?? -1, mtimeMs: stats?.mtimeMs ?? -1, stableSince: Date.now() });
    settleTimer ??= setInterval(() => void settle(), writePollMs);
  }

  async function settle(): Promise<void> {
    if (settlingNow) return;
    settlingNow = true;
    try {
      const now = Date.now();
      const due: string[] = [];
      for (const [filePath, entry] of settling) if (now - entry.stableSince >= writeStableMs) due.push(filePath);
      for (let i = 0; i < due.length; i += 256) {
        await Promise.all(
          due.slice(i, i + 256).map(async (filePath) => {
            let info: Stats | null = null;
            try {
              info = await lstat(filePath);
            } catch {
              info = null;
            }
            const entry = settling.get(filePath);
            if (entry === undefined || state !== 'watching') return;
            if (info === null || !info.isFile()) {
              settling.delete(filePath);
              // Gone: chokidar reports the unlink. Replaced by a link (or a FIFO…): chokidar said
              // 'change' (and may never say more), so the file that was there is removed here.
              if (info !== null && entry.event === 'change') {
                seenPresent.delete(filePath);
                record('unlink', filePath, undefined);
              }
              return;
            }
            if (info.size !== entry.size || info.mtimeMs !== entry.mtimeMs) {
              settling.set(filePath, { ...entry, size: info.size, mtimeMs: info.mtimeMs, stableSince: Date.now() });
            } else if (Date.now() - entry.stableSince >= writeStableMs) {
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

  // Removals waiting for their added half, indexed by size + fingerprint so pairing an addition is
  // one lookup (it was a scan of every waiting removal per addition: quadratic in a folder rename).
  const held = new Map<string, Held>();
  const heldByContent = new Map<string, Set<string>>();
  const heldSizes = new Map<number, number>();
  const contentKey = (size: number, print: string): string => `${size}\0${print}`;

  function hold(filePath: string, entry: Held): void {
    held.set(filePath, entry);
    const key = contentKey(entry.known.size, entry.known.fingerprint);
    let paths = heldByContent.get(key);
    if (paths === undefined) heldByContent.set(key, (paths = new Set()));
    paths.add(filePath);
    heldSizes.set(entry.known.size, (heldSizes.get(entry.known.size) ?? 0) + 1);
  }

  function unhold(filePath: string): Held | undefined {
    const entry = held.get(filePath);
    if (entry === undefined) return undefined;
    held.delete(filePath);
    const key = contentKey(entry.known.size, entry.known.fingerprint);
    const paths = heldByContent.get(key);
    paths?.delete(filePath);
    if (paths?.size === 0) heldByContent.delete(key);
    const left = (heldSizes.get(entry.known.size) ?? 1) - 1;
    if (left > 0) heldSizes.set(entry.known.size, left);
    else heldSizes.delete(entry.known.size);
    return entry;
  }

  function clearHeld(): void {
    held.clear();
    heldByContent.clear();
    heldSizes.clear();
  }

  /** The held removal with this content, preferring one with the same file name; taken out of the hold. */
  function takeHeld(size: number, print: string, newPath: string): string | undefined {
    const paths = heldByContent.get(contentKey(size, print));
    if (paths === undefined) return undefined;
    const name = path.basename(newPath);
    let best: string | undefined;
    for (const candidate of paths) {
      if (path.basename(candidate) === name) {
        best = candidate;
        break;
      }
      best ??= candidate;
    }
    if (best !== undefined) unhold(best);
    return best;
  }

  /**
   * True while an addition may still be on its way: a file waiting to finish writing, a change not
   * yet flushed, a new folder not yet walked again, or a batch being worked on. Held removals wait
   * for this (up to `maxMoveHoldMs`), because in a storm the added halves of a folder rename can
   * take longer than the move window to come through; a fixed window lost moves (seen: 2,809 of
   * 5,000 files extracted again after renaming their folder).
   */
  function additionsInFlight(insideFlush = false): boolean {
    if (folderRechecks.size > 0 || (!insideFlush && flushing !== null)) return true;
    for (const p of pending.values()) if (p.present) return true;
    for (const s of settling.values()) if (s.event === 'add') return true;
    return false;
  }

  function record(event: 'add' | 'change' | 'unlink', filePath: string, stats: Stats | undefined): void {
    if (state !== 'watching') return;
    const relativePath = relativeToRoot(root, filePath);
    if (relativePath === null || relativePath === '') return;
    const decision = rules.decideFile(relativePath);
    if (!decision.indexed) return;
    const before = pending.get(filePath);
    if (event === 'unlink') {
      if (held.has(filePath)) return; // already waiting for its added half
      // Created and deleted within the window (temp files, aborted copies): nothing to say.
      if (before?.present === true && before.firstEvent === 'add') pending.delete(filePath);
      else pending.set(filePath, { present: false, relativePath, since: before?.present === false ? before.since : Date.now() });
    } else {
      const facts: FileFacts = { path: filePath, relativePath, size: stats?.size ?? 0, mtimeMs: stats?.mtimeMs ?? 0, kind: decision.kind };
      // Removed then back at the same path: the content was replaced, which is a change.
      const wasHeld = unhold(filePath) !== undefined;
      const firstEvent = wasHeld ? 'change' : before === undefined ? event : before.present ? before.firstEvent : 'change';
      pending.set(filePath, { present: true, firstEvent, facts });
    }
    if (pending.size >= maxBatchSize) void runFlush();
    else scheduleFlush(batchIntervalMs);
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
    if (state !== 'watching') return;
    const entries = [...pending.entries()];
    pending.clear();
    const present: [string, Extract<Pending, { present: true }>][] = [];
    const absent: [string, Extract<Pending, { present: false }>][] = [];
    for (const entry of entries) {
      if (entry[1].present) present.push(entry as [string, Extract<Pending, { present: true }>]);
      else absent.push(entry as [string, Extract<Pending, { present: false }>]);
    }
    const changes: WatchChange[] = [];

    let rootChecked = false;
    /** Removals first prove the root is still there: a vanished root explains them all. */
    const rootStillThere = async (): Promise<boolean> => {
      if (rootChecked) return true;
      if ((await probeRoot()) === null) {
        await enterMissing();
        return false;
      }
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
        if (k?.fingerprint != null) hold(filePath, { relativePath: p.relativePath, since: p.since, known: { size: k.size, fingerprint: k.fingerprint } });
        else changes.push({ type: 'removed', path: filePath, relativePath: p.relativePath });
      }
    }

    // Pair additions with held removals of the same size and fingerprint (fingerprints read a few
    // at a time; only additions whose size some held removal has are read at all).
    const facts = await mapBounded(present, FINGERPRINT_CONCURRENCY, async ([, p]) => {
      const refreshed = await refreshStats(p.facts);
      if (refreshed === null || p.firstEvent !== 'add' || !heldSizes.has(refreshed.size)) return { facts: refreshed, print: null };
      // Unreadable now: report it as added and let extraction record why.
      const print = await fingerprint(refreshed.path).catch(() => null);
      return { facts: refreshed, print };
    });
    present.forEach(([, p], i) => {
      const { facts: f, print } = facts[i]!;
      if (f === null) return; // gone again before we looked
      const from = print === null ? undefined : takeHeld(f.size, print, f.path);
      if (from !== undefined) changes.push({ type: 'moved', from, fingerprint: print!, ...f });
      else changes.push({ type: p.firstEvent === 'add' ? 'added' : 'changed', ...f });
    });

    // Held removals whose window passed go out as removals, unless additions are still on their way.
    const now = Date.now();
    const busy = additionsInFlight(true);
    const due = [...held].filter(([, h]) => now - h.since >= moveWindowMs && (!busy || now - h.since >= maxMoveHoldMs));
    if (due.length > 0) {
      if (!(await rootStillThere())) return;
      for (const [filePath, h] of due) if (unhold(filePath) !== undefined) changes.push({ type: 'removed', path: filePath, relativePath: h.relativePath });
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
        // A link is never followed: chokidar would report it as a file (and watch its target).
        if (stats?.isSymbolicLink()) return true;
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
        if (isInside(removedDir, filePath)) observe('unlink', filePath, undefined);
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
    clearHeld();
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
        clearHeld();
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
    busy: () => state === 'watching' && (held.size > 0 || additionsInFlight()),
    async close() {
      clearInterval(rootTimer);
      if (flushTimer !== null) clearTimeout(flushTimer);
      flushTimer = null;
      await ready;
      await checking;
      await flushing;
      state = 'closed';
      pending.clear();
      clearHeld();
      settling.clear();
      clearFolderRechecks();
      if (settleTimer !== null) clearInterval(settleTimer);
      settleTimer = null;
      await stopChokidar();
      await delivery;
    },
  };
}
