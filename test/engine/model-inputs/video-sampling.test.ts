// Every worked example of docs/qwen3-vl-model.md#video-sampling to #video-timestamps (frame counts, indices, sizes,
// timestamps) plus errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  checkVideoTokenBudget,
  estimateVideoTokens,
  FILE_VIDEO_TOTAL_PIXELS,
  frameListTimeline,
  padToEvenFrameCount,
  planFileSampling,
  sampledFrameCount,
  sampledFrameIndices,
  subsampleFrameList,
  temporalGroupTimestamps,
  timestampOverheadTokens,
  VideoTokenBudgetError,
  videoFrameMaxPixels,
  videoFrameTargetSize,
} from '../../../electron/engine/model-inputs/common/video-sampling.ts';
import { linspaceFloat32 } from '../../../electron/engine/base/common/torch-linspace.ts';

test('10 s @ 30 fps → 10 frames at the documented indices, timestamps 0.6 … 9.4', () => {
  const plan = planFileSampling(300, 30);
  assert.equal(plan.frameCount, 10);
  assert.deepEqual(plan.frameIndices, [0, 33, 66, 100, 133, 166, 199, 233, 266, 299]);
  assert.deepEqual(temporalGroupTimestamps({ fps: 30, frameIndices: plan.frameIndices }), ['0.6', '2.8', '5.0', '7.2', '9.4']);
});

test('600 s @ 25 fps → capped at 64 frames; documented prefix and last index 14999', () => {
  const plan = planFileSampling(15000, 25);
  assert.equal(plan.frameCount, 64);
  assert.deepEqual(plan.frameIndices.slice(0, 8), [0, 238, 476, 714, 952, 1190, 1428, 1667]);
  assert.equal(plan.frameIndices[63], 14999);
});

test('linspace values are float32 (symmetric halves) before half-even rounding', () => {
  const v = linspaceFloat32(0, 299, 10);
  assert.equal(v[1], Math.fround(Math.fround(299 / 9) * 1));
  assert.equal(v[9], 299);
  assert.equal(v[8], Math.fround(299 - Math.fround(299 / 9)));
  // A tie: linspace(0, 5, 3) = [0, 2.5, 5] → round half to even gives 2, not 3.
  assert.deepEqual(sampledFrameIndices(6, 3), [0, 2, 5]);
});

test('frame count rules: fps, min 4, max 64, floor to even, never more than the video has', () => {
  assert.equal(sampledFrameCount(30, 10), 4); // 3 s → 3 → min 4
  assert.equal(sampledFrameCount(3, 30), 2); // min 4 capped by 3 frames → floor to 2
  assert.equal(sampledFrameCount(7 * 30, 30), 6); // 7 → floor to even
  assert.equal(sampledFrameCount(100 * 30, 30), 64);
  assert.equal(sampledFrameCount(100 * 30, 30, { maxFrames: 33 }), 32);
  assert.equal(sampledFrameCount(20 * 30, 30, { fps: 2 }), 40);
});

test('frame count errors say what to do', () => {
  assert.throws(() => sampledFrameCount(1, 30), /has 1 frame; .*at least 2\. Index a single frame as an image/);
  assert.throws(() => sampledFrameCount(0, 30), /has 0 frames/);
  assert.throws(() => sampledFrameCount(100, 0), /average frame rate of 0.*Re-encode/);
  assert.throws(() => sampledFrameCount(100, Number.NaN), /frame rate/);
  assert.throws(() => sampledFrameCount(100, 30, { maxFrames: 1 }), /use maxFrames ≥ 2/);
});

test('property: sampled indices are increasing, within the video, first 0 and last total−1', () => {
  fc.assert(
    fc.property(fc.integer({ min: 2, max: 200_000 }), fc.double({ min: 1, max: 240, noNaN: true }), (total, fps) => {
      const { frameCount, frameIndices } = planFileSampling(total, fps);
      assert.equal(frameIndices.length, frameCount);
      assert.equal(frameCount % 2, 0);
      assert.ok(frameCount >= 2 && frameCount <= 64 && frameCount <= total);
      assert.equal(frameIndices[0], 0);
      assert.equal(frameIndices[frameCount - 1], total - 1);
      for (let i = 1; i < frameCount; i++) assert.ok(frameIndices[i] > frameIndices[i - 1]);
    }),
  );
});

