import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DocumentExtractError, extractDocumentText, prepareDocumentFile } from '../../../electron/engine/extract/node/document-extract.ts';
import { openZip } from '../../../electron/engine/extract/node/zip-reader.ts';
import type { ChunkTokenizer } from '../../../electron/engine/extract/common/text-chunker.ts';
import { writeZip, type ZipWriterEntry } from '../../../scripts/fixtures/zip-writer.ts';

// Fixtures are ZIPs built here from XML we can read (scripts/fixtures/zip-writer.ts).
const makeZip = writeZip;
type ZipInput = ZipWriterEntry;

// ---- Office fixtures ----

const W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"';
const para = (text: string, pPr = ''): string => `<w:p>${pPr ? `<w:pPr>${pPr}</w:pPr>` : ''}<w:r><w:t xml:space="preserve">${text}</w:t></w:r></w:p>`;
const cell = (text: string): string => `<w:tc><w:tcPr/>${para(text)}</w:tc>`;

function docx(body: string, extra: ZipInput[] = []): Buffer {
  return makeZip([
    {
      name: '[Content_Types].xml',
      data: '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
    },
    {
      name: '_rels/.rels',
      data: '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
    },
    { name: 'word/document.xml', data: `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document ${W}><w:body>${body}<w:sectPr/></w:body></w:document>` },
    ...extra,
  ]);
}

const DOCX_BODY = [
  para('Quarterly report', '<w:pStyle w:val="Heading1"/>'),
  // Runs split mid-word, a tab, an entity, a line break; tracked deletion and a field code are not text.
  '<w:p><w:r><w:t>Rev</w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t>enue</w:t></w:r><w:r><w:tab/><w:t xml:space="preserve">grew &amp; costs fell</w:t></w:r>' +
    '<w:del w:id="1"><w:r><w:delText>DELETED</w:delText></w:r></w:del>' +
    '<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText>PAGE \\* MERGEFORMAT</w:instrText></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r>' +
    '<w:r><w:br/><w:t>second line</w:t></w:r></w:p>',
  para('first point', '<w:pStyle w:val="ListParagraph"/><w:numPr><w:ilvl w:val="0"/><w:numId w:val="1"/></w:numPr><w:tabs><w:tab w:val="left" w:pos="720"/></w:tabs>'),
  para('second point', '<w:numPr><w:ilvl w:val="0"/><w:numId w:val="1"/></w:numPr>'),
  `<w:tbl><w:tblPr/><w:tr>${cell('Region')}${cell('Sales')}</w:tr><w:tr>${cell('North')}<w:tc>${para('12')}${para('units')}</w:tc></w:tr></w:tbl>`,
  // A text box: Word writes it twice (DrawingML and a VML fallback); it must appear once.
  '<w:p><w:r><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing><w:txbxContent>' +
    para('Boxed note') +
    '</w:txbxContent></w:drawing></mc:Choice><mc:Fallback><w:pict><w:txbxContent>' +
    para('Boxed note') +
    '</w:txbxContent></w:pict></mc:Fallback></mc:AlternateContent></w:r></w:p>',
  para('Unicode: naïve café — 日本語'),
].join('');

const FOOTNOTES = `<w:footnotes ${W}><w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote><w:footnote w:id="1">${para('A footnote.')}</w:footnote></w:footnotes>`;

const EXPECTED_DOCX = [
  'Quarterly report',
  '',
  'Revenue\tgrew & costs fell\nsecond line',
  '',
  '• first point',
  '• second point',
  '',
  'Region | Sales',
  'North | 12 units',
  '',
  'Boxed note',
  '',
  'Unicode: naïve café — 日本語',
  '',
  'A footnote.',
].join('\n');

const P = 'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"';
const shape = (...paragraphs: string[]): string =>
  `<p:sp><p:txBody><a:bodyPr/>${paragraphs.map((text) => `<a:p><a:r><a:rPr lang="en-US"/><a:t>${text}</a:t></a:r></a:p>`).join('')}</p:txBody></p:sp>`;
const slide = (content: string): string => `<?xml version="1.0"?><p:sld ${P}><p:cSld><p:spTree>${content}</p:spTree></p:cSld></p:sld>`;
const rels = (items: [string, string, string][]): string =>
  `<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">${items.map(([id, type, target]) => `<Relationship Id="${id}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/${type}" Target="${target}"/>`).join('')}</Relationships>`;

