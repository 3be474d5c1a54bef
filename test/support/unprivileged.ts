// Tests of unreadable files and folders: root reads any of them, so under root the code under test
// runs in a child process as user `nobody` (setpriv drops the privileges).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';

const NOBODY = 65534;
export const runningAsRoot = process.getuid?.() === 0;
const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));
const dropPrivileges = [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups'];

/** Why an unprivileged child cannot run here, or null (it can; always null when not root). */
export function unprivilegedUnavailable(): string | null {
  if (!runningAsRoot) return null;
  if (!setpriv) return 'running as root without setpriv to drop privileges (root reads any folder)';
  // `nobody` must be able to read this checkout and its node_modules (a checkout under a private folder cannot).
  const probe = spawnSync(setpriv, [...dropPrivileges, process.execPath, '--import', 'tsx', '-e', '0'], { cwd: process.cwd(), env: { ...process.env, HOME: tmpdir() } });
  return probe.status === 0 ? null : `running as root, and user nobody cannot run node from this checkout (${probe.stderr.toString().split('\n')[0]})`;
}

/** `command` as it should be spawned: as `nobody` through setpriv when running as root, else as is. */
export function unprivilegedCommand(command: readonly string[]): string[] {
  return runningAsRoot ? [setpriv!, ...dropPrivileges, ...command] : [...command];
}
