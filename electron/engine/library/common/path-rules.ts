// What inside a root gets indexed: the per-root include/exclude globs, hidden entries and the
// folders/files operating systems and tools keep for themselves. Pure: works on root-relative
// paths with `/` separators, so the scanner, the watcher and the UI ("why is this not indexed?")
// all share one answer.
//
// Hidden means dot-prefixed. The Windows "hidden" attribute is not seen (Node does not expose it);
// such files are indexed unless another rule skips them.
import type { FileKind } from '../../../contract/common/entities.ts';
import { fileKindOf } from './file-kinds.ts';
import { compileGlob, GlobPatternError } from '../../base/common/glob-pattern.ts';

export interface PathRulesConfig {
  /** Globs a file must match (any of) to be indexed; empty or absent means every file. Files only. */
  readonly include?: readonly string[];
  /** Globs that skip a file, or a folder with everything below it. */
  readonly exclude?: readonly string[];
  /** Index dot-prefixed files and folders too (default false). */
  readonly includeHidden?: boolean;
  /** Match globs regardless of case (pass true on Windows and macOS). */
  readonly caseInsensitive?: boolean;
}

export type SkipReason = 'hidden' | 'system' | 'excluded' | 'not-included' | 'unknown-kind';

export type FileDecision = { readonly indexed: true; readonly kind: FileKind } | { readonly indexed: false; readonly reason: SkipReason };

export interface PathRules {
  /** Why a folder (and all below it) is skipped, or null when it is walked. */
  skipsDirectory(relativePath: string): SkipReason | null;
  /** Whether a file is indexed, and as what; checks its folders too. */
  decideFile(relativePath: string): FileDecision;
  /**
   * For callers that do not know whether a path is a file or a folder (chokidar's `ignored`):
   * true only when the path is skipped either way (hidden, system or excluded).
   */
  skipsEitherWay(relativePath: string): boolean;
}

/**
 * Names skipped at any depth: version-control and dependency folders, OS trash/metadata, and files
 * still being written by a browser or locked by an editor (they would fail or churn). Case-insensitive.
 */
const SYSTEM_NAMES: readonly RegExp[] = [
  /^(node_modules|\.git|\.svn|\.hg|\.bzr|__pycache__|\.venv|\.tox)$/i,
  /^(\$recycle\.bin|recycler|system volume information|\$windows\.~bt|\$windows\.~ws|lost\+found)$/i,
  /^(\.trash(es)?|\.trash-.*|\.spotlight-v100|\.fseventsd|\.documentrevisions-v100|\.temporaryitems)$/i,
  /^(thumbs\.db|ehthumbs\.db|desktop\.ini|\.ds_store|pagefile\.sys|hiberfil\.sys|swapfile\.sys)$/i,
  /^~\$/, // Office lock files
  /\.(crdownload|part|partial|download|tmp)$/i,
];

export function isHiddenName(name: string): boolean {
  return name.startsWith('.') && name !== '.' && name !== '..';
}

export function isSystemName(name: string): boolean {
  return SYSTEM_NAMES.some((re) => re.test(name));
}

/** The root-relative `/`-separated form of `absolutePath`, or null when it is not inside `root` (the root itself is ''). */
export function relativeToRoot(root: string, absolutePath: string): string | null {
  const norm = (p: string): string => p.replace(/\\/g, '/').replace(/\/+$/, '');
  const base = norm(root);
  const full = norm(absolutePath);
  if (full === base) return '';
  return full.startsWith(`${base}/`) ? full.slice(base.length + 1) : null;
}

export function compilePathRules(config: PathRulesConfig = {}): PathRules {
  const globOptions = { caseInsensitive: config.caseInsensitive ?? false };
  const include = (config.include ?? []).map((p) => compileGlob(p, globOptions));
  const exclude = (config.exclude ?? []).map((p) => compileGlob(p, globOptions));
  const includeHidden = config.includeHidden ?? false;

  /** The skip reason of one path taken as a whole (its own name and the exclude globs). */
  function ownReason(relativePath: string, name: string): SkipReason | null {
    if (isSystemName(name)) return 'system';
    if (!includeHidden && isHiddenName(name)) return 'hidden';
    if (exclude.some((re) => re.test(relativePath))) return 'excluded';
    return null;
  }

  /** Checks every folder on the way down and the path itself. */
  function pathReason(relativePath: string): SkipReason | null {
    const segments = relativePath.split('/').filter((s) => s !== '');
    for (let i = 0; i < segments.length; i += 1) {
      const reason = ownReason(segments.slice(0, i + 1).join('/'), segments[i]);
      if (reason !== null) return reason;
    }
    return null;
  }

  return {
    skipsDirectory: pathReason,
    skipsEitherWay: (relativePath) => pathReason(relativePath) !== null,
    decideFile(relativePath) {
      const reason = pathReason(relativePath);
      if (reason !== null) return { indexed: false, reason };
      const kind = fileKindOf(relativePath);
      if (kind === null) return { indexed: false, reason: 'unknown-kind' };
      if (include.length > 0 && !include.some((re) => re.test(relativePath))) return { indexed: false, reason: 'not-included' };
      return { indexed: true, kind };
    },
  };
}

/**
 * What is wrong with a folder's include/exclude patterns, in a sentence for the user, or null when
 * they all compile. roots.add refuses malformed patterns with it, before the folder's first sync.
 */
export function patternProblem(config: Pick<PathRulesConfig, 'include' | 'exclude'>): string | null {
  try {
    compilePathRules(config);
    return null;
  } catch (error) {
    if (error instanceof GlobPatternError) return error.message;
    throw error;
  }
}
