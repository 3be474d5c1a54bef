// Sampling a time window of a video file, as qwen-vl-utils does for `video_start` / `video_end`
// (`calculate_video_frame_range` + `_read_video_decord`):
//   max_duration = total / fps
//   start_frame  = ceil(clamp(start, 0, max_duration) · fps)                  (0 when no start)
//   end_frame    = min(floor(clamp(end, 0, max_duration) · fps), total − 1)   (total − 1 when no end)
//   frames in the window = end_frame − start_frame + 1   (both ends inclusive)
//   n   = smart_nframes over that count (fps 1, min 4, max 64, even)
//   idx = round_half_even(torch.linspace(start_frame, end_frame, n))  — absolute frame numbers
// Timestamps then use the absolute frame numbers over the decoder fps (the HF processor reads
// `frames_indices` from the metadata), so a moment at 1:00 says "<60.5 seconds>", not "<0.5 …>".
// Note the end frame is inclusive: with end = 16 s at 30 fps it is frame 480, which is also the
// first frame of a window starting at 16 s. Adjacent windows therefore share at most one frame.
import { roundHalfEven } from '../../base/common/python-numerics.ts';
import { linspaceFloat32 } from '../../base/common/torch-linspace.ts';
import { sampledFrameCount, type FileSamplingPlan, type FrameCountOptions } from './video-sampling.ts';

export interface VideoTimeWindow {
  /** Seconds from the start of the video; omitted = from the first frame. */
  readonly start?: number;
  /** Seconds; omitted = to the last frame. */
  readonly end?: number;
}

export interface VideoFrameRange {
  readonly startFrame: number;
  /** Inclusive. */
  readonly endFrame: number;
  readonly frameCount: number;
}

const clamp = (x: number, lo: number, hi: number): number => Math.max(lo, Math.min(x, hi));

/** qwen-vl-utils `calculate_video_frame_range`: which frames a [start, end] seconds window covers. */
export function videoFrameRange(totalFrames: number, videoFps: number, window: VideoTimeWindow = {}): VideoFrameRange {
  if (!(videoFps > 0)) throw new RangeError(`Video frame rate must be positive, got ${videoFps}; re-encode the video.`);
  if (!(Number.isInteger(totalFrames) && totalFrames > 0)) throw new RangeError(`Video frame count must be a positive integer, got ${totalFrames}.`);
  const { start, end } = window;
  for (const [name, v] of [['start', start], ['end', end]] as const) {
    if (v !== undefined && !Number.isFinite(v)) throw new RangeError(`Video window ${name} must be a finite number of seconds, got ${v}.`);
  }
  if (start === undefined && end === undefined) return { startFrame: 0, endFrame: totalFrames - 1, frameCount: totalFrames };
  const maxDuration = totalFrames / videoFps;
  const startFrame = start !== undefined ? Math.ceil(clamp(start, 0, maxDuration) * videoFps) : 0;
  const endFrame = end !== undefined ? Math.min(Math.floor(clamp(end, 0, maxDuration) * videoFps), totalFrames - 1) : totalFrames - 1;
  if (startFrame >= endFrame) {
    throw new RangeError(
      `The window ${start ?? 0}–${end ?? maxDuration} s covers frames ${startFrame}–${endFrame} of a ${maxDuration.toFixed(2)} s video ` +
        `(${totalFrames} frames at ${videoFps} fps); a video window needs at least two frames. Choose a later end or an earlier start.`,
    );
  }
  return { startFrame, endFrame, frameCount: endFrame - startFrame + 1 };
}

export interface WindowSamplingPlan extends FileSamplingPlan {
  readonly range: VideoFrameRange;
}

/** Frame numbers qwen-vl-utils samples for a window (the whole file when no start/end is given). */
export function planWindowSampling(totalFrames: number, videoFps: number, window: VideoTimeWindow = {}, options: FrameCountOptions = {}): WindowSamplingPlan {
  const range = videoFrameRange(totalFrames, videoFps, window);
  const frameCount = sampledFrameCount(range.frameCount, videoFps, options);
  const frameIndices = Array.from(linspaceFloat32(range.startFrame, range.endFrame, frameCount), roundHalfEven);
  return { frameCount, frameIndices, range };
}
