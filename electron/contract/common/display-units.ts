// How the contract's byte counts and durations read to people, the same in the app and in the
// terminal: "2.0 GB of 7.9 GB · 24 MB/s · about 3 min left". Sizes count in 1024s, as the catalog's
// memory figures and most file managers do.

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
