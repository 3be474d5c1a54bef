// Search: the box and filters on top, results in the middle, the preview on the right. Each state
// of the results area says what is happening and what to do.
import { useEffect, useRef } from 'react';
import { useNarrowWindow } from '../lib/narrow-window.ts';
import { current, hasQuery, welcomeStage } from '../state/app-state.ts';
import { useAppState, useController } from '../state/context.tsx';
import type { ModelStatus } from '#contract/common/entities.ts';
import { formatPercent } from '../lib/format.ts';
import { modelsInUse, taskRunning } from '../state/models.ts';
import { EmptyState } from './EmptyState.tsx';
import { NoResults } from './NoResults.tsx';
import { SearchProgress } from './SearchProgress.tsx';
import { visibleResults } from '../lib/visible-results.ts';
import { Icon } from './Icon.tsx';
import { ErrorBanner } from './ErrorBanner.tsx';
import { FilterBar, ResultOptions } from './FilterBar.tsx';
import { PreviewPane } from './PreviewPane.tsx';
import { RESULTS_GRID_ID, ResultsGrid } from './ResultsGrid.tsx';
import { MOD_KEY_LABEL, SearchBar } from './SearchBar.tsx';
import { LinesSkeleton, ResultsSkeleton } from './Skeleton.tsx';
import { ProgressBar } from './IndexingProgress.tsx';
import { phaseLabel, taskFraction, taskProgressText } from './SetupProgress.tsx';
import { Welcome } from './Welcome.tsx';
import { formatCount } from '../lib/format.ts';

function Results() {
  const controller = useController();
  const query = useAppState((s) => s.query);
  const search = useAppState((s) => s.search.result);
  // The live counts (indexing.progress), as the sidebar shows them.
  const files = useAppState((s) => s.progress?.files.indexed ?? null);
  const response = current(search);

  if (!hasQuery(query)) {
    return (
      <EmptyState icon="search" title={files ? `Search ${formatCount(files)} indexed files` : 'Search your library'}>
        <p>Type what you remember: “receipt from the bike shop”, “beach at sunset”, “notes about the lease”.</p>
        <p>
          Drop or paste an image to find similar ones. Press <kbd>{MOD_KEY_LABEL} K</kbd> to come back here from anywhere.
        </p>
      </EmptyState>
    );
  }
  if (search.phase === 'error' && !response) {
    return <ErrorBanner title="Search failed" message={search.message} onRetry={() => void controller.runSearch()} />;
  }
  if (!response) return <ResultsSkeleton />;

  // The cut-off applies at once on screen; the engine is asked again once the slider settles.
  const { results: visible, total } = visibleResults(response, query.cutoff);
  const hiddenByCutoff = (response.hiddenByCutoff ?? 0) + response.results.length - visible.length;
  const stale = search.phase === 'loading';
  return (
    <div className={`results${stale ? ' results--stale' : ''}`} aria-busy={stale}>
      {search.phase === 'error' && <ErrorBanner title="Search failed" message={search.message} onRetry={() => void controller.runSearch()} />}
      <div className="results__toolbar">
        <p className="results__summary" role="status">
          <strong>{visible.length === 0 ? 'No results' : `${formatCount(total)} result${total === 1 ? '' : 's'}`}</strong>
          <span className="muted">
            {response.mode} · {Math.round(response.tookMs)} ms
          </span>
        </p>
        <ResultOptions />
      </div>
      {visible.length === 0 ? (
        <NoResults query={query} hiddenByCutoff={hiddenByCutoff} />
      ) : (
        <ResultsGrid results={visible} total={total} queryText={query.text} />
      )}
    </div>
  );
}

/** Why search is keyword-only now, in the banner's words: no model yet, or its index not ready. */
function keywordOnlyWords(inUse: ModelStatus): { title: string; detail: string } {
  const index = inUse.semanticIndex;
  if (!inUse.embedding || !index) {
    return { title: 'Keyword search only until the model is ready.', detail: 'Trove searches names, paths and text now. Semantic search starts by itself once the model is ready.' };
  }
  if (index.state === 'failed') {
    return { title: 'Keyword search only: the semantic index could not be opened.', detail: 'Trove searches names, paths and text. Restarting Trove opens the index again.' };
  }
  const what = index.state === 'building' ? `is being built (${formatPercent(index.progress ?? 0)})` : 'is loading';
  return { title: `Keyword search only while the semantic index ${what}.`, detail: 'Trove searches names, paths and text now. Semantic search starts by itself once the index is ready.' };
}

