// The download → build → activate task as the engine reports it: phase, step, a bar with bytes,
// speed and time left (downloading) or the share built (building), Cancel; a failed task with its
// message and Retry. Everything here is read from models.state, so a reload shows the same thing.
import { useState } from 'react';
import type { ModelsState, SetupTask } from '#contract/common/model-setup.ts';
import { formatByteRate, formatBytes, formatEta, formatPercent } from '../lib/format.ts';
import { useController } from '../state/context.tsx';
import { modelName } from '../state/models.ts';
import { ErrorBanner } from './ErrorBanner.tsx';
import { Icon } from './Icon.tsx';
import { ProgressBar } from './IndexingProgress.tsx';

export function phaseLabel(phase: SetupTask['phase']): string {
  switch (phase) {
    case 'queued':
      return 'Getting ready';
    case 'downloading':
      return 'Downloading';
    case 'building':
      return 'Building the model for this computer';
    case 'activating':
      return 'Switching it on';
    case 'done':
      return 'Ready';
    case 'failed':
      return 'Setup failed';
    case 'cancelled':
      return 'Cancelled';
  }
}

/** The share of the current phase that is done: bytes while downloading, the build fraction while building. */
export function taskFraction(task: SetupTask): number {
  switch (task.phase) {
    case 'downloading':
      return task.bytes.total > 0 ? task.bytes.done / task.bytes.total : 0;
    case 'building':
      return task.fraction;
    case 'activating':
    case 'done':
      return 1;
    default:
      return 0;
  }
}

/** "1.2 GB of 4.3 GB · 24 MB/s · about 3 min left", "62% built", or the step in words. */
export function taskProgressText(task: SetupTask): string {
  if (task.phase === 'downloading') {
    const parts = [`${formatBytes(task.bytes.done)} of ${formatBytes(task.bytes.total)}`];
    if (task.bytesPerSecond > 0) parts.push(formatByteRate(task.bytesPerSecond));
    if (task.etaSeconds !== null) parts.push(`${formatEta(task.etaSeconds)} left`);
    return parts.join(' · ');
  }
  if (task.phase === 'building') return `${formatPercent(task.fraction)} built`;
  return task.step;
}

function barLabel(task: SetupTask): string {
  return task.phase === 'building' ? 'Model build' : 'Model download';
}

/** A running task: what it is doing and how far along it is, with Cancel. */
export function SetupProgress({ models, task, onLeave }: { models: ModelsState; task: SetupTask; onLeave?: () => void }) {
  const controller = useController();
  const names = task.models.map((id) => modelName(models, id)).join(' and ');
  const downloading = task.phase === 'downloading';
  return (
    <div className="setup-task" data-testid="setup-task">
      <div className="setup-task__head">
        {/* Only the phase is announced: the numbers change a few times a second. */}
        <strong role="status" className="setup-task__phase">
          <span className="spinner" aria-hidden="true" />
          {phaseLabel(task.phase)}
        </strong>
        <span className="muted truncate" title={names}>
          {names}
        </span>
      </div>
      {task.step && (
        <p className="muted truncate setup-task__step" title={task.step}>
          {task.step}
        </p>
      )}
      <ProgressBar fraction={taskFraction(task)} label={barLabel(task)} valueText={taskProgressText(task)} />
      {downloading ? (
        <dl className="stats stats--compact" data-testid="setup-stats">
          <div>
            <dt>Downloaded</dt>
            <dd>
              {formatBytes(task.bytes.done)} of {formatBytes(task.bytes.total)}
            </dd>
          </div>
          <div>
            <dt>Speed</dt>
            <dd>{formatByteRate(task.bytesPerSecond)}</dd>
          </div>
          <div>
            <dt>Time left</dt>
            <dd>{formatEta(task.etaSeconds)}</dd>
          </div>
        </dl>
      ) : (
        <p className="setup-task__numbers">{taskProgressText(task)}</p>
      )}
      <div className="setup-task__actions">
        <button type="button" className="button" onClick={() => void controller.cancelSetup()}>
          Cancel
        </button>
        {onLeave && (
          <button type="button" className="button button--ghost" onClick={onLeave}>
            <Icon name="search" /> Search while you wait
          </button>
        )}
        <span className="muted" data-testid="setup-meanwhile">
          {models.inUse.embedding
            ? `Search by meaning goes on with ${models.inUse.embedding.name} meanwhile; the ${downloading ? 'download' : 'setup'} goes on in the background.`
            : `Names, paths and text are searchable now; the ${downloading ? 'download' : 'setup'} goes on in the background.`}
        </span>
      </div>
    </div>
  );
}

/** A failed task: the engine's message (it says what to do), Retry, or back to the choices. */
export function SetupFailed({ task, onChooseAgain }: { task: SetupTask; onChooseAgain: () => void }) {
  const controller = useController();
  const [retryError, setRetryError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  async function retry() {
    setBusy(true);
    setRetryError(await controller.retrySetup());
    setBusy(false);
  }
  return (
    <div className="setup-task" data-testid="setup-failed">
      <ErrorBanner title="Setting up the model failed" message={task.error ?? 'The task stopped without saying why.'} onRetry={busy ? undefined : () => void retry()} />
      {retryError && (
        <p className="field__error" role="alert">
          {retryError}
        </p>
      )}
      <div className="setup-task__actions">
        <button type="button" className="button button--ghost" onClick={onChooseAgain}>
          <Icon name="retry" /> Choose another way
        </button>
      </div>
    </div>
  );
}
