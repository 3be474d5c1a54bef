// Opens a file, or the folder holding it, with the operating system's own tool, detached so
// Trove never waits on (or dies with) the viewer. The opener is watched for a moment: xdg-open on
// a machine without a desktop (or without an app for the type) exits at once with an error, and
// saying "opened" then would be a lie the user cannot see through.
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { Readable } from 'node:stream';

/** How long an opener may take to fail: xdg-open, open and explorer hand over well within it. */
const OPENER_SETTLE_MS = 1500;

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

/**
 * Resolves once the opener handed over (it exited with 0, or is still running after a moment);
 * rejects with what went wrong and what to do when it is missing or fails.
 */
export function openWithSystem(target: string, reveal: boolean, settleMs = OPENER_SETTLE_MS): Promise<void> {
  const { cmd, args } = command(target, reveal);
  const shown = args[args.length - 1]!.replace(/^\/select,/, '');
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
    let said = '';
    const stderr = child.stderr as Readable & { unref?: () => void };
    stderr.setEncoding('utf8');
    stderr.on('data', (chunk: string) => {
      if (said.length < 4000) said += chunk;
    });
    let settled = false;
    const handOver = () => {
      if (settled) return;
      settled = true;
      // Keep draining what the app may still print, but let Trove exit without it.
      child.unref();
      stderr.unref?.();
      resolve();
    };
    const timer = setTimeout(handOver, settleMs);
    child.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (settled) return;
      settled = true;
      reject(
        new Error(
          error.code === 'ENOENT'
            ? `'${cmd}' is not installed, so Trove cannot open files here${cmd === 'xdg-open' ? ' (install xdg-utils)' : ''}; open ${shown} yourself`
            : `starting '${cmd}' failed: ${error.message}; open ${shown} yourself`,
        ),
      );
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (settled) return;
      // explorer.exe exits with 1 even when it opened the window: only its start can fail.
      if (code === 0 || code === null || process.platform === 'win32') return handOver();
      settled = true;
      const reason = said.trim().split('\n').filter(Boolean).pop() ?? `it exited with code ${code}`;
      reject(new Error(`'${cmd}' could not open ${shown} (${reason}): this computer has no app set up for it, or no desktop; open ${shown} yourself`));
    });
  });
}
