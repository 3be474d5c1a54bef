// Long paths are cut in the middle, not at the end: the file name is what a person recognises,
// and the start of the path says which folder it came from. Used by every list of paths
// (failures, folders, through components/MiddlePath.tsx) so they all cut the same way.
//
// The cut is made by the browser where the room runs out, not at a fixed number of characters, so
// a long name is shown whole whenever it fits: this module only splits a path into the parts that
// give way, in order (the folder first, then the middle of the file name), and the parts that stay.

/** The directory part (with its trailing separator) and the last segment, for both / and \. */
export function splitPath(path: string): { dir: string; name: string } {
  const trimmed = path.replace(/[\\/]+$/, '');
  const cut = Math.max(trimmed.lastIndexOf('/'), trimmed.lastIndexOf('\\'));
  if (cut < 0) return { dir: '', name: trimmed };
  return { dir: trimmed.slice(0, cut + 1), name: trimmed.slice(cut + 1) };
}

/** Characters of a file name's end kept whole however narrow the list is (with its extension, up to 10). */
const NAME_TAIL_CHARS = 8;
const MAX_EXTENSION_CHARS = 10;

export interface MiddleCutParts {
  /** The folders, without the last separator: shrinks first, with an ellipsis at its end. */
  folder: string;
  /** The separator before the file name ('' for a bare name). */
  sep: string;
  /** The file name's start: shrinks next, with an ellipsis at its end (so the name is cut in its middle). */
  nameHead: string;
  /** The file name's end, extension included: never cut. */
  nameTail: string;
}

/**
 * `path` split for a middle cut, in code points (emoji and accents are never split). Joined, the
 * parts are the path again.
 */
export function middleCutParts(path: string): MiddleCutParts {
  const { dir, name } = splitPath(path);
  const chars = Array.from(name);
  const dot = name.lastIndexOf('.');
  const extension = dot > 0 ? Array.from(name.slice(dot)).length : 0;
  const tail = Math.max(NAME_TAIL_CHARS, extension <= MAX_EXTENSION_CHARS ? extension + 4 : 0);
  // A name barely longer than its tail is not worth cutting: it stays whole.
  const split = chars.length > tail + 3 ? chars.length - tail : 0;
  return { folder: dir.slice(0, -1), sep: dir.slice(-1), nameHead: chars.slice(0, split).join(''), nameTail: chars.slice(split).join('') };
}
