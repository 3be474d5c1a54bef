// Embedding and reranking on an inference server (vLLM) instead of this computer. File contents
// leave the machine then, so the form says so before anything is sent, and the statement and a
// badge stay on screen for as long as the server is in use.
import { useId, useState, type FormEvent } from 'react';
import type { ModelBackend } from '#contract/common/model-setup.ts';
import { current } from '../state/app-state.ts';
import { useAppState, useController } from '../state/context.tsx';
import { Icon } from './Icon.tsx';
import { FormFooter } from './FormFooter.tsx';

type Remote = Extract<ModelBackend, { type: 'remote' }>;

export const REMOTE_DISCLOSURE = 'File contents — images, video frames and text from your folders — and your searches are sent to this server to be embedded and reranked.';

/** Shown wherever the remote backend is active. */
export function RemoteStatement({ backend }: { backend: Remote }) {
  return (
    <div className="banner banner--warning" role="note" data-testid="remote-statement">
      <Icon name="cloud" />
      <div className="banner__text">
        <strong>File contents leave this computer.</strong>
        <span className="banner__detail">
          Images, video frames and text from your folders, and your searches, are sent to <code className="mono">{backend.url}</code> ({backend.embeddingModel}
          {backend.rerankerModel ? `, ${backend.rerankerModel}` : ''}).
        </span>
      </div>
    </div>
  );
}

/** The small always-visible reminder in the sidebar; it leads to the settings. */
export function RemoteBadge() {
  const controller = useController();
  const backend = useAppState((s) => current(s.models)?.backend ?? null);
  if (backend?.type !== 'remote') return null;
  let host = backend.url;
  try {
    host = new URL(backend.url).host;
  } catch {
    // Shown as given: the engine accepted it, so it is at least readable.
  }
  return (
    <button
      type="button"
      className="remote-badge"
      data-testid="remote-badge"
      title={`Models run on ${backend.url}: file contents are sent there.`}
      onClick={() => controller.setView('settings')}
    >
      <Icon name="cloud" />
      <span className="remote-badge__text">
        <span>
          Remote models<span className="visually-hidden">: file contents are sent to</span>
        </span>
        <span className="remote-badge__host">{host}</span>
      </span>
    </button>
  );
}

function httpUrlProblem(text: string): string | null {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:' ? null : 'Use an http:// or https:// address.';
  } catch {
    return 'Type the server’s address, e.g. http://gpu-box:8000.';
  }
}

/** url, model names, optional key; the engine checks the server before switching to it. */
export function RemoteForm({ initial, onCancel, onDone }: { initial?: Remote | null; onCancel: () => void; onDone?: () => void }) {
  const controller = useController();
  const id = useId();
  const [url, setUrl] = useState(initial?.url ?? '');
  const [embeddingModel, setEmbeddingModel] = useState(initial?.embeddingModel ?? 'Qwen/Qwen3-VL-Embedding-2B');
  const [rerankerModel, setRerankerModel] = useState(initial?.rerankerModel ?? '');
  const [apiKey, setApiKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const problem = httpUrlProblem(url.trim()) ?? (embeddingModel.trim() ? null : 'Name the embedding model the server serves.');
    if (problem) {
      setError(problem);
      return;
    }
    setBusy(true);
    setError(null);
    const failure = await controller.useRemote({
      url: url.trim(),
      embeddingModel: embeddingModel.trim(),
      rerankerModel: rerankerModel.trim() || null,
      apiKey: apiKey.trim() || null,
    });
    setBusy(false);
    if (failure) setError(failure);
    else onDone?.();
  }

  return (
    <form className="remote-form" onSubmit={submit} aria-label="Use an inference server" data-testid="remote-form">
      <div className="banner banner--warning" role="note" data-testid="remote-disclosure">
        <Icon name="cloud" />
        <div className="banner__text">
          <strong>Content leaves this computer.</strong>
          <span className="banner__detail">{REMOTE_DISCLOSURE} Use only a server you trust.</span>
        </div>
      </div>
      <label className="field">
        <span className="field__label">Server address</span>
        <input
          className="input input--mono"
          type="url"
          placeholder="http://gpu-box:8000"
          value={url}
          onChange={(e) => setUrl(e.target.value)}
          aria-invalid={error !== null}
          aria-describedby={error ? `${id}-error` : undefined}
          spellCheck={false}
          autoFocus
        />
        <span className="field__hint">An OpenAI-compatible server such as vLLM.</span>
      </label>
      <div className="form-grid">
        <label className="field">
          <span className="field__label">Embedding model</span>
          <input className="input input--mono" value={embeddingModel} onChange={(e) => setEmbeddingModel(e.target.value)} spellCheck={false} />
        </label>
        <label className="field">
          <span className="field__label">Reranker model (optional)</span>
          <input
            className="input input--mono"
            placeholder="Qwen/Qwen3-VL-Reranker-2B"
            value={rerankerModel}
            onChange={(e) => setRerankerModel(e.target.value)}
            spellCheck={false}
          />
        </label>
      </div>
      <label className="field">
        <span className="field__label">API key (optional)</span>
        <input className="input input--mono" type="password" autoComplete="off" value={apiKey} onChange={(e) => setApiKey(e.target.value)} />
      </label>
      <FormFooter errorId={`${id}-error`} error={error} busy={busy} submitLabel="Use this server" busyLabel="Checking the server…" onBack={onCancel} />
    </form>
  );
}
