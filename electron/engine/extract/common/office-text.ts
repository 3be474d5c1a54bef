// Office XML (WordprocessingML, PresentationML/DrawingML, OpenDocument) to plain text for chunking.
//
// Layout, chosen so the text chunker cuts at the right places: paragraphs and headings are
// separated by a blank line (a strong boundary); list items and table rows follow each other on
// single lines (a table stays together; cells read "a | b | c"); list items start with "• "
// (numbering is not reproduced: it lives in numbering.xml and adds nothing to search). Deleted
// tracked changes, field codes and compatibility fallbacks (which duplicate text boxes) are left
// out; pictures have no text.
import { xmlAttribute, xmlEvents } from './xml-events.ts';

/** Thrown by TextBuilder.add once the character cap is reached; callers stop walking. */
export class TextCapReached extends Error {
  override readonly name = 'TextCapReached';
}

/** Collects text blocks up to a cap in characters. */
export class TextBuilder {
  private readonly parts: string[] = [];
  private lastTight = false;
  length = 0;
  truncated = false;

  constructor(readonly maxChars: number) {}

  /** Tight blocks (list items, table rows, slide lines) go on the next line after another tight block; others after a blank line. */
  add(block: string, tight: boolean): void {
    const text = block.replace(/[ \t\u00a0]+$/gm, '').replace(/^\n+|\n+$/g, '');
    if (text.trim() === '') return;
    const piece = (this.parts.length === 0 ? '' : tight && this.lastTight ? '\n' : '\n\n') + text;
    this.lastTight = tight;
    if (this.length + piece.length > this.maxChars) {
      let room = this.maxChars - this.length;
      const code = piece.charCodeAt(room - 1);
      if (room > 0 && code >= 0xd800 && code <= 0xdbff) room -= 1; // never split a surrogate pair
      if (room > 0) this.parts.push(piece.slice(0, room));
      this.length += Math.max(0, room);
      this.truncated = true;
      throw new TextCapReached();
    }
    this.parts.push(piece);
    this.length += piece.length;
  }

  /** The next block starts after a blank line (a new shape, slide or section). */
  separate(): void {
    this.lastTight = false;
  }

  get text(): string {
    return this.parts.join('');
  }
}

interface Dialect {
  readonly paragraphs: ReadonlySet<string>;
  /** Elements that are headings by name (ODF text:h). */
  readonly headings: ReadonlySet<string>;
  /** Elements whose text is document text; null: all text inside a paragraph is. */
  readonly textElements: ReadonlySet<string> | null;
  /** ODF collapses runs of whitespace in text (spaces are written as text:s). */
  readonly collapseWhitespace: boolean;
  readonly tabs: ReadonlySet<string>;
  readonly breaks: ReadonlySet<string>;
  /** ODF text:s: `text:c` spaces. */
  readonly spaces: string | null;
  readonly table: string;
  readonly row: string;
  readonly cell: string;
  /** Ancestors that make a paragraph a list item (ODF text:list-item). */
  readonly listItems: ReadonlySet<string>;
  readonly skip: ReadonlySet<string>;
  /** Closing one of these starts the next block after a blank line (a slide's shapes). */
  readonly groups: ReadonlySet<string>;
  /** Every paragraph is a line of its own, not a prose paragraph (slides). */
  readonly tightParagraphs: boolean;
}

const WORD: Dialect = {
  paragraphs: new Set(['w:p']),
  headings: new Set(),
  textElements: new Set(['w:t']),
  collapseWhitespace: false,
  tabs: new Set(['w:tab', 'w:ptab']),
  breaks: new Set(['w:br', 'w:cr']),
  spaces: null,
  table: 'w:tbl',
  row: 'w:tr',
  cell: 'w:tc',
  listItems: new Set(),
  // w:pPr/w:rPr: w:tab inside them is a tab stop definition, not a tab character.
  skip: new Set(['mc:Fallback', 'w:del', 'w:delText', 'w:instrText', 'w:moveFrom', 'w:tabs', 'w:rPr']),
  groups: new Set(),
  tightParagraphs: false,
};

