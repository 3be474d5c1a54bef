// "No results", with only the hints that can help this query: fewer words when there are words,
// the filters that are on, and the cut-off only when it hides something (never at 0 %).
import { formatPercent } from '../lib/format.ts';
import type { Query } from '../state/app-state.ts';
import { useController } from '../state/context.tsx';
import { EmptyState } from './EmptyState.tsx';

export function NoResults({ query, hiddenByCutoff }: { query: Query; hiddenByCutoff: number }) {
  const controller = useController();
  const filtered = query.kinds.length > 0 || query.rootIds.length > 0 || query.from !== null || query.to !== null;
  const hints: string[] = [];
  if (query.text.trim().includes(' ')) hints.push('try fewer words');
  else if (query.text.trim() !== '') hints.push('try another word');
  if (filtered) hints.push('remove a filter');
  const cutoffHides = query.cutoff > 0 && hiddenByCutoff > 0;
  return (
    <EmptyState
      icon="search"
      title="No results"
      action={
        cutoffHides ? (
          <button type="button" className="button" onClick={() => controller.updateQuery({ cutoff: 0 })}>
            Show all {hiddenByCutoff} below {formatPercent(query.cutoff)}
          </button>
        ) : undefined
      }
    >
      {cutoffHides ? (
        <p>
          {hiddenByCutoff === 1 ? 'One result is' : `${hiddenByCutoff} results are`} below the {formatPercent(query.cutoff)} cut-off.
        </p>
      ) : query.cutoff > 0 ? (
        <p>Nothing matches, even below the {formatPercent(query.cutoff)} cut-off{hints.length > 0 ? `: ${hints.join(', or ')}.` : '.'}</p>
      ) : (
        <p>{hints.length > 0 ? `Nothing matches: ${hints.join(', or ')}.` : 'Nothing in your library matches this.'}</p>
      )}
    </EmptyState>
  );
}
