// How indexing is going: one bar for the whole library, counts per kind, rate and ETA, pause and
// resume, and every file that could not be read with its reason.
import type { FileKind, IndexingProgress as Progress, KindCounts } from '#contract/common/entities.ts';
import { FILE_KINDS } from '#contract/common/entities.ts';
import { formatCount, formatDuration, formatRate } from '../lib/format.ts';
import { doneFraction, filesIndexedText } from '../lib/library-counts.ts';
import { current } from '../state/app-state.ts';
import { useAppState, useController } from '../state/context.tsx';
import { EmptyState } from './EmptyState.tsx';
import { FailureList } from './FailureList.tsx';
import { KIND_LABELS } from './FilterBar.tsx';
import { Icon } from './Icon.tsx';
import { LinesSkeleton } from './Skeleton.tsx';

export { doneFraction };

export function stateLabel(p: Progress): string {
  switch (p.state) {
    case 'idle':
      return p.files.pending === 0 ? 'Up to date' : 'Waiting';
    case 'scanning':
      return 'Looking for files…';
    case 'indexing':
      return 'Indexing';
    case 'paused':
      return 'Paused';
  }
}

export function ProgressBar({ fraction, label, valueText }: { fraction: number; label: string; valueText?: string }) {
  const percent = Math.round(Math.min(1, Math.max(0, fraction)) * 100);
  return (
    <div className="progress" role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={percent} aria-valuetext={valueText}>
      <div className="progress__fill" style={{ width: `${percent}%` }} />
    </div>
  );
}

function KindRow({ kind, counts }: { kind: FileKind; counts: KindCounts }) {
  return (
    <tr>
      <th scope="row">{KIND_LABELS[kind]}</th>
      <td>
        <ProgressBar fraction={doneFraction(counts)} label={`${KIND_LABELS[kind]} indexed`} />
      </td>
      <td className="num">{formatCount(counts.indexed)}</td>
      <td className="num">{formatCount(counts.pending)}</td>
      <td className={`num${counts.failed > 0 ? ' text-warning' : ''}`}>{formatCount(counts.failed)}</td>
      <td className="num">{formatCount(counts.total)}</td>
    </tr>
  );
}

/** The whole library in one card: state, bar, rate, time left, the file being read. Also step 3 of the welcome. */
export function OverallProgress({ progress }: { progress: Progress }) {
  return (
    <section className="card" aria-labelledby="overall-title" data-testid="indexing-overall">
      <header className="card__header">
        <h2 id="overall-title">{stateLabel(progress)}</h2>
        <span className="muted" data-testid="indexing-counts">
          {filesIndexedText(progress.files)}
        </span>
      </header>
      <ProgressBar fraction={doneFraction(progress.files)} label="Library indexed" />
      <dl className="stats">
        <div>
          <dt>Rate</dt>
          <dd>{formatRate(progress.rate)}</dd>
        </div>
        <div>
          <dt>Time left</dt>
          <dd>{progress.etaSeconds === null || progress.files.pending === 0 ? '—' : formatDuration(progress.etaSeconds)}</dd>
        </div>
        <div>
          <dt>Failed</dt>
          <dd>{formatCount(progress.files.failed)}</dd>
        </div>
      </dl>
      {progress.current && (
        <p className="muted truncate" title={progress.current}>
          Now: {progress.current}
        </p>
      )}
    </section>
  );
}

export function IndexingProgressView() {
  const controller = useController();
  const progress = useAppState((s) => s.progress);
  const hasRoots = useAppState((s) => (current(s.roots)?.length ?? 0) > 0);

  return (
    <section className="page" aria-labelledby="indexing-title">
      <header className="page__header page__header--row">
        <div>
          <h1 id="indexing-title">Indexing</h1>
          <p className="muted">Search works while indexing runs; new files show up as they are done.</p>
        </div>
        {progress && progress.state !== 'idle' && (
          progress.state === 'paused' ? (
            <button type="button" className="button" onClick={() => void controller.resumeIndexing()}>
              <Icon name="play" /> Resume
            </button>
          ) : (
            <button type="button" className="button" onClick={() => void controller.pauseIndexing()}>
              <Icon name="pause" /> Pause
            </button>
          )
        )}
      </header>
      {!progress ? (
        <LinesSkeleton />
      ) : !hasRoots && progress.files.total === 0 ? (
        <EmptyState icon="folder" title="Nothing to index yet" action={<button type="button" className="button button--primary" onClick={() => controller.setView('folders')}>Add a folder</button>} />
      ) : (
        <>
          <OverallProgress progress={progress} />
          <section className="card" aria-labelledby="kinds-title">
            <header className="card__header">
              <h2 id="kinds-title">By kind</h2>
            </header>
            <table className="kind-table">
              <thead>
                <tr>
                  <th scope="col">Kind</th>
                  <th scope="col" className="kind-table__bar">
                    Progress
                  </th>
                  <th scope="col" className="num">Indexed</th>
                  <th scope="col" className="num">Pending</th>
                  <th scope="col" className="num">Failed</th>
                  <th scope="col" className="num">Total</th>
                </tr>
              </thead>
              <tbody>
                {FILE_KINDS.filter((k) => (progress.byKind[k]?.total ?? 0) > 0).map((kind) => (
                  <KindRow key={kind} kind={kind} counts={progress.byKind[kind]!} />
                ))}
              </tbody>
            </table>
          </section>
          <FailureList />
        </>
      )}
    </section>
  );
}
