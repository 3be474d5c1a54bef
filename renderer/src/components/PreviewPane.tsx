// The selected result in detail, with what you can do with it. Shown beside the grid (Enter) or
// as a large overlay (Space, "quick look"); Escape closes either.
import { useEffect, useRef } from 'react';
import type { ItemDetail } from '#contract/common/entities.ts';
import { itemFacts } from '../lib/item-facts.ts';
import { current } from '../state/app-state.ts';
import { useAppState, useController, useServices } from '../state/context.tsx';
import { openButton } from '../state/open-actions.ts';
import { ErrorBanner } from './ErrorBanner.tsx';
import { Icon } from './Icon.tsx';
import { MediaView } from './MediaView.tsx';
import { MOD_KEY_LABEL } from './SearchBar.tsx';
import { LinesSkeleton } from './Skeleton.tsx';

function PreviewActions({ detail }: { detail: ItemDetail }) {
  const controller = useController();
  const { desktop } = useServices();
  const open = openButton(detail, desktop);
  return (
    <div className="preview__actions">
      <button type="button" className="button button--primary" onClick={() => void controller.openFile(detail)} title={`${open.title} (${MOD_KEY_LABEL}-Enter)`}>
        <Icon name="open" /> {open.label}
      </button>
      <button
        type="button"
        className="button"
        onClick={() => void controller.revealFile(detail)}
        title={desktop ? 'Show the file in its folder' : 'Open its folder in the file manager of the computer running Trove'}
      >
        <Icon name="reveal" /> Reveal in folder
      </button>
      <button type="button" className="button" onClick={() => void controller.copyPath(detail.path)}>
        <Icon name="copy" /> Copy path
      </button>
      <button type="button" className="button" onClick={() => controller.moreLikeThis(detail.itemId, detail.name)}>
        <Icon name="similar" /> More like this
      </button>
    </div>
  );
}

/** What a person wants to know (lib/item-facts.ts), never the engine's bookkeeping fields. */
function Facts({ detail }: { detail: ItemDetail }) {
  return (
    <dl className="facts" data-testid="preview-facts">
      <dt>Where</dt>
      <dd className="facts__path" title={detail.path}>
        {detail.path}
      </dd>
      {itemFacts(detail).map((fact) => (
        <FactRow key={fact.label} name={fact.label} value={fact.value} />
      ))}
    </dl>
  );
}

function FactRow({ name, value }: { name: string; value: string }) {
  return (
    <>
      <dt>{name}</dt>
      <dd>{value}</dd>
    </>
  );
}

function PreviewBody({ large }: { large: boolean }) {
  const controller = useController();
  const preview = useAppState((s) => s.preview);
  const queryText = useAppState((s) => s.query.text);
  const detail = current(preview.detail);

  if (preview.detail.phase === 'error') {
    return (
      <ErrorBanner title="Could not load this item" message={preview.detail.message} onRetry={() => preview.itemId !== null && void controller.openPreview(preview.itemId, preview.quickLook)} />
    );
  }
  if (!detail) return <LinesSkeleton lines={6} />;
  return (
    <>
      {/* Keyed by item: a load failure of one item must not carry over to the next. */}
      <MediaView key={detail.itemId} detail={detail} queryText={queryText} large={large} />
      <header className="preview__header">
        <h2 className="preview__title" title={detail.name}>
          {detail.name}
        </h2>
      </header>
      <PreviewActions detail={detail} />
      <Facts detail={detail} />
    </>
  );
}

export function PreviewPane() {
  const controller = useController();
  return (
    <aside className="preview" aria-label="Preview" data-testid="preview">
      <div className="preview__toolbar">
        <span className="muted">Preview</span>
        <button type="button" className="icon-button" aria-label="Close preview" onClick={() => controller.closePreview()}>
          <Icon name="close" />
        </button>
      </div>
      <div className="preview__scroll">
        <PreviewBody large={false} />
      </div>
    </aside>
  );
}

/** Space on a result: the same preview, as big as the window, over everything. */
export function QuickLook() {
  const controller = useController();
  const dialog = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const previous = document.activeElement as HTMLElement | null;
    dialog.current?.focus();
    return () => previous?.focus();
  }, []);
  return (
    <div className="quicklook" role="presentation" onClick={() => controller.closePreview()}>
      <div
        ref={dialog}
        className="quicklook__dialog"
        role="dialog"
        aria-modal="true"
        aria-label="Quick look"
        tabIndex={-1}
        onClick={(e) => e.stopPropagation()}
        onKeyDown={(e) => {
          if (e.key === 'Escape' || e.key === ' ') {
            if (e.key === ' ' && (e.target as HTMLElement).tagName === 'BUTTON') return;
            e.preventDefault();
            controller.closePreview();
          }
        }}
        data-testid="quicklook"
      >
        <button type="button" className="icon-button quicklook__close" aria-label="Close quick look" onClick={() => controller.closePreview()}>
          <Icon name="close" />
        </button>
        <PreviewBody large />
      </div>
    </div>
  );
}
