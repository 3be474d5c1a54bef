// Searching by an image: the one way to turn a dropped, pasted or picked file into the query's
// image chip, and the drop zone. The search page invites a drop ("Drop or paste an image"), so the
// whole window takes one while it is shown, with an overlay saying what will happen; a drop that
// misses the search box no longer makes the browser navigate away to the file.
import { useEffect, useRef, useState } from 'react';
import { firstImageFile, imageQueryFromFile } from '../lib/files.ts';
import { useAppState, useController } from '../state/context.tsx';
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

/** Window-wide drop target while mounted; the overlay shows while files are dragged over the window. */
export function ImageDropZone() {
  const controller = useController();
  const imageQuery = useImageQuery();
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
      if (!carriesFiles(e)) return;
      e.preventDefault();
      if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
    };
    const onLeave = (e: DragEvent) => {
      if (!carriesFiles(e)) return;
      depth.current = Math.max(0, depth.current - 1);
      if (depth.current === 0) setDragging(false);
    };
    const onDrop = (e: DragEvent) => {
      if (!carriesFiles(e)) return;
      e.preventDefault();
      depth.current = 0;
      setDragging(false);
      const file = firstImageFile(e.dataTransfer?.files);
      if (file) void apply.current(file);
      else controller.toast('Only an image can be a query: drop a photo or a picture (PNG, JPEG, WebP, …).', 'error');
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
  }, [controller]);

  if (!dragging) return null;
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
