// The row under the search box (kind chips, folder and date filters) and the display options above
// the results (sort order, relevance cut-off). Every change re-runs the search; the cut-off hides
// results at once and re-asks the engine once the slider settles.
import { useEffect } from 'react';
import type { FileKind } from '#contract/common/entities.ts';
import { FILE_KINDS } from '#contract/common/entities.ts';
import { baseName, formatDate, formatPercent, fromDateInput, toDateInput } from '../lib/format.ts';
import { current, type SortOrder } from '../state/app-state.ts';
import { useAppState, useController } from '../state/context.tsx';
import { Icon } from './Icon.tsx';

export const KIND_LABELS: Record<FileKind, string> = {
  image: 'Images',
  video: 'Videos',
  pdf: 'PDFs',
  text: 'Text',
  document: 'Documents',
};

function toggle<T>(list: T[], value: T): T[] {
  return list.includes(value) ? list.filter((v) => v !== value) : [...list, value];
}

/** <details> popovers stay open by default; a click elsewhere or Escape should close them. */
function useDismissablePopovers() {
  useEffect(() => {
    const closeOthers = (keep: EventTarget | null) => {
      for (const open of document.querySelectorAll<HTMLDetailsElement>('details.popover[open]')) {
        if (!(keep instanceof Node) || !open.contains(keep)) open.open = false;
      }
    };
    const onPointerDown = (e: PointerEvent) => closeOthers(e.target);
    const onKeyDown = (e: KeyboardEvent) => {
      if (e.key === 'Escape') closeOthers(null);
    };
    document.addEventListener('pointerdown', onPointerDown);
    document.addEventListener('keydown', onKeyDown);
    return () => {
      document.removeEventListener('pointerdown', onPointerDown);
      document.removeEventListener('keydown', onKeyDown);
    };
  }, []);
}

export function FilterBar() {
  const controller = useController();
  useDismissablePopovers();
  const query = useAppState((s) => s.query);
  const roots = useAppState((s) => current(s.roots)) ?? [];

  const folderLabel =
    query.rootIds.length === 0
      ? 'All folders'
      : query.rootIds.length === 1
        ? baseName(roots.find((r) => r.id === query.rootIds[0])?.path ?? 'Folder')
        : `${query.rootIds.length} folders`;
  const dateLabel =
    query.from !== null && query.to !== null
      ? `${formatDate(query.from)} – ${formatDate(query.to)}`
      : query.from !== null
        ? `Since ${formatDate(query.from)}`
        : query.to !== null
          ? `Until ${formatDate(query.to)}`
          : 'Any date';

  return (
    <div className="filter-bar" role="toolbar" aria-label="Filters">
      <div className="filter-bar__group" role="group" aria-label="Kind">
        {FILE_KINDS.map((kind) => {
          const on = query.kinds.includes(kind);
          return (
            <button key={kind} type="button" className={`chip chip--toggle${on ? ' chip--on' : ''}`} aria-pressed={on} onClick={() => controller.updateQuery({ kinds: toggle(query.kinds, kind) })}>
              {KIND_LABELS[kind]}
            </button>
          );
        })}
      </div>

      <details className="popover">
        <summary className={`chip chip--toggle${query.rootIds.length > 0 ? ' chip--on' : ''}`}>
          <Icon name="folder" /> {folderLabel} <Icon name="chevron" size={12} />
        </summary>
        <div className="popover__panel" role="group" aria-label="Folders">
          {roots.length === 0 && <p className="muted">No folders yet.</p>}
          {roots.map((root) => (
            <label key={root.id} className="check-row">
              <input type="checkbox" checked={query.rootIds.includes(root.id)} onChange={() => controller.updateQuery({ rootIds: toggle(query.rootIds, root.id) })} />
              <span className="truncate" title={root.path}>
                {root.path}
              </span>
            </label>
          ))}
          {query.rootIds.length > 0 && (
            <button type="button" className="button button--ghost button--small" onClick={() => controller.updateQuery({ rootIds: [] })}>
              All folders
            </button>
          )}
        </div>
      </details>

      <details className="popover">
        <summary className={`chip chip--toggle${query.from !== null || query.to !== null ? ' chip--on' : ''}`}>
          {dateLabel} <Icon name="chevron" size={12} />
        </summary>
        <div className="popover__panel popover__panel--dates" role="group" aria-label="Date range">
          <label className="field">
            <span className="field__label">From</span>
            <input type="date" value={toDateInput(query.from)} onChange={(e) => controller.updateQuery({ from: fromDateInput(e.target.value, 'start') })} />
          </label>
          <label className="field">
            <span className="field__label">To</span>
            <input type="date" value={toDateInput(query.to)} onChange={(e) => controller.updateQuery({ to: fromDateInput(e.target.value, 'end') })} />
          </label>
          {(query.from !== null || query.to !== null) && (
            <button type="button" className="button button--ghost button--small" onClick={() => controller.updateQuery({ from: null, to: null })}>
              Any date
            </button>
          )}
        </div>
      </details>

    </div>
  );
}

/** How results are shown: sort order and the relevance cut-off, beside the result count. */
export function ResultOptions() {
  const controller = useController();
  const query = useAppState((s) => s.query);
  return (
    <div className="result-options">
      <div className="segmented" role="radiogroup" aria-label="Sort by">
        {(['relevance', 'date'] as SortOrder[]).map((sort) => (
          <button
            key={sort}
            type="button"
            role="radio"
            aria-checked={query.sort === sort}
            className={`segmented__option${query.sort === sort ? ' segmented__option--on' : ''}`}
            onClick={() => controller.updateQuery({ sort })}
          >
            {sort === 'relevance' ? 'Relevance' : 'Date'}
          </button>
        ))}
      </div>

      <label className="cutoff" title="Hide results the model is less sure about">
        <span className="cutoff__label">Cut-off</span>
        <input
          type="range"
          min={0}
          max={0.95}
          step={0.05}
          value={query.cutoff}
          aria-valuetext={formatPercent(query.cutoff)}
          onChange={(e) => controller.updateQuery({ cutoff: Number(e.target.value) }, 'debounced')}
        />
        <output className="cutoff__value">{formatPercent(query.cutoff)}</output>
      </label>
    </div>
  );
}
