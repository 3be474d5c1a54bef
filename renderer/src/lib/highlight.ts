// Splits text into plain and highlighted runs for the words of a query. The engine does not (yet)
// send match offsets, so the UI marks what keyword search matched itself, by the same rules as its
// FTS5 index (unicode61, diacritics removed, every query word a prefix): a word of the text is
// marked, whole, when it starts with a word of the query, so "on" marks "only" but never the "on"
// inside "position". Marked words that follow each other ("beach at sunset", "beach-sunset") form
// one mark, so a phrase reads as one.

export interface TextRun {
  text: string;
  match: boolean;
}

/** A word, as the index cuts words: letters and digits (with their combining marks), in any script. */
const WORD = /[\p{L}\p{N}][\p{L}\p{N}\p{M}]*/gu;
/** Between two marked words, what still reads as one phrase: spaces, or one joiner such as - or '. */
const PHRASE_GAP = /^(?:\s+|[-‐'’_/])$/u;

/** Case and accents do not matter to the index (remove_diacritics), so they do not matter here. */
function fold(word: string): string {
  return word.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}

/**
 * The query's words, folded, longest first. A one-letter Latin word ("a", "I") would mark every
 * word starting with that letter; it is left out (the search still requires it).
 */
export function queryTerms(query: string): string[] {
  const terms = (query.match(WORD) ?? []).map(fold).filter((t) => t.length >= 2 || !/^[a-z0-9]$/.test(t));
  return [...new Set(terms)].sort((a, b) => b.length - a.length);
}

export function highlightRuns(text: string, query: string): TextRun[] {
  const terms = queryTerms(query);
  if (terms.length === 0 || text === '') return [{ text, match: false }];
  // Marked spans [start, end) of whole words, merged across phrase gaps.
  const spans: [number, number][] = [];
  for (const m of text.matchAll(WORD)) {
    const word = fold(m[0]);
    if (!terms.some((t) => word.startsWith(t))) continue;
    const start = m.index;
    const end = start + m[0].length;
    const last = spans[spans.length - 1];
    if (last && PHRASE_GAP.test(text.slice(last[1], start))) last[1] = end;
    else spans.push([start, end]);
  }
  const runs: TextRun[] = [];
  let at = 0;
  for (const [start, end] of spans) {
    if (start > at) runs.push({ text: text.slice(at, start), match: false });
    runs.push({ text: text.slice(start, end), match: true });
    at = end;
  }
  if (at < text.length) runs.push({ text: text.slice(at), match: false });
  return runs.length > 0 ? runs : [{ text, match: false }];
}
