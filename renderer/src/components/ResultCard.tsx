// One result: a thumbnail for images, video moments and PDF pages, shown whole (a portrait photo
// or a page is fitted, not cropped); a card with the matching passage for text. The score is
// always visible.
import type { DragEvent } from 'react';
import type { SearchResult } from '#contract/common/entities.ts';
import { formatDate, formatPercent, formatTimestamp } from '../lib/format.ts';
import { useServices } from '../state/context.tsx';
import { Highlighted } from './Highlighted.tsx';
import { Icon, type IconName } from './Icon.tsx';
import { ScoreBar } from './ScoreBar.tsx';

const KIND_ICON: Record<SearchResult['kind'], IconName> = { image: 'image', video: 'video', pdf: 'pdf', text: 'text', document: 'document' };

export function resultCardId(itemId: number): string {
  return `result-${itemId}`;
}

function locatorBadge(result: SearchResult): string | null {
  const loc = result.locator;
  // A moment's whole span, so neighbouring moments of a video read as distinct, never overlapping.
  if (loc.type === 'time') return `${formatTimestamp(loc.start)}–${formatTimestamp(loc.end)}`;
  if (loc.type === 'page') return `p. ${loc.page}`;
  return null;
}

export function ResultCard({
  result,
  selected,
  queryText,
  onSelect,
  onOpen,
}: {
  result: SearchResult;
  selected: boolean;
  queryText: string;
  onSelect: () => void;
  onOpen: () => void;
}) {
  const { mediaUrl } = useServices();
  const badge = locatorBadge(result);
  const isVisual = result.kind === 'image' || result.kind === 'video' || result.kind === 'pdf';
  const fileUrl = mediaUrl('file', result.itemId);

  // Dragging a result out hands other apps its address; the Electron shell can upgrade this to a
  // real file drag (webContents.startDrag) once the contract has a method for it.
  function onDragStart(e: DragEvent) {
    e.dataTransfer.effectAllowed = 'copy';
    e.dataTransfer.setData('text/uri-list', new URL(fileUrl, location.href).href);
    e.dataTransfer.setData('text/plain', result.path);
  }

  return (
    <div
      id={resultCardId(result.itemId)}
      role="option"
      aria-selected={selected}
      aria-label={`${result.name}, ${formatPercent(result.score)} relevant`}
      className={`result-card${selected ? ' result-card--selected' : ''}${isVisual ? '' : ' result-card--text'}`}
      onClick={onSelect}
      onDoubleClick={onOpen}
      draggable
      onDragStart={onDragStart}
      data-testid="result-card"
    >
      {isVisual ? (
        <div className="result-card__thumb">
          <img src={mediaUrl('thumb', result.itemId)} alt="" loading="lazy" decoding="async" draggable={false} />
          {badge && <span className="result-card__badge">{badge}</span>}
        </div>
      ) : (
        <div className="result-card__snippet">
          {result.locator.type === 'text' ? <Highlighted text={result.locator.snippet} query={queryText} /> : <span className="muted">{result.path}</span>}
        </div>
      )}
      <div className="result-card__meta">
        <span className="result-card__name" title={result.path}>
          <Icon name={KIND_ICON[result.kind]} size={14} />
          <span className="truncate">{result.name}</span>
        </span>
        <span className="result-card__sub">
          <ScoreBar score={result.score} />
          <span className="muted">{formatDate(result.date)}</span>
        </span>
      </div>
    </div>
  );
}
