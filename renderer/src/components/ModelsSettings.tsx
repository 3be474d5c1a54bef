// Settings → Models: what runs now (and a switch in progress), the installed packages with Activate
// and Remove, where the models run (this computer or an inference server), and getting another one.
import { useRef, useState } from 'react';
import type { ModelOrigin, ModelStatus } from '#contract/common/entities.ts';
import type { InstalledPackage, ModelSwitch, ModelsState, UnfinishedDownload } from '#contract/common/model-setup.ts';
import { formatBytes, formatCount } from '../lib/format.ts';
import { current } from '../state/app-state.ts';
import { useAppState, useController } from '../state/context.tsx';
import { useFocusRequest } from '../state/focus-request.ts';
import { catalogEntry, findPackage, modelName, modelsInUse } from '../state/models.ts';
import { ErrorBanner } from './ErrorBanner.tsx';
import { HardwareLine } from './HardwareLine.tsx';
import { Icon } from './Icon.tsx';
import { ProgressBar } from './IndexingProgress.tsx';
import { ModelSetup } from './ModelSetup.tsx';
import { RemoteForm, RemoteStatement } from './RemoteBackend.tsx';
import { SettingsRow } from './SettingsRow.tsx';
import { LinesSkeleton } from './Skeleton.tsx';
import { ConfirmRemove } from './ConfirmRemove.tsx';

const MODEL_SETUP_HEADING_ID = 'get-model-title';

function SwitchProgress({ models, change }: { models: ModelsState; change: ModelSwitch }) {
  const to = modelName(models, change.to);
  const from = modelName(models, change.from);
  const text = `Re-embedding ${formatCount(change.done)} of ${formatCount(change.total)} with ${to} — search uses ${from} until it finishes.`;
  return (
    <div className="switch-progress" data-testid="switch-progress">
      <p role="status">{text}</p>
      <ProgressBar fraction={change.total === 0 ? 0 : change.done / change.total} label={`Re-embedding with ${to}`} valueText={`${formatCount(change.done)} of ${formatCount(change.total)}`} />
    </div>
  );
}

/** "· from /path (given for this run)" etc.: where a model in use comes from, when that is not the models folder. */
function originWords(origin: ModelOrigin): string {
  switch (origin.type) {
    case 'installed':
      return '';
    case 'folder':
      return ` · from ${origin.path} (a package folder given for this run, not in Trove's models folder)`;
    case 'server':
      return ` · on ${origin.url}`;
  }
}

function ActiveModels({ inUse, models }: { inUse: ModelStatus | null; models: ModelsState | null }) {
  if (!inUse) return <LinesSkeleton lines={4} />;
  const remote = models?.backend.type === 'remote' ? models.backend : null;
  const { embedding, reranker } = inUse;
  const packageId = embedding?.origin.type === 'installed' ? embedding.origin.packageId : null;
  const installedEmbedding = models?.installed.find((p) => p.id === packageId);
  const estimateFrom = models ? (catalogEntry(models, installedEmbedding?.catalogId ?? null) ?? catalogEntry(models, models.recommendation.embedding)) : null;
  return (
    <>
      {remote && <RemoteStatement backend={remote} />}
      {inUse.notes.map((note) => (
        <ErrorBanner key={note} title="A model could not be used" message={note} />
      ))}
      <dl className="settings-list" data-testid="models-in-use">
        <SettingsRow label="Search">
          {inUse.search === 'semantic'
            ? 'By meaning and by keyword'
            : `By keyword only (names, paths and text)${inUse.embedding ? (inUse.semanticIndex?.state === 'failed' ? ': the semantic index could not be opened' : ': the semantic index is not ready yet') : ''}`}
        </SettingsRow>
        <SettingsRow label="Search model">
          {embedding ? `${embedding.name} · ${embedding.dims} dimensions · ${embedding.precision}${originWords(embedding.origin)}` : 'None yet'}
        </SettingsRow>
        <SettingsRow label="Reranker">{reranker ? `${reranker.name} · ${reranker.precision}${originWords(reranker.origin)}` : 'None: results are not reranked'}</SettingsRow>
        <SettingsRow label="Runs on">
          {remote ? `Inference server at ${remote.url}` : models ? <HardwareLine hardware={models.hardware} model={estimateFrom} providerDetails={inUse.providerDetails} /> : '—'}
        </SettingsRow>
        {inUse.unusedVectors.map((unused) => (
          <SettingsRow key={unused.path} label="Not in use">
            {formatCount(unused.vectors)} vectors from {unused.name} ({unused.path}): search uses them again once that model is in use.
          </SettingsRow>
        ))}
      </dl>
      {models?.switching && <SwitchProgress models={models} change={models.switching} />}
    </>
  );
}

function PackageRow({ pkg, models }: { pkg: InstalledPackage; models: ModelsState }) {
  const controller = useController();
  const [confirming, setConfirming] = useState(false);
  const switchingTo = models.switching !== null && findPackage(models, models.switching.to)?.id === pkg.id;
  return (
    <li className="package-row" data-testid="package-row" data-package={pkg.id}>
      <Icon name="chip" size={20} />
      <div className="package-row__body">
        <span className="package-row__name">{pkg.name}</span>
        <span className="muted package-row__meta">
          {pkg.kind === 'embedding' ? 'Search model' : 'Reranker'} · {pkg.precision} · {formatBytes(pkg.sizeBytes)}
        </span>
      </div>
      {pkg.active ? (
        <span className="pill pill--success">In use</span>
      ) : switchingTo ? (
        <span className="pill pill--accent">Switching…</span>
      ) : confirming ? (
        <ConfirmRemove question="Delete this model from disk?" onRemove={() => void controller.removeModel(pkg.id, pkg.name)} onCancel={() => setConfirming(false)} />
      ) : (
        <span className="package-row__actions">
          <button type="button" className="button button--small" aria-label={`Activate ${pkg.name}`} onClick={() => void controller.activateModel(pkg.id)}>
            Activate
          </button>
          <button type="button" className="icon-button" aria-label={`Remove ${pkg.name}`} onClick={() => setConfirming(true)}>
            <Icon name="trash" />
          </button>
        </span>
      )}
    </li>
  );
}

