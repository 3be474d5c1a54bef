// Long paths are cut in the middle, not at the end: the file name is what a person recognises,
// and the start of the path says which folder it came from. Used by every list of paths
// (failures, folders) so they all cut the same way.

const ELLIPSIS = '…';

/** The directory part (with its trailing separator) and the last segment, for both / and \. */
export function splitPath(path: string): { dir: string; name: string } {
  const trimmed = path.replace(/[\\/]+$/, '');
  const cut = Math.max(trimmed.lastIndexOf('/'), trimmed.lastIndexOf('\\'));
  if (cut < 0) return { dir: '', name: trimmed };
  return { dir: trimmed.slice(0, cut + 1), name: trimmed.slice(cut + 1) };
}

/**
 * `path` in at most `maxChars` characters (code points, so emoji and accents are never split):
 * the start of the folder, "…", then the whole file name. A file name longer than the budget is
 * itself cut in its middle, keeping its extension.
 */
export function middleEllipsis(path: string, maxChars: number): string {
  const chars = Array.from(path);
  if (chars.length <= maxChars) return path;
  const budget = Math.max(3, Math.floor(maxChars));
  const { dir, name } = splitPath(path);
  const nameChars = Array.from(name);
  // "…/" before the name costs two characters; keep at least a few of the folder when there is room.
  const headRoom = budget - nameChars.length - 2;
  if (dir && headRoom >= 1) {
    const sep = dir[dir.length - 1];
    return `${Array.from(dir).slice(0, headRoom).join('')}${ELLIPSIS}${sep}${name}`;
  }
  return cutMiddle(nameChars, budget);
}

/** Keep the start and the end (extension included) of one segment. */
function cutMiddle(chars: string[], budget: number): string {
  if (chars.length <= budget) return chars.join('');
  const keep = budget - 1;
  const tail = Math.ceil(keep / 2);
  const head = keep - tail;
  return `${chars.slice(0, head).join('')}${ELLIPSIS}${chars.slice(chars.length - tail).join('')}`;
}
