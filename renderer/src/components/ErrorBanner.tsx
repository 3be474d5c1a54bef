// A failure the user can act on: the engine's own message, and a retry when one makes sense.
import { Icon } from './Icon.tsx';

export function ErrorBanner({ title, message, onRetry }: { title: string; message: string; onRetry?: () => void }) {
  return (
    <div className="banner banner--error" role="alert">
      <Icon name="warning" />
      <div className="banner__text">
        <strong>{title}</strong>
        <span className="banner__detail">{message}</span>
      </div>
      {onRetry && (
        <button type="button" className="button button--small" onClick={onRetry}>
          <Icon name="retry" /> Retry
        </button>
      )}
    </div>
  );
}
