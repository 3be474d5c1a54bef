// The item itself, as large as the pane allows: the photo, the video at the matching moment, the
// PDF page drawn at a readable size (the preview rendering, not the tile thumbnail), or the text
// with the matching passage marked.
import { useEffect, useRef, useState } from 'react';
import type { ItemDetail } from '#contract/common/entities.ts';
import { formatTimestamp } from '../lib/format.ts';
import { useServices } from '../state/context.tsx';
import { Highlighted } from './Highlighted.tsx';

function VideoAtMoment({ src, start, end }: { src: string; start: number; end: number }) {
  const video = useRef<HTMLVideoElement>(null);
  const [unplayable, setUnplayable] = useState(false);
  // The media fragment (#t=) seeks where supported; setting currentTime covers the rest.
  useEffect(() => {
    const v = video.current;
    if (v && v.readyState >= 1) v.currentTime = start;
  }, [start]);
  if (unplayable) {
    // Codecs the browser lacks (many .avi/.mkv files) still open fine in the system's player.
    return (
      <div className="media media--video media--unplayable" role="status">
        <p>This video cannot play inside Trove.</p>
        <p className="muted">
          The matching moment is {formatTimestamp(start)}–{formatTimestamp(end)}: use “Open at {formatTimestamp(start)}” to watch it in your video app.
        </p>
      </div>
    );
  }
  return (
    <div className="media media--video">
      <video
        onError={() => setUnplayable(true)}
        ref={video}
        controls
        preload="metadata"
        src={`${src}#t=${start}`}
        onLoadedMetadata={(e) => {
          e.currentTarget.currentTime = start;
        }}
        data-testid="preview-video"
      />
      <div className="media__caption">
        Matching moment {formatTimestamp(start)}–{formatTimestamp(end)}
        <button
          type="button"
          className="button button--small button--ghost"
          onClick={() => {
            const v = video.current;
            if (!v) return;
            v.currentTime = start;
            void v.play().catch(() => undefined);
          }}
        >
          Play from {formatTimestamp(start)}
        </button>
      </div>
    </div>
  );
}

/** The picture sources to try in turn: when one cannot be shown, the next one is. */
function useFallbacks(sources: string[]): { src: string; next: () => void } {
  const [at, setAt] = useState(0);
  return { src: sources[Math.min(at, sources.length - 1)]!, next: () => setAt((i) => Math.min(i + 1, sources.length - 1)) };
}

/**
 * A PDF page at a readable size. Drawing it takes the engine a moment (up to seconds for a busy
 * page on a slow machine), so the stored thumbnail stands in until the preview rendering arrives,
 * and stays if it cannot be drawn.
 */
function PageView({ detail, page, large }: { detail: ItemDetail; page: number; large: boolean }) {
  const { mediaUrl } = useServices();
  const [rendering, setRendering] = useState<'loading' | 'ready' | 'failed'>('loading');
  return (
    <div className="media media--page" aria-busy={rendering === 'loading'}>
      {rendering !== 'ready' && <img src={mediaUrl('thumb', detail.itemId)} alt={rendering === 'failed' ? `${detail.name}, page ${page}` : ''} className="media__stand-in" />}
      {rendering !== 'failed' && (
        <img
          src={mediaUrl('preview', detail.itemId)}
          alt={`${detail.name}, page ${page}`}
          hidden={rendering !== 'ready'}
          onLoad={() => setRendering('ready')}
          onError={() => setRendering('failed')}
          data-testid="preview-page"
        />
      )}
      {detail.text && large && <p className="media__page-text">{detail.text}</p>}
    </div>
  );
}

export function MediaView({ detail, queryText, large }: { detail: ItemDetail; queryText: string; large: boolean }) {
  const { mediaUrl } = useServices();
  const loc = detail.locator;
  // Photos: the file itself (full resolution); formats the browser cannot show (HEIC, TIFF) as the
  // engine's preview rendering; the stored thumbnail last.
  const picture = useFallbacks([mediaUrl('file', detail.itemId), mediaUrl('preview', detail.itemId), mediaUrl('thumb', detail.itemId)]);

  if (detail.kind === 'image') {
    return (
      <div className="media media--image">
        <img src={picture.src} alt={detail.name} onError={picture.next} data-testid="preview-image" />
      </div>
    );
  }
  if (detail.kind === 'video') {
    const start = loc.type === 'time' ? loc.start : 0;
    const end = loc.type === 'time' ? loc.end : 0;
    return <VideoAtMoment src={mediaUrl('file', detail.itemId)} start={start} end={end} />;
  }
  if (detail.kind === 'pdf' && loc.type === 'page') return <PageView detail={detail} page={loc.page} large={large} />;
  const text = detail.text ?? (loc.type === 'text' ? loc.snippet : null);
  return (
    <div className="media media--text" data-testid="preview-text">
      {text ? (
        <blockquote className="passage">
          <Highlighted text={text} query={queryText} />
        </blockquote>
      ) : (
        <p className="muted">No text preview for this file.</p>
      )}
    </div>
  );
}
