// Human-readable numbers for the UI. Kept in one place so every view says things the same way;
// sizes and times left are shared with the CLI.
export { formatByteRate, formatBytes, formatDuration, formatEta } from '#contract/common/display-units.ts';
import { formatRelevance } from '#contract/common/relevance.ts';

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

export function formatRate(filesPerSecond: number): string {
  if (filesPerSecond <= 0) return '—';
  if (filesPerSecond < 1) return `${(filesPerSecond * 60).toFixed(0)} files/min`;
  return `${filesPerSecond < 10 ? filesPerSecond.toFixed(1) : Math.round(filesPerSecond)} files/s`;
}

/** A score or cut-off as people see it; the cut-off compares the same rounding (relevance.ts). */
export function formatPercent(probability: number): string {
  return formatRelevance(probability);
}

export function formatDate(epochMs: number): string {
  return new Date(epochMs).toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
}

/** mm:ss or h:mm:ss, for video moments. */
export function formatTimestamp(seconds: number): string {
  const s = Math.floor(seconds % 60);
  const m = Math.floor((seconds / 60) % 60);
  const h = Math.floor(seconds / 3600);
  const pad = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(s)}` : `${m}:${pad(s)}`;
}

/** The last path segment, for both / and \ separators. */
export function baseName(path: string): string {
  const parts = path.split(/[\\/]/).filter(Boolean);
  return parts[parts.length - 1] ?? path;
}

/** "yyyy-mm-dd" for <input type="date"> from epoch ms, in local time. */
export function toDateInput(epochMs: number | null): string {
  if (epochMs === null) return '';
  const d = new Date(epochMs);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** Local midnight (start) or the last millisecond (end) of a "yyyy-mm-dd" day; null when empty. */
export function fromDateInput(value: string, edge: 'start' | 'end'): number | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) return null;
  const [, y, m, d] = match;
  const start = new Date(Number(y), Number(m) - 1, Number(d)).getTime();
  return edge === 'start' ? start : start + 24 * 3600 * 1000 - 1;
}
