// Bytes of a text file → a string, with the encoding named. Pure (TextDecoder is a web API).
//
// Order: a BOM decides (UTF-8, UTF-16 LE/BE); else NUL bytes mean binary (UTF-16 without a BOM
// lands here too: say so); else valid UTF-8 is UTF-8; else the bytes are read as Windows-1252, the
// superset of Latin-1 that browsers use for "latin1" (0x80–0x9F become curly quotes, dashes, €).
// Offsets into the returned text are JavaScript string indices (UTF-16 code units), BOM excluded.

export type TextEncodingName = 'utf-8' | 'utf-8-bom' | 'utf-16le' | 'utf-16be' | 'windows-1252';

export type DecodedText =
  | { readonly ok: true; readonly text: string; readonly encoding: TextEncodingName }
  | { readonly ok: false; readonly reason: string };

/** Bytes scanned for NULs (git and grep look at the first few KiB the same way). */
export const BINARY_SNIFF_BYTES = 64 * 1024;

// Windows-1252's 0x80–0x9F; the five undefined bytes map to the C1 controls, as browsers do.
const CP1252_HIGH = [
  0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152, 0x8d, 0x17d, 0x8f,
  0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x2dc, 0x2122, 0x161, 0x203a, 0x153, 0x9d, 0x17e, 0x178,
];

function decodeWindows1252(bytes: Uint8Array): string {
  const parts: string[] = [];
  const CHUNK = 8192;
  for (let offset = 0; offset < bytes.length; offset += CHUNK) {
    const codes = Array.from(bytes.subarray(offset, offset + CHUNK), (b) => (b >= 0x80 && b <= 0x9f ? CP1252_HIGH[b - 0x80] : b));
    parts.push(String.fromCharCode(...codes));
  }
  return parts.join('');
}

/** How many trailing bytes form an incomplete UTF-8 sequence (cut by a size cap). */
function incompleteUtf8Tail(bytes: Uint8Array): number {
  for (let back = 1; back <= Math.min(3, bytes.length); back += 1) {
    const b = bytes[bytes.length - back];
    if ((b & 0xc0) === 0x80) continue; // continuation byte: keep looking for the lead
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > back ? back : 0;
  }
  return 0;
}

/**
 * Decodes file bytes. `truncated` says the bytes are a prefix of the file (a size cap), so a
 * multi-byte character cut at the end is dropped instead of making the UTF-8 look invalid.
 */
export function decodeTextBytes(bytes: Uint8Array, truncated = false): DecodedText {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    const body = bytes.subarray(3, truncated ? bytes.length - incompleteUtf8Tail(bytes.subarray(3)) : bytes.length);
    return { ok: true, text: new TextDecoder('utf-8').decode(body), encoding: 'utf-8-bom' };
  }
  const utf16 = bytes[0] === 0xff && bytes[1] === 0xfe ? 'utf-16le' : bytes[0] === 0xfe && bytes[1] === 0xff ? 'utf-16be' : null;
  if (utf16 !== null) {
    const body = bytes.subarray(2, 2 + ((bytes.length - 2) & ~1));
    return { ok: true, text: new TextDecoder(utf16).decode(body), encoding: utf16 };
  }
  const sniff = bytes.subarray(0, BINARY_SNIFF_BYTES);
  const nul = sniff.indexOf(0);
  if (nul >= 0) {
    return {
      ok: false,
      reason: `Not a text file: it contains a NUL byte at offset ${nul} (binary data, or UTF-16 without a byte-order mark). If it is UTF-16 text, save it with a BOM or as UTF-8.`,
    };
  }
  const body = truncated ? bytes.subarray(0, bytes.length - incompleteUtf8Tail(bytes)) : bytes;
  try {
    return { ok: true, text: new TextDecoder('utf-8', { fatal: true }).decode(body), encoding: 'utf-8' };
  } catch {
    return { ok: true, text: decodeWindows1252(bytes), encoding: 'windows-1252' };
  }
}
