// What runs where: the model, its precision, the device, where data lives and how much disk it
// uses, and the theme.
import { formatBytes, formatCount } from '../lib/format.ts';
import { current, type ThemeChoice } from '../state/app-state.ts';
import { useAppState, useController } from '../state/context.tsx';
import { ErrorBanner } from './ErrorBanner.tsx';
import { LinesSkeleton } from './Skeleton.tsx';

const THEMES: { value: ThemeChoice; label: string }[] = [
  { value: 'system', label: 'Match system' },
  { value: 'light', label: 'Light' },
  { value: 'dark', label: 'Dark' },
];

function Row({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div className="settings-row">
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

export function SettingsView() {
  const controller = useController();
  const statusState = useAppState((s) => s.status);
  const theme = useAppState((s) => s.theme);
  const status = current(statusState);

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

      <section className="card" aria-labelledby="model-title" data-testid="settings-model">
        <header className="card__header">
          <h2 id="model-title">Model</h2>
        </header>
        {!status ? (
          <LinesSkeleton lines={4} />
        ) : (
          <dl className="settings-list">
            <Row label="Embedding">
              {status.model.embedding ? `${status.model.embedding.name} · ${status.model.embedding.dims} dims` : 'None yet: keyword search only'}
            </Row>
            <Row label="Precision">{status.model.embedding?.precision ?? '—'}</Row>
            <Row label="Reranker">{status.model.reranker ? `${status.model.reranker.name} · ${status.model.reranker.precision}` : 'None: results are not reranked'}</Row>
            <Row label="Runs on">{status.model.executionProvider ?? '—'}</Row>
            <Row label="Status">{status.model.statement}</Row>
          </dl>
        )}
      </section>

      <section className="card" aria-labelledby="storage-title">
        <header className="card__header">
          <h2 id="storage-title">Library and storage</h2>
        </header>
        {!status ? (
          <LinesSkeleton lines={3} />
        ) : (
          <dl className="settings-list">
            <Row label="Data folder">
              <code className="mono">{status.dataDir}</code>
            </Row>
            <Row label="Disk use">{formatBytes(status.diskBytes)}</Row>
            <Row label="Files">
              {formatCount(status.files.indexed)} indexed of {formatCount(status.files.total)}
              {status.files.failed > 0 && `, ${formatCount(status.files.failed)} failed`}
            </Row>
            <Row label="Searchable items">
              {formatCount(status.items)} ({formatCount(status.vectors)} with vectors)
            </Row>
          </dl>
        )}
      </section>
    </section>
  );
}