function pptx(): Buffer {
  // Presentation order is slide2.xml then slide1.xml: the order comes from presentation.xml, not file names.
  return makeZip([
    { name: '[Content_Types].xml', data: '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>' },
    { name: 'ppt/presentation.xml', data: `<p:presentation ${P}><p:sldIdLst><p:sldId id="256" r:id="rId8"/><p:sldId id="257" r:id="rId7"/></p:sldIdLst></p:presentation>` },
    { name: 'ppt/_rels/presentation.xml.rels', data: rels([['rId7', 'slide', 'slides/slide1.xml'], ['rId8', 'slide', 'slides/slide2.xml']]) },
    { name: 'ppt/slides/slide2.xml', data: slide(shape('Welcome to Trove') + shape('Private search', 'On your GPU') + '<p:sp><p:txBody><a:p><a:fld type="slidenum"><a:t>1</a:t></a:fld></a:p></p:txBody></p:sp>') },
    {
      name: 'ppt/slides/slide1.xml',
      data: slide(
        shape('Results') +
          '<p:graphicFrame><a:graphic><a:graphicData><a:tbl><a:tr><a:tc><a:txBody><a:p><a:r><a:t>Model</a:t></a:r></a:p></a:txBody></a:tc><a:tc><a:txBody><a:p><a:r><a:t>Recall</a:t></a:r></a:p></a:txBody></a:tc></a:tr>' +
          '<a:tr><a:tc><a:txBody><a:p><a:r><a:t>2B</a:t></a:r></a:p></a:txBody></a:tc><a:tc><a:txBody><a:p><a:r><a:t>0.91</a:t></a:r></a:p></a:txBody></a:tc></a:tr></a:tbl></a:graphicData></a:graphic></p:graphicFrame>',
      ),
    },
    { name: 'ppt/slides/_rels/slide2.xml.rels', data: rels([['rId1', 'slideLayout', '../slideLayouts/slideLayout1.xml'], ['rId2', 'notesSlide', '../notesSlides/notesSlide1.xml']]) },
    { name: 'ppt/notesSlides/notesSlide1.xml', data: `<p:notes ${P}><p:cSld><p:spTree>${shape('Mention the privacy story.')}<p:sp><p:txBody><a:p><a:fld type="slidenum"><a:t>1</a:t></a:fld></a:p></p:txBody></p:sp></p:spTree></p:cSld></p:notes>` },
  ]);
}

const EXPECTED_PPTX = ['Slide 1', '', 'Welcome to Trove', '', 'Private search', 'On your GPU', '', 'Notes: Mention the privacy story.', '', 'Slide 2', '', 'Results', '', 'Model | Recall', '2B | 0.91'].join('\n');

const ODT_NS = 'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"';

function odt(manifestExtra = ''): Buffer {
  const content =
    `<?xml version="1.0" encoding="UTF-8"?><office:document-content ${ODT_NS}><office:body><office:text>` +
    '<text:sequence-decls><text:sequence-decl text:display-outline-level="0" text:name="Table"/></text:sequence-decls>' +
    '<text:h text:outline-level="1">Meeting notes</text:h>\n  ' +
    '<text:p>Two<text:s text:c="3"/>spaces,\n   collapsed <text:span>and spans</text:span><text:tab/>tab<text:line-break/>next line</text:p>' +
    '<text:list><text:list-item><text:p>alpha</text:p></text:list-item><text:list-item><text:p>beta</text:p></text:list-item></text:list>' +
    '<table:table><table:table-row><table:table-cell><text:p>k</text:p></table:table-cell><table:table-cell><text:p>v</text:p></table:table-cell></table:table-row></table:table>' +
    '<text:p>End<office:annotation><text:p>reviewer comment</text:p></office:annotation>.</text:p>' +
    '</office:text></office:body></office:document-content>';
  return makeZip([
    { name: 'mimetype', data: 'application/vnd.oasis.opendocument.text', stored: true },
    { name: 'content.xml', data: content },
    { name: 'META-INF/manifest.xml', data: `<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="content.xml">${manifestExtra}</manifest:file-entry></manifest:manifest>` },
  ]);
}

const EXPECTED_ODT = ['Meeting notes', '', 'Two   spaces, collapsed and spans\ttab\nnext line', '', '• alpha', '• beta', '', 'k | v', '', 'End.'].join('\n');

const RTF =
  '{\\rtf1\\ansi\\ansicpg1252\\deff0{\\fonttbl{\\f0\\fswiss Helvetica;}}{\\colortbl;\\red255\\green0\\blue0;}' +
  '{\\*\\generator Writer}{\\info{\\title Hidden title}}\\pard\\f0\\fs24 Caf\\\'e9 costs \\u8364?5\\par\n' +
  '{\\b Bold} text with \\{braces\\}\\tab and a tab.\\par\n' +
  '\\trowd\\cellx1000\\cellx2000 A\\cell B\\cell\\row\n' +
  '{\\pict\\pngblip\\bin4 }{\\}}Done.\\par}';

