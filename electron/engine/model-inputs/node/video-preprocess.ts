// Video → `pixel_values_videos` + grid + timestamps, as qwen-vl-utils and the HF processor build
// them for Qwen3-VL-Embedding (docs/qwen3-vl-model.md#video-inputs): sample → decode → torchvision resize → patchify.
import { patchify } from '../common/patchify.ts';
import { resizeBicubicPillow } from '../common/pillow-resize.ts';
import { IMAGE_FACTOR, PATCH_SIZE } from '../../../../native-models/checkpoint/common/qwen3vl-constants.ts';
import { smartResize } from '../common/smart-resize.ts';
import { resizeBicubicTorchvision } from '../common/torchvision-resize.ts';
import {
  checkVideoTokenBudget,
  frameListTimeline,
  padToEvenFrameCount,
  subsampleFrameList,
  temporalGroupTimestamps,
  videoFrameTargetSize,
  type FrameCountOptions,
  type VideoTokenEstimate,
} from '../common/video-sampling.ts';
import { planWindowSampling, type VideoFrameRange, type VideoTimeWindow } from '../common/video-window.ts';
import type { GridThw, RgbImage } from '../../media/common/vision-types.ts';
import { decodeImage } from '../../media/node/image-decode.ts';
import { decodeFramesByNumber, type DecodeTuning } from '../../media/node/video-frames.ts';
import { probeVideo, type VideoProbe } from '../../media/node/video-probe.ts';

export interface TokenBudgetOptions {
  /** Tokens the rest of the prompt takes; default 0. */
  readonly otherTokens?: number;
  /** Sequence limit; default 8,192 (the embedder's). */
  readonly maxLength?: number;
}

/**
 * A video file, or a moment of one: only frames inside [start, end] seconds are sampled, with
 * qwen-vl-utils' `video_start` / `video_end` rules (common/video-window.ts); `maxFrames` caps the
 * sampled frames (e.g. to fit a long video's whole-file item into the token budget).
 */
export interface VideoClip extends VideoTimeWindow {
  readonly path: string;
  readonly maxFrames?: number;
}

/** What the embedder and reranker accept as one video: a path (the whole file) or a clip. */
export type VideoInput = string | VideoClip;

export interface PreprocessVideoOptions extends FrameCountOptions, VideoTimeWindow {
  readonly signal?: AbortSignal;
  /** Decode time limit for the file; default 10 minutes. */
  readonly timeoutMs?: number;
  /**
   * Refuse, before decoding, videos whose tokens cannot fit (the reference fails on them after
   * truncation). Default: checked against 8,192. `false` skips the check (e.g. for the reranker).
   */
  readonly tokenBudget?: TokenBudgetOptions | false;
  /** Seeking and its observer for the frame decode (video-frames.ts); defaults suit everyone. */
  readonly decode?: DecodeTuning;
}

export interface PreprocessedVideo {
  /** Frames as decord counts them (1 for each listed frame in a frame list, before padding). */
  readonly totalFrames: number;
  /** fps the timestamps use: decoder average fps (files) or 2.0 (frame lists). */
  readonly fps: number;
  readonly frameIndices: number[];
  /** One `<t seconds>` value per temporal group, Python `.1f` text. */
  readonly timestamps: string[];
  /** `[height, width]` of the (upright) source frames; for a frame list, of its first frame as given. */
  readonly original: [number, number];
  /** `[height, width]` after resizing. */
  readonly resized: [number, number];
  readonly gridThw: GridThw;
  readonly pixelValues: Float32Array;
  readonly tokens: VideoTokenEstimate | null;
  /** Trailing frames repeated because the file's tail did not decode (0 for healthy files). */
  readonly substitutedFrames: number;
  readonly probe?: VideoProbe;
  /** Frames of the file the sampled window covers (the whole file when no start/end was given). */
  readonly range?: VideoFrameRange;
}

function gridFor(resized: readonly [number, number], frameCount: number): GridThw {
  return [frameCount / 2, resized[0] / PATCH_SIZE, resized[1] / PATCH_SIZE];
}

/** Placeholder timestamps for a budget check before decoding (same digit counts as the real ones). */
function checkBudgetEarly(grid: GridThw, timestamps: string[], resized: [number, number], duration: number, budget: TokenBudgetOptions | false | undefined): VideoTokenEstimate | null {
  if (budget === false) return null;
  return checkVideoTokenBudget(grid, timestamps, {
    resized,
    durationSeconds: Number.isFinite(duration) ? duration : undefined,
    otherTokens: budget?.otherTokens,
    maxLength: budget?.maxLength,
  });
}

/**
 * A video file (or a clip of one), sampled like `fetch_video` with the embedder's file arguments
 * (fps 1, max 64 frames) plus `video_start` / `video_end` for clips. A clip's own start, end and
 * maxFrames win over the same fields in `options`.
 */
