// Which frames a video contributes, at what size, and with which timestamps — the numbers
// qwen-vl-utils and the HF processor compute for Qwen3-VL-Embedding (docs/qwen3-vl-model.md#video-inputs and the
// sections after it).
// Everything here is pure arithmetic; decoding and resizing live elsewhere.
import { formatFixed1, roundHalfEven } from '../../base/common/python-numerics.ts';
import { linspaceFloat32, numpyLinspaceIntFloor } from '../../base/common/torch-linspace.ts';
import {
  EMBEDDER_MAX_LENGTH,
  FPS_MIN_FRAMES,
  FRAME_FACTOR,
  FRAME_LIST_FPS,
  FRAME_LIST_TOTAL_PIXELS,
  FRAME_MAX_PIXELS,
  IMAGE_FACTOR,
  MODEL_SEQ_LEN,
  SPATIAL_MERGE_SIZE,
  VIDEO_FPS,
  VIDEO_MAX_FRAMES,
  VIDEO_MIN_TOKEN_NUM,
} from '../../../../native-models/checkpoint/common/qwen3vl-constants.ts';
import { smartResize } from './smart-resize.ts';
import type { GridThw } from '../../media/common/vision-types.ts';

/** Per-frame lower bound on pixels for videos: 128 merged tokens. */
export const VIDEO_FRAME_MIN_PIXELS = VIDEO_MIN_TOKEN_NUM * IMAGE_FACTOR * IMAGE_FACTOR; // 131,072
/** qwen-vl-utils default `total_pixels` (used for files: the embedder sends none). */
export const FILE_VIDEO_TOTAL_PIXELS = MODEL_SEQ_LEN * IMAGE_FACTOR * IMAGE_FACTOR * 0.9; // 117,964,800

export interface FrameCountOptions {
  /** Frames sampled per second of video; the embedder default is 1. */
  readonly fps?: number;
  /** Upper bound on sampled frames; the embedder default is 64. */
  readonly maxFrames?: number;
  /** Lower bound on sampled frames; qwen-vl-utils default 4. */
  readonly minFrames?: number;
}

const ceilToFactor = (x: number, f: number): number => Math.ceil(x / f) * f;
const floorToFactor = (x: number, f: number): number => Math.floor(x / f) * f;

/**
 * qwen-vl-utils `smart_nframes` (fps mode) for a video file: how many frames to sample.
 * `totalFrames` and `videoFps` are what decord reports (`len(vr)`, `get_avg_fps()`).
 */
export function sampledFrameCount(totalFrames: number, videoFps: number, options: FrameCountOptions = {}): number {
  const fps = options.fps ?? VIDEO_FPS;
  if (!(Number.isInteger(totalFrames) && totalFrames >= 0)) {
    throw new RangeError(`Video frame count must be a non-negative integer, got ${totalFrames}; the probe of this file is broken.`);
  }
  if (!(Number.isFinite(videoFps) && videoFps > 0)) {
    throw new RangeError(`Video reports an average frame rate of ${videoFps}; it cannot be sampled. Re-encode it (e.g. ffmpeg -i in -c:v libx264 out.mp4).`);
  }
  if (!(Number.isFinite(fps) && fps > 0)) throw new RangeError(`Sampling fps must be positive, got ${fps}.`);
  const minFrames = ceilToFactor(options.minFrames ?? FPS_MIN_FRAMES, FRAME_FACTOR);
  const maxFrames = floorToFactor(options.maxFrames ?? VIDEO_MAX_FRAMES, FRAME_FACTOR);
  const wanted = (totalFrames / videoFps) * fps;
  const n = floorToFactor(Math.min(Math.max(wanted, minFrames), maxFrames, totalFrames), FRAME_FACTOR);
  if (!(n >= FRAME_FACTOR && n <= totalFrames)) {
    if (totalFrames < FRAME_FACTOR) {
      throw new RangeError(
        `This video has ${totalFrames} frame${totalFrames === 1 ? '' : 's'}; Qwen3-VL needs at least ${FRAME_FACTOR}. Index a single frame as an image instead.`,
      );
    }
    throw new RangeError(`Sampling would take ${n} of ${totalFrames} frames (maxFrames=${options.maxFrames}); use maxFrames ≥ ${FRAME_FACTOR}.`);
  }
  return n;
}

