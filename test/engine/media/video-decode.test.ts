// Probing and frame-number decoding against short clips generated here with ffmpeg. Every clip
// colours frame N with red = N·step, so a decoded frame says which frame number it is.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync, copyFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { locateFfmpeg } from '../../../electron/engine/media/node/ffmpeg-locate.ts';
import { buildPacketIndex, probeVideo, VideoReadError, type VideoProbe } from '../../../electron/engine/media/node/video-probe.ts';
import {
  decodeFramesByNumber,
  planDecodeRuns,
  minSeekSkip,
  seekTimeFor,
  selectFilterFor,
  selectPtsFilterFor,
  type DecodeFramesOptions,
  type DecodeRunReport,
} from '../../../electron/engine/media/node/video-frames.ts';
import { planWindowSampling } from '../../../electron/engine/model-inputs/common/video-window.ts';
import { preprocessVideo } from '../../../electron/engine/model-inputs/node/video-preprocess.ts';
import { planFileSampling, temporalGroupTimestamps, videoFrameTargetSize } from '../../../electron/engine/model-inputs/common/video-sampling.ts';
import { unpatchify } from '../../../electron/engine/model-inputs/common/patchify.ts';
import type { RgbImage } from '../../../electron/engine/media/common/vision-types.ts';

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
  assert.equal(selectPtsFilterFor([0, 1001]), 'select=eq(pts\\,0)+eq(pts\\,1001)');
});

