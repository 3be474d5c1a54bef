// Progress of a pull for the UI: bytes, rate over a sliding window, ETA and files done, reported
// at most a few times a second (a fast download would otherwise emit thousands of events).
// Phase changes and the final report always go out at once.

export type DownloadPhase = 'listing' | 'checking' | 'downloading' | 'verifying' | 'done';

export interface DownloadProgress {
  phase: DownloadPhase;
  /** Bytes of every selected file. */
  totalBytes: number;
  /** Bytes already present and verified, plus bytes downloaded so far. */
  doneBytes: number;
  /** Download rate over the last few seconds; 0 before any byte arrives. */
  bytesPerSecond: number;
  /** Seconds left at the current rate; null while the rate is unknown. */
  etaSeconds: number | null;
  /** The file last worked on (repo path), or null between files. */
  currentFile: string | null;
  files: { done: number; total: number };
}

export type ProgressListener = (progress: DownloadProgress) => void;

export interface ProgressTrackerOptions {
  /** Minimum gap between two reports within one phase (default 250 ms: at most 4 a second). */
  intervalMs?: number;
  /** Rate window (default 5 s). */
  windowMs?: number;
  /** Clock; injectable for tests. */
  now?: () => number;
}

export class ProgressTracker {
  private readonly listener: ProgressListener | undefined;
  private readonly intervalMs: number;
  private readonly windowMs: number;
  private readonly now: () => number;
  /** (time, bytes) samples of downloaded bytes inside the rate window. */
  private samples: { t: number; bytes: number }[] = [];
  private lastEmit = -Infinity;
  private state: DownloadProgress = { phase: 'listing', totalBytes: 0, doneBytes: 0, bytesPerSecond: 0, etaSeconds: null, currentFile: null, files: { done: 0, total: 0 } };

  constructor(listener: ProgressListener | undefined, options: ProgressTrackerOptions = {}) {
    this.listener = listener;
    this.intervalMs = options.intervalMs ?? 250;
    this.windowMs = options.windowMs ?? 5000;
    this.now = options.now ?? (() => performance.now());
  }

  /** Starts a phase (always reported). */
  phase(phase: DownloadPhase, totals?: { totalBytes: number; doneBytes: number; files: { done: number; total: number } }): void {
    this.state = { ...this.state, phase, ...totals, files: { ...(totals?.files ?? this.state.files) } };
    if (phase === 'done') this.state.currentFile = null;
    this.emit(true);
  }

  /** Downloaded bytes (negative when a file starts over); counted into the rate only when positive. */
  bytes(delta: number, file: string | null = this.state.currentFile): void {
    this.state.doneBytes += delta;
    this.state.currentFile = file;
    if (delta > 0) {
      // One sample per 100 ms keeps the window small however many chunks arrive.
      const t = this.now();
      const last = this.samples[this.samples.length - 1];
      if (last && t - last.t < 100) last.bytes += delta;
      else this.samples.push({ t, bytes: delta });
    }
    this.emit(false);
  }

  /** Bytes found already in place (verified files, .part prefixes, cache files): done, but not part of the rate. */
  present(bytes: number): void {
    this.state.doneBytes += bytes;
    this.emit(false);
  }

  fileDone(file: string): void {
    this.state.files.done++;
    this.state.currentFile = file;
    this.emit(false);
  }

  current(file: string): void {
    this.state.currentFile = file;
    this.emit(false);
  }

  get snapshot(): DownloadProgress {
    return { ...this.state, files: { ...this.state.files } };
  }

  private rate(now: number): number {
    while (this.samples.length > 0 && this.samples[0].t < now - this.windowMs) this.samples.shift();
    if (this.samples.length === 0) return 0;
    const bytes = this.samples.reduce((sum, s) => sum + s.bytes, 0);
    // Over the window, or over the time since the first sample when the pull is younger than it;
    // at least one interval so a burst of the first chunk does not read as a huge rate.
    const span = Math.max(this.intervalMs, now - this.samples[0].t);
    return (bytes * 1000) / Math.min(this.windowMs, span);
  }

  private emit(force: boolean): void {
    if (!this.listener) return;
    const now = this.now();
    if (!force && now - this.lastEmit < this.intervalMs) return;
    this.lastEmit = now;
    const bytesPerSecond = this.rate(now);
    const left = Math.max(0, this.state.totalBytes - this.state.doneBytes);
    const etaSeconds = this.state.phase === 'done' ? 0 : bytesPerSecond > 0 ? left / bytesPerSecond : null;
    this.listener({ ...this.snapshot, bytesPerSecond, etaSeconds });
  }
}
