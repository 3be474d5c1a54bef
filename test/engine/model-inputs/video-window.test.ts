// Window sampling (qwen-vl-utils `calculate_video_frame_range` + linspace over the window): values
// worked out by hand from the Python formulas quoted in common/video-window.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planWindowSampling, videoFrameRange } from '../../../electron/engine/model-inputs/common/video-window.ts';
import { planFileSampling } from '../../../electron/engine/model-inputs/common/video-sampling.ts';

test('frame range: start rounds up, end rounds down and is inclusive, both clamped to the video', () => {
  // 10 s @ 30 fps: start 2.5 s → ceil(75) = 75; end 7.25 s → floor(217.5) = 217.
  assert.deepEqual(videoFrameRange(300, 30, { start: 2.5, end: 7.25 }), { startFrame: 75, endFrame: 217, frameCount: 143 });
  // Between frames: start rounds up (75.3 → 76), end rounds down (150.9 → 150).
  assert.deepEqual(videoFrameRange(300, 30, { start: 2.51, end: 5.03 }), { startFrame: 76, endFrame: 150, frameCount: 75 });
  // end exactly on a frame: 16 s → frame 480 (shared with a window starting at 16 s).
  assert.deepEqual(videoFrameRange(960, 30, { start: 0, end: 16 }), { startFrame: 0, endFrame: 480, frameCount: 481 });
  assert.deepEqual(videoFrameRange(960, 30, { start: 16, end: 32 }), { startFrame: 480, endFrame: 959, frameCount: 480 });
  // Past the end: clamped to the last frame; before 0: clamped to 0.
  assert.deepEqual(videoFrameRange(300, 30, { start: -4, end: 99 }), { startFrame: 0, endFrame: 299, frameCount: 300 });
  // Only one side given.
  assert.deepEqual(videoFrameRange(300, 30, { start: 9 }), { startFrame: 270, endFrame: 299, frameCount: 30 });
  assert.deepEqual(videoFrameRange(300, 30, { end: 1 }), { startFrame: 0, endFrame: 30, frameCount: 31 });
  assert.deepEqual(videoFrameRange(300, 30), { startFrame: 0, endFrame: 299, frameCount: 300 });
});

test('frame range: empty or inverted windows are refused with a reason', () => {
  assert.throws(() => videoFrameRange(300, 30, { start: 5, end: 5 }), /at least two frames/);
  assert.throws(() => videoFrameRange(300, 30, { start: 6, end: 5 }), /at least two frames/);
  assert.throws(() => videoFrameRange(300, 30, { start: 10, end: 12 }), /at least two frames/); // starts at the very end
  assert.throws(() => videoFrameRange(300, 30, { start: Number.NaN }), /finite/);
});

test('window sampling: smart_nframes on the window, linspace from its first to its last frame', () => {
  // 143 frames / 30 fps = 4.77 → 4 frames; linspace(75, 217, 4) = 75, 122.33, 169.67, 217.
  assert.deepEqual(planWindowSampling(300, 30, { start: 2.5, end: 7.25 }).frameIndices, [75, 122, 170, 217]);
  // A 16 s moment at 30 fps: 481 frames → 16.03 → 16 frames, absolute numbers from 480.
  const moment = planWindowSampling(1800, 30, { start: 16, end: 32 });
  assert.equal(moment.frameCount, 16);
  assert.equal(moment.frameIndices[0], 480);
  assert.equal(moment.frameIndices.at(-1), 960);
  // maxFrames caps a long window (the whole-video item).
  assert.equal(planWindowSampling(18000, 30, {}, { maxFrames: 16 }).frameCount, 16);
});

test('no window = exactly the whole-file plan', () => {
  for (const [total, fps] of [[300, 30], [15000, 25], [31, 10], [7, 2.5]] as const) {
    const plan = planWindowSampling(total, fps);
    assert.deepEqual({ frameCount: plan.frameCount, frameIndices: plan.frameIndices }, planFileSampling(total, fps));
  }
});
