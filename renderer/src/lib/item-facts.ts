// What the preview says about an item, in a person's words: where the match is (page 12 of 40,
// the moment 0:32–0:48 of a 12:34 video), how big the picture is, when and with what it was taken.
// The engine's metadata also holds bookkeeping for itself (encrypted, repaired, rotation, frames,
// codec, moments, chunks, …): only the fields named here are shown, so a new internal field never
// leaks into the preview.
import type { ItemDetail } from '#contract/common/entities.ts';
import { formatBytes, formatDate, formatTimestamp } from './format.ts';

export interface Fact {
  readonly label: string;
  readonly value: string;
}

function text(metadata: ItemDetail['metadata'], key: string): string | null {
  const value = metadata[key];
  if (typeof value === 'string') return value.trim() === '' ? null : value.trim();
  return typeof value === 'number' && Number.isFinite(value) ? String(value) : null;
}

function positive(metadata: ItemDetail['metadata'], key: string): number | null {
  const value = metadata[key];
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : null;
}

/** "6240 × 4160": the engine stores photos' and videos' sizes as displayed (upright). */
function dimensions(detail: ItemDetail): string | null {
  const width = positive(detail.metadata, 'width');
  const height = positive(detail.metadata, 'height');
  return width === null || height === null ? null : `${width} × ${height}`;
}

/**
 * The date the engine keeps for an item is the date taken (EXIF, a video's creation time, a PDF's
 * creation date) when the file has one, else its modification time; the label says which.
 */
function dateFact(detail: ItemDetail): Fact {
  // Within a second: item dates are whole milliseconds, a file's mtime may have a fraction.
  const taken = Math.abs(detail.date - detail.mtime) >= 1000;
  const label = !taken ? 'Modified' : detail.kind === 'pdf' || detail.kind === 'document' ? 'Created' : 'Taken';
  return { label, value: formatDate(detail.date) };
}

export function itemFacts(detail: ItemDetail): Fact[] {
  const m = detail.metadata;
  const loc = detail.locator;
  const facts: Fact[] = [];
  const add = (label: string, value: string | null) => {
    if (value !== null) facts.push({ label, value });
  };
  if (loc.type === 'page') {
    const pages = positive(m, 'pages');
    add('Page', pages !== null ? `${loc.page} of ${pages}` : String(loc.page));
  }
  if (detail.kind === 'video') {
    const duration = positive(m, 'duration');
    // A moment is shown with the video's length; the whole video only with its length.
    if (loc.type === 'time' && !(loc.start === 0 && duration !== null && Math.abs(loc.end - duration) < 0.5)) add('Moment', `${formatTimestamp(loc.start)}–${formatTimestamp(loc.end)}`);
    add('Duration', duration !== null ? formatTimestamp(duration) : null);
  }
  if (detail.kind === 'pdf') {
    add('Title', text(m, 'title'));
    add('Author', text(m, 'author'));
  }
  if (detail.kind === 'image' || detail.kind === 'video') add('Dimensions', dimensions(detail));
  facts.push(dateFact(detail));
  if (detail.kind === 'image') {
    add('Camera', text(m, 'camera'));
    add('Lens', text(m, 'lens'));
    add('Location', text(m, 'gps'));
  }
  facts.push({ label: 'Size', value: formatBytes(detail.size) });
  add('Note', text(m, 'note'));
  return facts;
}