/** What cancelled or failed installs downloaded: kept so a retry resumes, deletable here. */
function UnfinishedDownloads({ downloads }: { downloads: UnfinishedDownload[] }) {
  const controller = useController();
  const [confirming, setConfirming] = useState(false);
  const removable = downloads.filter((d) => !d.inUse);
  if (removable.length === 0) return null;
  const bytes = removable.reduce((sum, d) => sum + d.bytes, 0);
  return (
    <div className="unfinished-downloads" data-testid="unfinished-downloads">
      <p>
        <strong>Unfinished downloads: {formatBytes(bytes)}</strong>{' '}
        <span className="muted">
          ({removable.map((d) => d.repo).join(', ')}). Kept so that installing the model again continues where it stopped.
        </span>
      </p>
      {confirming ? (
        <ConfirmRemove
          question="Delete the unfinished downloads?"
          onRemove={() => {
            setConfirming(false);
            void controller.removeDownloads();
          }}
          onCancel={() => setConfirming(false)}
        />
      ) : (
        <button type="button" className="button button--small" onClick={() => setConfirming(true)}>
          <Icon name="trash" /> Delete
        </button>
      )}
    </div>
  );
}

function Backend({ models }: { models: ModelsState }) {
  const controller = useController();
  const [editing, setEditing] = useState(false);
  const remote = models.backend.type === 'remote' ? models.backend : null;
  return (
    <section className="card" aria-labelledby="backend-title" data-testid="settings-backend">
      <header className="card__header">
        <h2 id="backend-title">Where the models run</h2>
      </header>
      <div className="segmented" role="radiogroup" aria-label="Where the models run">
        <button type="button" role="radio" aria-checked={!remote} className={`segmented__option${remote ? '' : ' segmented__option--on'}`} onClick={() => remote && void controller.useLocal()}>
          This computer
        </button>
        <button type="button" role="radio" aria-checked={remote !== null} className={`segmented__option${remote ? ' segmented__option--on' : ''}`} onClick={() => setEditing(true)}>
          Inference server
        </button>
      </div>
      {remote && !editing && (
        <>
          <p>
            Models run on <code className="mono">{remote.url}</code>: file contents are sent there (see above).
          </p>
          <div className="form-actions">
            <button type="button" className="button button--small" onClick={() => setEditing(true)}>
              Change server
            </button>
          </div>
        </>
      )}
      {!remote && !editing && <p className="muted">Models run on this computer. Nothing leaves it.</p>}
      {editing && <RemoteForm initial={remote} onCancel={() => setEditing(false)} onDone={() => setEditing(false)} />}
    </section>
  );
}

/** Its own component so that focus asked for before it mounts ("Set up the search model") arrives. */
function ModelSetupHeading({ children }: { children: string }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useFocusRequest('model-setup', heading, (element) => {
    element.scrollIntoView({ block: 'start' });
    element.focus();
  });
  return (
    <h2 id={MODEL_SETUP_HEADING_ID} ref={heading} tabIndex={-1}>
      {children}
    </h2>
  );
}

export function ModelsSettings() {
  const controller = useController();
  const status = useAppState((s) => current(s.status));
  const modelsState = useAppState((s) => s.models);
  const models = current(modelsState);
  const inUse = modelsInUse(models, status);
  const folderModels = [inUse?.embedding, inUse?.reranker].flatMap((m) => (m?.origin.type === 'folder' ? [{ name: m.name, path: m.origin.path }] : []));

  return (
    <>
      <section className="card" aria-labelledby="model-title" data-testid="settings-model">
        <header className="card__header">
          <h2 id="model-title">Models</h2>
        </header>
        {modelsState.phase === 'error' && <ErrorBanner title="Could not read the models" message={modelsState.message} onRetry={() => void controller.refreshModels()} />}
        <ActiveModels inUse={inUse} models={models} />
      </section>

      {models && (
        <>
          <section className="card" aria-labelledby="installed-title" data-testid="installed-models">
            <header className="card__header">
              <h2 id="installed-title">Installed models</h2>
            </header>
            {folderModels.map((m) => (
              <p key={m.path} className="muted" data-testid="folder-model-note">
                In use but not installed here: {m.name}, a package folder given for this run ({m.path}). Install a model below to keep one in Trove's models folder.
              </p>
            ))}
            {models.installed.length === 0 ? (
              <p className="muted">{folderModels.length > 0 ? 'Nothing installed in the models folder yet.' : 'None yet.'}</p>
            ) : (
              <ul className="package-list">
                {models.installed.map((pkg) => (
                  <PackageRow key={pkg.id} pkg={pkg} models={models} />
                ))}
              </ul>
            )}
            <UnfinishedDownloads downloads={models.downloads} />
          </section>

          <Backend models={models} />

          <section className="card" aria-labelledby={MODEL_SETUP_HEADING_ID} data-testid="settings-get-model">
            <header className="card__header">
              <ModelSetupHeading>{inUse?.embedding ? 'Install another model' : 'Set up the search model'}</ModelSetupHeading>
            </header>
            <ModelSetup models={models} place="settings" />
          </section>
        </>
      )}
    </>
  );
}
