// A small glob → RegExp compiler for include/exclude patterns. Written here rather than pulled in
// because chokidar 4 dropped glob support and the project has no direct glob dependency; the syntax
// is the common subset users type: `*`, `**`, `?`, `[abc]`/`[!a-z]`, `{a,b}` (nestable), `\` escapes.
//
// Matching is against a root-relative path with `/` separators, gitignore-style:
// - a pattern with no `/` (ignoring a trailing one) matches a name at any depth: `*.tmp`, `node_modules`;
// - a pattern with a `/` is anchored at the root: `photos/**/*.jpg`; a leading `/` just anchors;
// - `**` as a whole segment spans any number of folders (also none); elsewhere it acts as `*`;
// - separators are `/` on every OS (`\` escapes); a `{a,b}` group stays within one segment.

export class GlobPatternError extends Error {
  override readonly name = 'GlobPatternError';
}

export interface GlobOptions {
  /** Match letters regardless of case (what Windows and macOS users expect from their file systems). */
  readonly caseInsensitive?: boolean;
}

const REGEX_SPECIAL = /[.*+?^${}()|[\]\\/]/;

function escapeChar(ch: string): string {
  return REGEX_SPECIAL.test(ch) ? `\\${ch}` : ch;
}

/** Translates one segment-level glob body (no `**` handling) into a RegExp source. */
function translate(glob: string, pattern: string): string {
  let out = '';
  let i = 0;
  while (i < glob.length) {
    const ch = glob[i];
    if (ch === '\\') {
      if (i + 1 >= glob.length) throw new GlobPatternError(`Pattern '${pattern}' ends with a lone '\\'; remove it or escape a character after it.`);
      out += escapeChar(glob[i + 1]);
      i += 2;
    } else if (ch === '*') {
      while (glob[i] === '*') i += 1;
      out += '[^/]*';
    } else if (ch === '?') {
      out += '[^/]';
      i += 1;
    } else if (ch === '[') {
      const close = glob.indexOf(']', i + 2);
      if (close < 0) throw new GlobPatternError(`Pattern '${pattern}' has a '[' without a matching ']'; close the set or write '\\['.`);
      let body = glob.slice(i + 1, close);
      const negated = body.startsWith('!') || body.startsWith('^');
      if (negated) body = body.slice(1);
      const cls = body.replace(/[\\\]^]/g, (c) => `\\${c}`);
      out += negated ? `[^/${cls}]` : `(?:(?!/)[${cls}])`;
      i = close + 1;
    } else if (ch === '{') {
      const { alternatives, end } = splitBraces(glob, i, pattern);
      out += `(?:${alternatives.map((alt) => translate(alt, pattern)).join('|')})`;
      i = end + 1;
    } else {
      out += escapeChar(ch);
      i += 1;
    }
  }
  return out;
}

/** The top-level comma-separated alternatives of the brace group opening at `open`. */
function splitBraces(glob: string, open: number, pattern: string): { alternatives: string[]; end: number } {
  const alternatives: string[] = [];
  let depth = 0;
  let start = open + 1;
  for (let i = open; i < glob.length; i += 1) {
    const ch = glob[i];
    if (ch === '\\') {
      i += 1;
    } else if (ch === '{') {
      depth += 1;
    } else if (ch === '}') {
      depth -= 1;
      if (depth === 0) {
        alternatives.push(glob.slice(start, i));
        return { alternatives, end: i };
      }
    } else if (ch === ',' && depth === 1) {
      alternatives.push(glob.slice(start, i));
      start = i + 1;
    }
  }
  throw new GlobPatternError(`Pattern '${pattern}' has a '{' without a matching '}'; close the group or write '\\{'.`);
}

/** Compiles a glob into a RegExp over whole root-relative paths. Throws GlobPatternError for malformed patterns. */
export function compileGlob(pattern: string, options: GlobOptions = {}): RegExp {
  let body = pattern.trim();
  if (body === '') throw new GlobPatternError('An empty pattern matches nothing; remove it.');
  body = body.replace(/\/+$/, '');
  const anchored = body.startsWith('/') || body.includes('/');
  body = body.replace(/^\/+/, '');
  if (!anchored) body = `**/${body}`;
  const segments = body.split('/');
  let source = '';
  segments.forEach((segment, index) => {
    const last = index === segments.length - 1;
    if (segment === '**') {
      // `**/` spans zero or more folders; a trailing `**` matches everything below.
      source += last ? '.*' : '(?:[^/]+/)*';
    } else {
      source += translate(segment, pattern) + (last ? '' : '/');
    }
  });
  return new RegExp(`^${source}$`, options.caseInsensitive ? 'iu' : 'u');
}
