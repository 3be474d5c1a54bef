// The one glob rule set, for a library folder's include/exclude patterns and the model hub's
// allow-list alike (docs/cli.md#include-and-exclude-patterns has it for users). Matching is
// picomatch's; this module adds the gitignore-style anchoring and turns malformed patterns into
// errors a user can act on instead of patterns that silently match nothing.
//
// Matching is against a path relative to a root (a library folder, a model repo), `/` separated:
// - a pattern with no `/` (ignoring a trailing one) matches a name at any depth: `*.tmp`, `node_modules`;
// - a pattern with a `/` is anchored at the root: `photos/**/*.jpg`; a leading `/` just anchors;
// - `*` and `?` stay within one folder; `**` as a whole segment spans any number of folders (also
//   none), elsewhere it acts as `*`; `dir/**` matches the folder and everything in it;
// - `[abc]`, `[a-z]`, `[!a-z]` / `[^a-z]` (a set never matches `/`), `{a,b}` (nestable, two or
//   more alternatives), `\` escapes the next character; every other character is literal,
//   `( ) ! + @ |` included (no extglobs, no leading-`!` negation); names starting with `.` match
//   like any other.
import picomatch from 'picomatch';

export class GlobPatternError extends Error {
  override readonly name = 'GlobPatternError';
}

export interface GlobOptions {
  /** Match letters regardless of case (what Windows and macOS users expect from their file systems). */
  readonly caseInsensitive?: boolean;
}

const PICOMATCH_OPTIONS: picomatch.PicomatchOptions = {
  // Paths are `/`-separated on every OS and `\` escapes (picomatch would guess from the platform).
  windows: false,
  dot: true,
  // `[!…]` negates a set only with POSIX bracket support on.
  posix: true,
  noextglob: true,
  nonegate: true,
};

/**
 * Rejects what picomatch would read as a pattern that matches nothing or only itself literally: a
 * lone trailing `\`, a `[` with no `]`, a `{` with no `}` (it makes those match nothing, silently).
 */
function checkSyntax(body: string, pattern: string): void {
  let braces = 0;
  for (let i = 0; i < body.length; i += 1) {
    const ch = body[i];
    if (ch === '\\') {
      if (i + 1 >= body.length) throw new GlobPatternError(`Pattern '${pattern}' ends with a lone '\\'; remove it or escape a character after it.`);
      i += 1;
    } else if (ch === '[') {
      // A `]` right after `[` or `[!` is a member of the set, as in the shell.
      const close = body.indexOf(']', i + (body[i + 1] === '!' || body[i + 1] === '^' ? 3 : 2));
      if (close < 0) throw new GlobPatternError(`Pattern '${pattern}' has a '[' without a matching ']'; close the set or write '\\['.`);
      i = close;
    } else if (ch === '{') {
      braces += 1;
    } else if (ch === '}' && braces > 0) {
      braces -= 1;
    }
  }
  if (braces > 0) throw new GlobPatternError(`Pattern '${pattern}' has a '{' without a matching '}'; close the group or write '\\{'.`);
}

/** Parentheses are literal here; picomatch would pass them into the RegExp as a group. */
function escapeParentheses(body: string): string {
  let out = '';
  for (let i = 0; i < body.length; i += 1) {
    const ch = body[i];
    if (ch === '\\') {
      out += ch + body[i + 1];
      i += 1;
    } else {
      out += ch === '(' || ch === ')' ? `\\${ch}` : ch;
    }
  }
  return out;
}

/** Compiles a glob into a RegExp over whole root-relative paths. Throws GlobPatternError for malformed patterns. */
export function compileGlob(pattern: string, options: GlobOptions = {}): RegExp {
  let body = pattern.trim();
  if (body === '') throw new GlobPatternError('An empty pattern matches nothing; remove it.');
  body = body.replace(/\/+$/, '');
  const anchored = body.includes('/');
  body = body.replace(/^\/+/, '');
  if (body === '') throw new GlobPatternError(`Pattern '${pattern}' names the root itself, which holds everything; remove it.`);
  checkSyntax(body, pattern);
  if (!anchored) body = `**/${body}`;
  try {
    return picomatch.makeRe(escapeParentheses(body), { ...PICOMATCH_OPTIONS, nocase: options.caseInsensitive ?? false });
  } catch (error) {
    // picomatch refuses only what no one types by hand (e.g. a pattern over 64 KiB).
    throw new GlobPatternError(`Pattern '${pattern.slice(0, 80)}' cannot be used: ${error instanceof Error ? error.message : String(error)}.`);
  }
}
