// Whether the window is narrow enough that the preview becomes a dialog over the results (and the
// sidebar a rail of icons): the same width as the media query in styles/layout.css.
import { useSyncExternalStore } from 'react';

export const NARROW_WINDOW_QUERY = '(max-width: 960px)';

function subscribe(onChange: () => void): () => void {
  const query = window.matchMedia(NARROW_WINDOW_QUERY);
  query.addEventListener('change', onChange);
  return () => query.removeEventListener('change', onChange);
}

export function useNarrowWindow(): boolean {
  return useSyncExternalStore(
    subscribe,
    () => window.matchMedia(NARROW_WINDOW_QUERY).matches,
    () => false,
  );
}
