// Where Trove keeps its database, ANN index files and thumbnails, and the lock that keeps two
// engines from writing the same folder (two writers would each hold their own ANN index in
// memory and overwrite each other's saves; SQLite alone would stay consistent, the ANN would not).
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import path from 'node:path';

export interface DataDirSources {
  /** The value of `--data DIR`, when given. */
  readonly flag?: string | undefined;
  readonly env?: NodeJS.ProcessEnv;
  readonly platform?: NodeJS.Platform;
  readonly home?: string;
}

/**
 * `--data DIR`, else `TROVE_DATA_DIR`, else the OS's per-user app-data folder. Always absolute.
 * A plain string (or undefined) is taken as the `--data` value.
 */
export function resolveDataDir(given: DataDirSources | string | undefined = {}): string {
  const sources: DataDirSources = typeof given === 'string' || given === undefined ? { flag: given } : given;
  const env = sources.env ?? process.env;
  const chosen = sources.flag ?? (env.TROVE_DATA_DIR ? env.TROVE_DATA_DIR : undefined);
  if (chosen !== undefined) {
    if (chosen.trim() === '') throw new Error('--data needs a folder path, got an empty string');
    return path.resolve(chosen);
  }
  return defaultDataDir(sources.platform ?? process.platform, env, sources.home ?? homedir());
}

function defaultDataDir(platform: NodeJS.Platform, env: NodeJS.ProcessEnv, home: string): string {
  // path.win32/posix so the answer for another OS can be computed (and tested) on this one.
  if (platform === 'win32') {
    const appData = env.APPDATA || path.win32.join(home, 'AppData', 'Roaming');
    return path.win32.join(appData, 'Trove');
  }
  if (platform === 'darwin') return path.posix.join(home, 'Library', 'Application Support', 'Trove');
  // XDG: a relative XDG_DATA_HOME is invalid and must be ignored.
  const xdg = env.XDG_DATA_HOME && path.posix.isAbsolute(env.XDG_DATA_HOME) ? env.XDG_DATA_HOME : path.posix.join(home, '.local', 'share');
  return path.posix.join(xdg, 'trove');
}

/** The files inside a data folder. */
export function dataDirLayout(dir: string) {
  return {
    database: path.join(dir, 'trove.db'),
    lock: path.join(dir, 'trove.lock'),
    annDir: path.join(dir, 'ann'),
  };
}

export interface DataDirLock {
  readonly dir: string;
  readonly path: string;
  release(): void;
}

export interface LockOwner {
  pid: number;
  host: string;
  /** When it took the lock (epoch ms; 0 when a lock from an older Trove does not say). */
  since: number;
}

/**
 * The Trove holding `dir` now: the lock's owner when it is a live process on this host, or any
 * process on another host (whose liveness cannot be checked from here); null when the folder is
 * free or its lock is stale. Reads the lock file only, creates nothing.
 */
export function dataDirHolder(dir: string): LockOwner | null {
  const owner = readOwner(dataDirLayout(dir).lock);
  if (owner === null) return null;
  if (owner.host !== hostname()) return owner;
  return owner.pid !== process.pid && isAlive(owner.pid) ? owner : null;
}

/**
 * Creates `dir` if needed and takes its lock file (created exclusively, holding this process's pid).
 * A lock left by a process that no longer runs on this host is taken over; a live one is an
 * error naming its pid. The lock is released by `release()` and, as a fallback, at process exit.
 */
export function lockDataDir(dir: string): DataDirLock {
  mkdirSync(dir, { recursive: true });
  const lockPath = dataDirLayout(dir).lock;
  const me: LockOwner = { pid: process.pid, host: hostname(), since: Date.now() };
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(lockPath, 'wx');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = readOwner(lockPath);
      if (owner && owner.host !== me.host) {
        throw new Error(`the data folder ${dir} is in use by process ${owner.pid} on host ${owner.host}; stop that Trove, or delete ${lockPath} if it is no longer running`);
      }
      if (owner && owner.pid !== me.pid && isAlive(owner.pid)) {
        throw new Error(`the data folder ${dir} is in use by another Trove engine (pid ${owner.pid}); stop it first, or pass a different --data folder`);
      }
      if (owner && owner.pid === me.pid) {
        throw new Error(`the data folder ${dir} is already open in this process; open it once and share the store`);
      }
      // Stale (its process is gone) or unreadable (killed while writing it): take it over.
      try {
        unlinkSync(lockPath);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      continue;
    }
    writeSync(fd, JSON.stringify(me));
    closeSync(fd);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      process.off('exit', release);
      // Only remove the lock if it is still ours (someone may have taken over a lock we lost).
      if (readOwner(lockPath)?.pid === me.pid) {
        try {
          unlinkSync(lockPath);
        } catch {
          // Already gone: nothing to release.
        }
      }
    };
    process.on('exit', release);
    return { dir, path: lockPath, release };
  }
  throw new Error(`could not take the lock ${lockPath}: another process keeps recreating it; stop other Trove engines using ${dir}`);
}

function readOwner(lockPath: string): LockOwner | null {
  try {
    const parsed = JSON.parse(readFileSync(lockPath, 'utf8')) as Partial<LockOwner>;
    if (typeof parsed.pid === 'number' && typeof parsed.host === 'string') return { pid: parsed.pid, host: parsed.host, since: parsed.since ?? 0 };
  } catch {
    // Missing or half-written: treated as stale.
  }
  return null;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else — still alive.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
