// What a video file becomes in the library: one whole-video item plus one `moment` item per
// window of about 16 s, each embedded as a video clip (qwen-vl-utils `video_start`/`video_end`
// sampling, see model-inputs/common/video-window.ts) and each with a WebP thumbnail of the keyframe
// nearest its middle (the middle frame itself when the file cannot be seek-indexed).
//
// Why moments: at the reference budget (fps 1, up to 768 merged tokens per frame pair) every video
// of 720p or more costs 720 tokens per 2 s, and the embedder reads at most 8,192 tokens, so only
// about 22 s fit in one input. A 16 s moment is 8 temporal groups ≈ 5,840 tokens, leaving room for
// the prompt. The whole-video item is sampled with at most 16 frames spread over the whole file
// (same cost as one moment) so that it always fits, whatever the length. Numbers: docs/videos.md.
//
// Thumbnails are shown to people, so they are upright: ffmpeg applies the display-matrix rotation
// while decoding (as decord does for the model input), so the decoded frames already are. They are
// decoded like the moments' frames: each from the keyframe before it where that skips enough
// (video-frames.ts), so a long video costs an ffmpeg start plus at most a keyframe interval per
// thumbnail instead of a decode up to its last moment.
import sharp from 'sharp';
import { videoFrameRange } from '../../model-inputs/common/video-window.ts';
import type { VideoClip } from '../../model-inputs/node/video-preprocess.ts';
import { decodeFramesByNumber, type DecodeTuning } from '../../media/node/video-frames.ts';
import { locateFfmpeg } from '../../media/node/ffmpeg-locate.ts';
import { probeVideo, runCapture, type VideoProbe } from '../../media/node/video-probe.ts';
import type { RgbImage } from '../../media/common/vision-types.ts';
import type { NewItem, Thumbnail } from '../../store/node/items-repo.ts';
import type { PreparedFile, PreparedItem } from './prepared-file.ts';

/** Moment length in seconds (chosen by measurement, docs/videos.md). */
export const DEFAULT_MOMENT_SECONDS = 16;
/** Frames the whole-video item samples at most: 8 temporal groups, the same token cost as a moment. */
export const DEFAULT_WHOLE_VIDEO_MAX_FRAMES = 16;
export const DEFAULT_VIDEO_THUMBNAIL_SIZE = 320;

export interface PrepareVideoOptions {
  /** Target moment length; the video is cut into equal windows no longer than this. */
  readonly momentSeconds?: number;
  readonly wholeVideoMaxFrames?: number;
  /** Longest side of the thumbnails in pixels (smaller frames are not enlarged). */
  readonly thumbnailSize?: number;
  readonly signal?: AbortSignal;
  /** Limit for decoding the thumbnails; default 10 minutes. */
  readonly timeoutMs?: number;
  /** Seeking and its observer for the thumbnail decode (video-frames.ts); defaults suit everyone. */
  readonly decode?: DecodeTuning;
}

/** A video that cannot be indexed; the message says why and what to do. */
export class VideoExtractError extends Error {
  override readonly name = 'VideoExtractError';
}

export interface MomentWindow {
  readonly start: number;
  readonly end: number;
}

const ms = (seconds: number): number => Math.round(seconds * 1000) / 1000;

/**
 * Cuts [0, duration] into the fewest equal windows no longer than `momentSeconds`, with no gaps:
 * equal windows avoid a last moment of a second or two that would be mostly padding frames.
 * A video no longer than one window gets no moments: its whole-video item already is that moment.
 */
export function planMomentWindows(durationSeconds: number, momentSeconds: number = DEFAULT_MOMENT_SECONDS): MomentWindow[] {
  if (!(momentSeconds > 0)) throw new RangeError(`Moment length must be positive, got ${momentSeconds} s.`);
  if (!(durationSeconds > 0)) return [];
  const count = Math.ceil(durationSeconds / momentSeconds - 1e-9);
  if (count < 2) return [];
  const length = durationSeconds / count;
  return Array.from({ length: count }, (_, i) => ({ start: ms(i * length), end: i === count - 1 ? durationSeconds : ms((i + 1) * length) }));
}

/** Container `creation_time` (ffprobe format tags, else the video stream's) as epoch ms; null when absent or zero. */
async function readCreationTime(ffprobe: string, file: string, signal: AbortSignal | undefined): Promise<number | null> {
  let json: string;
  try {
    json = await runCapture(ffprobe, ['-v', 'error', '-show_entries', 'format_tags=creation_time:stream_tags=creation_time', '-of', 'json', '--', file], { signal, timeoutMs: 30_000 });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    return null; // the probe already read this file; a missing date is not a reason to fail it
  }
  const parsed = JSON.parse(json) as { format?: { tags?: Record<string, string> }; streams?: { tags?: Record<string, string> }[] };
  const text = parsed.format?.tags?.creation_time ?? parsed.streams?.find((s) => s.tags?.creation_time)?.tags?.creation_time;
  if (!text) return null;
  const when = Date.parse(text);
  // Cameras with an unset clock write 1904/1970 epochs; those say nothing about when it was filmed.
  return Number.isFinite(when) && when > Date.UTC(1971, 0, 1) ? when : null;
}

