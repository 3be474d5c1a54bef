import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { parsePdfDate } from '../../../electron/engine/extract/node/pdf-date.ts';
import { openPdfPages, PDF_RENDER_DPI, PdfExtractError, pdfPageImagesRendered, pdfPageRenderSize, preparePdfFile } from '../../../electron/engine/extract/node/pdf-extract.ts';
import { completeDeferredItems, type PreparedFile } from '../../../electron/engine/extract/node/prepared-file.ts';
import { smartResize } from '../../../electron/engine/model-inputs/common/smart-resize.ts';
import { preprocessImage } from '../../../electron/engine/model-inputs/node/image-preprocess.ts';
import { handWrittenPdf, type HandPage } from './pdf-fixtures.ts';

const CORPUS = '../shared/corpora/pdfjs-sample/';
const SCAN = '../shared/corpora/qwen-examples/document_doc_0.jpg';
/** The corpus files that need a user password (checked by hand with MuPDF and pdf.js's own tests). */
const PASSWORD_PROTECTED = ['encrypted-attachment.pdf', 'pr6531_2.pdf'];

const LETTER_WITH_TEXT_AND_RED_BOX: HandPage = {
  width: 612,
  height: 792,
  // Text near the top; a red 200×100 pt box whose lower-left corner is at (72, 300) pt; black
  // 2-pt strips along the bottom and right edges (they show whether the page box fills the render).
  content: 'BT /F1 24 Tf 72 700 Td (Quarterly invoice for Trove) Tj ET 0 0 0 rg 0 0 612 2 re f 610 0 2 792 re f 1 0 0 rg 72 300 200 100 re f',
};

