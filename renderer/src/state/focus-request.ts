// Focus that has to wait for an element to exist: ⌘/Ctrl-K from another view, "Set up the search
// model" from the search page. The request lives in the store; the component owning the target
// takes it in an effect, which runs after its element is in the DOM however many renders that took
// (a frame callback guessed at that, and lost the race on a slow machine).
import { useEffect, type RefObject } from 'react';
import type { FocusTarget } from './app-state.ts';
import { useAppState, useController } from './context.tsx';

export function useFocusRequest<E extends HTMLElement>(target: FocusTarget, ref: RefObject<E | null>, take: (element: E) => void): void {
  const request = useAppState((s) => s.focus);
  const controller = useController();
  useEffect(() => {
    const element = ref.current;
    if (!request || request.target !== target || !element) return;
    take(element);
    controller.focusDone(request);
    // `take` is left out: a fresh closure each render, while the request is what decides.
  }, [request, target, controller, ref]);
}
