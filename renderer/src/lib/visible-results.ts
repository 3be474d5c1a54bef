// Which results the grid shows for the cut-off on the slider right now. The slider hides cards at
// once and asks the engine again once it settles; until that answer comes, the count follows what
// is hidden. The rule is the engine's own (contract/common/relevance.ts), on the shown percentage.
import type { SearchResponse, SearchResult } from '#contract/common/entities.ts';
import { meetsCutoff } from '#contract/common/relevance.ts';

export function visibleResults(response: SearchResponse, cutoff: number): { results: SearchResult[]; total: number } {
  const results = response.results.filter((r) => meetsCutoff(r.score, cutoff));
  return { results, total: Math.max(results.length, response.total - (response.results.length - results.length)) };
}
