// Getting a model, in the welcome (step 2) and in Settings: the recommendation for this machine
// with its size, memory, speed and why; or another model, files already here, an inference
// server, or "not now". While a task runs it shows its progress instead; a failed task shows its
// message and Retry. Which of these shows is read from models.state, so it survives a restart.
import { useState } from 'react';
import type { ModelsState } from '#contract/common/model-setup.ts';
import { formatBytes } from '../lib/format.ts';
import { useController } from '../state/context.tsx';
import { catalogEntry, taskRunning } from '../state/models.ts';
import { ErrorBanner } from './ErrorBanner.tsx';
import { HardwareLine } from './HardwareLine.tsx';
import { Icon } from './Icon.tsx';
import { FoldersForm, ModelPicker } from './ModelPicker.tsx';
import { RemoteForm } from './RemoteBackend.tsx';
import { SetupFailed, SetupProgress } from './SetupProgress.tsx';

type Mode = 'recommended' | 'pick' | 'folders' | 'remote';

function Recommendation({ models, place, onMode }: { models: ModelsState; place: 'welcome' | 'settings'; onMode: (mode: Mode) => void }) {
  const controller = useController();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const { recommendation, hardware } = models;
  const chosen = [catalogEntry(models, recommendation.embedding), catalogEntry(models, recommendation.reranker)].filter((m) => m !== null);
  const embedding = chosen.find((m) => m.kind === 'embedding') ?? null;
  const download = chosen.reduce((sum, m) => sum + m.downloadBytes, 0);

  async function install() {
    setBusy(true);
    setError(null);
    setError(
      await controller.installModels({
        embedding: recommendation.embedding,
        reranker: recommendation.reranker,
        precision: recommendation.precision,
        source: { type: 'hub' },
      }),
    );
    setBusy(false);
  }

  return (
    <div className="model-offer" data-testid="model-recommendation">
      <div className="model-offer__head">
        <strong className="model-offer__title">{chosen.map((m) => m.title).join(' + ') || recommendation.embedding}</strong>
        <span className="pill pill--accent">Recommended</span>
      </div>
      <p className="model-offer__why">{recommendation.reason}</p>
      <table className="model-facts">
        <thead>
          <tr>
            <th scope="col">Model</th>
            <th scope="col" className="num">Download</th>
            <th scope="col" className="num">Memory at {recommendation.precision}</th>
          </tr>
        </thead>
        <tbody>
          {chosen.map((m) => (
            <tr key={m.id}>
              <th scope="row">{m.title}</th>
              <td className="num">{formatBytes(m.downloadBytes)}</td>
              <td className="num">{formatBytes(m.memoryBytes[recommendation.precision])}</td>
            </tr>
          ))}
        </tbody>
        {chosen.length > 1 && (
          <tfoot>
            <tr>
              <th scope="row">Total download</th>
              <td className="num">{formatBytes(download)}</td>
              <td />
            </tr>
          </tfoot>
        )}
      </table>
      {embedding && <p className="model-offer__speed">Speed: {embedding.speed}</p>}
      <HardwareLine hardware={hardware} model={embedding} />
      {models.offline && (
        <div className="banner banner--info" role="status" data-testid="offline-notice">
          <div className="banner__text">
            <strong>Downloads are off: Trove is in offline mode.</strong>
            <span className="banner__detail">Set it up from checkpoint files you already have, or go on with keyword search for now.</span>
          </div>
          <button type="button" className="button button--small" onClick={() => onMode('folders')}>
            Use files I already have
          </button>
        </div>
      )}
      {error && <ErrorBanner title="Could not start the download" message={error} />}
      <div className="model-actions">
        <button type="button" className="button button--primary" disabled={models.offline || busy} onClick={() => void install()}>
          <Icon name="download" /> {busy ? 'Starting…' : 'Download and set up'}
        </button>
        <button type="button" className="button" onClick={() => onMode('pick')}>
          Choose another…
        </button>
        {place === 'welcome' && (
          <button type="button" className="button button--ghost" onClick={() => void controller.declineModels()}>
            Not now
          </button>
        )}
      </div>
      <div className="model-actions model-actions--links">
        <button type="button" className="link-button" onClick={() => onMode('folders')}>
          Use files I already have
        </button>
        <button type="button" className="link-button" onClick={() => onMode('remote')}>
          Use an inference server
        </button>
      </div>
      {place === 'welcome' && <p className="muted model-offer__note">“Not now” keeps Trove useful: it searches names, paths and text until you set up a model in Settings.</p>}
    </div>
  );
}

export function ModelSetup({ models, place }: { models: ModelsState; place: 'welcome' | 'settings' }) {
  const controller = useController();
  // In Settings with a model in use, the recommendation is usually what is installed: start at the list.
  const [mode, setMode] = useState<Mode>(() => (place === 'settings' && models.inUse.embedding !== null ? 'pick' : 'recommended'));
  // "Choose another way" hides this failure; a later failure (another message) shows again.
  const [dismissedFailure, setDismissedFailure] = useState<string | null>(null);
  const task = models.task;

  if (taskRunning(task)) return <SetupProgress models={models} task={task} onLeave={place === 'welcome' ? () => controller.finishWelcome() : undefined} />;
  const failureKey = task?.phase === 'failed' ? `${task.models.join(',')}|${task.error ?? ''}` : null;
  if (task && failureKey !== null && failureKey !== dismissedFailure) {
    return (
      <SetupFailed
        task={task}
        onChooseAgain={() => {
          setDismissedFailure(failureKey);
          setMode('recommended');
        }}
      />
    );
  }

  const back = () => setMode('recommended');
  return (
    <div className="model-setup">
      {task?.phase === 'cancelled' && (
        <p className="muted" role="status">
          Download cancelled. What was downloaded is kept, so starting again picks up where it stopped.
        </p>
      )}
      {mode === 'recommended' && <Recommendation models={models} place={place} onMode={setMode} />}
      {mode === 'pick' && <ModelPicker models={models} onBack={back} />}
      {mode === 'folders' && <FoldersForm models={models} onBack={back} />}
      {mode === 'remote' && <RemoteForm onCancel={back} />}
    </div>
  );
}
