// "Choose another…" and "Use files I already have": the four catalog models with their sizes, the
// ones this machine cannot run greyed out with the reason (lib/model-fit.ts), and checkpoint
// folders per model for an install that downloads nothing.
import { useId, useState, type FormEvent } from 'react';
import type { ApiParams } from '#contract/common/api-methods.ts';
import type { CatalogModel, ModelsState } from '#contract/common/model-setup.ts';
import { formatBytes } from '../lib/format.ts';
import { modelFit } from '../lib/model-fit.ts';
import { useController } from '../state/context.tsx';
import { activePackage } from '../state/models.ts';
import { ChooseFolderButton } from './ChooseFolderButton.tsx';
import { ErrorBanner } from './ErrorBanner.tsx';
import { FormFooter } from './FormFooter.tsx';

type Kind = CatalogModel['kind'];

const KIND_TITLES: Record<Kind, string> = { embedding: 'Search model (embedding)', reranker: 'Reranker (optional, sharpens the order)' };

function ModelOption({ model, models, name, checked, onPick }: { model: CatalogModel; models: ModelsState; name: string; checked: boolean; onPick: () => void }) {
  const id = useId();
  const fit = modelFit(models, model);
  const recommended = model.id === models.recommendation.embedding || model.id === models.recommendation.reranker;
  return (
    <label className={`model-option${fit.fits ? '' : ' model-option--unfit'}`} data-testid="model-option" data-model={model.id}>
      <input type="radio" name={name} value={model.id} checked={checked} disabled={!fit.fits} onChange={onPick} aria-describedby={`${id}-facts${fit.reason ? ` ${id}-reason` : ''}`} />
      <span className="model-option__body">
        <span className="model-option__title">
          {model.title}
          {recommended && <span className="pill pill--accent">Recommended</span>}
        </span>
        <span className="muted">{model.summary}</span>
        <span className="muted">{model.speed}</span>
        <span id={`${id}-facts`} className="model-option__facts">
          {formatBytes(model.downloadBytes)} download · {formatBytes(fit.memoryBytes)} memory at {fit.precision}
        </span>
        {fit.reason && (
          <span id={`${id}-reason`} className="model-option__reason">
            {fit.reason}
          </span>
        )}
      </span>
    </label>
  );
}

function NoneOption({ name, label, hint, checked, onPick }: { name: string; label: string; hint: string; checked: boolean; onPick: () => void }) {
  return (
    <label className="model-option" data-testid="model-option">
      <input type="radio" name={name} value="" checked={checked} onChange={onPick} />
      <span className="model-option__body">
        <span className="model-option__title">{label}</span>
        <span className="muted">{hint}</span>
      </span>
    </label>
  );
}

/** The recommended model when it fits, else the first that does; null when none does. */
function initialChoice(models: ModelsState, kind: Kind): string | null {
  const ofKind = models.catalog.filter((m) => m.kind === kind);
  const recommended = kind === 'embedding' ? models.recommendation.embedding : models.recommendation.reranker;
  const fitting = ofKind.filter((m) => modelFit(models, m).fits);
  if (kind === 'reranker' && recommended === null) return null;
  return fitting.find((m) => m.id === recommended)?.id ?? fitting[0]?.id ?? null;
}

