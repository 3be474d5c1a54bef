// Opens a file, or the folder holding it, with the operating system's own tool, detached so
// Trove never waits on (or dies with) the viewer.
import { spawn } from 'node:child_process';
import path from 'node:path';

function command(target: string, reveal: boolean): { cmd: string; args: string[] } {
  switch (process.platform) {
    case 'darwin':
      return { cmd: 'open', args: reveal ? ['-R', target] : [target] };
    case 'win32':
      return { cmd: 'explorer', args: reveal ? [`/select,${target}`] : [target] };
    default:
      // xdg-open has no "select this file": show its folder instead.
      return { cmd: 'xdg-open', args: [reveal ? path.dirname(target) : target] };
  }
}

/** Resolves once the opener started; rejects with what to install when it is missing. */
export function openWithSystem(target: string, reveal: boolean): Promise<void> {
  const { cmd, args } = command(target, reveal);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { detached: true, stdio: 'ignore' });
    child.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        new Error(
          error.code === 'ENOENT'
            ? `'${cmd}' is not installed, so Trove cannot open files here${cmd === 'xdg-open' ? ' (install xdg-utils)' : ''}; open ${target} yourself`
            : `starting '${cmd}' failed: ${error.message}`,
        ),
      );
    });
    child.once('spawn', () => {
      child.unref();
      resolve();
    });
  });
}
