// Reads a text/markdown/code file for chunking: encoding detection (text-decoding.ts), binary
// files refused with a reason, and a size cap so a 2 GB log cannot exhaust memory: above the cap
// the first part is indexed and a note says so.
import { open } from 'node:fs/promises';
import { decodeTextBytes, type TextEncodingName } from '../common/text-decoding.ts';

/** Default cap: 10 MiB of text is ~2.5M tokens, ~5,000 chunks; beyond that a file is a dump, not a note. */
export const DEFAULT_MAX_TEXT_BYTES = 10 * 1024 * 1024;

export interface ExtractedText {
  readonly text: string;
  readonly encoding: TextEncodingName;
  /** Size of the file on disk. */
  readonly totalBytes: number;
  /** Bytes decoded (less than totalBytes when capped). */
  readonly bytesRead: number;
  readonly truncated: boolean;
  /** A note for the file's record when something was left out; null otherwise. */
  readonly note: string | null;
}

export type TextExtractErrorCode = 'unreadable' | 'binary';

export class TextExtractError extends Error {
  override readonly name = 'TextExtractError';
  constructor(
    readonly code: TextExtractErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface ExtractTextOptions {
  readonly maxBytes?: number;
}

function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

/** Bytes the first `chars` characters of `text` took on disk in `encoding` (for notes about what was indexed). */
export function encodedLength(text: string, chars: number, encoding: TextEncodingName): number {
  const head = text.slice(0, chars);
  switch (encoding) {
    case 'utf-8':
      return Buffer.byteLength(head, 'utf8');
    case 'utf-8-bom':
      return 3 + Buffer.byteLength(head, 'utf8');
    case 'utf-16le':
    case 'utf-16be':
      return 2 + 2 * head.length;
    case 'windows-1252':
      return head.length;
  }
}

export async function extractText(filePath: string, options: ExtractTextOptions = {}): Promise<ExtractedText> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_TEXT_BYTES;
  let bytes: Buffer;
  let totalBytes: number;
  try {
    const handle = await open(filePath, 'r');
    try {
      totalBytes = (await handle.stat()).size;
      const want = Math.min(totalBytes, maxBytes);
      bytes = Buffer.alloc(want);
      let done = 0;
      while (done < want) {
        const { bytesRead } = await handle.read(bytes, done, want - done, done);
        if (bytesRead === 0) break; // shrank while reading: index what is there
        done += bytesRead;
      }
      bytes = bytes.subarray(0, done);
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw new TextExtractError('unreadable', `Cannot read '${filePath}': ${(error as Error).message}. Check that it exists and is readable.`);
  }
  const truncated = bytes.length < totalBytes;
  const decoded = decodeTextBytes(bytes, truncated);
  if (!decoded.ok) throw new TextExtractError('binary', `'${filePath}': ${decoded.reason}`);
  return {
    text: decoded.text,
    encoding: decoded.encoding,
    totalBytes,
    bytesRead: bytes.length,
    truncated,
    note: truncated ? `Only the first ${mib(bytes.length)} of ${mib(totalBytes)} is indexed (text size cap); split the file to search all of it.` : null,
  };
}