async function withPdf<T>(bytes: Buffer, run: (file: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(tmpdir(), 'trove-pdf-'));
  try {
    const file = path.join(dir, 'doc.pdf');
    await writeFile(file, bytes);
    return await run(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Extracts the PDF and draws every page (as the indexer does a few pages at a time). */
const prepare = async (file: string, options?: Parameters<typeof preparePdfFile>[1]): Promise<PreparedFile> =>
  completeDeferredItems(await preparePdfFile({ path: file, kind: 'pdf', mtimeMs: 1_000 }, options), () => openPdfPages(file), { embed: true });

function pageImage(prepared: PreparedFile, index: number): Buffer {
  const image = prepared.items[index]!.embed?.images?.[0];
  assert.ok(Buffer.isBuffer(image), `page ${index + 1} is embedded as an encoded image`);
  return image;
}

async function rgbAt(png: Buffer, x: number, y: number): Promise<number[]> {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  const at = (y * info.width + x) * info.channels;
  return [data[at]!, data[at + 1]!, data[at + 2]!];
}

test('text page: one page item, text layer, rendered at exactly smart_resize of the page at 144 DPI', async () => {
  const pdf = handWrittenPdf([LETTER_WITH_TEXT_AND_RED_BOX, { width: 300, height: 200, content: 'BT /F1 12 Tf 10 100 Td (Second page words) Tj ET' }], {
    info: { Title: 'Invoices (2024)', Author: 'Ada', CreationDate: "D:20240102030405+01'00'" },
  });
  const prepared = await withPdf(pdf, (file) => prepare(file));
  assert.equal(prepared.items.length, 2);
  assert.deepEqual(
    prepared.items.map((i) => [i.item.kind, i.item.locator]),
    [['page', { type: 'page', page: 1 }], ['page', { type: 'page', page: 2 }]],
  );
  assert.match(prepared.items[0]!.item.text ?? '', /Quarterly invoice for Trove/);
  assert.match(prepared.items[1]!.item.text ?? '', /Second page words/);
  assert.deepEqual(prepared.metadata, { pages: 2, indexedPages: 2, title: 'Invoices (2024)', author: 'Ada', encrypted: 0, encryption: null, repaired: 0, note: null });
  assert.equal(prepared.dateTaken, Date.UTC(2024, 0, 2, 2, 4, 5), 'creation date, +01:00 applied');
  assert.equal(prepared.items[0]!.item.date, prepared.dateTaken);

  // Letter at 144 DPI is 1224×1584 = 1.94 MP, over the 1,843,200 ceiling: smart_resize shrinks it.
  const [letterH, letterW] = smartResize(Math.round((792 * PDF_RENDER_DPI) / 72), Math.round((612 * PDF_RENDER_DPI) / 72));
  assert.deepEqual([letterH, letterW], [1536, 1184]);
  const first = await sharp(pageImage(prepared, 0)).metadata();
  assert.deepEqual([first.format, first.width, first.height, first.channels, first.hasAlpha], ['png', letterW, letterH, 3, false]);
  const second = await sharp(pageImage(prepared, 1)).metadata();
  assert.deepEqual([second.height, second.width], smartResize(400, 600));

  // The red box lands where the per-axis scale puts it (PDF y grows upwards); outside it is white paper.
  const sx = letterW / 612;
  const sy = letterH / 792;
  const boxCentre = [Math.round(172 * sx), Math.round((792 - 350) * sy)] as const;
  assert.deepEqual(await rgbAt(pageImage(prepared, 0), boxCentre[0], boxCentre[1]), [255, 0, 0]);
  assert.deepEqual(await rgbAt(pageImage(prepared, 0), Math.round(500 * sx), Math.round(400 * sy)), [255, 255, 255]);
  // Each axis is scaled on its own, so the page box reaches the last row and the last column.
  assert.deepEqual(await rgbAt(pageImage(prepared, 0), letterW >> 1, letterH - 1), [0, 0, 0], 'bottom edge');
  assert.deepEqual(await rgbAt(pageImage(prepared, 0), letterW - 1, letterH >> 1), [0, 0, 0], 'right edge');
  assert.deepEqual(await rgbAt(pageImage(prepared, 0), Math.ceil(610 * sx), letterH >> 1), [0, 0, 0], 'right strip starts at 610 pt × sx');
  assert.deepEqual(await rgbAt(pageImage(prepared, 0), letterW >> 1, Math.ceil(letterH - 2 * sy)), [0, 0, 0], 'bottom strip starts 2 pt × sy up');
  assert.deepEqual(await rgbAt(pageImage(prepared, 0), letterW >> 1, 0), [255, 255, 255], 'top edge: white paper');

  // The embedder's own chain finds nothing to resize: the render is already the model's size.
  const model = await preprocessImage(pageImage(prepared, 0));
  assert.deepEqual(model.original, model.resized);

  const thumb = prepared.items[0]!.item.thumbnail!;
  assert.equal(thumb.mime, 'image/webp');
  const thumbMeta = await sharp(Buffer.from(thumb.bytes)).metadata();
  assert.deepEqual([thumbMeta.format, thumbMeta.width, thumbMeta.height], ['webp', thumb.width, thumb.height]);
  assert.deepEqual([thumb.width, thumb.height], [247, 320], 'the page aspect (612:792), longest side 320');
});

test('extraction draws no page: pages are deferred items, drawn one at a time on demand', async () => {
  const pages = Array.from({ length: 6 }, (_, i): HandPage => ({ width: 300, height: 200, content: `BT /F1 12 Tf 10 100 Td (leaf ${i + 1}) Tj ET` }));
  await withPdf(handWrittenPdf(pages), async (file) => {
    const before = pdfPageImagesRendered();
    const listed = await preparePdfFile({ path: file, kind: 'pdf', mtimeMs: 1_000 });
    assert.equal(pdfPageImagesRendered(), before, 'listing the pages draws none');
    assert.ok(listed.items.every((i) => i.deferred && i.embed === null && i.item.text === null && !i.item.thumbnail));
    const source = await openPdfPages(file);
    try {
      const fourth = await source.complete(listed.items[3]!.item, { embed: true });
      assert.equal(pdfPageImagesRendered(), before + 1, 'one page asked for, one page drawn');
      assert.match(fourth.text ?? '', /leaf 4/);
      assert.ok(Buffer.isBuffer(fourth.embed?.images?.[0]) && fourth.thumbnail && fourth.problem === null);
      // Without a model only the thumbnail is made, drawn straight at its size.
      const display = await source.complete(listed.items[3]!.item, { embed: false });
      assert.equal(pdfPageImagesRendered(), before + 1);
      assert.equal(display.embed, null);
      assert.deepEqual([display.thumbnail?.width, display.thumbnail?.height], [fourth.thumbnail!.width, fourth.thumbnail!.height]);
      assert.equal(display.text, fourth.text);
    } finally {
      source.close();
    }
    // Drawn all at once, the pages equal what drawing them one by one gives.
    const all = await prepare(file);
    assert.deepEqual(all.items.map((i) => i.item.text), pages.map((_, i) => `leaf ${i + 1}`));
  });
});

test('rotated page renders upright at the rotated size', async () => {
  const prepared = await withPdf(handWrittenPdf([{ ...LETTER_WITH_TEXT_AND_RED_BOX, rotate: 90 }]), (file) => prepare(file));
  const meta = await sharp(pageImage(prepared, 0)).metadata();
  assert.deepEqual([meta.width, meta.height], [1536, 1184], 'landscape: /Rotate 90 swaps the sides');
  assert.match(prepared.items[0]!.item.text ?? '', /Quarterly invoice/);
});

test('scanned page (image only): embedded as its picture, no text layer', async () => {
  const jpeg = await readFile(SCAN);
  const { width = 0, height = 0 } = await sharp(jpeg).metadata();
  // Place the scan on an A4 page, filling it.
  const page: HandPage = { width: 595, height: 842, content: `q 595 0 0 842 0 0 cm /Im1 Do Q`, image: { jpeg, width, height } };
  const prepared = await withPdf(handWrittenPdf([page]), (file) => prepare(file));
  assert.equal(prepared.items.length, 1);
  assert.equal(prepared.items[0]!.item.text, null);
  const { target } = pdfPageRenderSize(595, 842);
  const png = pageImage(prepared, 0);
  const meta = await sharp(png).metadata();
  assert.deepEqual([meta.height, meta.width], target);
  assert.ok(meta.width! * meta.height! <= 1_843_200);
  const stats = await sharp(png).stats();
  assert.ok(stats.channels[0]!.mean < 250, 'the scan is drawn, not a blank white page');
});

test('pages past maxPages are left out with a note', async () => {
  const pages = Array.from({ length: 5 }, (_, i): HandPage => ({ width: 200, height: 200, content: `BT /F1 12 Tf 10 100 Td (page ${i + 1}) Tj ET` }));
  const prepared = await withPdf(handWrittenPdf(pages), (file) => prepare(file, { maxPages: 2 }));
  assert.deepEqual(prepared.items.map((i) => i.item.locator), [{ type: 'page', page: 1 }, { type: 'page', page: 2 }]);
  assert.equal(prepared.metadata.pages, 5);
  assert.equal(prepared.metadata.indexedPages, 2);
  assert.match(String(prepared.metadata.note), /only the first 2 of 5 pages/);
  assert.equal(prepared.dateTaken, null, 'no creation date in the file');
  assert.equal(prepared.items[0]!.item.date, 1_000, 'falls back to the mtime');
});

test('a page smart_resize refuses (aspect ratio over 200) stays findable by its text', async () => {
  const strip: HandPage = { width: 4, height: 1000, content: 'BT /F1 0.5 Tf 0.2 500 Td (ticker tape) Tj ET' };
  const prepared = await withPdf(handWrittenPdf([LETTER_WITH_TEXT_AND_RED_BOX, strip]), (file) => prepare(file));
  assert.equal(prepared.items.length, 2);
  assert.ok(prepared.items[0]!.embed, 'the normal page is embedded');
  assert.equal(prepared.items[1]!.embed, null);
  assert.equal(prepared.items[1]!.item.thumbnail, null);
  assert.match(prepared.items[1]!.item.text ?? '', /ticker tape/);
  assert.match(String(prepared.metadata.note), /1 page\(s\) not embedded: page 2: .*aspect ratio/);
});

test('an aborted extraction stops', async () => {
  const controller = new AbortController();
  controller.abort(new Error('indexing stopped'));
  await withPdf(handWrittenPdf([LETTER_WITH_TEXT_AND_RED_BOX]), (file) =>
    assert.rejects(prepare(file, { signal: controller.signal }), /indexing stopped/),
  );
});

test('empty, non-PDF and truncated files: a readable reason, never a crash', async () => {
  await withPdf(Buffer.alloc(0), (file) => assert.rejects(prepare(file), (e: Error) => e instanceof PdfExtractError && /is empty \(0 bytes\)/.test(e.message)));
  await withPdf(Buffer.from('just some text, not a PDF at all\n'.repeat(20)), (file) =>
    assert.rejects(prepare(file), (e: Error) => e instanceof PdfExtractError && /(damaged|not a PDF|no readable pages)/.test(e.message)),
  );
  const whole = handWrittenPdf([LETTER_WITH_TEXT_AND_RED_BOX]);
  // Cut off the xref table and trailer: MuPDF rebuilds the xref by scanning for objects.
  const truncated = whole.subarray(0, whole.indexOf('xref'));
  const repaired = await withPdf(truncated, (file) => prepare(file));
  assert.equal(repaired.metadata.repaired, 1);
  assert.match(repaired.items[0]!.item.text ?? '', /Quarterly invoice/);
  await assert.rejects(prepare(path.join(tmpdir(), 'trove-no-such-file.pdf')), /Cannot read PDF .*Check that the file exists/);
});

test('pdf.js corpus: every file yields pages or a readable reason; the protected ones say so', async () => {
  const names = (await readdir(CORPUS)).filter((n) => n.endsWith('.pdf')).sort();
  assert.ok(names.length >= 100, `the corpus is present (${names.length} files)`);
  const refused = new Map<string, string>();
  let indexedPages = 0;
  const started = performance.now();
  for (const name of names) {
    const t0 = performance.now();
    let outcome: string;
    try {
      const prepared = await prepare(path.join(CORPUS, name));
      assert.ok(prepared.items.length >= 1, `${name}: at least one page`);
      assert.ok(prepared.items.some((i) => i.embed !== null), `${name}: at least one page is embedded`);
      indexedPages += prepared.items.length;
      outcome = `${prepared.items.length} page(s)`;
    } catch (error) {
      assert.ok(error instanceof PdfExtractError, `${name}: ${String(error)} is a PdfExtractError`);
      assert.match(error.message, new RegExp(`^.*'${CORPUS}${name.replace(/[.]/g, '\\.')}'.*\\. .+\\.$`), `${name}: names the file and says what to do`);
      refused.set(name, error.message);
      outcome = `refused: ${error.message.replace(/^.*?'[^']*' /, '')}`;
    }
    const ms = performance.now() - t0;
    console.log(`  ${name}: ${ms.toFixed(0)} ms, ${outcome}`);
    assert.ok(ms < 10_000, `${name} took ${ms.toFixed(0)} ms; no file may stall the queue`);
  }
  console.log(`  corpus: ${names.length - refused.size} indexed (${indexedPages} pages), ${refused.size} refused, ${(performance.now() - started).toFixed(0)} ms`);
  const protectedOnes = [...refused].filter(([, m]) => /is password-protected; Trove cannot read it/.test(m)).map(([n]) => n);
  assert.deepEqual(protectedOnes, PASSWORD_PROTECTED);
  // Everything else opens (MuPDF repairs broken xrefs); only truly unreadable files may be refused.
  assert.ok(refused.size <= PASSWORD_PROTECTED.length + 3, `refused: ${[...refused.keys()].join(', ')}`);
});

test('PDF dates: the standard form, its common misspellings, and nonsense', () => {
  assert.equal(parsePdfDate("D:20240102030405+01'00'"), Date.UTC(2024, 0, 2, 2, 4, 5));
  assert.equal(parsePdfDate("D:20240102030405-05'30"), Date.UTC(2024, 0, 2, 8, 34, 5));
  assert.equal(parsePdfDate('D:20240102030405Z'), Date.UTC(2024, 0, 2, 3, 4, 5));
  assert.equal(parsePdfDate("D:20240102030405Z00'00'"), Date.UTC(2024, 0, 2, 3, 4, 5));
  assert.equal(parsePdfDate('20240102'), Date.UTC(2024, 0, 2));
  assert.equal(parsePdfDate('D:2024'), Date.UTC(2024, 0, 1));
  assert.equal(parsePdfDate('D:20240231'), null, '31 February');
  assert.equal(parsePdfDate('D:20241301'), null);
  assert.equal(parsePdfDate('yesterday'), null);
  assert.equal(parsePdfDate(''), null);
  assert.equal(parsePdfDate(null), null);
});
