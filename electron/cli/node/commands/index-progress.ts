// `trove index` progress on stderr: on a terminal one line redrawn in place (a few times a second);
// otherwise (CI logs, pipes, files) a plain line when work starts and then at most one every few
// seconds while it goes on, so a log shows that indexing is alive without thousands of lines.
import type { IndexingProgress } from '../../../contract/common/entities.ts';
import { formatEta } from '../../../contract/common/display-units.ts';

/** Plain output: at most one line this often. */
export const PLAIN_INTERVAL_MS = 5_000;
/** A terminal is redrawn at most this often. */
const TERMINAL_REDRAW_MS = 100;

interface ProgressStream {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

export function progressLine(p: IndexingProgress): string {
  const f = p.files;
  if (p.state === 'scanning') return `Scanning — ${f.total} file${f.total === 1 ? '' : 's'} found so far`;
  const done = f.indexed + f.failed;
  const parts = [`${p.state === 'paused' ? 'Paused' : 'Indexing'} — ${done} of ${f.total} files${f.failed > 0 ? ` (${f.failed} failed)` : ''}`];
  if (p.rate > 0) parts.push(`${p.rate < 10 ? p.rate.toFixed(1) : Math.round(p.rate)} files/s`);
  if (p.etaSeconds !== null && p.etaSeconds > 0 && f.pending > 0) parts.push(`${formatEta(p.etaSeconds)} left`);
  return parts.join(' · ');
}

export class IndexProgressPrinter {
  private readonly terminal: boolean;
  private lastWrite = -Infinity;
  private lastLine = '';
  private drawn = false;

  constructor(
    private readonly stream: ProgressStream,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.terminal = stream.isTTY === true;
  }

  update(p: IndexingProgress): void {
    if (p.state === 'idle') return;
    const line = progressLine(p);
    if (line === this.lastLine) return;
    const now = this.now();
    if (now - this.lastWrite < (this.terminal ? TERMINAL_REDRAW_MS : PLAIN_INTERVAL_MS)) return;
    if (this.terminal) {
      const current = p.current ? `  ${p.current.length > 40 ? `…${p.current.slice(-39)}` : p.current}` : '';
      this.stream.write(`\r\x1b[2K${line}${current}`);
      this.drawn = true;
    } else {
      this.stream.write(`${line}\n`);
    }
    this.lastWrite = now;
    this.lastLine = line;
  }

  /** Ends the live line on a terminal (before the summary is printed). */
  end(): void {
    if (this.terminal && this.drawn) this.stream.write('\r\x1b[2K');
    this.drawn = false;
  }
}