/** `torch.linspace(0, total − 1, n).round()`: float32 linspace, ties to even. Frame numbers in decode order. */
export function sampledFrameIndices(totalFrames: number, count: number): number[] {
  return Array.from(linspaceFloat32(0, totalFrames - 1, count), roundHalfEven);
}

export interface FileSamplingPlan {
  readonly frameCount: number;
  readonly frameIndices: number[];
}

/** `smart_nframes` + indices, as `_read_video_decord` does them (no video_start/end). */
export function planFileSampling(totalFrames: number, videoFps: number, options: FrameCountOptions = {}): FileSamplingPlan {
  const frameCount = sampledFrameCount(totalFrames, videoFps, options);
  return { frameCount, frameIndices: sampledFrameIndices(totalFrames, frameCount) };
}

/**
 * The embedder's `sample_frames` for frame lists: longer than `maxFrames` → `maxFrames` frames at
 * `numpy.linspace(0, len − 1, maxFrames, dtype=int)` (floor, last one exact); otherwise unchanged.
 */
export function subsampleFrameList<T>(frames: readonly T[], maxFrames: number = VIDEO_MAX_FRAMES): T[] {
  if (frames.length <= maxFrames) return [...frames];
  return numpyLinspaceIntFloor(frames.length - 1, maxFrames).map((i) => frames[i]);
}

/** qwen-vl-utils pads a frame list to an even count by repeating the last frame. */
export function padToEvenFrameCount<T>(frames: readonly T[]): T[] {
  if (frames.length === 0) throw new RangeError('A video frame list needs at least one frame.');
  const out = [...frames];
  while (out.length % FRAME_FACTOR !== 0) out.push(frames[frames.length - 1]);
  return out;
}

export interface VideoTimeline {
  /** fps used for timestamps: decoder average fps for files, 2.0 for frame lists. */
  readonly fps: number;
  /** Frame number of every sampled frame (after padding for frame lists). */
  readonly frameIndices: number[];
}

/** The fake metadata qwen-vl-utils attaches to a frame list of `count` frames (already padded). */
export function frameListTimeline(count: number): VideoTimeline {
  return { fps: FRAME_LIST_FPS, frameIndices: Array.from({ length: count }, (_, i) => i) };
}

/**
 * Per temporal group (pair of frames): the mean of the two frame times, formatted like Python
 * `f"{t:.1f}"` — the text of the `<t seconds>` marker (HF `_calculate_timestamps`).
 */
export function temporalGroupTimestamps(timeline: VideoTimeline): string[] {
  const indices = [...timeline.frameIndices];
  if (indices.length === 0) return [];
  while (indices.length % FRAME_FACTOR !== 0) indices.push(indices[indices.length - 1]);
  const seconds = indices.map((i) => i / timeline.fps);
  const out: string[] = [];
  for (let i = 0; i < seconds.length; i += FRAME_FACTOR) out.push(formatFixed1((seconds[i] + seconds[i + FRAME_FACTOR - 1]) / 2));
  return out;
}

/** Which `total_pixels` the reference uses: the embedder sends 7,864,320 for frame lists, nothing for files. */
export type VideoSource = 'file' | 'frame-list';

export function totalPixelsFor(source: VideoSource): number {
  return source === 'file' ? FILE_VIDEO_TOTAL_PIXELS : FRAME_LIST_TOTAL_PIXELS;
}

/** qwen-vl-utils `fetch_video`: max(min(786,432, total / n · 2), trunc(131,072 · 1.05)). */
export function videoFrameMaxPixels(frameCount: number, totalPixels: number): number {
  return Math.max(Math.min(FRAME_MAX_PIXELS, (totalPixels / frameCount) * FRAME_FACTOR), Math.trunc(VIDEO_FRAME_MIN_PIXELS * 1.05));
}

/** Target `[height, width]` of every frame of an `n`-frame video whose frames are `height × width`. */
export function videoFrameTargetSize(height: number, width: number, frameCount: number, source: VideoSource): [number, number] {
  return smartResize(height, width, {
    factor: IMAGE_FACTOR,
    minPixels: VIDEO_FRAME_MIN_PIXELS,
    maxPixels: videoFrameMaxPixels(frameCount, totalPixelsFor(source)),
  });
}

// ---- Token budget ----------------------------------------------------------------------------

/** `<|video_pad|>` tokens of one video: grid_t · gh · gw / 4. */
export function videoPadTokenCount(gridThw: GridThw): number {
  const [t, h, w] = gridThw;
  return (t * h * w) / (SPATIAL_MERGE_SIZE * SPATIAL_MERGE_SIZE);
}

