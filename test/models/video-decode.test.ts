// Probing and frame-number decoding against short clips generated here with ffmpeg. Every clip
// colours frame N with red = N·step, so a decoded frame says which frame number it is.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync, copyFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { locateFfmpeg } from '../../electron/engine/models/node/ffmpeg-locate.ts';
import { probeVideo, VideoReadError } from '../../electron/engine/models/node/video-probe.ts';
import { decodeFramesByNumber, selectFilterFor } from '../../electron/engine/models/node/video-frames.ts';
import { preprocessVideo } from '../../electron/engine/models/node/video-preprocess.ts';
import { planFileSampling, temporalGroupTimestamps, videoFrameTargetSize } from '../../electron/engine/models/common/video-sampling.ts';
import { unpatchify } from '../../electron/engine/models/common/patchify.ts';
import type { RgbImage } from '../../electron/engine/models/common/vision-types.ts';

// ffmpeg is a hard requirement of this suite (CI installs it): without it the file fails with
// locateFfmpeg's message, which says how to install it, rather than skipping silently.
const { ffmpeg } = await locateFfmpeg();
const dir = mkdtempSync(path.join(tmpdir(), 'trove-video-'));
const clip = (name: string): string => path.join(dir, name);

/** `color` source with red = N·step (N = frame number), green = 255 − N·step, blue = 128. */
function numbered(w: number, h: number, rate: number, seconds: number, step: number, extra = ''): string {
  return `color=c=black:s=${w}x${h}:r=${rate}:d=${seconds},format=rgb24,geq=r='N*${step}':g='255-N*${step}':b=128${extra}`;
}

function make(name: string, lavfi: string, args: string[] = []): string {
  execFileSync(ffmpeg, ['-v', 'error', '-y', '-f', 'lavfi', '-i', lavfi, ...args, '-c:v', 'libx264', '-crf', '0', '-pix_fmt', 'yuv420p', clip(name)]);
  return clip(name);
}

/** Overwrites the track header's display matrix (mp4 `tkhd`) with a 90° clockwise rotation. */
function rotate90(src: string, dst: string): void {
  const bytes = readFileSync(src);
  const at = bytes.indexOf(Buffer.from('tkhd')) + 44; // version-0 tkhd: matrix after 40 bytes of fields
  [0, 0x10000, 0, -0x10000, 0, 0, 0, 0, 0x40000000].forEach((v, i) => bytes.writeInt32BE(v, at + i * 4));
  writeFileSync(dst, bytes);
}

const meanRed = (im: RgbImage): number => {
  let s = 0;
  for (let i = 0; i < im.data.length; i += 3) s += im.data[i];
  return s / (im.width * im.height);
};

/** Asserts each frame's red level is within the YUV round-trip error (±3) of frame number × step. */
function assertFrameNumbers(frames: RgbImage[], step: number, expected: number[]): void {
  const reds = frames.map(meanRed);
  assert.equal(frames.length, expected.length);
  expected.forEach((n, i) => assert.ok(Math.abs(reds[i] - n * step) <= 3, `frame ${i}: red ${reds[i].toFixed(1)}, expected frame ${n} (${n * step}); all: ${reds.map((r) => r.toFixed(1))}`));
}

async function decodeAll(file: string, indices: number[]): Promise<{ frames: RgbImage[]; substituted: number }> {
  const probe = await probeVideo(file);
  const frames: RgbImage[] = [];
  const gen = decodeFramesByNumber(file, probe, indices);
  let step = await gen.next();
  while (!step.done) {
    frames.push(step.value.image);
    step = await gen.next();
  }
  return { frames, substituted: step.value.substituted };
}