const EXPECTED_RTF = ['Café costs €5', '', 'Bold text with {braces}\tand a tab.', '', 'A | B', 'Done.'].join('\n');

/** 4 characters per token, like the indexer's estimate without a model. */
const estimateTokenizer: ChunkTokenizer = { encodeText: (text) => new Array<number>(Math.ceil(text.length / 4)).fill(0) };

async function withDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'trove-doc-'));
  try {
    await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function rejectsWith(promise: Promise<unknown>, code: string, reason: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof DocumentExtractError, String(error));
    assert.equal(error.code, code, error.message);
    assert.match(error.message, reason);
    return true;
  });
}

test('docx: headings, runs, tabs, lists, tables, text boxes once, footnotes; no deleted text or field codes', async () => {
  await withDir(async (dir) => {
    const file = path.join(dir, 'report.docx');
    await writeFile(file, docx(DOCX_BODY, [{ name: 'word/footnotes.xml', data: FOOTNOTES }]));
    const result = await extractDocumentText(file);
    assert.equal(result.format, 'docx');
    assert.equal(result.note, null);
    assert.equal(result.text, EXPECTED_DOCX);
  });
});

test('pptx: slides in presentation order with "Slide N", tables, speaker notes; slide numbers left out', async () => {
  await withDir(async (dir) => {
    const file = path.join(dir, 'deck.pptx');
    await writeFile(file, pptx());
    const result = await extractDocumentText(file);
    assert.equal(result.format, 'pptx');
    assert.equal(result.text, EXPECTED_PPTX);
  });
});

test('odt: headings, collapsed whitespace and text:s, lists, tables; annotations left out', async () => {
  await withDir(async (dir) => {
    const file = path.join(dir, 'notes.odt');
    await writeFile(file, odt());
    const result = await extractDocumentText(file);
    assert.equal(result.format, 'odt');
    assert.equal(result.text, EXPECTED_ODT);
  });
});

test('rtf: code page bytes, \\u with fallback, groups and destinations skipped, table cells', async () => {
  await withDir(async (dir) => {
    const file = path.join(dir, 'letter.rtf');
    await writeFile(file, Buffer.from(RTF, 'latin1'));
    const result = await extractDocumentText(file);
    assert.equal(result.format, 'rtf');
    assert.equal(result.text, EXPECTED_RTF);
  });
});

test('the format comes from content: a docx named .odt is read as docx', async () => {
  await withDir(async (dir) => {
    const file = path.join(dir, 'misnamed.odt');
    await writeFile(file, docx(para('hello')));
    assert.deepEqual(await extractDocumentText(file), { text: 'hello', format: 'docx', note: null });
  });
});

test('size cap: the first maxChars characters are kept and a note says so', async () => {
  await withDir(async (dir) => {
    const file = path.join(dir, 'long.docx');
    const body = Array.from({ length: 50 }, (_, i) => para(`Paragraph ${i} with some words in it.`)).join('');
    await writeFile(file, docx(body));
    const full = await extractDocumentText(file);
    assert.equal(full.note, null);
    const capped = await extractDocumentText(file, { maxChars: 100 });
    assert.equal(capped.text.length, 100);
    assert.equal(capped.text, full.text.slice(0, 100));
    assert.match(capped.note ?? '', /Only the first 100 characters .*text size cap.*split the document/);
    const rtf = path.join(dir, 'long.rtf');
    await writeFile(rtf, `{\\rtf1\\ansi ${'word '.repeat(100)}}`);
    const cappedRtf = await extractDocumentText(rtf, { maxChars: 42 });
    assert.equal(cappedRtf.text.length, 42);
    assert.match(cappedRtf.note ?? '', /Only the first 42 characters/);
  });
});