/** Search is keyword-only (no model yet, or its index not ready): say so, show the download if one runs, offer the setup. */
function ModelNotice() {
  const controller = useController();
  const status = useAppState((s) => current(s.status));
  const models = useAppState((s) => current(s.models));
  const inUse = modelsInUse(models, status);
  if (!inUse || inUse.search === 'semantic') return null;
  const task = models?.task ?? null;
  const words = keywordOnlyWords(inUse);
  return (
    <div className="banner banner--info model-notice" role="status" data-testid="keyword-only-notice">
      <div className="banner__text">
        <strong>{words.title}</strong>
        <span className="banner__detail">{words.detail}</span>
        {taskRunning(task) && (
          <span className="model-notice__task" data-testid="notice-task">
            <span>
              {phaseLabel(task.phase)}: {taskProgressText(task)}
            </span>
            <ProgressBar fraction={taskFraction(task)} label={task.phase === 'building' ? 'Model build' : 'Model download'} valueText={taskProgressText(task)} />
          </span>
        )}
        {task?.phase === 'failed' && <span className="banner__detail">Setting up the model failed: {task.error}</span>}
      </div>
      {models && !inUse.embedding && !taskRunning(task) && (
        <button type="button" className="button button--small" onClick={() => controller.showAndFocus('settings', 'model-setup')}>
          <Icon name="download" /> Set up the search model
        </button>
      )}
    </div>
  );
}

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]), select, textarea, video[controls], [tabindex]:not([tabindex="-1"])';

/**
 * A narrow window has no room for the preview beside the results: it opens as a dialog over them,
 * with the page dimmed behind it. Focus moves into it and stays there (Tab wraps), Esc or a click
 * on the dimmed page closes it, and focus goes back to where it was (the results).
 */
function PreviewOverlay() {
  const controller = useController();
  const dialog = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const previous = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    dialog.current?.focus();
    return () => {
      if (previous?.isConnected) previous.focus();
    };
  }, []);
  function onKeyDown(e: React.KeyboardEvent<HTMLDivElement>) {
    if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      controller.closePreview();
      return;
    }
    if (e.key !== 'Tab' || !dialog.current) return;
    const focusable = [...dialog.current.querySelectorAll<HTMLElement>(FOCUSABLE)];
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    if (!first || !last) return;
    if (e.shiftKey && (document.activeElement === first || document.activeElement === dialog.current)) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault();
      first.focus();
    }
  }
  return (
    <div className="preview-overlay" data-testid="preview-overlay">
      <div className="preview-overlay__scrim" aria-hidden="true" onClick={() => controller.closePreview()} data-testid="preview-scrim" />
      <div ref={dialog} className="preview-overlay__dialog" role="dialog" aria-modal="true" aria-label="Preview" tabIndex={-1} onKeyDown={onKeyDown}>
        <PreviewPane />
      </div>
    </div>
  );
}

export function SearchView() {
  const roots = useAppState((s) => s.roots);
  const previewOpen = useAppState((s) => s.preview.itemId !== null && !s.preview.quickLook);
  const narrow = useNarrowWindow();
  const keywordOnly = useAppState((s) => modelsInUse(current(s.models), current(s.status))?.search === 'keyword');
  const rootList = current(roots);
  const stage = useAppState(welcomeStage);
  const controller = useController();

  if (roots.phase === 'error' && !rootList) {
    return (
      <div className="view-pad">
        <ErrorBanner title="Trove could not list your folders" message={roots.message} onRetry={() => void controller.refreshRoots()} />
      </div>
    );
  }
  if (stage !== null && stage !== 'loading') return <Welcome stage={stage} />;
  // Folders known, models.state not yet: a moment's placeholder rather than a flash of the search page.
  if (stage === 'loading' && rootList) return <div className="view-pad"><LinesSkeleton /></div>;

  return (
    <div className={`search-view${previewOpen && !narrow ? ' search-view--with-preview' : ''}`}>
      {/* Behind the narrow window's preview dialog the results can be neither clicked nor focused. */}
      <div className="search-view__main" inert={previewOpen && narrow}>
        <div className="search-view__header">
          <SearchBar keywordOnly={keywordOnly} onArrowDown={() => document.getElementById(RESULTS_GRID_ID)?.focus()} />
          <FilterBar />
          <ModelNotice />
        </div>
        <div className="search-view__results">
          {/* Above the dimmed results: what the search waits for, at full strength. */}
          <SearchProgress />
          {rootList ? <Results /> : <ResultsSkeleton />}
        </div>
      </div>
      {previewOpen && (narrow ? <PreviewOverlay /> : <PreviewPane />)}
    </div>
  );
}
