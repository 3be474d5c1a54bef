// One box for everything: words, an image (drop anywhere on the page, paste or pick), or both,
// plus "more like this". The image becomes a removable chip with its thumbnail; the search runs as
// you type, and typing goes on while an image is being embedded.
import { useRef, type ClipboardEvent, type KeyboardEvent } from 'react';
import { firstImageFile } from '../state/image-query-files.ts';
import { useAppState, useController } from '../state/context.tsx';
import { useFocusRequest } from '../state/focus-request.ts';
import { Icon } from './Icon.tsx';
import { useImageQuery } from './ImageDropZone.tsx';

export const SEARCH_INPUT_ID = 'search-input';
const isMac = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform);
export const MOD_KEY_LABEL = isMac ? '⌘' : 'Ctrl';

export function SearchBar({ onArrowDown, keywordOnly }: { onArrowDown: () => void; keywordOnly: boolean }) {
  const controller = useController();
  const text = useAppState((s) => s.query.text);
  const image = useAppState((s) => s.query.image);
  const likeItem = useAppState((s) => s.query.likeItem);
  const imageQuery = useImageQuery();
  const picker = useRef<HTMLInputElement>(null);
  const input = useRef<HTMLInputElement>(null);
  useFocusRequest('search', input, (element) => {
    element.focus();
    element.select();
  });

  const applyImage = (file: File | null) => imageQuery.apply(file);
  const removeImage = () => imageQuery.remove();

  function onPaste(e: ClipboardEvent) {
    const file = firstImageFile(e.clipboardData.files) ?? firstImageFile(e.clipboardData.items);
    if (file) {
      e.preventDefault();
      void applyImage(file);
    }
  }

  function onKeyDown(e: KeyboardEvent<HTMLInputElement>) {
    if (e.key === 'ArrowDown') {
      e.preventDefault();
      onArrowDown();
    } else if (e.key === 'Enter') {
      e.preventDefault();
      void controller.runSearch();
    } else if (e.key === 'Escape' && (text || image || likeItem)) {
      e.preventDefault();
      if (image) URL.revokeObjectURL(image.previewUrl);
      controller.resetQuery();
    } else if (e.key === 'Backspace' && text === '' && (image || likeItem)) {
      // Like a tag input: backspace in an empty box removes the last chip.
      if (image) removeImage();
      else controller.updateQuery({ likeItem: null });
    }
  }

  const placeholder = image
    ? 'Describe what to change or add, e.g. "but in red"'
    : keywordOnly
      ? 'Search names, paths and text…'
      : 'Search your photos, videos, PDFs and notes…';

  return (
    <div className="search-bar" data-testid="search-bar">
      <Icon name="search" size={18} />
      {likeItem && (
        <span className="chip chip--query" data-testid="like-chip">
          <Icon name="similar" />
          <span className="chip__label">Like {likeItem.name}</span>
          <button type="button" className="chip__remove" aria-label={`Remove "more like ${likeItem.name}"`} onClick={() => controller.updateQuery({ likeItem: null })}>
            <Icon name="close" size={12} />
          </button>
        </span>
      )}
      {image && (
        <span className="chip chip--query chip--image" data-testid="image-chip">
          <img src={image.previewUrl} alt="" className="chip__thumb" />
          <span className="chip__label">{image.name}</span>
          <button type="button" className="chip__remove" aria-label={`Remove image ${image.name}`} onClick={removeImage}>
            <Icon name="close" size={12} />
          </button>
        </span>
      )}
      <input
        ref={input}
        id={SEARCH_INPUT_ID}
        className="search-bar__input"
        type="search"
        autoComplete="off"
        spellCheck={false}
        aria-label="Search"
        placeholder={placeholder}
        value={text}
        onChange={(e) => controller.updateQuery({ text: e.target.value }, 'debounced')}
        onKeyDown={onKeyDown}
        onPaste={onPaste}
      />
      <button type="button" className="icon-button" title="Search by an image (or drop or paste one)" aria-label="Search by an image" onClick={() => picker.current?.click()}>
        <Icon name="image" size={18} />
      </button>
      <input
        ref={picker}
        type="file"
        accept="image/*"
        hidden
        aria-hidden="true"
        tabIndex={-1}
        onChange={(e) => {
          void applyImage(e.target.files?.[0] ?? null);
          e.target.value = '';
        }}
      />
      <kbd className="search-bar__hint" aria-hidden="true">
        {MOD_KEY_LABEL} K
      </kbd>
    </div>
  );
}
