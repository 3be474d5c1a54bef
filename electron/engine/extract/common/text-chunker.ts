// Splits a text into chunks of at most `chunkTokens` tokens that overlap by about `overlapTokens`,
// each one embeddable unit (an item) with character offsets into the text and a snippet.
//
// Defaults, and why: 512 tokens is about a page of prose (~2,000 characters): long enough for a
// passage to carry its topic, short enough that one hit points at a readable spot, and cheap to
// embed in batches (attention cost grows with the square of the length; the embedder accepts far
// longer inputs but a whole-file vector blurs every topic in it). 64 tokens (12.5%) of overlap
// keeps a sentence cut at a boundary whole in one of the two neighbours, at ~14% extra embedding.
//
// How: the text is cut at natural boundaries into small pieces (paragraphs, lines, sentences, then
// words, then fixed lengths for text without spaces), each piece's tokens are counted, and chunks
// are packed from pieces, ending at the best boundary in the last quarter before the limit
// (paragraph > line/sentence > word). Every chunk is then encoded whole and shrunk if needed, so the
// limit holds exactly even where BPE merges across piece edges. Working in character space keeps
// offsets exact: decoding token slices would split multi-byte characters and lose positions.
// Pieces are counted only as the packing reaches them, so a chunk cap (`maxChunks`) also caps the
// work: the tokenizer never reads text past the last chunk kept.

/** The tokenizer a chunker needs (QwenTokenizer satisfies it). */
export interface ChunkTokenizer {
  encodeText(text: string): readonly number[];
}

/**
 * Which tokenizer cuts a file's chunks, as plain data: extraction runs on a worker thread, which
 * loads the model's tokenizer itself (`model`: the package folder holding tokenizer.json), or uses
 * the 4-characters-per-token estimate when there is no local model (`estimate`).
 */
export type ChunkTokenizerRef = { readonly kind: 'model'; readonly dir: string } | { readonly kind: 'estimate' };

export interface ChunkOptions {
  /** Most tokens in a chunk (default 512). */
  readonly chunkTokens?: number;
  /** Tokens repeated from the end of one chunk at the start of the next (default 64). */
  readonly overlapTokens?: number;
  /** Length of a chunk's snippet in characters (default 160). */
  readonly snippetChars?: number;
  /** Most chunks made; the text after the last one is left out (`truncated`). Default: no limit. */
  readonly maxChunks?: number;
}

export interface ChunkedText {
  readonly chunks: TextChunk[];
  /** `maxChunks` was reached with text left over (the chunks cover `text.slice(0, chunks.at(-1).end)`). */
  readonly truncated: boolean;
}

export interface TextChunk {
  readonly index: number;
  /** Offsets into the text (string indices); `text.slice(start, end)` is the chunk. */
  readonly start: number;
  readonly end: number;
  readonly text: string;
  readonly tokenCount: number;
  /** The chunk's opening words with whitespace collapsed, for result cards. */
  readonly snippet: string;
}

export const DEFAULT_CHUNK_TOKENS = 512;
export const DEFAULT_OVERLAP_TOKENS = 64;

/** Boundary strength after a piece: 3 paragraph, 2 line or sentence, 1 word, 0 none. */
interface Piece {
  readonly start: number;
  readonly end: number;
  readonly breakAfter: number;
  /** -1 until counted. */
  tokens: number;
}

const BOUNDARY = /\n[ \t\r\f\v]*\n\s*|\n|[.!?。！？…][)"'\]»”’]*(?=\s)/gu;

/** The last space in (from, to], or -1: a bounded search (lastIndexOf would scan back to the text's start). */
function lastSpace(text: string, from: number, to: number): number {
  for (let i = to; i > from; i -= 1) if (text.charCodeAt(i) === 32) return i;
  return -1;
}

/** Splits [start, end) at spaces, else at fixed lengths, into spans of at most `maxChars`. */
function splitLong(text: string, start: number, end: number, maxChars: number, out: Piece[], lastBreak: number): void {
  let at = start;
  while (end - at > maxChars) {
    // Bounded: on a 10 MiB line without a space, an unbounded search per piece is quadratic (hours).
    let cut = lastSpace(text, at, at + maxChars);
    let quality = 1;
    if (cut <= at) {
      cut = at + maxChars;
      quality = 0;
      const code = text.charCodeAt(cut - 1);
      if (code >= 0xd800 && code <= 0xdbff) cut -= 1; // never split a surrogate pair
    }
    out.push({ start: at, end: cut, breakAfter: quality, tokens: -1 });
    at = cut;
  }
  out.push({ start: at, end, breakAfter: lastBreak, tokens: -1 });
}

function segment(text: string, maxPieceChars: number): Piece[] {
  const pieces: Piece[] = [];
  let start = 0;
  for (const match of text.matchAll(BOUNDARY)) {
    const end = match.index + match[0].length;
    const quality = match[0].startsWith('\n') ? (/\n[\s]*\n/.test(match[0]) ? 3 : 2) : 2;
    if (end > start) splitLong(text, start, end, maxPieceChars, pieces, quality);
    start = end;
  }
  if (start < text.length) splitLong(text, start, text.length, maxPieceChars, pieces, 3);
  return pieces;
}

