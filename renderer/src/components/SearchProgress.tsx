// A search by image waits for the model to embed the picture: seconds on a CPU. Say so while it
// runs, offer to stop waiting (the image leaves the query; its late answer is dropped by the search
// sequence number), and keep the box usable: typing changes the query and starts a newer search.
import { useAppState } from '../state/context.tsx';
import { useImageQuery } from './ImageDropZone.tsx';

export function SearchProgress() {
  const image = useAppState((s) => s.query.image);
  const loading = useAppState((s) => s.search.result.phase === 'loading');
  const imageQuery = useImageQuery();
  if (!loading || !image) return null;
  return (
    <div className="search-progress" role="status" data-testid="search-progress">
      <span className="spinner" aria-hidden="true" />
      <span className="search-progress__text">
        Embedding your image <strong>{image.name}</strong>… <span className="muted">You can keep typing.</span>
      </span>
      <button type="button" className="button button--small button--ghost" onClick={() => imageQuery.remove()} aria-label={`Cancel the search by ${image.name}`}>
        Cancel
      </button>
    </div>
  );
}
