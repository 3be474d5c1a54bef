// Short confirmations ("Path copied") and action failures, announced politely to screen readers.
import { useAppState, useServices } from '../state/context.tsx';

export function Toasts() {
  const toasts = useAppState((s) => s.toasts);
  const { store } = useServices();
  return (
    <div className="toasts" aria-live="polite">
      {toasts.map((t) => (
        <div key={t.id} className={`toast toast--${t.tone}`} role={t.tone === 'error' ? 'alert' : 'status'}>
          <span>{t.message}</span>
          <button type="button" className="icon-button" aria-label="Dismiss" onClick={() => store.dispatch({ type: 'toast/dismiss', id: t.id })}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
