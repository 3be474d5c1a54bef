// First run: what Trove does, one field to add a folder, and where the model stands. The model
// download step (first-run model flow) slots in as step 2 when the contract grows it.
import { current } from '../state/app-state.ts';
import { useAppState } from '../state/context.tsx';
import { AddFolderForm } from './AddFolderForm.tsx';
import { Icon } from './Icon.tsx';

export function Welcome() {
  const model = useAppState((s) => current(s.status)?.model ?? null);
  const modelReady = model?.embedding != null;
  return (
    <section className="welcome" aria-labelledby="welcome-title">
      <div className="welcome__mark" aria-hidden="true">
        <Icon name="search" size={28} />
      </div>
      <h1 id="welcome-title" className="welcome__title">
        Add a folder to start
      </h1>
      <p className="welcome__lead">
        Trove indexes the photos, videos, PDFs and notes in the folders you choose, on this computer, and lets you search them by
        words or by an image. Nothing leaves your machine.
      </p>
      <ol className="steps">
        <li className="steps__item steps__item--current">
          <span className="steps__number">1</span>
          <div className="steps__body">
            <strong>Choose folders</strong>
            <AddFolderForm autoFocus />
          </div>
        </li>
        <li className={`steps__item${modelReady ? ' steps__item--done' : ''}`}>
          <span className="steps__number">{modelReady ? <Icon name="check" size={14} /> : '2'}</span>
          <div className="steps__body">
            <strong>Search model</strong>
            <p className="muted">{model ? model.statement : 'Checking for a model…'}</p>
            {!modelReady && model && <p className="muted">Until the model is ready, you can search names, paths and text.</p>}
          </div>
        </li>
      </ol>
    </section>
  );
}