// Seeking: each clip is decoded with and without seeking and the RGB buffers must be identical.
// Clips: 20 s, a keyframe every 30 frames (so there is something to seek to), x264's default
// B-frames (3, b-pyramid); frame N painted with a colour only it has (N < 4096).
describe('seeking decode equals the decode from frame 0', () => {
  const seekDir = mkdtempSync(path.join(tmpdir(), 'trove-video-seek-'));
  const at = (name: string): string => path.join(seekDir, name);
  const ramp = (rate: string, extra = ''): string =>
    `color=c=black:s=48x32:r=${rate}:d=20,format=rgb24,geq=r='mod(N\\,16)*16':g='mod(trunc(N/16)\\,16)*16':b='trunc(N/256)*16'${extra}`;
  const encode = (name: string, lavfi: string, args: string[] = []): void => {
    execFileSync(ffmpeg, ['-v', 'error', '-y', '-f', 'lavfi', '-i', lavfi, '-c:v', 'libx264', '-g', '30', '-pix_fmt', 'yuv420p', ...args, at(name)]);
  };
  before(() => {
    encode('cfr30.mp4', ramp('30'));
    encode('ntsc.mp4', ramp('30000/1001'));
    // Variable frame rate: every 7th frame dropped (gaps in time) and the second half at half speed.
    encode('vfr.mp4', ramp('30', ",select='not(eq(mod(n\\,7)\\,3))',setpts='N/30/TB+if(gte(N\\,300)\\,(N-300)/30/TB\\,0)'"), ['-fps_mode', 'vfr']);
    // First pts 7 s, not 0 (a cut from a longer recording); mkv seeks through its cues in ms.
    encode('offset.mp4', ramp('30'), ['-output_ts_offset', '7']);
    encode('offset.mkv', ramp('30'), ['-output_ts_offset', '7']);
    rotate90(at('cfr30.mp4'), at('rotated.mp4'));
  });
  after(() => rmSync(seekDir, { recursive: true, force: true }));

  async function collect(file: string, probe: VideoProbe, indices: number[], options: DecodeFramesOptions = {}): Promise<{ frames: RgbImage[]; runs: DecodeRunReport[]; substituted: number }> {
    const runs: DecodeRunReport[] = [];
    const frames: RgbImage[] = [];
    // minSeekSkip 60 (2 s at 30 fps): the default for 48×32 frames (decoding is almost free) would
    // never seek within a 20 s clip.
    const gen = decodeFramesByNumber(file, probe, indices, { minSeekSkip: 60, ...options, onRun: (r) => runs.push(r) });
    let step = await gen.next();
    while (!step.done) {
      frames.push(step.value.image);
      step = await gen.next();
    }
    return { frames, runs, substituted: step.value.substituted };
  }

  function assertSameBytes(seeked: RgbImage[], full: RgbImage[], what: string): void {
    assert.equal(seeked.length, full.length, what);
    seeked.forEach((f, i) => {
      assert.deepEqual([f.width, f.height], [full[i].width, full[i].height], `${what}: frame ${i} size`);
      assert.ok(Buffer.from(f.data).equals(Buffer.from(full[i].data)), `${what}: frame ${i} differs from the decode from frame 0`);
    });
  }

  for (const [name, expectedFrames] of [['cfr30.mp4', 600], ['ntsc.mp4', 600], ['vfr.mp4', 514], ['offset.mp4', 600], ['offset.mkv', 600], ['rotated.mp4', 600]] as const) {
    test(`${name}: moments at the start, middle and end seek and give the same bytes`, async () => {
      const file = at(name);
      const probe = await probeVideo(file);
      assert.equal(probe.totalFrames, expectedFrames);
      assert.equal(probe.packets?.unseekable, null);
      if (name === 'rotated.mp4') assert.deepEqual([probe.width, probe.height, probe.rotation], [32, 48, 90]); // upright frames, compared below
      const seconds = probe.totalFrames / probe.fps;
      for (const start of [0, seconds / 2 - 2, seconds - 4.5]) {
        const { frameIndices } = planWindowSampling(probe.totalFrames, probe.fps, { start, end: start + 4 });
        const what = `${name} ${start.toFixed(1)} s, frames ${frameIndices.join(',')}`;
        const seeked = await collect(file, probe, frameIndices);
        const full = await collect(file, probe, frameIndices, { seek: false });
        assertSameBytes(seeked.frames, full.frames, what);
        assert.deepEqual(full.runs.map((r) => r.mode), ['start']);
        assert.ok(seeked.runs.every((r) => !r.abandoned), `${what}: ${JSON.stringify(seeked.runs.map((r) => r.abandoned))}`);
        if (start === 0) {
          assert.deepEqual(seeked.runs.map((r) => r.mode), ['start'], what);
        } else {
          // One seek run that started near the window: not at frame 0, at most one keyframe
          // interval (30 frames, plus where the container's index lands) before the first frame.
          assert.deepEqual(seeked.runs.map((r) => r.mode), ['seek'], what);
          const first = seeked.runs[0].decoded![0];
          assert.ok(first > 0 && first <= frameIndices[0] && frameIndices[0] - first < 60, `${what}: decoding started at frame ${first}`);
          assert.ok(seeked.runs[0].args.includes('-ss'));
        }
      }
    });
  }

  test('whole-file sampling over a long span seeks once per distant frame', async () => {
    const probe = await probeVideo(at('cfr30.mp4'));
    const indices = [0, 150, 299, 449, 599];
    const seeked = await collect(at('cfr30.mp4'), probe, indices);
    const full = await collect(at('cfr30.mp4'), probe, indices, { seek: false });
    assertSameBytes(seeked.frames, full.frames, 'spread frames');
    assert.deepEqual(seeked.runs.map((r) => r.mode), ['start', 'seek', 'seek', 'seek', 'seek']);
    assert.deepEqual(seeked.runs.map((r) => r.frames[0]), indices);
    assert.ok(seeked.runs.slice(1).every((r) => r.frames.length === 1 && r.decoded![0] > 0 && !r.abandoned));
  });

  test('a seek run that comes up short falls back to the decode from frame 0: same frames, same substitution', async () => {
    // A damaged tail as the probe sees it: 60 more packets counted (with a keyframe at 630) than
    // decode. Frame 640 is then missing from the seek run, and the rest must come out exactly as a
    // decode from frame 0 gives them: the last decoded frame (590) repeated.
    const probe = await probeVideo(at('cfr30.mp4'));
    const index = probe.packets!;
    const step = index.pts[1] - index.pts[0];
    const pts = Float64Array.from({ length: 660 }, (_, i) => (i < 600 ? index.pts[i] : index.pts[599] + (i - 599) * step));
    const keyframe = Uint8Array.from({ length: 660 }, (_, i) => (i < 600 ? index.keyframe[i] : i === 630 ? 1 : 0));
    const damaged: VideoProbe = { ...probe, totalFrames: 660, packets: { ...index, pts, keyframe } };
    const seeked = await collect(at('cfr30.mp4'), damaged, [590, 640]);
    const full = await collect(at('cfr30.mp4'), damaged, [590, 640], { seek: false });
    assertSameBytes(seeked.frames, full.frames, 'fallback');
    assert.deepEqual([seeked.substituted, full.substituted], [1, 1]);
    assert.deepEqual(seeked.runs.map((r) => r.mode), ['seek', 'start']);
    assert.match(seeked.runs[0].abandoned ?? '', /stopped after 1 of 2/);
    assert.deepEqual(seeked.runs[1].frames, [640]);
  });

  test('files whose packet index makes seeking unsafe decode from frame 0', async () => {
    encode('mpeg4.avi', ramp('30'), ['-c:v', 'mpeg4', '-bf', '2']);
    const probe = await probeVideo(at('mpeg4.avi'));
    assert.match(probe.packets?.unseekable ?? '', /codec mpeg4|no timestamp/);
    const seeked = await collect(at('mpeg4.avi'), probe, [300, 500]);
    assert.deepEqual(seeked.runs.map((r) => r.mode), ['start']);
  });
});

