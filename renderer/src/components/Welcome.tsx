// First run: 1 choose folders, 2 get the search model, 3 indexing. Which step is current comes from
// the roots and models.state (welcomeStage), so closing Trove mid-download and opening it again
// lands on the same step with the same progress.
import { useEffect, useRef, useState } from 'react';
import { current, type WelcomeStage } from '../state/app-state.ts';
import { useAppState, useController } from '../state/context.tsx';
import { catalogEntry, hasSearchModel, modelsInUse, taskRunning } from '../state/models.ts';
import { formatBytes } from '../lib/format.ts';
import { AddFolderForm } from './AddFolderForm.tsx';
import { Icon } from './Icon.tsx';
import { OverallProgress } from './IndexingProgress.tsx';
import { ModelSetup } from './ModelSetup.tsx';
import { phaseLabel, taskProgressText } from './SetupProgress.tsx';

type Stage = Exclude<WelcomeStage, 'loading' | null>;
const ORDER: Stage[] = ['folders', 'model', 'indexing'];

const TITLES: Record<Stage, string> = {
  folders: 'Add a folder to start',
  model: 'Next, the search model',
  indexing: 'Trove is reading your files',
};

const LEADS: Record<Stage, string> = {
  folders:
    'Trove indexes the photos, videos, PDFs and notes in the folders you choose, on this computer, and lets you search them by words or by an image. Nothing leaves your machine.',
  model: 'Searching by meaning needs a model. Trove suggests the one that suits this computer; it is downloaded once and runs here.',
  indexing: 'Search works while Trove reads your files; new ones show up as they are done.',
};

function Step({ n, stage, at, title, children }: { n: number; stage: Stage; at: Stage; title: string; children: React.ReactNode }) {
  const done = ORDER.indexOf(at) > ORDER.indexOf(stage);
  const isCurrent = at === stage;
  const titleRef = useRef<HTMLElement>(null);
  const previous = useRef(at);
  // Keyboard and screen-reader users follow the flow: when this step becomes current, it gets focus.
  useEffect(() => {
    if (isCurrent && previous.current !== at) titleRef.current?.focus();
    previous.current = at;
  }, [at, isCurrent]);
  return (
    <li className={`steps__item${isCurrent ? ' steps__item--current' : ''}${done ? ' steps__item--done' : ''}`} aria-current={isCurrent ? 'step' : undefined} data-testid={`welcome-step-${stage}`}>
      <span className="steps__number">{done ? <Icon name="check" size={14} label="Done" /> : n}</span>
      <div className="steps__body">
        <strong ref={titleRef} tabIndex={-1} className="steps__title">
          {title}
        </strong>
        {children}
      </div>
    </li>
  );
}

function FoldersStep({ at }: { at: Stage }) {
  const roots = useAppState((s) => current(s.roots) ?? []);
  const [adding, setAdding] = useState(false);
  return (
    <Step n={1} stage="folders" at={at} title="Choose folders">
      {at === 'folders' ? (
        <AddFolderForm autoFocus />
      ) : (
        <>
          <ul className="welcome__roots">
            {roots.map((r) => (
              <li key={r.id} className="mono truncate" title={r.path}>
                {r.path}
              </li>
            ))}
          </ul>
          {adding ? (
            <AddFolderForm autoFocus compact />
          ) : (
            <button type="button" className="link-button" onClick={() => setAdding(true)}>
              Add another folder
            </button>
          )}
        </>
      )}
    </Step>
  );
}

function ModelStep({ at }: { at: Stage }) {
  const modelsState = useAppState((s) => s.models);
  const status = useAppState((s) => current(s.status));
  const models = current(modelsState);

  let body: React.ReactNode;
  const inUse = modelsInUse(models, status);
  if (at === 'model' && models) {
    body = <ModelSetup models={models} place="welcome" />;
  } else if (!models) {
    // An engine without models.* (or one still answering): say what status.get says.
    body = <p className="muted">{inUse ? inUse.statement : 'Checking for a model…'}</p>;
  } else if (hasSearchModel(models, status)) {
    body = <p className="muted">{inUse?.statement ?? 'The search model is ready.'}</p>;
  } else if (models.declined) {
    body = <p className="muted">Not now: Trove searches names, paths and text. Set up the model any time in Settings.</p>;
  } else if (taskRunning(models.task)) {
    body = (
      <p className="muted">
        {phaseLabel(models.task.phase)}: {taskProgressText(models.task)}
      </p>
    );
  } else {
    const rec = catalogEntry(models, models.recommendation.embedding);
    body = <p className="muted">Trove will suggest a model that suits this computer{rec ? `, such as ${rec.title} (${formatBytes(rec.downloadBytes)})` : ''}.</p>;
  }
  return (
    <Step n={2} stage="model" at={at} title="Search model">
      {body}
    </Step>
  );
}

function IndexingStep({ at }: { at: Stage }) {
  const controller = useController();
  const progress = useAppState((s) => s.progress);
  return (
    <Step n={3} stage="indexing" at={at} title="Indexing">
      {at === 'indexing' && progress ? (
        <>
          <OverallProgress progress={progress} />
          <div className="model-actions">
            <button type="button" className="button button--primary" onClick={() => controller.finishWelcome()}>
              <Icon name="search" /> Start searching
            </button>
            <button type="button" className="button button--ghost" onClick={() => controller.setView('indexing')}>
              Indexing details
            </button>
          </div>
        </>
      ) : (
        <p className="muted">Trove reads your files in the background. You can search while it works.</p>
      )}
    </Step>
  );
}

export function Welcome({ stage }: { stage: Stage }) {
  return (
    <section className={`welcome${stage === 'folders' ? '' : ' welcome--later'}`} aria-labelledby="welcome-title" data-testid="welcome">
      <div className="welcome__mark" aria-hidden="true">
        <Icon name="search" size={28} />
      </div>
      <h1 id="welcome-title" className="welcome__title">
        {TITLES[stage]}
      </h1>
      <p className="welcome__lead">{LEADS[stage]}</p>
      <ol className="steps">
        <FoldersStep at={stage} />
        <ModelStep at={stage} />
        <IndexingStep at={stage} />
      </ol>
    </section>
  );
}