export async function preprocessVideo(source: VideoInput, options: PreprocessVideoOptions = {}): Promise<PreprocessedVideo> {
  const clip: VideoClip = typeof source === 'string' ? { path: source } : source;
  const file = clip.path;
  const window: VideoTimeWindow = { start: clip.start ?? options.start, end: clip.end ?? options.end };
  const probe = await probeVideo(file, { signal: options.signal, timeoutMs: 60_000 });
  const { frameCount, frameIndices, range } = planWindowSampling(probe.totalFrames, probe.fps, window, { ...options, maxFrames: clip.maxFrames ?? options.maxFrames });
  const resized = videoFrameTargetSize(probe.height, probe.width, frameCount, 'file');
  const gridThw = gridFor(resized, frameCount);
  const timestamps = temporalGroupTimestamps({ fps: probe.fps, frameIndices });
  const windowed = window.start !== undefined || window.end !== undefined;
  const seconds = windowed ? range.frameCount / probe.fps : probe.durationSeconds;
  const tokens = checkBudgetEarly(gridThw, timestamps, resized, seconds, options.tokenBudget);

  // Resize each frame as it arrives so raw full-size frames never pile up.
  const byIndex = new Map<number, RgbImage>();
  const frames = decodeFramesByNumber(file, probe, frameIndices, { ...options.decode, signal: options.signal, timeoutMs: options.timeoutMs });
  let step = await frames.next();
  while (!step.done) {
    byIndex.set(step.value.index, resizeBicubicTorchvision(step.value.image, resized[1], resized[0]));
    step = await frames.next();
  }
  const { pixelValues } = patchify(frameIndices.map((i) => byIndex.get(i)!));
  return {
    totalFrames: probe.totalFrames,
    fps: probe.fps,
    frameIndices,
    timestamps,
    original: [probe.height, probe.width],
    resized,
    gridThw,
    pixelValues,
    tokens,
    substitutedFrames: step.value.substituted,
    probe,
    range,
  };
}

export interface PreprocessFrameListOptions {
  readonly maxFrames?: number;
  /**
   * smart_resize factor of the per-frame image stage. 32 = qwen-vl-utils at GitHub HEAD
   * (fix fe12058); the PyPI 0.0.14 wheel may predate it and use 64 (docs/qwen3-vl-model.md#frame-lists).
   */
  readonly imageFactor?: number;
  readonly tokenBudget?: TokenBudgetOptions | false;
}

/**
 * A video given as still frames (images or image paths), as the embedder handles a list:
 * subsample to ≤ 64, image-path decode + Pillow resize per frame, pad to even, then the video
 * resize with `total_pixels` 7,864,320 and fake timing (2 fps, frames 0..n−1).
 */
export async function preprocessFrameList(frames: readonly (RgbImage | string)[], options: PreprocessFrameListOptions = {}): Promise<PreprocessedVideo> {
  if (frames.length === 0) throw new RangeError('A video frame list needs at least one frame.');
  const chosen = subsampleFrameList(frames, options.maxFrames);
  const factor = options.imageFactor ?? IMAGE_FACTOR;
  const images: RgbImage[] = [];
  let original: [number, number] | null = null;
  for (const frame of chosen) {
    const image = typeof frame === 'string' ? (await decodeImage(frame)).image : frame;
    original ??= [image.height, image.width];
    // fetch_image with the default image limits (4 … 16,384 tokens at this factor).
    const [h, w] = smartResize(image.height, image.width, { factor, minPixels: 4 * factor * factor, maxPixels: 16384 * factor * factor });
    images.push(resizeBicubicPillow(image, w, h));
  }
  const first = images[0];
  const odd = images.findIndex((im) => im.width !== first.width || im.height !== first.height);
  if (odd >= 0) {
    throw new RangeError(
      `Frame ${odd} of the list becomes ${images[odd].width}×${images[odd].height} but frame 0 becomes ${first.width}×${first.height}; ` +
        'all frames of a video must share one size. Crop or resize the frames to one size first.',
    );
  }
  const padded = padToEvenFrameCount(images);
  const timeline = frameListTimeline(padded.length);
  const resized = videoFrameTargetSize(first.height, first.width, padded.length, 'frame-list');
  const gridThw = gridFor(resized, padded.length);
  const timestamps = temporalGroupTimestamps(timeline);
  const tokens = checkBudgetEarly(gridThw, timestamps, resized, NaN, options.tokenBudget);
  const { pixelValues } = patchify(padded.map((im) => resizeBicubicTorchvision(im, resized[1], resized[0])));
  return {
    totalFrames: chosen.length,
    fps: timeline.fps,
    frameIndices: timeline.frameIndices,
    timestamps,
    original: original!,
    resized,
    gridThw,
    pixelValues,
    tokens,
    substitutedFrames: 0,
  };
}