test('packet index: the conditions under which frame i is the i-th smallest pts', () => {
  const packets = [
    { pts: 0, flags: 'K_' },
    { pts: 3, flags: '__' },
    { pts: 1, flags: '__' },
    { pts: 2, flags: '__' },
    { pts: 4, flags: 'K_' },
  ];
  const ok = buildPacketIndex('h264', '1/30', packets, 5);
  assert.equal(ok.unseekable, null);
  assert.deepEqual(Array.from(ok.pts), [0, 1, 2, 3, 4]);
  assert.deepEqual(Array.from(ok.keyframe), [1, 0, 0, 0, 1]);
  assert.match(buildPacketIndex('mpeg4', '1/30', packets, 5).unseekable!, /codec mpeg4/);
  assert.match(buildPacketIndex('h264', '1/30', packets, 6).unseekable!, /does not match/);
  assert.match(buildPacketIndex('h264', '0/0', packets, 5).unseekable!, /time base/);
  assert.match(buildPacketIndex('h264', '1/30', [...packets.slice(0, 4), { pts: NaN, flags: 'K_' }], 5).unseekable!, /no timestamp/);
  assert.match(buildPacketIndex('h264', '1/30', [...packets.slice(0, 4), { pts: 3, flags: 'K_' }], 5).unseekable!, /share a timestamp/);
  assert.match(buildPacketIndex('h264', '1/30', [{ pts: 0, flags: 'K_' }, { pts: 1, flags: '_D' }], 2).unseekable!, /discarded/);
  assert.match(buildPacketIndex('h264', '1/30', [{ pts: 1, flags: '__' }, { pts: 0, flags: 'K_' }], 2).unseekable!, /start with a keyframe/);
  // Open GOP at the start: frame 0 (pts 0) is a leading B-frame shown before the keyframe.
  assert.match(buildPacketIndex('h264', '1/30', [{ pts: 1, flags: 'K_' }, { pts: 0, flags: '__' }], 2).unseekable!, /first frame shown/);
});

test('decode plan: a new run only where a keyframe lets it skip enough frames', () => {
  const keyframe = new Uint8Array(100);
  for (const k of [0, 30, 60, 90]) keyframe[k] = 1;
  const index = { timeBase: [1, 30] as const, pts: Float64Array.from({ length: 100 }, (_, i) => i), keyframe, unseekable: null };
  assert.deepEqual(planDecodeRuns(index, [5, 20, 40, 45, 95], 10), [
    { keyframe: 0, frames: [5, 20] },
    { keyframe: 30, frames: [40, 45] },
    { keyframe: 90, frames: [95] },
  ]);
  // Keyframe 30 skips only 5 frames after frame 25: not worth a new ffmpeg.
  assert.deepEqual(planDecodeRuns(index, [25, 40], 10), [{ keyframe: 0, frames: [25, 40] }]);
  assert.deepEqual(planDecodeRuns(index, [61, 99], 10), [{ keyframe: 60, frames: [61] }, { keyframe: 90, frames: [99] }]);
  // Default skip: 2 s of video, more for small frames whose decoding costs less than an ffmpeg start.
  assert.equal(minSeekSkip({ fps: 30, codedWidth: 1920, codedHeight: 1080 }), 60);
  assert.equal(minSeekSkip({ fps: 30, codedWidth: 1280, codedHeight: 720 }), 105);
  assert.equal(minSeekSkip({ fps: 30, codedWidth: 320, codedHeight: 180 }), 1667);
  assert.equal(minSeekSkip({ fps: 60, codedWidth: 1280, codedHeight: 720 }), 120);
});

test('seek time: the keyframe pts in seconds, rounded down to the microsecond', () => {
  assert.equal(seekTimeFor(107520, [1, 15360]), '7.000000');
  assert.equal(seekTimeFor(1001, [1, 30000]), '0.033366'); // 0.0333666…
  assert.equal(seekTimeFor(-1001, [1, 30000]), '-0.033367');
  assert.equal(seekTimeFor(90_000 * 3600 * 10 + 1, [1, 90000]), '36000.000011');
});

test('preprocessFrameList: 3 frames → padded to 4, 2 fps timeline, "0.2"/"1.2", image stage first', async () => {
  const { preprocessFrameList } = await import('../../../electron/engine/model-inputs/node/video-preprocess.ts');
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
