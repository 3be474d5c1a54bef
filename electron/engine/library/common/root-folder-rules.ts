// Which folders may become library roots, decided from the path alone (docs/api.md, `roots.add`):
// an absolute path (a leading `~` is the home folder, so people can type `~/Pictures` in the
// browser UI or the CLI), not a system folder no one means to index, and not inside or around a
// folder already in the library (one file, one root: nested roots would index files twice, and
// removing the inner one would not remove them). Pure, so the engine and the UI tests' fake engine
// refuse the same paths with the same sentences; the engine then checks the disk
// (library/node/root-folder.ts) and runs these rules again on the real path.

export type PathStyle = 'posix' | 'win32';

export interface RootFolderContext {
  /** The home folder `~` stands for; null where there is none (then `~` is refused). */
  readonly home: string | null;
  /** 'win32' for Windows paths; 'darwin' adds macOS system folders. Any other value is Linux-like. */
  readonly platform: string;
  /** The folders already in the library. */
  readonly existing: readonly { readonly path: string }[];
}

export type RootFolderProblem = 'empty' | 'relative' | 'home-user' | 'system' | 'already-added' | 'inside-existing' | 'contains-existing';

export type RootFolderCheck = { readonly ok: true; readonly path: string } | { readonly ok: false; readonly problem: RootFolderProblem; readonly message: string };

function styleOf(platform: string): PathStyle {
  return platform === 'win32' ? 'win32' : 'posix';
}

const isCaseInsensitive = (platform: string): boolean => platform === 'win32' || platform === 'darwin';

/** Splits an absolute path into its prefix ('/', 'C:\', '\\server\share\') and its names; null when relative. */
function splitAbsolute(input: string, style: PathStyle): { prefix: string; names: string[] } | null {
  if (style === 'posix') {
    if (!input.startsWith('/')) return null;
    return { prefix: '/', names: input.split('/') };
  }
  const drive = /^([a-zA-Z]):[\\/]/.exec(input);
  if (drive) return { prefix: `${drive[1]!.toUpperCase()}:\\`, names: input.slice(3).split(/[\\/]/) };
  const unc = /^[\\/]{2}([^\\/]+)[\\/]+([^\\/]+)(?:[\\/]|$)/.exec(input);
  if (unc) return { prefix: `\\\\${unc[1]}\\${unc[2]}\\`, names: input.slice(unc[0].length).split(/[\\/]/) };
  return null;
}

/** The absolute path, normalised (no `.`, `..`, doubled or trailing separators); null when relative. */
export function normaliseAbsolutePath(input: string, platform: string): string | null {
  const style = styleOf(platform);
  const split = splitAbsolute(input, style);
  if (split === null) return null;
  const names: string[] = [];
  for (const name of split.names) {
    if (name === '' || name === '.') continue;
    if (name === '..') names.pop();
    else names.push(name);
  }
  return split.prefix + names.join(style === 'posix' ? '/' : '\\');
}

/** `~` and `~/…` (also `~\…` on Windows) with the home folder put in; anything else unchanged. */
export function expandHomeFolder(input: string, home: string | null, platform: string): string {
  const separators = styleOf(platform) === 'win32' ? /^~([\\/]|$)/ : /^~(\/|$)/;
  if (home === null || !separators.test(input)) return input;
  return `${home.replace(/[\\/]+$/, '')}${input.slice(1) || ''}`;
}

function comparable(p: string, platform: string): string {
  return isCaseInsensitive(platform) ? p.toLowerCase() : p;
}

/** True when `inner` is `outer` or lies below it (both normalised absolute paths). */
function isWithin(outer: string, inner: string, platform: string): boolean {
  const sep = styleOf(platform) === 'win32' ? '\\' : '/';
  const a = comparable(outer, platform);
  const b = comparable(inner, platform);
  if (a === b) return true;
  return b.startsWith(a.endsWith(sep) ? a : a + sep);
}

/**
 * System folders: the ones refused with everything below them (the kernel's and the system's own,
 * nothing a person keeps files in), and the ones refused only themselves (too broad: the whole
 * system or every program; a folder inside may still be someone's, e.g. /srv/photos).
 */
