// Minimal PDFs written by hand (so the files under test do not come from the library under test):
// objects, a cross-reference table with exact byte offsets, and a trailer.

export interface HandPage {
  /** Page box in points. */
  readonly width: number;
  readonly height: number;
  /** Content stream (PDF operators). Helvetica is resource /F1; `image` is /Im1. */
  readonly content: string;
  /** A JPEG drawn as /Im1 (DCTDecode, RGB). */
  readonly image?: { readonly jpeg: Buffer; readonly width: number; readonly height: number };
  readonly rotate?: number;
}

export interface HandPdfOptions {
  readonly info?: Record<string, string>;
}

/** A PDF of the given pages; `info` strings go to the document information dictionary. */
export function handWrittenPdf(pages: readonly HandPage[], options: HandPdfOptions = {}): Buffer {
  const objects: Buffer[] = [];
  const add = (body: string | Buffer): number => {
    objects.push(typeof body === 'string' ? Buffer.from(body, 'latin1') : body);
    return objects.length;
  };
  const catalog = add(''); // filled in once the page tree's number is known
  const pagesObj = add('');
  const font = add('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>');
  const kids: number[] = [];
  for (const page of pages) {
    const content = Buffer.from(page.content, 'latin1');
    const contents = add(Buffer.concat([Buffer.from(`<< /Length ${content.length} >>\nstream\n`), content, Buffer.from('\nendstream')]));
    let xobject = '';
    if (page.image) {
      const { jpeg, width, height } = page.image;
      const header = `<< /Type /XObject /Subtype /Image /Width ${width} /Height ${height} /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /DCTDecode /Length ${jpeg.length} >>\nstream\n`;
      const image = add(Buffer.concat([Buffer.from(header), jpeg, Buffer.from('\nendstream')]));
      xobject = ` /XObject << /Im1 ${image} 0 R >>`;
    }
    const rotate = page.rotate ? ` /Rotate ${page.rotate}` : '';
    kids.push(
      add(`<< /Type /Page /Parent ${pagesObj} 0 R /MediaBox [0 0 ${page.width} ${page.height}]${rotate} /Resources << /Font << /F1 ${font} 0 R >>${xobject} >> /Contents ${contents} 0 R >>`),
    );
  }
  objects[catalog - 1] = Buffer.from(`<< /Type /Catalog /Pages ${pagesObj} 0 R >>`);
  objects[pagesObj - 1] = Buffer.from(`<< /Type /Pages /Kids [${kids.map((k) => `${k} 0 R`).join(' ')}] /Count ${kids.length} >>`);
  const infoEntries = Object.entries(options.info ?? {}).map(([k, v]) => `/${k} (${v.replace(/[\\()]/g, (c) => `\\${c}`)})`);
  const info = infoEntries.length > 0 ? add(`<< ${infoEntries.join(' ')} >>`) : null;

  const chunks: Buffer[] = [Buffer.from('%PDF-1.7\n%\xE2\xE3\xCF\xD3\n', 'latin1')];
  let offset = chunks[0]!.length;
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(offset);
    const chunk = Buffer.concat([Buffer.from(`${i + 1} 0 obj\n`), body, Buffer.from('\nendobj\n')]);
    chunks.push(chunk);
    offset += chunk.length;
  });
  const xref = ['xref', `0 ${objects.length + 1}`, '0000000000 65535 f ', ...offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n `)].join('\n');
  const trailer = `trailer\n<< /Size ${objects.length + 1} /Root ${catalog} 0 R${info ? ` /Info ${info} 0 R` : ''} >>\nstartxref\n${offset}\n%%EOF\n`;
  chunks.push(Buffer.from(`${xref}\n${trailer}`));
  return Buffer.concat(chunks);
}