export function ModelPicker({ models, onBack }: { models: ModelsState; onBack: () => void }) {
  const controller = useController();
  const id = useId();
  const current = activePackage(models, 'embedding');
  const [embedding, setEmbedding] = useState<string | null>(() => (current ? null : initialChoice(models, 'embedding')));
  const [reranker, setReranker] = useState<string | null>(() => initialChoice(models, 'reranker'));
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const chosen = models.catalog.filter((m) => m.id === embedding || m.id === reranker);
  const blocked = models.offline || chosen.length === 0;
  // The recommended pair keeps the recommendation's precision (it may step down to fit both);
  // any other choice is built at the precision the engine picks for this machine.
  const { recommendation } = models;
  const precision = embedding === recommendation.embedding && reranker === recommendation.reranker ? recommendation.precision : null;

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (blocked) return;
    setBusy(true);
    setError(null);
    setError(await controller.installModels({ embedding, reranker, precision, source: { type: 'hub' } }));
    setBusy(false);
  }

  const group = (kind: Kind) => (
    <fieldset className="model-group">
      <legend className="model-group__legend">{KIND_TITLES[kind]}</legend>
      {kind === 'embedding' && current && (
        <NoneOption name={`${id}-embedding`} label={`Keep ${current.name}`} hint="The model in use now." checked={embedding === null} onPick={() => setEmbedding(null)} />
      )}
      {models.catalog
        .filter((m) => m.kind === kind)
        .map((m) => (
          <ModelOption
            key={m.id}
            model={m}
            models={models}
            name={`${id}-${kind}`}
            checked={(kind === 'embedding' ? embedding : reranker) === m.id}
            onPick={() => (kind === 'embedding' ? setEmbedding(m.id) : setReranker(m.id))}
          />
        ))}
      {kind === 'reranker' && <NoneOption name={`${id}-reranker`} label="No reranker" hint="Smaller and faster; results are ordered by similarity alone." checked={reranker === null} onPick={() => setReranker(null)} />}
    </fieldset>
  );

  return (
    <form className="model-picker" onSubmit={submit} aria-label="Choose a model" data-testid="model-picker">
      {group('embedding')}
      {group('reranker')}
      {models.offline && <p className="muted">Downloads are off (offline mode). Use files you already have instead.</p>}
      {error && <ErrorBanner title="Could not start the download" message={error} />}
      <div className="form-actions">
        <button type="submit" className="button button--primary" disabled={blocked || busy}>
          {busy ? 'Starting…' : `Download and set up${chosen.length > 0 ? ` (${formatBytes(chosen.reduce((s, m) => s + m.downloadBytes, 0))})` : ''}`}
        </button>
        <button type="button" className="button button--ghost" onClick={onBack}>
          Back
        </button>
      </div>
    </form>
  );
}

/** Checkpoint folders per catalog model: at most one of each kind, at least one model. */
export function FoldersForm({ models, onBack }: { models: ModelsState; onBack: () => void }) {
  const controller = useController();
  const id = useId();
  const [folders, setFolders] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const given = models.catalog.filter((m) => (folders[m.id] ?? '').trim() !== '');
    const byKind = (kind: Kind) => given.filter((m) => m.kind === kind);
    if (given.length === 0) return setError('Give the folder of at least one model.');
    if (byKind('embedding').length > 1 || byKind('reranker').length > 1) return setError('Give one search model and at most one reranker.');
    const request: ApiParams<'models.install'> = {
      embedding: byKind('embedding')[0]?.id ?? null,
      reranker: byKind('reranker')[0]?.id ?? null,
      source: { type: 'folders', folders: Object.fromEntries(given.map((m) => [m.id, folders[m.id]!.trim()])) },
    };
    setBusy(true);
    setError(null);
    setError(await controller.installModels(request));
    setBusy(false);
  }

  return (
    <form className="model-picker" onSubmit={submit} aria-label="Use files I already have" data-testid="folders-form">
      <p className="muted">
        Point Trove at checkpoints you already downloaded: a folder with <code className="mono">config.json</code> and the <code className="mono">.safetensors</code> files (a
        Hugging Face snapshot folder works). Nothing is downloaded; Trove checks the files and builds the model for this computer.
      </p>
      {models.catalog.map((m) => (
        <label key={m.id} className="field">
          <span className="field__label">{m.title} folder</span>
          <input
            className="input input--mono"
            placeholder={`/home/you/models/${m.repo.split('/').pop() ?? m.id}`}
            value={folders[m.id] ?? ''}
            onChange={(e) => setFolders({ ...folders, [m.id]: e.target.value })}
            aria-describedby={error ? `${id}-error` : undefined}
            spellCheck={false}
          />
          <ChooseFolderButton title={`The ${m.title} checkpoint folder`} onChosen={(chosen) => setFolders({ ...folders, [m.id]: chosen })} />
        </label>
      ))}
      <FormFooter errorId={`${id}-error`} error={error} busy={busy} submitLabel="Set up from these folders" busyLabel="Starting…" onBack={onBack} />
    </form>
  );
}
