// RTF to plain text: enough of the format for search (paragraphs, tabs, table cells, \'hh bytes in
// the document's ANSI code page, \uN Unicode with its fallback skipped). Formatting, font and colour
// tables, pictures, embedded objects, field instructions, headers/footers and every ignorable
// destination ({\*\…}) are dropped. Nothing here can expand: output grows at most one character
// per input character (\uN included), and the cap stops the walk early.

const SKIPPED_DESTINATIONS = new Set([
  'fonttbl', 'colortbl', 'stylesheet', 'info', 'pict', 'object', 'objdata', 'themedata', 'colorschememapping', 'datastore',
  'latentstyles', 'listtable', 'listoverridetable', 'rsidtbl', 'generator', 'xmlnstbl', 'mmathPr', 'fldinst', 'header', 'headerl',
  'headerr', 'headerf', 'footer', 'footerl', 'footerr', 'footerf', 'filetbl', 'revtbl', 'pgdsctbl', 'bkmkstart', 'bkmkend',
  'shppict', 'nonshppict', 'blipuid', 'userprops', 'xe', 'tc', 'template', 'wgrffmtfilter', 'docvar',
]);

const SYMBOLS: Readonly<Record<string, string>> = {
  par: '\n\n', sect: '\n\n', page: '\n\n', line: '\n', row: '\n', cell: ' | ', tab: '\t',
  emdash: '—', endash: '–', bullet: '•', lquote: '‘', rquote: '’', ldblquote: '“', rdblquote: '”', emspace: ' ', enspace: ' ', qmspace: ' ',
};

interface GroupState {
  skip: boolean;
  unicodeSkip: number;
}

export interface RtfText {
  readonly text: string;
  readonly truncated: boolean;
}

type ByteDecoder = (bytes: Uint8Array) => string;

function decoderFor(codePage: number): ByteDecoder {
  const labels: Readonly<Record<number, string>> = { 932: 'shift_jis', 936: 'gbk', 949: 'euc-kr', 950: 'big5', 10000: 'macintosh', 65001: 'utf-8' };
  try {
    const decoder = new TextDecoder(labels[codePage] ?? `windows-${codePage}`);
    return (bytes) => decoder.decode(bytes);
  } catch {
    const fallback = new TextDecoder('windows-1252');
    return (bytes) => fallback.decode(bytes);
  }
}

/** Text of an RTF document (input decoded as Latin-1: RTF is 7-bit, other bytes are escaped). */
export function rtfText(rtf: string, maxChars: number): RtfText {
  let decoder = decoderFor(1252);
  const out: string[] = [];
  let length = 0;
  let truncated = false;
  let pendingBytes: number[] = [];
  let state: GroupState = { skip: false, unicodeSkip: 1 };
  const stack: GroupState[] = [];
  let skipChars = 0; // fallback characters still to drop after \uN

  const emit = (text: string): void => {
    if (state.skip || text === '') return;
    if (length + text.length > maxChars) {
      out.push(text.slice(0, Math.max(0, maxChars - length)));
      length = maxChars;
      truncated = true;
      return;
    }
    out.push(text);
    length += text.length;
  };
  const flushBytes = (): void => {
    if (pendingBytes.length === 0) return;
    const bytes = Uint8Array.from(pendingBytes);
    pendingBytes = [];
    emit(decoder(bytes));
  };

  let at = 0;
  while (at < rtf.length && !truncated) {
    const char = rtf[at];
    if (char === '{' || char === '}') {
      flushBytes();
      skipChars = 0;
      if (char === '{') {
        stack.push(state);
        state = { ...state };
        if (rtf.startsWith('\\*', at + 1)) state.skip = true;
      } else state = stack.pop() ?? state;
      at += 1;
      continue;
    }
    if (char === '\r' || char === '\n') {
      at += 1;
      continue;
    }
    if (char !== '\\') {
      if (skipChars > 0) skipChars -= 1;
      else {
        flushBytes();
        emit(char);
      }
      at += 1;
      continue;
    }
    const next = rtf[at + 1] ?? '';
    if (next === "'") {
      const byte = Number.parseInt(rtf.slice(at + 2, at + 4), 16);
      at += 4;
      if (skipChars > 0) skipChars -= 1;
      else if (Number.isFinite(byte) && !state.skip) pendingBytes.push(byte);
      continue;
    }
    const word = /^([a-zA-Z]{1,32})(-?\d{1,10})? ?/.exec(rtf.slice(at + 1, at + 48));
    if (!word) {
      // Control symbol: \\ \{ \} literal, \~ non-breaking space, \_ non-breaking hyphen, \- optional hyphen.
      flushBytes();
      const literal: Readonly<Record<string, string>> = { '\\': '\\', '{': '{', '}': '}', '~': '\u00a0', _: '-', '\n': '\n\n', '\r': '\n\n' };
      if (skipChars > 0 && next in literal) skipChars -= 1;
      else emit(literal[next] ?? '');
      at += 2;
      continue;
    }
    at += 1 + word[0].length;
    const name = word[1];
    const parameter = word[2] === undefined ? null : Number(word[2]);
    if (name === 'u' && parameter !== null) {
      flushBytes();
      emit(String.fromCharCode(parameter < 0 ? parameter + 65536 : parameter));
      skipChars = state.unicodeSkip;
      continue;
    }
    if (name === 'bin' && parameter !== null) at += Math.max(0, parameter); // raw bytes (inside pictures): never tokens
    else if (name === 'uc' && parameter !== null) state.unicodeSkip = Math.max(0, parameter);
    else if (name === 'ansicpg' && parameter !== null) decoder = decoderFor(parameter);
    else if (SKIPPED_DESTINATIONS.has(name)) state.skip = true;
    else if (name in SYMBOLS) {
      flushBytes();
      emit(SYMBOLS[name]);
    }
  }
  flushBytes();
  const text = out
    .join('')
    .replace(/(?: \|)? *\n/g, '\n') // the last cell's separator before a row end
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  return { text, truncated };
}
