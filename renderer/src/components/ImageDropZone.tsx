// Searching by an image: the one way to turn a dropped, pasted or picked file into the query's
// image chip, and the window's drop guard. Whatever view is shown, nothing dropped on Trove makes
// the browser (or the app's window) navigate away to the dropped file or link: as in Photos or
// Spotlight, a picture dropped anywhere becomes the query (Trove goes to the search page, with an
// overlay saying so while it is dragged), and anything else is refused with a sentence saying what
// a drop can do. Text dragged into a text field is left to the field.
import { useEffect, useRef, useState } from 'react';
import { firstImageFile, imageQueryFromFile } from '../state/image-query-files.ts';
import { welcomeStage, type AppState } from '../state/app-state.ts';
import { useAppState, useController, useServices } from '../state/context.tsx';
import { messageOf } from '../state/controller.ts';
import { Icon } from './Icon.tsx';

/** Sets or clears the query's image, releasing the chip's object URL of the image it replaces. */
export function useImageQuery() {
  const controller = useController();
  const image = useAppState((s) => s.query.image);
  return {
    async apply(file: File | null) {
      if (!file) return;
      try {
        const query = await imageQueryFromFile(file);
        if (image) URL.revokeObjectURL(image.previewUrl);
        controller.updateQuery({ image: query, likeItem: null });
      } catch (e) {
        controller.toast(messageOf(e), 'error');
      }
    },
    remove() {
      if (image) URL.revokeObjectURL(image.previewUrl);
      controller.updateQuery({ image: null });
    },
  };
}

function carriesFiles(e: DragEvent): boolean {
  return e.dataTransfer?.types.includes('Files') ?? false;
}

/** A text field takes dragged text (or a link) as typing; everywhere else a drop would navigate. */
function isTextField(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable || target instanceof HTMLTextAreaElement) return true;
  return target instanceof HTMLInputElement && !['button', 'checkbox', 'radio', 'range', 'file', 'submit', 'reset', 'color'].includes(target.type);
}

/** A folder among the dropped items (the browser gives a folder as a File with no type). */
function carriesFolder(transfer: DataTransfer | null): boolean {
  if (!transfer) return false;
  return [...transfer.items].some((item) => item.kind === 'file' && (item.webkitGetAsEntry?.()?.isDirectory ?? false));
}

/**
 * Whether an image dropped now can become the query, or why not. The search page itself takes it
 * once the welcome is over: before a folder is added there is nothing to search, and while the
 * model is being chosen search by image cannot run yet.
 */
export function imageDropRefusal(state: AppState): string | null {
  switch (welcomeStage(state)) {
    case null:
    // The welcome's last step (indexing) hands over to the search page: a drop does the same.
    case 'indexing':
      return null;
    case 'folders':
      return 'Add a folder first; then drop an image to find what looks like it in your files.';
    case 'model':
      return 'Search by image starts once the search model is set up: finish this step, then drop the image again.';
    case 'loading':
      return 'Trove is still opening your library; drop the image again in a moment.';
  }
}

/** Window-wide while the app runs; the overlay shows while files are dragged over the window. */
export function ImageDropZone() {
  const controller = useController();
  const { store } = useServices();
  const imageQuery = useImageQuery();
  const takesImages = useAppState((s) => imageDropRefusal(s) === null);
  const [dragging, setDragging] = useState(false);
  // dragenter/dragleave fire for every element crossed: count them to know when the drag left the window.
  const depth = useRef(0);
  const apply = useRef(imageQuery.apply);
  apply.current = imageQuery.apply;

  useEffect(() => {
    const onEnter = (e: DragEvent) => {
      if (!carriesFiles(e)) return;
      e.preventDefault();
      depth.current += 1;
      setDragging(true);
    };
    const onOver = (e: DragEvent) => {
      if (!carriesFiles(e)) {
        // A link or text from elsewhere: a text field takes it; anywhere else it would replace the page.
        if (isTextField(e.target)) return;
        e.preventDefault();
        if (e.dataTransfer) e.dataTransfer.dropEffect = 'none';
        return;
      }
      e.preventDefault();
      if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
    };
    const onLeave = (e: DragEvent) => {
      if (!carriesFiles(e)) return;
      depth.current = Math.max(0, depth.current - 1);
      if (depth.current === 0) setDragging(false);
    };
    const onDrop = (e: DragEvent) => {
      if (!carriesFiles(e)) {
        if (!isTextField(e.target)) e.preventDefault();
        return;
      }
      e.preventDefault();
      depth.current = 0;
      setDragging(false);
      const file = firstImageFile(e.dataTransfer?.files);
      if (!file) {
        controller.toast(
          carriesFolder(e.dataTransfer)
            ? 'A folder dropped here is not added: add it under Folders (type its path, or choose it). Drop an image to search by it.'
            : 'Only an image can be a query: drop a photo or a picture (PNG, JPEG, WebP, …).',
          'error',
        );
        return;
      }
      const state = store.getState();
      const refusal = imageDropRefusal(state);
      if (refusal) {
        controller.toast(refusal, 'error');
        return;
      }
      if (welcomeStage(state) === 'indexing') controller.finishWelcome();
      if (state.view !== 'search') controller.setView('search');
      void apply.current(file);
    };
    window.addEventListener('dragenter', onEnter);
    window.addEventListener('dragover', onOver);
    window.addEventListener('dragleave', onLeave);
    window.addEventListener('drop', onDrop);
    return () => {
      window.removeEventListener('dragenter', onEnter);
      window.removeEventListener('dragover', onOver);
      window.removeEventListener('dragleave', onLeave);
      window.removeEventListener('drop', onDrop);
    };
  }, [controller, store]);

  if (!dragging || !takesImages) return null;
  return (
    <div className="drop-overlay" data-testid="drop-overlay" aria-hidden="true">
      <div className="drop-overlay__panel">
        <Icon name="image" size={28} />
        <strong>Drop an image to search by what it shows</strong>
        <span className="muted">It joins the words in the box, if any.</span>
      </div>
    </div>
  );
}
