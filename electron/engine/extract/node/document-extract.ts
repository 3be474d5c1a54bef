// Office documents to text for chunking: docx (Word), pptx (PowerPoint, "Slide N" separators and
// speaker notes), odt (OpenDocument text) and rtf. The format is decided by content, not by
// extension, so a renamed file is read as what it is and a legacy or encrypted file gets a reason.
//
// No Office library: docx/pptx/odt are ZIP archives of XML, read with zip-reader.ts (only the text
// parts are inflated, never the pictures) and converted by office-text.ts. Encrypted OOXML is not
// a ZIP at all but a Compound File (CFB) holding "EncryptionInfo" and "EncryptedPackage" streams,
// the same container as legacy .doc/.ppt files; the stream name tells the two apart.
import { open } from 'node:fs/promises';
import { posix } from 'node:path';
import { errorMessage } from '../../base/common/error-message.ts';
import type { ChunkTokenizer } from '../common/text-chunker.ts';
import { textChunkFile, type TextChunkLimits } from './text-items.ts';
import { openDocumentText, relationshipTargets, slideOrder, slideText, TextBuilder, TextCapReached, wordText } from '../common/office-text.ts';
import { rtfText } from '../common/rtf-text.ts';
import { openZip, ZipFormatError, type ZipArchive } from './zip-reader.ts';
import type { PreparedFile } from './prepared-file.ts';

export type DocumentFormat = 'docx' | 'odt' | 'pptx' | 'rtf';

export interface ExtractedDocument {
  readonly text: string;
  readonly format: DocumentFormat;
  /** A note for the file's record when something was left out; null otherwise. */
  readonly note: string | null;
}

export type DocumentExtractErrorCode = 'unreadable' | 'empty' | 'password-protected' | 'legacy-format' | 'corrupt' | 'too-large';