describe('video decode', () => {
  before(() => {
    make('b-frames-10fps.mp4', numbered(64, 48, 10, 3, 8), ['-preset', 'veryfast', '-bf', '2']);
    make('30fps.mp4', numbered(64, 48, 30, 2, 4));
    // Variable frame rate: frame N shown at (N + N²/20)/10 s.
    make('vfr.mp4', numbered(64, 48, 10, 3, 8, ",setpts='(N+N*N/20)/10/TB'"), ['-fps_mode', 'vfr']);
    make('halves.mp4', "color=c=black:s=64x32:r=10:d=1,format=rgb24,geq=r='if(lt(X,32),255,0)':g=0:b='if(lt(X,32),0,255)'");
    rotate90(clip('halves.mp4'), clip('rotated.mp4'));
    copyFileSync(clip('30fps.mp4'), clip('truncated.mp4'));
    truncateSync(clip('truncated.mp4'), Math.floor(statSync(clip('30fps.mp4')).size / 2));
    writeFileSync(clip('empty.mp4'), '');
    writeFileSync(clip('text.mp4'), 'this is not a video\n'.repeat(50));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('3 s @ 10 fps with B-frames: decord-style count, sampling, and the right frames', async () => {
    const probe = await probeVideo(clip('b-frames-10fps.mp4'));
    assert.equal(probe.totalFrames, 30);
    assert.equal(probe.fps, 10);
    assert.deepEqual([probe.width, probe.height, probe.rotation], [64, 48, 0]);
    assert.equal(probe.codec, 'h264');
    const plan = planFileSampling(probe.totalFrames, probe.fps);
    assert.deepEqual(plan.frameIndices, [0, 10, 19, 29]); // 3 s → 3 frames → raised to min 4
    assert.deepEqual(temporalGroupTimestamps({ fps: probe.fps, frameIndices: plan.frameIndices }), ['0.5', '2.4']);
    const { frames, substituted } = await decodeAll(clip('b-frames-10fps.mp4'), plan.frameIndices);
    assert.equal(substituted, 0);
    assertFrameNumbers(frames, 8, plan.frameIndices);
  });

  test('30 fps clip: indices by frame number, duplicates merged', async () => {
    const probe = await probeVideo(clip('30fps.mp4'));
    assert.deepEqual([probe.totalFrames, probe.fps], [60, 30]);
    const { frames } = await decodeAll(clip('30fps.mp4'), [0, 20, 20, 39, 59]);
    assertFrameNumbers(frames, 4, [0, 20, 39, 59]);
  });

  test('variable frame rate: frames are picked by number, not by time', async () => {
    const probe = await probeVideo(clip('vfr.mp4'));
    assert.equal(probe.totalFrames, 30);
    assert.ok(Math.abs(probe.fps - 30 / 7.2) < 0.2, `avg fps ${probe.fps}`);
    const plan = planFileSampling(probe.totalFrames, probe.fps);
    assert.equal(plan.frameCount, 6); // 30 / avg_fps · 1 ≈ 7.2 → even floor
    const { frames } = await decodeAll(clip('vfr.mp4'), plan.frameIndices);
    assertFrameNumbers(frames, 8, plan.frameIndices);
  });

  test('rotated clip: display matrix kept as metadata and frames turned upright like decord', async () => {
    const probe = await probeVideo(clip('rotated.mp4'));
    assert.equal(probe.rotation, 90);
    assert.deepEqual([probe.codedWidth, probe.codedHeight], [64, 32]);
    assert.deepEqual([probe.width, probe.height], [32, 64]);
    const { frames } = await decodeAll(clip('rotated.mp4'), [0]);
    const [frame] = frames;
    assert.deepEqual([frame.width, frame.height], [32, 64]);
    // Clockwise quarter turn: the red left half of the stored frame becomes the top half.
    const px = (x: number, y: number): number[] => Array.from(frame.data.subarray((y * 32 + x) * 3, (y * 32 + x) * 3 + 3));
    assert.ok(px(16, 8)[0] > 200 && px(16, 8)[2] < 50, `top ${px(16, 8)}`);
    assert.ok(px(16, 56)[0] < 50 && px(16, 56)[2] > 200, `bottom ${px(16, 56)}`);
  });

  test('empty, truncated and non-video files fail with errors that say what to do', async () => {
    await assert.rejects(probeVideo(clip('empty.mp4')), (e: Error) => e instanceof VideoReadError && /empty \(0 bytes\)/.test(e.message));
    await assert.rejects(probeVideo(clip('truncated.mp4')), (e: Error) => e instanceof VideoReadError && /damaged, truncated/.test(e.message));
    await assert.rejects(probeVideo(clip('text.mp4')), (e: Error) => e instanceof VideoReadError && /re-export or re-download/.test(e.message));
    await assert.rejects(probeVideo(clip('missing.mp4')), (e: Error) => e instanceof VideoReadError && /exists and is readable/.test(e.message));
  });

  test('abort stops decoding promptly', async () => {
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(preprocessVideo(clip('30fps.mp4'), { signal: controller.signal }), (e: Error) => e.name === 'AbortError');
    const probe = await probeVideo(clip('30fps.mp4'));
    const late = new AbortController();
    const gen = decodeFramesByNumber(clip('30fps.mp4'), probe, [0, 59], { signal: late.signal });
    await gen.next();
    late.abort();
    await assert.rejects(async () => {
      for (let s = await gen.next(); !s.done; s = await gen.next());
    }, (e: Error) => e.name === 'AbortError');
  });

  test('preprocessVideo: sampled frames resized, patchified, with timestamps', async () => {
    const out = await preprocessVideo(clip('b-frames-10fps.mp4'));
    assert.deepEqual(out.frameIndices, [0, 10, 19, 29]);
    assert.deepEqual(out.timestamps, ['0.5', '2.4']);
    assert.deepEqual(out.original, [48, 64]);
    assert.deepEqual(out.resized, videoFrameTargetSize(48, 64, 4, 'file'));
    assert.deepEqual(out.gridThw, [2, out.resized[0] / 16, out.resized[1] / 16]);
    assert.equal(out.pixelValues.length, 2 * (out.resized[0] / 16) * (out.resized[1] / 16) * 1536);
    const frames = unpatchify(out.pixelValues, out.gridThw);
    assertFrameNumbers(frames, 8, [0, 10, 19, 29]);
    assert.ok(out.tokens && out.tokens.padTokens === out.gridThw[0] * out.gridThw[1] * out.gridThw[2] / 4);
  });
});

test('select filter escapes commas for the filtergraph', () => {
  assert.equal(selectFilterFor([0, 33]), 'select=eq(n\\,0)+eq(n\\,33)');
});

test('preprocessFrameList: 3 frames → padded to 4, 2 fps timeline, "0.2"/"1.2", image stage first', async () => {
  const { preprocessFrameList } = await import('../../electron/engine/models/node/video-preprocess.ts');
  const frames = [10, 120, 240].map((v) => ({ width: 80, height: 48, data: new Uint8Array(80 * 48 * 3).fill(v) }));
  const out = await preprocessFrameList(frames);
  assert.deepEqual(out.frameIndices, [0, 1, 2, 3]);
  assert.deepEqual(out.timestamps, ['0.2', '1.2']);
  assert.equal(out.fps, 2);
  assert.equal(out.totalFrames, 3);
  assert.deepEqual(out.original, [48, 80]);
  // Image stage: (48, 80) → (64, 64); video stage from 64×64 with 4 frames → ≥ 128 tokens.
  assert.deepEqual(out.resized, videoFrameTargetSize(64, 64, 4, 'frame-list'));
  const decoded = unpatchify(out.pixelValues, out.gridThw);
  assert.deepEqual(decoded.map((f) => f.data[0]), [10, 120, 240, 240]); // last frame repeated
  await assert.rejects(preprocessFrameList([frames[0], { width: 200, height: 48, data: new Uint8Array(200 * 48 * 3) }]), /must share one size/);
});
