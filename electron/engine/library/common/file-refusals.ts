// Files Trove refuses before reading a byte, and the reasons it records for them: a file larger
// than its kind can be read, and a name that is not valid UTF-8. The scan records them as failed
// (so they are counted and listed instead of vanishing), and the indexer checks again before it
// starts on a file (a retried one, or one recorded before these checks). docs/file-kinds.md.
import type { FileKind } from '../../../contract/common/entities.ts';
import { formatBytes } from '../../../contract/common/display-units.ts';

/**
 * The most a file may weigh, by kind. Images and PDFs are read into memory in one piece (sharp's
 * decoders and MuPDF take a buffer), and Node reads at most 2 GiB - 1 bytes in one piece (fs.readFile
 * refuses more with ERR_FS_FILE_TOO_LARGE). Videos are streamed by ffmpeg, and text and documents
 * are read up to their own caps, so their size alone never refuses them.
 */
export const FILE_SIZE_LIMITS: Readonly<Partial<Record<FileKind, number>>> = {
  image: 2 ** 31 - 1,
  pdf: 2 ** 31 - 1,
};

const TOO_LARGE_ADVICE: Readonly<Partial<Record<FileKind, string>>> = {
  image: 'save a smaller copy (a JPEG or PNG) to index it',
  pdf: 'split it into smaller PDFs (for example with qpdf --split-pages) to index them',
};

/** Why a file of this kind and size is not indexed, or null when its size is fine. */
export function sizeRefusal(kind: FileKind, size: number): string | null {
  const limit = FILE_SIZE_LIMITS[kind];
  if (limit === undefined || size <= limit) return null;
  const what = kind === 'pdf' ? 'PDF' : kind;
  // Just above the limit both round to the same figure: then say the bytes.
  const close = formatBytes(size) === formatBytes(limit);
  const [is, most] = close ? [`${size.toLocaleString('en-US')} bytes`, `${limit.toLocaleString('en-US')} bytes`] : [formatBytes(size), formatBytes(limit)];
  return `This ${what} is ${is}, more than the ${most} Trove can read of one ${what} file; ${TOO_LARGE_ADVICE[kind] ?? 'make it smaller to index it'}.`;
}

/**
 * True for a path as Node decodes a name that is not valid UTF-8: it holds U+FFFD where the bytes
 * were (a valid name may hold U+FFFD too; the scanner checks the raw bytes before saying so).
 */
export function mayBeUndecodableName(p: string): boolean {
  return p.includes('\uFFFD');
}

/** The reason recorded for a file or folder whose name is not valid UTF-8. */
export function invalidNameReason(what: 'file' | 'folder'): string {
  const consequence = what === 'file' ? 'Trove cannot open it by its name' : 'Trove cannot open it by its name, so none of the files in it are indexed';
  return (
    `The ${what} name is not valid UTF-8 (shown here with � where its bytes are), so ${consequence}. ` +
    `Rename it to a UTF-8 name (for example with convmv, or in a file manager); it is indexed after the rename.`
  );
}
