// The results as a keyboard-first grid: arrows move, Enter opens the preview, Space toggles quick
// look, ⌘/Ctrl-Enter opens the file. Cards are plain DOM with `content-visibility: auto`, so a few
// hundred results stay cheap; more arrive with "Show more".
import { useEffect, useRef, type KeyboardEvent } from 'react';
import type { SearchResult } from '#contract/common/entities.ts';
import { useAppState, useController } from '../state/context.tsx';
import { ResultCard, resultCardId } from './ResultCard.tsx';

export const RESULTS_GRID_ID = 'results-grid';

/** How many cards fit on a row right now, read from the layout rather than guessed. */
function columnsOf(grid: HTMLElement): number {
  const cards = grid.querySelectorAll<HTMLElement>('[role="option"]');
  if (cards.length === 0) return 1;
  const top = cards[0].offsetTop;
  let columns = 0;
  for (const card of cards) {
    if (card.offsetTop !== top) break;
    columns += 1;
  }
  return Math.max(1, columns);
}

export function ResultsGrid({ results, total, queryText }: { results: SearchResult[]; total: number; queryText: string }) {
  const controller = useController();
  const selectedIndex = useAppState((s) => s.selectedIndex);
  const quickLook = useAppState((s) => s.preview.quickLook);
  const previewId = useAppState((s) => s.preview.itemId);
  const gridRef = useRef<HTMLDivElement>(null);
  const selected = results[selectedIndex];

  useEffect(() => {
    if (!selected) return;
    document.getElementById(resultCardId(selected.itemId))?.scrollIntoView({ block: 'nearest' });
    // A preview that is already open follows the selection, like Finder's quick look.
    if (previewId !== null && previewId !== selected.itemId) void controller.openPreview(selected.itemId, quickLook);
    // Only the selection drives this effect; the preview state is read, not watched.
  }, [selected?.itemId]);

  function onKeyDown(e: KeyboardEvent<HTMLDivElement>) {
    // Typing while the grid has focus goes to the search box, as in Finder or Raycast.
    if (e.key.length === 1 && e.key !== ' ' && !e.metaKey && !e.ctrlKey && !e.altKey) {
      const input = document.getElementById('search-input') as HTMLInputElement | null;
      input?.focus();
      input?.setSelectionRange(input.value.length, input.value.length);
      return;
    }
    if (results.length === 0) return;
    const grid = gridRef.current!;
    const index = Math.max(selectedIndex, 0);
    const move = (to: number) => {
      e.preventDefault();
      controller.select(Math.min(Math.max(to, 0), results.length - 1));
    };
    switch (e.key) {
      case 'ArrowRight':
        return move(selectedIndex < 0 ? 0 : index + 1);
      case 'ArrowLeft':
        return move(index - 1);
      case 'ArrowDown':
        return move(selectedIndex < 0 ? 0 : index + columnsOf(grid));
      case 'ArrowUp':
        if (index - columnsOf(grid) < 0) {
          e.preventDefault();
          document.getElementById('search-input')?.focus();
          return;
        }
        return move(index - columnsOf(grid));
      case 'Home':
        return move(0);
      case 'End':
        return move(results.length - 1);
      case 'Enter': {
        e.preventDefault();
        const target = results[index];
        if (e.metaKey || e.ctrlKey) void controller.openFile(target);
        else void controller.openPreview(target.itemId, false);
        return;
      }
      case ' ': {
        e.preventDefault();
        const target = results[index];
        if (quickLook && previewId === target.itemId) controller.closePreview();
        else void controller.openPreview(target.itemId, true);
        return;
      }
      case 'Escape':
        e.preventDefault();
        if (previewId !== null) controller.closePreview();
        else document.getElementById('search-input')?.focus();
        return;
    }
  }

  return (
    <>
      <div
        id={RESULTS_GRID_ID}
        ref={gridRef}
        className="results-grid"
        role="listbox"
        aria-label="Results"
        tabIndex={0}
        aria-activedescendant={selected ? resultCardId(selected.itemId) : undefined}
        onKeyDown={onKeyDown}
        onFocus={() => {
          if (selectedIndex < 0 && results.length > 0) controller.select(0);
        }}
      >
        {results.map((result, i) => (
          <ResultCard
            key={result.itemId}
            result={result}
            selected={i === selectedIndex}
            queryText={queryText}
            onSelect={() => {
              controller.select(i);
              gridRef.current?.focus();
              void controller.openPreview(result.itemId, false);
            }}
            onOpen={() => void controller.openFile(result)}
          />
        ))}
      </div>
      {total > results.length && (
        <div className="results-more">
          <span className="muted">
            Showing {results.length} of {total}
          </span>
          <button type="button" className="button" onClick={() => controller.showMore()}>
            Show more
          </button>
        </div>
      )}
    </>
  );
}