function makeSnippet(chunk: string, snippetChars: number): string {
  const flat = chunk.replace(/\s+/g, ' ').trim();
  if (flat.length <= snippetChars) return flat;
  const cut = flat.lastIndexOf(' ', snippetChars - 1);
  return `${flat.slice(0, cut > snippetChars / 2 ? cut : snippetChars - 1)}…`;
}

export function chunkText(text: string, tokenizer: ChunkTokenizer, options: ChunkOptions = {}): TextChunk[] {
  return chunkTextUpTo(text, tokenizer, options).chunks;
}

/** `chunkText` that also says whether `maxChunks` left text out. */
export function chunkTextUpTo(text: string, tokenizer: ChunkTokenizer, options: ChunkOptions = {}): ChunkedText {
  const maxChunks = options.maxChunks ?? Infinity;
  if (!(maxChunks >= 1)) throw new RangeError(`maxChunks must be at least 1, got ${maxChunks}`);
  const chunkTokens = options.chunkTokens ?? DEFAULT_CHUNK_TOKENS;
  const overlapTokens = options.overlapTokens ?? DEFAULT_OVERLAP_TOKENS;
  const snippetChars = options.snippetChars ?? 160;
  if (!Number.isInteger(chunkTokens) || chunkTokens < 1) throw new RangeError(`chunkTokens must be a positive integer, got ${chunkTokens}`);
  if (!Number.isInteger(overlapTokens) || overlapTokens < 0 || overlapTokens >= chunkTokens) {
    throw new RangeError(`overlapTokens must be an integer in [0, chunkTokens), got ${overlapTokens} with chunkTokens ${chunkTokens}`);
  }
  // A character is at most 4 byte-level tokens (a 4-byte UTF-8 character), so a piece this short always fits.
  const maxPieceChars = Math.max(2, Math.min(200, Math.floor(chunkTokens / 4)));
  const pieces = segment(text, maxPieceChars);
  const tokensOf = (piece: Piece): number => {
    if (piece.tokens < 0) piece.tokens = tokenizer.encodeText(text.slice(piece.start, piece.end)).length;
    return piece.tokens;
  };

  const chunks: TextChunk[] = [];
  let first = 0;
  while (first < pieces.length) {
    if (chunks.length >= maxChunks) {
      // Only whitespace after the last chunk is nothing left out.
      const content = /\S/g;
      content.lastIndex = chunks.at(-1)!.end;
      return { chunks, truncated: content.test(text) };
    }
    // Pack pieces up to the limit.
    let last = first;
    let sum = 0;
    const cumulative: number[] = [];
    while (last < pieces.length && sum + tokensOf(pieces[last]) <= chunkTokens) {
      sum += pieces[last].tokens;
      cumulative.push(sum);
      last += 1;
    }
    if (last === first) {
      last = first + 1; // a single piece over the limit cannot happen by construction; never stall
      cumulative.push(tokensOf(pieces[first]));
    }
    // End at the strongest boundary in the last quarter, unless the text ends here.
    let end = last;
    if (last < pieces.length) {
      let best = -1;
      for (let k = first + 1; k <= last; k += 1) {
        if (cumulative[k - first - 1] < 0.75 * chunkTokens && k !== last) continue;
        const quality = pieces[k - 1].breakAfter;
        if (quality >= best) {
          best = quality;
          end = k;
        }
      }
    }
    // Exact check on the assembled chunk.
    let start = pieces[first].start;
    let charEnd = pieces[end - 1].end;
    let tokenCount = tokenizer.encodeText(text.slice(start, charEnd)).length;
    while (tokenCount > chunkTokens && end - 1 > first) {
      end -= 1;
      charEnd = pieces[end - 1].end;
      tokenCount = tokenizer.encodeText(text.slice(start, charEnd)).length;
    }
    // Offsets point at the content, not surrounding whitespace.
    while (start < charEnd && /\s/.test(text[start])) start += 1;
    let trimmedEnd = charEnd;
    while (trimmedEnd > start && /\s/.test(text[trimmedEnd - 1])) trimmedEnd -= 1;
    if (trimmedEnd > start) {
      const chunk = text.slice(start, trimmedEnd);
      const count = trimmedEnd === charEnd && start === pieces[first].start ? tokenCount : tokenizer.encodeText(chunk).length;
      chunks.push({ index: chunks.length, start, end: trimmedEnd, text: chunk, tokenCount: count, snippet: makeSnippet(chunk, snippetChars) });
    }
    if (end >= pieces.length) break;
    // Step back for the overlap, starting the next chunk after the strongest boundary within it.
    let next = end;
    if (overlapTokens > 0) {
      let back = end;
      let overlap = 0;
      while (back - 1 > first && overlap + pieces[back - 1].tokens <= overlapTokens) {
        overlap += pieces[back - 1].tokens;
        back -= 1;
      }
      let best = -1;
      for (let k = back; k < end; k += 1) {
        const quality = pieces[k - 1].breakAfter;
        if (quality > best) {
          best = quality;
          next = k;
        }
      }
    }
    // An overlap that would start where this chunk started (whitespace-only pieces) is no overlap.
    let nextStart = pieces[next].start;
    while (nextStart < text.length && /\s/.test(text[nextStart])) nextStart += 1;
    if (next < end && nextStart <= start) next = end;
    first = Math.max(next, first + 1);
  }
  return { chunks, truncated: false };
}