async function webpThumbnail(frame: RgbImage, size: number): Promise<Thumbnail> {
  const { data, info } = await sharp(frame.data, { raw: { width: frame.width, height: frame.height, channels: 3 } })
    .resize({ width: size, height: size, fit: 'inside', withoutEnlargement: true })
    .webp({ quality: 80 })
    .toBuffer({ resolveWithObject: true });
  return { mime: 'image/webp', width: info.width, height: info.height, bytes: data };
}

/** Frame number in the middle of a window, as the window's frames are counted for sampling. */
function middleFrame(probe: VideoProbe, window?: MomentWindow): number {
  const range = videoFrameRange(probe.totalFrames, probe.fps, window ?? {});
  return Math.floor((range.startFrame + range.endFrame) / 2);
}

/**
 * The frame a thumbnail shows: the keyframe nearest the window's middle when one lies inside the
 * window (decoding it costs one frame after the seek, so an hour of 1080p with long keyframe
 * intervals stays well inside the per-file time limit), else the middle frame itself. Thumbnails
 * are for people; the model input is sampled exactly as before.
 */
export function thumbnailFrame(probe: VideoProbe, middle: number, window: { startFrame: number; endFrame: number }): number {
  const index = probe.packets;
  if (!index || index.unseekable !== null || index.keyframe.length !== probe.totalFrames) return middle;
  for (let distance = 0; distance <= Math.max(middle - window.startFrame, window.endFrame - middle); distance++) {
    const before = middle - distance;
    const after = middle + distance;
    if (before >= window.startFrame && index.keyframe[before]) return before;
    if (after <= window.endFrame && index.keyframe[after]) return after;
  }
  return middle;
}

async function decodeThumbnails(file: string, probe: VideoProbe, frames: readonly number[], options: PrepareVideoOptions): Promise<Map<number, Thumbnail>> {
  const size = options.thumbnailSize ?? DEFAULT_VIDEO_THUMBNAIL_SIZE;
  const out = new Map<number, Thumbnail>();
  // One decode call for all thumbnails (it seeks between them); each raw frame is encoded and
  // dropped as it arrives.
  const decoded = decodeFramesByNumber(file, probe, frames, { ...options.decode, signal: options.signal, timeoutMs: options.timeoutMs });
  for await (const { index, image } of decoded) out.set(index, await webpThumbnail(image, size));
  return out;
}

export async function prepareVideoFile(file: { path: string; kind: string; mtimeMs: number }, options: PrepareVideoOptions = {}): Promise<PreparedFile> {
  const { ffprobe } = await locateFfmpeg();
  const probe = await probeVideo(file.path, { signal: options.signal, timeoutMs: 60_000 });
  if (probe.totalFrames < 2) {
    throw new VideoExtractError(`Video '${file.path}' has only ${probe.totalFrames} frame; a video needs at least 2 to be embedded. Save that frame as an image to index it.`);
  }
  // Windows are laid out on the decoder's frame timeline (frames / average fps), the one the
  // sampler clamps to, so every window maps to frames that exist.
  const frameDuration = probe.totalFrames / probe.fps;
  const duration = Number.isFinite(probe.durationSeconds) && probe.durationSeconds > 0 ? probe.durationSeconds : frameDuration;
  if (!(frameDuration > 0)) throw new VideoExtractError(`Video '${file.path}' has zero duration; it is empty or damaged. Re-export or re-download it.`);
  const dateTaken = await readCreationTime(ffprobe, file.path, options.signal);
  const windows = planMomentWindows(frameDuration, options.momentSeconds ?? DEFAULT_MOMENT_SECONDS);

  const wholeFrame = thumbnailFrame(probe, middleFrame(probe), { startFrame: 0, endFrame: probe.totalFrames - 1 });
  const momentFrames = windows.map((w) => thumbnailFrame(probe, middleFrame(probe, w), videoFrameRange(probe.totalFrames, probe.fps, w)));
  const thumbnails = await decodeThumbnails(file.path, probe, [...new Set([wholeFrame, ...momentFrames])].sort((a, b) => a - b), options);

  const date = dateTaken ?? file.mtimeMs;
  const wholeClip: VideoClip = { path: file.path, maxFrames: options.wholeVideoMaxFrames ?? DEFAULT_WHOLE_VIDEO_MAX_FRAMES };
  const whole: NewItem = { kind: 'video', locator: { type: 'time', start: 0, end: ms(frameDuration) }, date, thumbnail: thumbnails.get(wholeFrame) ?? null };
  const items: PreparedItem[] = [{ item: whole, embed: { videos: [wholeClip] } }];
  windows.forEach((w, i) => {
    const item: NewItem = { kind: 'moment', locator: { type: 'time', start: w.start, end: ms(w.end) }, date, thumbnail: thumbnails.get(momentFrames[i]) ?? null };
    items.push({ item, embed: { videos: [{ path: file.path, start: w.start, end: w.end }] } });
  });
  return {
    items,
    dateTaken,
    metadata: {
      duration: ms(duration),
      fps: Math.round(probe.fps * 1000) / 1000,
      width: probe.width,
      height: probe.height,
      rotation: probe.rotation,
      codec: probe.codec,
      frames: probe.totalFrames,
      moments: windows.length,
    },
  };
}
