// Navigation, a small always-visible indexing indicator that leads to the details, and a badge
// while the models run on an inference server. In a narrow window (styles/layout.css) it folds
// into a rail of icons: the labels stay in the page for screen readers, and in tooltips.
import { current, type View } from '../state/app-state.ts';
import { useAppState, useController } from '../state/context.tsx';
import { Icon, type IconName } from './Icon.tsx';
import { formatPercent } from '../lib/format.ts';
import { doneFraction, filesIndexedText } from '../lib/library-counts.ts';
import { ProgressBar, stateLabel } from './IndexingProgress.tsx';
import { RemoteBadge } from './RemoteBackend.tsx';
import { MOD_KEY_LABEL } from './SearchBar.tsx';

const NAV: { view: View; label: string; icon: IconName; key: string }[] = [
  { view: 'search', label: 'Search', icon: 'search', key: '1' },
  { view: 'folders', label: 'Folders', icon: 'folder', key: '2' },
  { view: 'indexing', label: 'Indexing', icon: 'progress', key: '3' },
  { view: 'settings', label: 'Settings', icon: 'settings', key: '4' },
];

export const NAV_SHORTCUTS = NAV.map(({ view, key }) => ({ view, key }));

function IndexingIndicator() {
  const controller = useController();
  const progress = useAppState((s) => s.progress);
  const hasRoots = useAppState((s) => (current(s.roots)?.length ?? 0) > 0);
  if (!progress || !hasRoots) return null;
  const busy = progress.state === 'scanning' || progress.state === 'indexing';
  const counts = filesIndexedText(progress.files);
  return (
    <button type="button" className="sidebar__indicator" onClick={() => controller.setView('indexing')} title={`${stateLabel(progress)}: ${counts}`} data-testid="sidebar-indicator">
      <span className="sidebar__indicator-label">
        {busy && <span className="spinner" aria-hidden="true" />}
        <span className="sidebar__text">{stateLabel(progress)}</span>
        {/* The icon rail (narrow windows) has room for a number only; the words stay for screen readers. */}
        <span className="sidebar__rail-only" aria-hidden="true">
          {formatPercent(doneFraction(progress.files))}
        </span>
      </span>
      {progress.files.total > 0 && <ProgressBar fraction={doneFraction(progress.files)} label="Library indexed" valueText={counts} />}
      <span className="muted sidebar__text" data-testid="sidebar-counts">
        {counts}
      </span>
    </button>
  );
}

export function Sidebar() {
  const controller = useController();
  const view = useAppState((s) => s.view);
  return (
    <nav className="sidebar" aria-label="Main">
      <div className="sidebar__brand">
        <span className="sidebar__text">Trove</span>
        <span className="sidebar__rail-only" aria-hidden="true">
          T
        </span>
      </div>
      <ul className="sidebar__nav">
        {NAV.map((item) => (
          <li key={item.view}>
            <button
              type="button"
              className={`sidebar__link${view === item.view ? ' sidebar__link--on' : ''}`}
              aria-current={view === item.view ? 'page' : undefined}
              onClick={() => controller.setView(item.view)}
              title={`${item.label} (${MOD_KEY_LABEL}-${item.key})`}
            >
              <Icon name={item.icon} />
              <span className="sidebar__text">{item.label}</span>
            </button>
          </li>
        ))}
      </ul>
      <div className="sidebar__footer">
        <RemoteBadge />
        <IndexingIndicator />
      </div>
    </nav>
  );
}
