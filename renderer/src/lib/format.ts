// Human-readable numbers for the UI. Kept in one place so every view says things the same way.

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

/** "about 3 min", "12 s", "2 h 5 min": an ETA should be calm, not precise to the second. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '—';
  if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest === 0 ? `${hours} h` : `${hours} h ${rest} min`;
}

/** Transfer speed: "24 MB/s". */
export function formatByteRate(bytesPerSecond: number): string {
  return bytesPerSecond <= 0 ? '—' : `${formatBytes(bytesPerSecond)}/s`;
}

/** Time left as people say it: "about 3 min", "less than a minute". */
export function formatEta(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds) || seconds < 0) return '—';
  return seconds < 60 ? 'less than a minute' : `about ${formatDuration(seconds)}`;
}

export function formatRate(filesPerSecond: number): string {
  if (filesPerSecond <= 0) return '—';
  if (filesPerSecond < 1) return `${(filesPerSecond * 60).toFixed(0)} files/min`;
  return `${filesPerSecond < 10 ? filesPerSecond.toFixed(1) : Math.round(filesPerSecond)} files/s`;
}

export function formatPercent(probability: number): string {
  return `${Math.round(probability * 100)}%`;
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
