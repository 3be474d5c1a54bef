// Everything under the folders that is not indexed, with why: failed and refused files and
// folders that cannot be read (files.failures, newest first, a page at a time). A file can be
// retried on its own, or all at once; paths are cut in the middle so the file name stays visible.
import { useEffect, useRef, useState } from 'react';
import type { FileFailure, FileKind } from '#contract/common/entities.ts';
import { formatCount, formatDate } from '../lib/format.ts';
import { splitPath } from '../lib/middle-ellipsis.ts';
import { current } from '../state/app-state.ts';
import { useAppState, useController } from '../state/context.tsx';
import { ErrorBanner } from './ErrorBanner.tsx';
import { Icon } from './Icon.tsx';
import { LinesSkeleton } from './Skeleton.tsx';
import { MiddlePath } from './MiddlePath.tsx';

const KIND_NAMES: Record<FileKind, string> = { image: 'Image', video: 'Video', pdf: 'PDF', text: 'Text', document: 'Document' };

function details(f: FileFailure): string {
  if (f.what === 'folder') {
    const files = f.files === null ? 'its files are not indexed' : `${formatCount(f.files)} ${f.files === 1 ? 'file' : 'files'} in it not indexed`;
    return ['Folder', files, 'read again at every scan', formatDate(f.at)].join(' · ');
  }
  const parts = [f.kind ? KIND_NAMES[f.kind] : 'File'];
  if (f.attempts > 0) parts.push(`${f.attempts} ${f.attempts === 1 ? 'attempt' : 'attempts'}`);
  parts.push(f.nextTry === 'next-start' ? 'tried again at the next start' : 'tried again when it changes');
  parts.push(formatDate(f.at));
  return parts.join(' · ');
}

function FailureRow({ failure, busy, onRetry }: { failure: FileFailure; busy: boolean; onRetry: () => void }) {
  const { fileId } = failure;
  return (
    <li className="failure" data-testid="failure-row">
      <div className="failure__main">
        <MiddlePath path={failure.path} />
        <p className="failure__reason">{failure.reason}</p>
        <p className="failure__meta muted">{details(failure)}</p>
      </div>
      {fileId !== null && (
        <button type="button" className="button button--small" onClick={onRetry} disabled={busy} aria-busy={busy} aria-label={`${busy ? 'Retrying' : 'Retry'} ${splitPath(failure.path).name}`}>
          <Icon name="retry" /> {busy ? 'Retrying…' : 'Retry'}
        </button>
      )}
    </li>
  );
}

export function FailureList() {
  const controller = useController();
  const failures = useAppState((s) => s.failures);
  const failedFiles = useAppState((s) => s.progress?.files.failed ?? null);
  const page = current(failures);
  /** What a Retry in flight covers: 'all', or one file's id. */
  const [retrying, setRetrying] = useState<'all' | number | null>(null);

  // A retried file that fails again, or a new failure while this view is open, shows up without a click.
  const seenFailed = useRef(failedFiles);
  useEffect(() => {
    if (seenFailed.current === failedFiles) return;
    seenFailed.current = failedFiles;
    void controller.refreshFailures();
  }, [failedFiles, controller]);

  const retry = async (which: 'all' | number) => {
    setRetrying(which);
    try {
      await controller.retryFailures(which === 'all' ? undefined : [which]);
    } finally {
      setRetrying(null);
    }
  };

  const total = page?.total ?? 0;
  return (
    <section className="card" aria-labelledby="failures-title" data-testid="failures">
      <header className="card__header">
        <h2 id="failures-title">
          Not indexed{' '}
          {total > 0 && (
            <span className="muted" data-testid="failures-total">
              ({formatCount(total)})
            </span>
          )}
        </h2>
        <div className="card__actions">
          {total > 0 && (
            <button type="button" className="button button--small" onClick={() => void retry('all')} disabled={retrying !== null} aria-busy={retrying === 'all'}>
              <Icon name="retry" /> {retrying === 'all' ? 'Retrying…' : 'Retry all'}
            </button>
          )}
          <button type="button" className="button button--small button--ghost" onClick={() => void controller.refreshFailures()}>
            Refresh
          </button>
        </div>
      </header>
      {failures.phase === 'error' && <ErrorBanner title="Could not load the list" message={failures.message} onRetry={() => void controller.refreshFailures()} />}
      {!page ? (
        failures.phase !== 'error' && <LinesSkeleton />
      ) : page.failures.length === 0 ? (
        <p className="muted">None. Every file found so far was read.</p>
      ) : (
        <>
          <ul className="failure-list">
            {page.failures.map((f) => (
              <FailureRow key={f.fileId ?? `folder:${f.path}`} failure={f} busy={retrying === 'all' || retrying === f.fileId} onRetry={() => void retry(f.fileId!)} />
            ))}
          </ul>
          {page.failures.length < total && (
            <button type="button" className="button button--ghost failure-list__more" onClick={() => void controller.moreFailures()}>
              Show more ({formatCount(total - page.failures.length)} not shown)
            </button>
          )}
        </>
      )}
    </section>
  );
}
