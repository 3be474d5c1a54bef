// Text with the query's words marked, for snippets and the text preview.
import { highlightRuns } from '../lib/highlight.ts';

export function Highlighted({ text, query }: { text: string; query: string }) {
  return (
    <>
      {highlightRuns(text, query).map((run, i) => (run.match ? <mark key={i}>{run.text}</mark> : <span key={i}>{run.text}</span>))}
    </>
  );
}
