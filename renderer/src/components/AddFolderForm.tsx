// Adding a folder by its path. In the browser a path is all we can ask for; in the desktop app a
// "Choose…" button opens the system's folder chooser and fills the same field.
import { useId, useState, type FormEvent } from 'react';
import { useController } from '../state/context.tsx';
import { ChooseFolderButton } from './ChooseFolderButton.tsx';
import { Icon } from './Icon.tsx';

function patterns(text: string): string[] {
  return text
    .split(/[\n,]/)
    .map((p) => p.trim())
    .filter(Boolean);
}

export function AddFolderForm({ autoFocus = false, compact = false }: { autoFocus?: boolean; compact?: boolean }) {
  const controller = useController();
  const id = useId();
  const [path, setPath] = useState('');
  const [include, setInclude] = useState('');
  const [exclude, setExclude] = useState('');
  const [showPatterns, setShowPatterns] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const trimmed = path.trim();
    if (!trimmed) {
      setError('Type the full path of a folder, like ~/Pictures or /home/you/Pictures.');
      return;
    }
    setBusy(true);
    setError(null);
    const failure = await controller.addRoot(trimmed, patterns(include), patterns(exclude));
    setBusy(false);
    if (failure) setError(failure);
    else {
      setPath('');
      setInclude('');
      setExclude('');
    }
  }

  return (
    <form className={`add-folder${compact ? ' add-folder--compact' : ''}`} onSubmit={submit} aria-label="Add a folder">
      <div className="add-folder__row">
        <label htmlFor={`${id}-path`} className="visually-hidden">
          Folder path
        </label>
        <input
          id={`${id}-path`}
          className="input input--mono"
          placeholder="A full path, like ~/Pictures"
          value={path}
          autoFocus={autoFocus}
          onChange={(e) => setPath(e.target.value)}
          aria-invalid={error !== null}
          aria-describedby={error ? `${id}-error` : undefined}
          spellCheck={false}
          data-testid="folder-path-input"
        />
        <ChooseFolderButton title="Add a folder to Trove" onChosen={setPath} />
        <button type="submit" className="button button--primary" disabled={busy}>
          <Icon name="plus" /> {busy ? 'Adding…' : 'Add folder'}
        </button>
      </div>
      {error && (
        <p id={`${id}-error`} className="field__error" role="alert">
          {error}
        </p>
      )}
      <button type="button" className="link-button" aria-expanded={showPatterns} onClick={() => setShowPatterns((v) => !v)}>
        {showPatterns ? 'Hide' : 'Include or exclude'} patterns
      </button>
      {showPatterns && (
        <div className="add-folder__patterns">
          <label className="field">
            <span className="field__label">Only include</span>
            <textarea className="input input--mono" rows={2} placeholder={'**/*.jpg\n**/*.pdf'} value={include} onChange={(e) => setInclude(e.target.value)} />
            <span className="field__hint">Glob patterns, one per line. Empty means everything.</span>
          </label>
          <label className="field">
            <span className="field__label">Exclude</span>
            <textarea className="input input--mono" rows={2} placeholder={'**/node_modules/**\n**/*.tmp'} value={exclude} onChange={(e) => setExclude(e.target.value)} />
            <span className="field__hint">Hidden and system files are always skipped.</span>
          </label>
        </div>
      )}
    </form>
  );
}
