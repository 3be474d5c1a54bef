// One HTTP byte range (RFC 9110 §14), as <video> sends it while seeking; used by the server's
// /media routes and the shell's trove://media protocol. Only single byte ranges are honoured
// (browsers never ask media for multipart ranges); anything else is answered with the whole body,
// which the RFC allows for a Range the server ignores. The range unit is matched case-insensitively
// and stray whitespace is tolerated, as RFC 9110 asks of a recipient.

export interface ByteRange {
  start: number;
  /** Inclusive. */
  end: number;
}

/** The range to send, 'unsatisfiable' (answer 416), or null (ignore the header and send everything). */
export function parseByteRange(header: string | null | undefined, size: number): ByteRange | 'unsatisfiable' | null {
  if (header === null || header === undefined) return null;
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!match) return null;
  const [, first, last] = match;
  if (first === '' && last === '') return null;
  if (first === '') {
    // Suffix range: the last N bytes.
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (!Number.isSafeInteger(start)) return null;
  if (start >= size) return 'unsatisfiable';
  let end = last === '' ? size - 1 : Number(last);
  if (!Number.isSafeInteger(end)) end = size - 1;
  if (end < start) return null;
  return { start, end: Math.min(end, size - 1) };
}
