// The folder a new library root names, checked on disk: the path rules (common/root-folder-rules.ts)
// on what was typed, then the folder must exist, be a folder and be readable, and the rules run
// again on its real path, against the other roots (a link to / or into an existing root is refused
// like the folder it leads to).
// Roots are stored by their real path: the scanner and the watcher never follow links
// (docs/file-kinds.md, "Links"), so a root given through a link is walked where it really is.
import { constants } from 'node:fs';
import { access, realpath, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { checkRootFolderPath, type RootFolderProblem } from '../common/root-folder-rules.ts';

export type RootFolderErrorCode = RootFolderProblem | 'missing' | 'not-folder' | 'unreadable';

export class RootFolderError extends Error {
  override readonly name = 'RootFolderError';
  constructor(
    readonly code: RootFolderErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface ResolveRootOptions {
  readonly existing: readonly { readonly path: string }[];
  /** Defaults: the user's home folder and this platform (tests pass others). */
  readonly home?: string | null;
  readonly platform?: string;
}

function errnoCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}

/** The real path of the folder `input` names, ready to be a root; throws RootFolderError saying what to do. */
export async function resolveRootFolder(input: string, options: ResolveRootOptions): Promise<string> {
  const context = { home: options.home === undefined ? os.homedir() || null : options.home, platform: options.platform ?? process.platform, existing: options.existing };
  // The path's shape and system folders first; the other roots once it is known to be a folder.
  const typed = checkRootFolderPath(input, { ...context, existing: [] });
  if (!typed.ok) throw new RootFolderError(typed.problem, typed.message);
  const folder = typed.path;
  let real: string;
  try {
    const info = await stat(folder);
    if (!info.isDirectory()) {
      throw new RootFolderError('not-folder', `'${folder}' is a file, not a folder; add the folder that holds it ('${path.dirname(folder)}') instead.`);
    }
    real = await realpath(folder);
    await access(real, constants.R_OK | constants.X_OK);
  } catch (error) {
    if (error instanceof RootFolderError) throw error;
    const code = errnoCode(error);
    if (code === 'ENOENT') throw new RootFolderError('missing', `Folder '${folder}' does not exist; check the spelling, or create it first.`);
    if (code === 'ENOTDIR') throw new RootFolderError('not-folder', `'${folder}' is not a folder (a file is on its way); check the path.`);
    if (code === 'EACCES' || code === 'EPERM') {
      throw new RootFolderError('unreadable', `Trove cannot open folder '${folder}' (permission denied); grant read access to it, or add a folder you can read.`);
    }
    throw new RootFolderError('unreadable', `Trove cannot open folder '${folder}': ${error instanceof Error ? error.message : String(error)}.`);
  }
  // Again on the real paths: a link to / or into a root is refused like the folder it leads to,
  // and roots stored before they were stored by real path are compared by where they lead.
  const existing = await Promise.all(options.existing.map(async (r) => ({ path: await realpath(r.path).catch(() => r.path) })));
  const resolved = checkRootFolderPath(real, { ...context, existing });
  if (!resolved.ok) throw new RootFolderError(resolved.problem, real === folder ? resolved.message : `'${folder}' is a link to '${real}': ${resolved.message}`);
  return resolved.path;
}