function systemFolders(platform: string): { withContents: string[]; exactly: string[] } {
  if (platform === 'win32') {
    return {
      withContents: ['C:\\Windows', 'C:\\Program Files', 'C:\\Program Files (x86)', 'C:\\ProgramData', 'C:\\$Recycle.Bin', 'C:\\System Volume Information', 'C:\\Recovery'],
      exactly: ['C:\\', 'C:\\Users'],
    };
  }
  const linux = {
    withContents: ['/proc', '/sys', '/dev', '/run', '/boot', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/usr/bin', '/usr/sbin', '/usr/lib', '/usr/lib32', '/usr/lib64', '/usr/libexec', '/usr/include', '/etc', '/var/lib', '/var/cache', '/var/run', '/var/lock', '/snap', '/lost+found'],
    exactly: ['/', '/usr', '/usr/share', '/usr/local', '/var', '/opt', '/srv', '/mnt', '/media', '/home', '/root', '/tmp', '/var/tmp'],
  };
  if (platform !== 'darwin') return linux;
  return {
    withContents: [...linux.withContents, '/System', '/Library', '/private/etc', '/private/var/db', '/private/var/vm', '/cores', '/Volumes/Recovery'],
    exactly: [...linux.exactly, '/Applications', '/Users', '/Volumes', '/private', '/private/var', '/private/tmp'],
  };
}

function refuse(problem: RootFolderProblem, message: string): RootFolderCheck {
  return { ok: false, problem, message };
}

/**
 * The folder `input` names, normalised, or why it cannot be a root, in a sentence that says what
 * to do. Checks the text only; whether the folder exists is the caller's (it needs the disk).
 */
export function checkRootFolderPath(input: string, context: RootFolderContext): RootFolderCheck {
  const typed = input.trim();
  if (typed === '') return refuse('empty', 'Type the full path of a folder, for example ~/Pictures.');
  if (/^~[^\\/]/.test(typed)) return refuse('home-user', `'${typed}': only ~ (your own home folder) is expanded; type the full path of the folder instead.`);
  if (typed.startsWith('~') && context.home === null) return refuse('relative', `'${typed}': this machine has no home folder to put in for ~; type the full path of the folder instead.`);
  const expanded = expandHomeFolder(typed, context.home, context.platform);
  const folder = normaliseAbsolutePath(expanded, context.platform);
  if (folder === null) {
    const example = styleOf(context.platform) === 'win32' ? 'C:\\Users\\you\\Pictures' : '/home/you/Pictures or ~/Pictures';
    return refuse('relative', `'${typed}' is not an absolute path; type the folder's full path, like ${example}.`);
  }
  const system = systemFolders(context.platform);
  const home = context.home === null ? null : normaliseAbsolutePath(context.home, context.platform);
  // The home folder itself is always the user's to add, even where it is /root.
  const isHome = home !== null && comparable(home, context.platform) === comparable(folder, context.platform);
  const systemHit = isHome
    ? undefined
    : system.withContents.find((s) => isWithin(s, folder, context.platform)) ?? system.exactly.find((s) => comparable(s, context.platform) === comparable(folder, context.platform));
  if (systemHit !== undefined) {
    const what = systemHit === folder ? `'${folder}' is a system folder` : `'${folder}' is inside the system folder '${systemHit}'`;
    return refuse('system', `${what}; Trove does not index the operating system's own files. Add the folders that hold your files instead (for example ~/Pictures or ~/Documents).`);
  }
  for (const root of context.existing) {
    const existing = normaliseAbsolutePath(root.path, context.platform) ?? root.path;
    if (comparable(existing, context.platform) === comparable(folder, context.platform)) {
      return refuse('already-added', `'${folder}' is already in the library. To index it with other patterns, remove it first, then add it again.`);
    }
    if (isWithin(existing, folder, context.platform)) {
      return refuse('inside-existing', `'${folder}' is inside '${existing}', which is already in the library, so its files are indexed already. To index only '${folder}', remove '${existing}' first, then add it.`);
    }
    if (isWithin(folder, existing, context.platform)) {
      return refuse('contains-existing', `'${folder}' contains '${existing}', which is already in the library. Remove '${existing}' first, then add '${folder}' (its files are then indexed as part of it).`);
    }
  }
  return { ok: true, path: folder };
}
