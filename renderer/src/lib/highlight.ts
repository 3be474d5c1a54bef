// Splits text into plain and highlighted runs for the words of a query. The engine does not (yet)
// send match offsets, so the UI marks the query's words itself: case-insensitive, whole-prefix.

export interface TextRun {
  text: string;
  match: boolean;
}

const MIN_TERM_LENGTH = 2;

export function queryTerms(query: string): string[] {
  const terms = query
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((t) => t.length >= MIN_TERM_LENGTH);
  return [...new Set(terms)].sort((a, b) => b.length - a.length);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function highlightRuns(text: string, query: string): TextRun[] {
  const terms = queryTerms(query);
  if (terms.length === 0 || text === '') return [{ text, match: false }];
  const pattern = new RegExp(`(${terms.map(escapeRegExp).join('|')})`, 'giu');
  const runs: TextRun[] = [];
  let last = 0;
  for (const m of text.matchAll(pattern)) {
    const at = m.index ?? 0;
    if (at > last) runs.push({ text: text.slice(last, at), match: false });
    runs.push({ text: m[0], match: true });
    last = at + m[0].length;
  }
  if (last < text.length) runs.push({ text: text.slice(last), match: false });
  return runs;
}