/**
 * Tokens the text around one temporal group costs: `<`, the digits, `.`, one decimal, ` seconds`,
 * `>` (Qwen's pre-tokenizer splits numbers into single digits) plus vision_start and vision_end.
 * An estimate until the sequence builder tokenizes the real string.
 */
export function timestampOverheadTokens(timestamp: string): number {
  const digits = timestamp.replace(/[^0-9]/g, '').length;
  return 4 + digits + 2;
}

export interface VideoTokenEstimate {
  readonly padTokens: number;
  readonly overheadTokens: number;
  readonly total: number;
}

export function estimateVideoTokens(gridThw: GridThw, timestamps: readonly string[]): VideoTokenEstimate {
  if (timestamps.length !== gridThw[0]) {
    throw new RangeError(`A video with grid_t=${gridThw[0]} needs ${gridThw[0]} timestamps, got ${timestamps.length}.`);
  }
  const padTokens = videoPadTokenCount(gridThw);
  const overheadTokens = timestamps.reduce((sum, t) => sum + timestampOverheadTokens(t), 0);
  return { padTokens, overheadTokens, total: padTokens + overheadTokens };
}

export interface VideoBudgetContext {
  /** Seconds of video the frames came from (for the message). */
  readonly durationSeconds?: number;
  /** Resized frame size `[height, width]`. */
  readonly resized: readonly [number, number];
  /** Tokens the rest of the prompt needs (template, instruction, other items). */
  readonly otherTokens?: number;
  /** Sequence limit; the embedder truncates at 8,192. */
  readonly maxLength?: number;
}

/** Thrown when a video cannot fit the model's sequence: the reference would fail the same input. */
export class VideoTokenBudgetError extends RangeError {
  readonly neededTokens: number;
  readonly availableTokens: number;
  /** Largest even frame count that would fit at this frame size (0 if none). */
  readonly maxFittingFrames: number;
  constructor(message: string, neededTokens: number, availableTokens: number, maxFittingFrames: number) {
    super(message);
    this.name = 'VideoTokenBudgetError';
    this.neededTokens = neededTokens;
    this.availableTokens = availableTokens;
    this.maxFittingFrames = maxFittingFrames;
  }
}

const fmtInt = (n: number): string => n.toLocaleString('en-US');

/**
 * The embedder truncates to 8,192 tokens and then fails when a video token was cut ("Mismatch in
 * `video` token count"); Trove refuses such a video up front with an error that says what to do.
 * Returns the estimate when it fits.
 */
export function checkVideoTokenBudget(gridThw: GridThw, timestamps: readonly string[], context: VideoBudgetContext): VideoTokenEstimate {
  const estimate = estimateVideoTokens(gridThw, timestamps);
  const maxLength = context.maxLength ?? EMBEDDER_MAX_LENGTH;
  const available = maxLength - (context.otherTokens ?? 0);
  if (estimate.total <= available) return estimate;
  const perGroupPads = gridThw[1] * gridThw[2] / (SPATIAL_MERGE_SIZE * SPATIAL_MERGE_SIZE);
  const perGroupOverhead = Math.ceil(estimate.overheadTokens / Math.max(1, timestamps.length));
  const fittingGroups = Math.max(0, Math.floor(available / (perGroupPads + perGroupOverhead)));
  const maxFittingFrames = fittingGroups * FRAME_FACTOR;
  const [h, w] = context.resized;
  const what = context.durationSeconds !== undefined ? `This ${formatFixed1(context.durationSeconds)} s video` : 'This video';
  const frames = gridThw[0] * FRAME_FACTOR;
  const advice =
    maxFittingFrames >= FRAME_FACTOR
      ? `Index it as shorter moments (Trove splits long videos into clips), or sample at most ${maxFittingFrames} frames (maxFrames) at this size.`
      : 'Index it as shorter moments (Trove splits long videos into clips) or as still images.';
  throw new VideoTokenBudgetError(
    `${what}, sampled to ${frames} frames at ${w}×${h}, needs about ${fmtInt(estimate.total)} tokens ` +
      `(${fmtInt(estimate.padTokens)} video tokens + ${fmtInt(estimate.overheadTokens)} for timestamps and markers), ` +
      `but the embedder reads at most ${fmtInt(available)} tokens for it (${fmtInt(maxLength)} per input). ${advice}`,
    estimate.total,
    available,
    maxFittingFrames,
  );
}
