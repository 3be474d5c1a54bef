// One HTTP byte range (RFC 9110 §14): enough for video seeking. Multiple ranges are answered with
// the whole body, which the RFC allows and every media element accepts.

export interface ByteRange {
  start: number;
  /** Inclusive. */
  end: number;
}

/** The range to send, 'unsatisfiable' (answer 416), or null (ignore the header and send everything). */
export function parseByteRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | null {
  if (header === undefined) return null;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return null;
  const [, first, last] = match;
  if (first === '' && last === '') return null;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (last !== '' && Number(last) < start) return null;
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}