test('broken, encrypted, legacy and misnamed files fail with a reason that says what to do', async () => {
  await withDir(async (dir) => {
    const write = async (name: string, bytes: Buffer | string): Promise<string> => {
      const file = path.join(dir, name);
      await writeFile(file, bytes);
      return file;
    };
    const good = docx(para('hello'));
    await rejectsWith(extractDocumentText(await write('truncated.docx', good.subarray(0, good.length - 30))), 'corrupt', /ZIP container is damaged.*save it again/);
    const damaged = Buffer.from(good);
    damaged.fill(0x55, 200, 260); // inside word/document.xml's deflated data or headers
    await assert.rejects(extractDocumentText(await write('damaged.docx', damaged)), DocumentExtractError);
    await rejectsWith(extractDocumentText(await write('plain.docx', makeZip([{ name: 'readme.txt', data: 'hi' }]))), 'corrupt', /ZIP archive but not a Word/);
    await rejectsWith(extractDocumentText(await write('text.docx', 'just some text')), 'corrupt', /not a Word .*misnamed/);
    await rejectsWith(extractDocumentText(await write('empty.docx', '')), 'empty', /empty \(0 bytes\)/);
    await rejectsWith(extractDocumentText(path.join(dir, 'missing.docx')), 'unreadable', /exists and is readable/);

    // Encrypted OOXML: a Compound File whose directory names the EncryptionInfo stream.
    const cfb = Buffer.alloc(4096);
    Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]).copy(cfb, 0);
    Buffer.from('EncryptionInfo', 'utf16le').copy(cfb, 1024);
    await rejectsWith(extractDocumentText(await write('secret.docx', cfb)), 'password-protected', /password-protected.*without a password/);
    const legacy = Buffer.alloc(4096);
    Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]).copy(legacy, 0);
    Buffer.from('WordDocument', 'utf16le').copy(legacy, 1024);
    await rejectsWith(extractDocumentText(await write('old.docx', legacy)), 'legacy-format', /97–2003.*Save it as \.docx/);
    // Encrypted ODF: the manifest carries encryption data.
    await rejectsWith(extractDocumentText(await write('secret.odt', odt('<manifest:encryption-data/>'))), 'password-protected', /password-protected/);
    // A ZIP entry with the traditional-encryption flag.
    const zipCrypto = makeZip([{ name: 'word/document.xml', data: 'xx', encryptedFlag: true }]);
    await rejectsWith(extractDocumentText(await write('zipcrypto.docx', zipCrypto)), 'password-protected', /password-protected/);
    // Another OpenDocument type.
    const ods = makeZip([{ name: 'mimetype', data: 'application/vnd.oasis.opendocument.spreadsheet', stored: true }, { name: 'content.xml', data: '<x/>' }]);
    await rejectsWith(extractDocumentText(await write('sheet.odt', ods)), 'corrupt', /opendocument\.spreadsheet.*only \.odt/);
  });
});

test('zip reader: an entry that inflates past its limit is refused (zip-bomb guard)', async () => {
  await withDir(async (dir) => {
    const file = path.join(dir, 'bomb.zip');
    await writeFile(file, makeZip([{ name: 'word/document.xml', data: Buffer.alloc(1_000_000, 0x20), claimedSize: 10 }]));
    const zip = await openZip(file);
    try {
      await assert.rejects(zip.read('word/document.xml', 64 * 1024), /inflates past the limit of 65536/);
      await assert.rejects(zip.read('nope.xml', 10), /has no 'nope.xml'/);
    } finally {
      await zip.close();
    }
  });
});

test('prepareDocumentFile: text-chunk items like text files, with locators into the extracted text', async () => {
  await withDir(async (dir) => {
    const file = path.join(dir, 'long.docx');
    const body = Array.from({ length: 120 }, (_, i) => para(`Section ${i}: the quick brown fox jumps over the lazy dog, again and again.`)).join('');
    await writeFile(file, docx(body));
    const { text } = await extractDocumentText(file);
    const prepared = await prepareDocumentFile({ path: file, mtimeMs: 1_700_000_000_000 }, estimateTokenizer);
    assert.ok(prepared.items.length > 1, `several chunks, got ${prepared.items.length}`);
    assert.equal(prepared.dateTaken, null);
    assert.deepEqual(prepared.metadata, { format: 'docx', chunks: prepared.items.length, note: null });
    for (const { item, embed } of prepared.items) {
      assert.equal(item.kind, 'text');
      assert.equal(item.date, 1_700_000_000_000);
      assert.ok(item.locator.type === 'text');
      assert.equal(text.slice(item.locator.start, item.locator.end), item.text);
      assert.deepEqual(embed, { texts: [item.text] });
    }
    assert.ok(prepared.items[0].item.text?.startsWith('Section 0:'));

    const empty = path.join(dir, 'pictures-only.docx');
    await writeFile(empty, docx('<w:p><w:r><w:drawing/></w:r></w:p>'));
    const none = await prepareDocumentFile({ path: empty, mtimeMs: 5 }, estimateTokenizer);
    assert.equal(none.items.length, 1);
    assert.equal(none.items[0].embed, null);
    assert.deepEqual(none.items[0].item.locator, { type: 'whole' });
    assert.match(String(none.metadata.note), /no text found/);
  });
});
