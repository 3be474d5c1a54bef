// Parses an HTTP Range header for one file of known size, as <video> sends it while seeking.
// Only single byte ranges are honoured (browsers never ask media for multipart ranges); anything
// else is answered with the whole file, which RFC 9110 allows for a Range the server ignores.

export type ByteRange = { start: number; end: number };

/**
 * `{ start, end }` (inclusive) for a satisfiable single range; 'unsatisfiable' when the range lies
 * past the end of the file (answer 416); null when there is no usable Range (answer 200, whole file).
 */
export function parseRangeHeader(header: string | null | undefined, size: number): ByteRange | 'unsatisfiable' | null {
  if (header === null || header === undefined) return null;
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!match) return null;
  const [, first, last] = match;
  if (first === '' && last === '') return null;
  if (first === '') {
    // Suffix range: the last N bytes.
    const length = Number(last);
    if (length === 0) return 'unsatisfiable';
    if (size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - length), end: size - 1 };
  }
  const start = Number(first);
  if (!Number.isSafeInteger(start)) return null;
  if (start >= size) return 'unsatisfiable';
  let end = last === '' ? size - 1 : Number(last);
  if (!Number.isSafeInteger(end)) end = size - 1;
  if (end < start) return null;
  return { start, end: Math.min(end, size - 1) };
}
