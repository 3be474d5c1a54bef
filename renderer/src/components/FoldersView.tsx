// The folders Trove watches: add, see patterns and how many files each holds (indexed, failed,
// pending: the same words as the sidebar), remove, and notice a drive that is unplugged.
import { useState } from 'react';
import type { Root } from '#contract/common/entities.ts';
import { formatDate } from '../lib/format.ts';
import { filesIndexedText } from '../lib/library-counts.ts';
import { current } from '../state/app-state.ts';
import { useAppState, useController } from '../state/context.tsx';
import { AddFolderForm } from './AddFolderForm.tsx';
import { EmptyState } from './EmptyState.tsx';
import { MiddlePath } from './MiddlePath.tsx';
import { ErrorBanner } from './ErrorBanner.tsx';
import { Icon } from './Icon.tsx';
import { LinesSkeleton } from './Skeleton.tsx';
import { ConfirmRemove } from './ConfirmRemove.tsx';

function RootRow({ root }: { root: Root }) {
  const controller = useController();
  const [confirming, setConfirming] = useState(false);
  const counts = useAppState((s) => s.progress?.byRoot.find((r) => r.rootId === root.id)?.files ?? null);
  return (
    <li className={`root-row${root.present ? '' : ' root-row--missing'}`} data-testid="root-row">
      <Icon name={root.present ? 'folder' : 'drive'} size={20} />
      <div className="root-row__body">
        {/* Cut in the middle when long: the start and the folder's own name stay visible. */}
        <span className="root-row__path">
          <MiddlePath path={root.path} />
        </span>
        <span className="root-row__counts" data-testid="root-counts">
          {counts && counts.total > 0 ? filesIndexedText(counts) : root.present ? 'No files found yet' : 'No files indexed'}
          {counts && counts.failed > 0 && (
            <>
              {' · '}
              <button type="button" className="link-button" onClick={() => controller.setView('indexing')}>
                See why
              </button>
            </>
          )}
        </span>
        <span className="root-row__meta muted">
          {root.present ? `Added ${formatDate(root.addedAt)}` : 'Not connected: its files stay searchable and are checked again when it is back.'}
          {root.include.length > 0 && ` · only ${root.include.join(', ')}`}
          {root.exclude.length > 0 && ` · skipping ${root.exclude.join(', ')}`}
        </span>
      </div>
      {!root.present && <span className="pill pill--warning">Missing</span>}
      {confirming ? (
        <ConfirmRemove question="Remove from Trove? Files stay on disk." onRemove={() => void controller.removeRoot(root.id, root.path)} onCancel={() => setConfirming(false)} />
      ) : (
        <button type="button" className="icon-button" aria-label={`Remove ${root.path}`} onClick={() => setConfirming(true)}>
          <Icon name="trash" />
        </button>
      )}
    </li>
  );
}

export function FoldersView() {
  const controller = useController();
  const roots = useAppState((s) => s.roots);
  const list = current(roots);
  return (
    <section className="page" aria-labelledby="folders-title">
      <header className="page__header">
        <h1 id="folders-title">Folders</h1>
        <p className="muted">Trove watches these folders and keeps the index up to date as files change.</p>
      </header>
      <AddFolderForm />
      {roots.phase === 'error' && <ErrorBanner title="Could not load folders" message={roots.message} onRetry={() => void controller.refreshRoots()} />}
      {!list ? (
        <LinesSkeleton />
      ) : list.length === 0 ? (
        <EmptyState icon="folder" title="No folders yet">
          <p>Add a folder above to start indexing.</p>
        </EmptyState>
      ) : (
        <ul className="root-list">
          {list.map((root) => (
            <RootRow key={root.id} root={root} />
          ))}
        </ul>
      )}
    </section>
  );
}
