// A watching failure (chokidar's error, a failed store lookup, a failed flush) as a `problem`
// event for the user: what happened in words, what to do, and whether live changes may have been
// missed (then the root wants a rescan). The advice names the system limits a large library runs
// into: Linux inotify watches (ENOSPC) and open files (EMFILE).
import type { WatcherEvent } from './watch-events.ts';

export function errorCode(error: unknown): string {
  return (error as { code?: string } | null)?.code ?? 'EUNKNOWN';
}

export function errorText(error: unknown): string {
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

/** The `problem` event for `error` under `root`; `where` is the path it concerns (null: the root as a whole). */
export function watchProblem(error: unknown, root: string, where: string | null): WatcherEvent {
  const code = errorCode(error);
  const advice = problemAdvice(code, root, where ?? root);
  return { type: 'problem', root, path: where, code, message: `${advice.message} (${errorText(error)})`, needsRescan: advice.needsRescan };
}