export class DocumentExtractError extends Error {
  override readonly name = 'DocumentExtractError';
  constructor(
    readonly code: DocumentExtractErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Default cap on extracted text: 10 Mi characters (~2.5M tokens), the same order as text files. */
export const DEFAULT_MAX_DOCUMENT_CHARS = 10 * 1024 * 1024;
/** Largest XML part inflated (zip-bomb guard); a 10 Mi-character document is far smaller. */
export const MAX_XML_PART_BYTES = 256 * 1024 * 1024;
/** RTF beyond this is read in part: such sizes are embedded pictures, not text. */
const MAX_RTF_BYTES = 256 * 1024 * 1024;
/** How far into a CFB file to look for the EncryptionInfo stream name (it sits in the first directory sectors). */
const CFB_SCAN_BYTES = 4 * 1024 * 1024;

export interface ExtractDocumentOptions {
  /** Most characters of text kept (default DEFAULT_MAX_DOCUMENT_CHARS); beyond it a note says so. */
  readonly maxChars?: number;
}

const CFB_MAGIC = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);
const ENCRYPTION_INFO_UTF16 = Buffer.from('EncryptionInfo', 'utf16le');
const ODT_MIMETYPE = 'application/vnd.oasis.opendocument.text';

async function readHead(filePath: string, length: number): Promise<{ head: Buffer; size: number }> {
  const handle = await open(filePath, 'r');
  try {
    const size = (await handle.stat()).size;
    const head = Buffer.alloc(Math.min(size, length));
    let done = 0;
    while (done < head.length) {
      const { bytesRead } = await handle.read(head, done, head.length - done, done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return { head: head.subarray(0, done), size };
  } finally {
    await handle.close();
  }
}

function corrupt(what: string, reason: string): DocumentExtractError {
  return new DocumentExtractError('corrupt', `${what} cannot be read: ${reason}. Open it in Word or LibreOffice and save it again.`);
}

function capNote(builder: TextBuilder): string | null {
  if (!builder.truncated) return null;
  return `Only the first ${builder.length.toLocaleString('en-US')} characters of the document's text are indexed (text size cap); split the document to search all of it.`;
}

/** Resolves a relationship target against the folder of the part that names it. */
function resolvePart(fromPart: string, target: string): string {
  if (target.startsWith('/')) return target.slice(1);
  return posix.normalize(posix.join(posix.dirname(fromPart), target));
}

async function readXml(zip: ZipArchive, name: string): Promise<string> {
  return (await zip.read(name, MAX_XML_PART_BYTES)).toString('utf8');
}

async function docxText(zip: ZipArchive, out: TextBuilder): Promise<void> {
  let main = 'word/document.xml';
  if (zip.entries.has('_rels/.rels')) {
    for (const { target, type } of relationshipTargets(await readXml(zip, '_rels/.rels')).values()) {
      if (type.endsWith('/officeDocument')) main = resolvePart('', target);
    }
  }
  wordText(await readXml(zip, main), out);
  // Footnotes and endnotes are part of what the author wrote; headers and footers repeat on every page and are left out.
  for (const part of ['word/footnotes.xml', 'word/endnotes.xml']) {
    if (!zip.entries.has(part)) continue;
    out.separate();
    wordText(await readXml(zip, part), out);
  }
}

async function pptxText(zip: ZipArchive, out: TextBuilder): Promise<void> {
  const presentation = 'ppt/presentation.xml';
  const relsName = 'ppt/_rels/presentation.xml.rels';
  let slides: string[] = [];
  if (zip.entries.has(relsName)) {
    const targets = relationshipTargets(await readXml(zip, relsName));
    slides = slideOrder(await readXml(zip, presentation))
      .map((id) => targets.get(id))
      .filter((rel) => rel !== undefined)
      .map((rel) => resolvePart(presentation, rel.target));
  }
  if (slides.length === 0) {
    // No usable order: slide files by number (what PowerPoint writes for a presentation never reordered).
    const number = (name: string): number => Number(/(\d+)\.xml$/.exec(name)?.[1] ?? 0);
    slides = [...zip.entries.keys()].filter((name) => /^ppt\/slides\/slide\d+\.xml$/.test(name)).sort((a, b) => number(a) - number(b));
  }
  for (const [index, slide] of slides.entries()) {
    if (!zip.entries.has(slide)) continue;
    out.separate();
    out.add(`Slide ${index + 1}`, false);
    out.separate();
    slideText(await readXml(zip, slide), out);
    const slideRels = posix.join(posix.dirname(slide), '_rels', `${posix.basename(slide)}.rels`);
    if (!zip.entries.has(slideRels)) continue;
    for (const { target, type } of relationshipTargets(await readXml(zip, slideRels)).values()) {
      const notes = resolvePart(slide, target);
      if (!type.endsWith('/notesSlide') || !zip.entries.has(notes)) continue;
      // Collected apart first so the "Notes:" label only appears when there are notes.
      const notesText = new TextBuilder(out.maxChars);
      try {
        slideText(await readXml(zip, notes), notesText);
      } catch (error) {
        if (!(error instanceof TextCapReached)) throw error;
      }
      if (notesText.text.trim() === '') continue;
      out.separate();
      out.add(`Notes: ${notesText.text}`, false);
    }
  }
}

async function odtText(zip: ZipArchive, what: string, out: TextBuilder): Promise<void> {
  if (zip.entries.has('META-INF/manifest.xml')) {
    const manifest = await readXml(zip, 'META-INF/manifest.xml');
    if (manifest.includes('encryption-data')) throw passwordProtected(what);
  }
  openDocumentText(await readXml(zip, 'content.xml'), out);
}

function passwordProtected(what: string): DocumentExtractError {
  return new DocumentExtractError('password-protected', `${what} is password-protected; Trove cannot read encrypted documents. Save a copy without a password to index its text.`);
}

async function zipDocument(filePath: string, what: string, maxChars: number): Promise<ExtractedDocument> {
  let zip: ZipArchive;
  try {
    zip = await openZip(filePath);
  } catch (error) {
    if (error instanceof ZipFormatError) throw corrupt(what, `the ZIP container is damaged (${errorMessage(error, { clause: true })})`);
    throw new DocumentExtractError('unreadable', `Cannot read document ${what}: ${errorMessage(error, { clause: true })}. Check that it exists and is readable.`);
  }
  try {
    let format: DocumentFormat;
    if (zip.entries.has('word/document.xml') || zip.entries.has('word/document2.xml')) format = 'docx';
    else if (zip.entries.has('ppt/presentation.xml')) format = 'pptx';
    else if (zip.entries.has('content.xml')) {
      const mimetype = zip.entries.has('mimetype') ? (await zip.read('mimetype', 1024)).toString('latin1').trim() : ODT_MIMETYPE;
      if (mimetype !== ODT_MIMETYPE) {
        throw new DocumentExtractError('corrupt', `${what} is an OpenDocument file of type '${mimetype}', not a text document (.odt); only .odt is indexed. Export it as .odt or PDF to index it.`);
      }
      format = 'odt';
    } else throw corrupt(what, 'it is a ZIP archive but not a Word (.docx), PowerPoint (.pptx) or OpenDocument (.odt) file');
    const out = new TextBuilder(maxChars);
    try {
      if (format === 'docx') await docxText(zip, out);
      else if (format === 'pptx') await pptxText(zip, out);
      else await odtText(zip, what, out);
    } catch (error) {
      if (!(error instanceof TextCapReached)) throw error;
    }
    return { text: out.text, format, note: capNote(out) };
  } catch (error) {
    if (error instanceof DocumentExtractError) throw error;
    if (error instanceof ZipFormatError) {
      const reason = errorMessage(error, { clause: true });
      if (/is encrypted$/.test(reason)) throw passwordProtected(what);
      if (/above the limit|past the limit/.test(reason)) throw new DocumentExtractError('too-large', `${what} is too large to index: ${reason} (zip-bomb guard). Split the document.`);
      throw corrupt(what, reason);
    }
    throw corrupt(what, errorMessage(error, { clause: true }));
  } finally {
    await zip.close();
  }
}

/** Text of a docx, pptx, odt or rtf file. Throws DocumentExtractError with a reason that says what to do. */
export async function extractDocumentText(filePath: string, options: ExtractDocumentOptions = {}): Promise<ExtractedDocument> {
  const maxChars = options.maxChars ?? DEFAULT_MAX_DOCUMENT_CHARS;
  const what = `'${filePath}'`;
  let head: Buffer;
  let size: number;
  try {
    ({ head, size } = await readHead(filePath, 8));
  } catch (error) {
    throw new DocumentExtractError('unreadable', `Cannot read document ${what}: ${errorMessage(error, { clause: true })}. Check that it exists and is readable.`);
  }
  if (size === 0) throw new DocumentExtractError('empty', `Document ${what} is empty (0 bytes); it was not saved completely. Copy it again from its source.`);
  if (head.subarray(0, 4).equals(Buffer.from('PK\x03\x04', 'latin1')) || head.subarray(0, 4).equals(Buffer.from('PK\x05\x06', 'latin1'))) {
    return zipDocument(filePath, what, maxChars);
  }
  if (head.subarray(0, 8).equals(CFB_MAGIC)) {
    const { head: directory } = await readHead(filePath, CFB_SCAN_BYTES);
    if (directory.includes(ENCRYPTION_INFO_UTF16)) throw passwordProtected(what);
    throw new DocumentExtractError(
      'legacy-format',
      `${what} is a legacy binary Office file (Word/PowerPoint 97–2003, .doc/.ppt), which Trove does not read. Save it as .docx or .pptx to index its text.`,
    );
  }
  if (head.subarray(0, 5).toString('latin1') === '{\\rtf') {
    const { head: rtf } = await readHead(filePath, MAX_RTF_BYTES);
    const { text, truncated } = rtfText(rtf.toString('latin1'), maxChars);
    const partial = rtf.length < size;
    const note = truncated
      ? `Only the first ${text.length.toLocaleString('en-US')} characters of the document's text are indexed (text size cap); split the document to search all of it.`
      : partial
        ? `Only the first ${MAX_RTF_BYTES / (1024 * 1024)} MiB of this RTF file were read (size cap); large RTF files are mostly embedded pictures.`
        : null;
    return { text, format: 'rtf', note };
  }
  throw corrupt(what, 'its content is not a Word (.docx), PowerPoint (.pptx), OpenDocument (.odt) or RTF document (the file may be damaged or misnamed)');
}

export const NO_DOCUMENT_TEXT_NOTE = 'no text found in this document (it may hold only pictures); it is found by name and path';

/**
 * A document as library items: one text item per chunk, like a text file (locator text start/end/
 * snippet into the extracted text, embedded as that text); a document without text is one item
 * found by name and path only.
 */
export async function prepareDocumentFile(file: { path: string; mtimeMs: number }, tokenizer: ChunkTokenizer, options: ExtractDocumentOptions & TextChunkLimits = {}): Promise<PreparedFile> {
  const date = file.mtimeMs;
  const extracted = await extractDocumentText(file.path, options);
  return textChunkFile(
    extracted.text,
    tokenizer,
    date,
    {
      format: extracted.format,
      note: extracted.text.length === 0 ? (extracted.note ?? NO_DOCUMENT_TEXT_NOTE) : extracted.note,
    },
    options,
    (chars) => `Only the first ${chars.toLocaleString('en-US')} of the document's ${extracted.text.length.toLocaleString('en-US')} characters of text are indexed`,
  );
}