const DRAWING: Dialect = {
  paragraphs: new Set(['a:p']),
  headings: new Set(),
  textElements: new Set(['a:t']),
  collapseWhitespace: false,
  tabs: new Set(),
  breaks: new Set(['a:br']),
  spaces: null,
  table: 'a:tbl',
  row: 'a:tr',
  cell: 'a:tc',
  listItems: new Set(),
  // a:fld: slide numbers and dates in footers and on notes pages; noise for search.
  skip: new Set(['mc:Fallback', 'a:fld']),
  groups: new Set(['p:sp', 'p:graphicFrame', 'p:grpSp']),
  tightParagraphs: true,
};

const OPEN_DOCUMENT: Dialect = {
  paragraphs: new Set(['text:p', 'text:h']),
  headings: new Set(['text:h']),
  textElements: null,
  collapseWhitespace: true,
  tabs: new Set(['text:tab']),
  breaks: new Set(['text:line-break']),
  spaces: 'text:s',
  table: 'table:table',
  row: 'table:table-row',
  cell: 'table:table-cell',
  listItems: new Set(['text:list-item']),
  skip: new Set(['office:annotation', 'text:note-citation', 'text:tracked-changes', 'svg:title', 'svg:desc', 'text:bookmark-ref']),
  groups: new Set(['draw:frame']),
  tightParagraphs: false,
};

interface ParagraphFrame {
  text: string;
  list: boolean;
  heading: boolean;
}

interface TableFrame {
  cells: string[] | null;
  cell: string[] | null;
  /** Paragraph nesting depth where the current cell was opened: paragraphs closing at it belong to the cell. */
  paragraphDepth: number;
}

const HEADING_STYLE = /^(heading|title|subtitle|berschrift|titre|titolo|t[ií]tulo|kop)/i;
const LIST_STYLE = /^list/i;

