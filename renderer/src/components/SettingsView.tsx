// What runs where: the models (ModelsSettings), where data lives and how much disk it uses, and
// the theme.
import { formatBytes, formatCount } from '../lib/format.ts';
import { filesIndexedText } from '../lib/library-counts.ts';
import { current, type ThemeChoice } from '../state/app-state.ts';
import { useAppState, useController } from '../state/context.tsx';
import { ErrorBanner } from './ErrorBanner.tsx';
import { ModelsSettings } from './ModelsSettings.tsx';
import { SettingsRow } from './SettingsRow.tsx';
import { LinesSkeleton } from './Skeleton.tsx';

const THEMES: { value: ThemeChoice; label: string }[] = [
  { value: 'system', label: 'Match system' },
  { value: 'light', label: 'Light' },
  { value: 'dark', label: 'Dark' },
];

export function SettingsView() {
  const controller = useController();
  const statusState = useAppState((s) => s.status);
  const theme = useAppState((s) => s.theme);
  const status = current(statusState);
  // The live counts (indexing.progress), as the sidebar and the indexing view show them.
  const files = useAppState((s) => s.progress?.files ?? null);

  return (
    <section className="page" aria-labelledby="settings-title">
      <header className="page__header">
        <h1 id="settings-title">Settings</h1>
      </header>

      <section className="card" aria-labelledby="appearance-title">
        <header className="card__header">
          <h2 id="appearance-title">Appearance</h2>
        </header>
        <div className="segmented" role="radiogroup" aria-label="Theme">
          {THEMES.map((t) => (
            <button
              key={t.value}
              type="button"
              role="radio"
              aria-checked={theme === t.value}
              className={`segmented__option${theme === t.value ? ' segmented__option--on' : ''}`}
              onClick={() => controller.setTheme(t.value)}
            >
              {t.label}
            </button>
          ))}
        </div>
      </section>

      {statusState.phase === 'error' && <ErrorBanner title="Could not read the engine's status" message={statusState.message} onRetry={() => void controller.refreshStatus()} />}

      <ModelsSettings />

      <section className="card" aria-labelledby="storage-title">
        <header className="card__header">
          <h2 id="storage-title">Library and storage</h2>
        </header>
        {!status ? (
          <LinesSkeleton lines={3} />
        ) : (
          <dl className="settings-list">
            <SettingsRow label="Data folder">
              <code className="mono">{status.dataDir}</code>
            </SettingsRow>
            <SettingsRow label="Disk use">{formatBytes(status.diskBytes)}</SettingsRow>
            <SettingsRow label="Files">
              <span data-testid="settings-counts">{filesIndexedText(files ?? status.files)}</span>
            </SettingsRow>
            <SettingsRow label="Searchable items">
              {formatCount(status.items)} (each photo, PDF page, video moment or passage of text is one)
              {status.model.search === 'semantic' ? `, ${formatCount(status.vectors)} of them searchable by meaning` : ''}
            </SettingsRow>
          </dl>
        )}
      </section>
    </section>
  );
}
