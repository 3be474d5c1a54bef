// Search: the box and filters on top, results in the middle, the preview on the right. Each state
// of the results area says what is happening and what to do.
import { current, hasQuery } from '../state/app-state.ts';
import { useAppState, useController } from '../state/context.tsx';
import { EmptyState } from './EmptyState.tsx';
import { ErrorBanner } from './ErrorBanner.tsx';
import { FilterBar, ResultOptions } from './FilterBar.tsx';
import { PreviewPane } from './PreviewPane.tsx';
import { RESULTS_GRID_ID, ResultsGrid } from './ResultsGrid.tsx';
import { MOD_KEY_LABEL, SearchBar } from './SearchBar.tsx';
import { ResultsSkeleton } from './Skeleton.tsx';
import { Welcome } from './Welcome.tsx';
import { formatCount } from '../lib/format.ts';

function Results() {
  const controller = useController();
  const query = useAppState((s) => s.query);
  const search = useAppState((s) => s.search.result);
  const files = useAppState((s) => current(s.status)?.files.indexed ?? null);
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
  const visible = response.results.filter((r) => r.score >= query.cutoff);
  const stale = search.phase === 'loading';
  return (
    <div className={`results${stale ? ' results--stale' : ''}`} aria-busy={stale}>
      {search.phase === 'error' && <ErrorBanner title="Search failed" message={search.message} onRetry={() => void controller.runSearch()} />}
      <div className="results__toolbar">
        <p className="results__summary" role="status">
          <strong>{visible.length === 0 ? 'No results' : `${formatCount(response.total)} result${response.total === 1 ? '' : 's'}`}</strong>
          <span className="muted">
            {response.mode} · {Math.round(response.tookMs)} ms
          </span>
        </p>
        <ResultOptions />
      </div>
      {visible.length === 0 ? (
        <EmptyState icon="search" title="No results">
          <p>Try fewer words, remove a filter, or lower the cut-off.</p>
        </EmptyState>
      ) : (
        <ResultsGrid results={visible} total={Math.max(response.total, visible.length)} queryText={query.text} />
      )}
    </div>
  );
}

function ModelNotice() {
  const status = useAppState((s) => current(s.status));
  if (!status || status.model.embedding) return null;
  return (
    <div className="banner banner--info" role="status" data-testid="keyword-only-notice">
      <strong>Keyword search only until the model is ready.</strong>
      <span className="banner__detail">{status.model.statement} Semantic search starts by itself once it is.</span>
    </div>
  );
}

export function SearchView() {
  const roots = useAppState((s) => s.roots);
  const previewOpen = useAppState((s) => s.preview.itemId !== null && !s.preview.quickLook);
  const status = useAppState((s) => current(s.status));
  const rootList = current(roots);
  const controller = useController();

  if (roots.phase === 'error' && !rootList) {
    return (
      <div className="view-pad">
        <ErrorBanner title="Trove could not list your folders" message={roots.message} onRetry={() => void controller.refreshRoots()} />
      </div>
    );
  }
  if (rootList && rootList.length === 0) return <Welcome />;

  return (
    <div className={`search-view${previewOpen ? ' search-view--with-preview' : ''}`}>
      <div className="search-view__main">
        <div className="search-view__header">
          <SearchBar keywordOnly={status !== null && status.model.embedding === null} onArrowDown={() => document.getElementById(RESULTS_GRID_ID)?.focus()} />
          <FilterBar />
          <ModelNotice />
        </div>
        <div className="search-view__results">{rootList ? <Results /> : <ResultsSkeleton />}</div>
      </div>
      {previewOpen && <PreviewPane />}
    </div>
  );
}