test('frame lists: > 64 subsampled with numpy int linspace; ≤ 64 unchanged', () => {
  const frames = Array.from({ length: 200 }, (_, i) => i);
  const picked = subsampleFrameList(frames);
  assert.equal(picked.length, 64);
  assert.deepEqual(picked.slice(0, 4), [0, 3, 6, 9]); // floor(i · 199/63)
  assert.equal(picked[63], 199);
  assert.deepEqual(subsampleFrameList([1, 2, 3]), [1, 2, 3]);
});

test('frame lists: 3 frames padded to 4, fake timeline at 2 fps, timestamps "0.2" and "1.2"', () => {
  const padded = padToEvenFrameCount(['a', 'b', 'c']);
  assert.deepEqual(padded, ['a', 'b', 'c', 'c']);
  const timeline = frameListTimeline(padded.length);
  assert.deepEqual(timeline, { fps: 2, frameIndices: [0, 1, 2, 3] });
  // Means are 0.25 and 1.25: Python's .1f rounds these ties to even ("0.2"), toFixed would say "0.3".
  assert.deepEqual(temporalGroupTimestamps(timeline), ['0.2', '1.2']);
  assert.throws(() => padToEvenFrameCount([]), /at least one frame/);
});

test('per-frame pixel budgets (docs/qwen3-vl-model.md#video-frame-size)', () => {
  assert.equal(FILE_VIDEO_TOTAL_PIXELS, 117_964_800);
  assert.equal(videoFrameMaxPixels(64, FILE_VIDEO_TOTAL_PIXELS), 786_432);
  assert.equal(videoFrameMaxPixels(64, 7_864_320), 245_760);
  assert.equal(videoFrameMaxPixels(10_000, 7_864_320), 137_625); // floor: trunc(131072 · 1.05)
  assert.deepEqual(videoFrameTargetSize(720, 1280, 64, 'file'), [640, 1152]);
  assert.deepEqual(videoFrameTargetSize(704, 1280, 64, 'frame-list'), [352, 640]); // after the 704×1280 image stage
  assert.deepEqual(videoFrameTargetSize(48, 64, 4, 'file'), [320, 448]); // small videos are upscaled to ≥ 128 tokens
});

test('token estimate: video pads plus per-group timestamp text and markers', () => {
  assert.equal(timestampOverheadTokens('0.6'), 8); // < 0 . 6 " seconds" > + start + end
  assert.equal(timestampOverheadTokens('123.4'), 10);
  const est = estimateVideoTokens([5, 40, 72], ['0.6', '2.8', '5.0', '7.2', '9.4']);
  assert.deepEqual(est, { padTokens: 3600, overheadTokens: 40, total: 3640 });
  assert.throws(() => estimateVideoTokens([2, 4, 4], ['0.2']), /needs 2 timestamps/);
});

test('token budget: a 600 s 720p file cannot fit 8,192 tokens and the error says what to do', () => {
  const plan = planFileSampling(15000, 25);
  const timestamps = temporalGroupTimestamps({ fps: 25, frameIndices: plan.frameIndices });
  const [h, w] = videoFrameTargetSize(720, 1280, plan.frameCount, 'file');
  const grid = [plan.frameCount / 2, h / 16, w / 16] as const;
  let error: unknown;
  try {
    checkVideoTokenBudget(grid, timestamps, { resized: [h, w], durationSeconds: 600, otherTokens: 30 });
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof VideoTokenBudgetError);
  assert.match(error.message, /This 600\.0 s video, sampled to 64 frames at 1152×640, needs about [\d,]+ tokens \(23,040 video tokens/);
  assert.match(error.message, /reads at most 8,162 tokens .*shorter moments.*at most 22 frames/);
  assert.equal(error.maxFittingFrames, 22);
  // …while a short clip fits and returns its estimate.
  const short = planFileSampling(300, 30);
  const ok = checkVideoTokenBudget([5, 40, 72], temporalGroupTimestamps({ fps: 30, frameIndices: short.frameIndices }), { resized: [640, 1152] });
  assert.equal(ok.padTokens, 3600);
});