function walk(xml: string, dialect: Dialect, out: TextBuilder): void {
  const paragraphs: ParagraphFrame[] = [];
  const tables: TableFrame[] = [];
  let skipDepth = 0;
  let skipName = '';
  let textDepth = 0;
  let listDepth = 0;

  const finishParagraph = (frame: ParagraphFrame): void => {
    const text = frame.text.trim();
    if (text === '') return;
    const table = tables.at(-1);
    if (table?.cell && paragraphs.length === table.paragraphDepth) {
      table.cell.push(text.replace(/\s*\n\s*/g, ' '));
      return;
    }
    // A heading always opens a new block, even on a slide or when styled as a list.
    const listItem = frame.list && !frame.heading;
    out.add(listItem ? `• ${text}` : text, !frame.heading && (listItem || dialect.tightParagraphs));
  };

  for (const event of xmlEvents(xml)) {
    if (skipDepth > 0) {
      if (event.type === 'open' && event.name === skipName) skipDepth += 1;
      else if (event.type === 'close' && event.name === skipName) skipDepth -= 1;
      continue;
    }
    const top = paragraphs.at(-1);
    if (event.type === 'text') {
      if (!top || (dialect.textElements !== null && textDepth === 0)) continue;
      // ODF: whitespace in text collapses (text:s, text:tab and text:line-break are added as elements).
      top.text += dialect.collapseWhitespace ? event.text.replace(/[ \t\r\n]+/g, ' ') : event.text;
      continue;
    }
    const name = event.name;
    if (event.type === 'open') {
      if (dialect.skip.has(name)) {
        if (!event.selfClosing) {
          skipDepth = 1;
          skipName = name;
        }
        continue;
      }
      if (dialect.paragraphs.has(name)) paragraphs.push({ text: '', list: listDepth > 0, heading: dialect.headings.has(name) });
      else if (dialect.textElements?.has(name)) textDepth += 1;
      else if (dialect.listItems.has(name)) listDepth += 1;
      else if (top && dialect.tabs.has(name)) top.text += '\t';
      else if (top && dialect.breaks.has(name)) top.text += '\n';
      else if (top && name === dialect.spaces) top.text += ' '.repeat(Math.min(1000, Number(xmlAttribute(event.attributes, 'text:c') ?? '1') || 1));
      else if (top && name === 'w:noBreakHyphen') top.text += '-';
      else if (top && name === 'w:numPr') top.list = true;
      else if (top && name === 'w:outlineLvl') top.heading = true;
      else if (top && name === 'w:pStyle') {
        const style = xmlAttribute(event.attributes, 'w:val') ?? '';
        if (HEADING_STYLE.test(style)) top.heading = true;
        else if (LIST_STYLE.test(style)) top.list = true;
      } else if (name === dialect.table) {
        tables.push({ cells: null, cell: null, paragraphDepth: -1 });
        out.separate(); // a table is its own block, even right after a list
      }
      else if (name === dialect.row && tables.length > 0) tables[tables.length - 1].cells = [];
      else if (name === dialect.cell && tables.length > 0) {
        const table = tables[tables.length - 1];
        table.cell = [];
        table.paragraphDepth = paragraphs.length;
      }
      continue;
    }
    // close
    if (dialect.paragraphs.has(name)) {
      const frame = paragraphs.pop();
      if (frame) finishParagraph(frame);
    } else if (dialect.textElements?.has(name)) textDepth = Math.max(0, textDepth - 1);
    else if (dialect.listItems.has(name)) listDepth = Math.max(0, listDepth - 1);
    else if (name === dialect.cell && tables.length > 0) {
      const table = tables[tables.length - 1];
      if (table.cell && table.cells) table.cells.push(table.cell.join(' '));
      table.cell = null;
    } else if (name === dialect.row && tables.length > 0) {
      const table = tables[tables.length - 1];
      const row = (table.cells ?? []).map((cell) => cell.trim());
      table.cells = null;
      if (row.some((cell) => cell !== '')) {
        const line = row.join(' | ');
        const outer = tables.at(-2);
        // A nested table's rows read as part of the outer cell.
        if (outer?.cell) outer.cell.push(line);
        else out.add(line, true);
      }
    } else if (name === dialect.table) {
      tables.pop();
      out.separate();
    } else if (dialect.groups.has(name)) out.separate();
  }
}

/** Text of a WordprocessingML part (word/document.xml, footnotes, endnotes). Throws TextCapReached at the cap. */
export function wordText(xml: string, out: TextBuilder): void {
  walk(xml, WORD, out);
}

/** Text of a PresentationML slide or notes page. Throws TextCapReached at the cap. */
export function slideText(xml: string, out: TextBuilder): void {
  walk(xml, DRAWING, out);
}

/** Text of an OpenDocument content.xml. Throws TextCapReached at the cap. */
export function openDocumentText(xml: string, out: TextBuilder): void {
  walk(xml, OPEN_DOCUMENT, out);
}

/** Relationship id → target from a .rels part. */
export function relationshipTargets(xml: string): Map<string, { target: string; type: string }> {
  const targets = new Map<string, { target: string; type: string }>();
  for (const event of xmlEvents(xml)) {
    if (event.type !== 'open' || !event.name.endsWith('Relationship')) continue;
    const id = xmlAttribute(event.attributes, 'Id');
    const target = xmlAttribute(event.attributes, 'Target');
    if (id && target) targets.set(id, { target, type: xmlAttribute(event.attributes, 'Type') ?? '' });
  }
  return targets;
}

/** Slide relationship ids in presentation order, from ppt/presentation.xml. */
export function slideOrder(presentationXml: string): string[] {
  const ids: string[] = [];
  for (const event of xmlEvents(presentationXml)) {
    if (event.type === 'open' && event.name === 'p:sldId') {
      const id = xmlAttribute(event.attributes, 'r:id');
      if (id) ids.push(id);
    }
  }
  return ids;
}
