// Videos → whole-video item + moments, against short clips generated here with ffmpeg. Each clip
// paints frame N with red = (N mod 16)·16 and green = ⌊N/16⌋·16, so any decoded frame (a thumbnail,
// a model input) says which frame number it is, within the YUV/WebP rounding (±8 per channel).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, copyFileSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { locateFfmpeg } from '../../../electron/engine/media/node/ffmpeg-locate.ts';
import { probeVideo } from '../../../electron/engine/media/node/video-probe.ts';
import { preprocessVideo, type VideoInput } from '../../../electron/engine/model-inputs/node/video-preprocess.ts';
import type { DecodeRunReport } from '../../../electron/engine/media/node/video-frames.ts';
import { unpatchify } from '../../../electron/engine/model-inputs/common/patchify.ts';
import type { RgbImage } from '../../../electron/engine/media/common/vision-types.ts';
import { planMomentWindows, prepareVideoFile } from '../../../electron/engine/extract/node/video-extract.ts';
import type { PreparedFile } from '../../../electron/engine/extract/node/prepared-file.ts';
import { CHARACTER_ESTIMATE_TOKENIZER, prepareFile } from '../../../electron/engine/jobs/node/file-items.ts';

const { ffmpeg } = await locateFfmpeg();
const dir = mkdtempSync(path.join(tmpdir(), 'trove-video-extract-'));
const clip = (name: string): string => path.join(dir, name);

function numbered(w: number, h: number, rate: number, seconds: number): string {
  return `color=c=black:s=${w}x${h}:r=${rate}:d=${seconds},format=rgb24,geq=r='mod(N\\,16)*16':g='trunc(N/16)*16':b=128`;
}

function make(name: string, lavfi: string, args: string[] = []): string {
  execFileSync(ffmpeg, ['-v', 'error', '-y', '-f', 'lavfi', '-i', lavfi, ...args, '-c:v', 'libx264', '-crf', '0', '-pix_fmt', 'yuv444p', clip(name)]);
  return clip(name);
}

/** Overwrites the mp4 track header's display matrix with a 90° clockwise rotation. */
function rotate90(src: string, dst: string): void {
  const bytes = readFileSync(src);
  const at = bytes.indexOf(Buffer.from('tkhd')) + 44;
  [0, 0x10000, 0, -0x10000, 0, 0, 0, 0, 0x40000000].forEach((v, i) => bytes.writeInt32BE(v, at + i * 4));
  writeFileSync(dst, bytes);
}

/** The frame number painted into an image (mean colour of its pixels). */
function frameNumber(data: Uint8Array, channels: number): number {
  let r = 0;
  let g = 0;
  const pixels = data.length / channels;
  for (let i = 0; i < data.length; i += channels) {
    r += data[i];
    g += data[i + 1];
  }
  return Math.round(r / pixels / 16) + 16 * Math.round(g / pixels / 16);
}

const rgbFrameNumber = (im: RgbImage): number => frameNumber(im.data, 3);

async function thumbnailFrame(bytes: Uint8Array): Promise<{ n: number; width: number; height: number; format: string | undefined }> {
  const meta = await sharp(bytes).metadata();
  const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { n: frameNumber(data, info.channels), width: meta.width, height: meta.height, format: meta.format };
}

const stamp = { kind: 'video', mtimeMs: 1_700_000_000_000 };

describe('video extraction', () => {
  let nine: PreparedFile;
  before(async () => {
    // 9 s at 10 fps = 90 frames, with a container creation date.
    make('nine.mp4', numbered(64, 48, 10, 9), ['-metadata', 'creation_time=2021-06-05T10:20:30Z']);
    make('short.mp4', numbered(64, 48, 10, 2));
    make('halves.mp4', "color=c=black:s=64x32:r=10:d=4,format=rgb24,geq=r='if(lt(X,32),255,0)':g=0:b='if(lt(X,32),0,255)'");
    rotate90(clip('halves.mp4'), clip('rotated.mp4'));
    copyFileSync(clip('nine.mp4'), clip('truncated.mp4'));
    truncateSync(clip('truncated.mp4'), Math.floor(statSync(clip('nine.mp4')).size / 3));
    writeFileSync(clip('text.mp4'), 'this is not a video\n'.repeat(50));
    execFileSync(ffmpeg, ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'sine=d=1', '-c:a', 'aac', clip('audio-only.mp4')]);
    writeFileSync(clip('empty.mp4'), '');
    nine = await prepareVideoFile({ path: clip('nine.mp4'), ...stamp }, { momentSeconds: 3 });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('one whole-video item, then moments that cover the video without gaps', () => {
    const [whole, ...moments] = nine.items;
    assert.equal(whole.item.kind, 'video');
    assert.deepEqual(whole.item.locator, { type: 'time', start: 0, end: 9 });
    assert.equal(moments.length, 3);
    assert.ok(moments.every((m) => m.item.kind === 'moment'));
    const spans = moments.map((m) => m.item.locator);
    assert.deepEqual(spans, [
      { type: 'time', start: 0, end: 3 },
      { type: 'time', start: 3, end: 6 },
      { type: 'time', start: 6, end: 9 },
    ]);
    moments.forEach((m, i) => assert.deepEqual(m.embed, { videos: [{ path: clip('nine.mp4'), start: i * 3, end: (i + 1) * 3 }] }));
    assert.deepEqual(whole.embed, { videos: [{ path: clip('nine.mp4'), maxFrames: 16 }] });
  });

  test('metadata and the date taken from the container creation_time', () => {
    assert.deepEqual(nine.metadata, { duration: 9, fps: 10, width: 64, height: 48, rotation: 0, codec: 'h264', frames: 90, moments: 3 });
    const when = Date.UTC(2021, 5, 5, 10, 20, 30);
    assert.equal(nine.dateTaken, when);
    assert.ok(nine.items.every((i) => i.item.date === when));
  });

  test("thumbnails are WebP images of the keyframe nearest each moment's middle", async () => {
    // Window frame ranges [0,30], [30,60], [60,89] → middles 15, 45, 74; whole [0,89] → 44. Each
    // thumbnail is a keyframe inside its window with no keyframe nearer the middle (x264 puts
    // keyframes at every scene cut, and each numbered frame is a new colour).
    const frames = await Promise.all(nine.items.map((i) => thumbnailFrame(i.item.thumbnail!.bytes)));
    const keyframes = (await probeVideo(clip('nine.mp4'))).packets!.keyframe;
    assertNearestKeyframes(frames.map((f) => f.n), keyframes, [[0, 89, 44], [0, 30, 15], [30, 60, 45], [60, 89, 74]]);
    for (const [i, f] of frames.entries()) {
      assert.equal(f.format, 'webp');
      assert.equal(nine.items[i].item.thumbnail!.mime, 'image/webp');
      assert.deepEqual([f.width, f.height], [64, 48]); // small frames are not enlarged
    }
  });

  test("a moment's embed input decodes exactly the frames of its window, with absolute timestamps", async () => {
    // Window 3–6 s → frames 30..60 (31 frames, 3.1 s → 4 samples): linspace(30, 60, 4) = 30, 40, 50, 60.
    const input = nine.items[2].embed!.videos![0] as VideoInput;
    const out = await preprocessVideo(input);
    assert.deepEqual(out.frameIndices, [30, 40, 50, 60]);
    assert.deepEqual(out.timestamps, ['3.5', '5.5']);
    assert.deepEqual(out.range, { startFrame: 30, endFrame: 60, frameCount: 31 });
    assert.deepEqual(unpatchify(out.pixelValues, out.gridThw).map(rgbFrameNumber), [30, 40, 50, 60]);
    // The last moment ends at the last frame.
    const last = await preprocessVideo(nine.items[3].embed!.videos![0] as VideoInput);
    assert.deepEqual(last.frameIndices, [60, 70, 79, 89]);
    assert.deepEqual(unpatchify(last.pixelValues, last.gridThw).map(rgbFrameNumber), [60, 70, 79, 89]);
  });

  test('the whole-video input spans the file and respects maxFrames', async () => {
    const whole = await preprocessVideo(nine.items[0].embed!.videos![0] as VideoInput);
    assert.deepEqual(whole.frameIndices, [0, 13, 25, 38, 51, 64, 76, 89]); // 9 s → 8 frames over 0..89
    const capped = await preprocessVideo({ path: clip('nine.mp4'), maxFrames: 4 });
    assert.deepEqual(capped.frameIndices, [0, 30, 59, 89]);
    assert.deepEqual(unpatchify(capped.pixelValues, capped.gridThw).map(rgbFrameNumber), [0, 30, 59, 89]);
  });

  test('a video no longer than one moment is indexed as the whole-video item only; no date → mtime', async () => {
    const short = await prepareVideoFile({ path: clip('short.mp4'), ...stamp }, { momentSeconds: 3 });
    assert.equal(short.items.length, 1);
    assert.equal(short.items[0].item.kind, 'video');
    assert.deepEqual(short.items[0].item.locator, { type: 'time', start: 0, end: 2 });
    assert.equal(short.dateTaken, null);
    assert.equal(short.items[0].item.date, stamp.mtimeMs);
  });

  test('rotated video: metadata keeps the rotation and thumbnails are upright', async () => {
    const rotated = await prepareVideoFile({ path: clip('rotated.mp4'), ...stamp }, { momentSeconds: 2 });
    assert.equal(rotated.metadata.rotation, 90);
    assert.deepEqual([rotated.metadata.width, rotated.metadata.height], [32, 64]);
    const thumb = rotated.items[1].item.thumbnail!;
    assert.deepEqual([thumb.width, thumb.height], [32, 64]);
    const { data } = await sharp(thumb.bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    // The stored frame's red left half turns into the top half when shown upright.
    assert.ok(data[(8 * 32 + 16) * 3] > 200, `top pixel ${data.subarray((8 * 32 + 16) * 3, (8 * 32 + 16) * 3 + 3).join(',')}`);
    assert.ok(data[(56 * 32 + 16) * 3 + 2] > 200, 'bottom pixel should be blue');
  });

  test('thumbnails of a longer video are its keyframes nearest the middles; moment inputs decode from the keyframe before them', async () => {
    // 48 s at 5 fps (240 frames, all paintable), a keyframe every second. Windows of 16 s: frame
    // ranges [0,80], [80,160], [160,239] → middles 40, 120, 199; whole video [0,239] → 119. The
    // nearest keyframes: 40, 120, 200 and 120 (the whole video shares the middle moment's).
    // minSeekSkip 10 (2 s): the default for frames this small would never seek in so short a clip.
    make('keyed.mp4', numbered(64, 48, 5, 48), ['-g', '5']);
    const runs: DecodeRunReport[] = [];
    const keyed = await prepareVideoFile({ path: clip('keyed.mp4'), ...stamp }, { momentSeconds: 16, decode: { minSeekSkip: 10, onRun: (r) => runs.push(r) } });
    const frames = await Promise.all(keyed.items.map((i) => thumbnailFrame(i.item.thumbnail!.bytes)));
    const keyframes = (await probeVideo(clip('keyed.mp4'))).packets!.keyframe;
    assertNearestKeyframes(frames.map((f) => f.n), keyframes, [[0, 239, 119], [0, 80, 40], [80, 160, 120], [160, 239, 199]]);
    // Each thumbnail run decodes just its keyframe after the seek; none starts at frame 0.
    assert.ok(runs.every((r) => r.mode === 'seek' && r.frames.every((f) => keyframes[f] === 1)), JSON.stringify(runs.map((r) => [r.mode, r.frames])));
    assert.ok(runs.every((r) => !r.abandoned && r.decoded![0] > 0 && r.decoded![0] <= r.frames[0]), JSON.stringify(runs.map((r) => r.decoded)));
    const momentRuns: DecodeRunReport[] = [];
    const moment = await preprocessVideo(keyed.items[2].embed!.videos![0] as VideoInput, { decode: { minSeekSkip: 10, onRun: (r) => momentRuns.push(r) } });
    assert.deepEqual([moment.frameIndices.length, moment.frameIndices[0], moment.frameIndices.at(-1)], [16, 80, 160]);
    assert.deepEqual(unpatchify(moment.pixelValues, moment.gridThw).map(rgbFrameNumber), moment.frameIndices);
    assert.deepEqual(momentRuns.map((r) => r.mode), ['seek']);
    assert.ok(momentRuns[0].decoded![0] > 0 && !momentRuns[0].abandoned);
  });

  test('corrupt, non-video, audio-only and empty files fail with a readable reason', async () => {
    await assert.rejects(prepareVideoFile({ path: clip('truncated.mp4'), ...stamp }), /damaged|truncated/);
    await assert.rejects(prepareVideoFile({ path: clip('text.mp4'), ...stamp }), /re-export or re-download/);
    await assert.rejects(prepareVideoFile({ path: clip('audio-only.mp4'), ...stamp }), /no video stream/);
    await assert.rejects(prepareVideoFile({ path: clip('empty.mp4'), ...stamp }), /empty \(0 bytes\)/);
  });
});

/** Each frame is a keyframe inside its [start, end] window, and no keyframe of the window is nearer its middle. */
function assertNearestKeyframes(frames: readonly number[], keyframes: Uint8Array, windows: readonly (readonly [number, number, number])[]): void {
  windows.forEach(([start, end, middle], i) => {
    const frame = frames[i]!;
    assert.ok(keyframes[frame] === 1 && frame >= start && frame <= end, `thumbnail ${i} is frame ${frame}: a keyframe inside [${start}, ${end}]`);
    for (let k = start; k <= end; k++) {
      if (keyframes[k]) assert.ok(Math.abs(k - middle) >= Math.abs(frame - middle), `keyframe ${k} is nearer the middle ${middle} than thumbnail ${i}'s frame ${frame}`);
    }
  });
}

test('moment windows: fewest equal windows no longer than the target, none for short videos', () => {
  assert.deepEqual(planMomentWindows(33, 16), [{ start: 0, end: 11 }, { start: 11, end: 22 }, { start: 22, end: 33 }]);
  assert.deepEqual(planMomentWindows(16.5, 16), [{ start: 0, end: 8.25 }, { start: 8.25, end: 16.5 }]);
  assert.deepEqual(planMomentWindows(32, 16), [{ start: 0, end: 16 }, { start: 16, end: 32 }]);
  assert.deepEqual(planMomentWindows(16, 16), []);
  assert.deepEqual(planMomentWindows(0, 16), []);
  const long = planMomentWindows(3600.04, 16);
  assert.equal(long.length, 226);
  assert.ok(long.every((w, i) => w.end - w.start <= 16 && (i === 0 ? w.start === 0 : w.start === long[i - 1].end)));
  assert.equal(long.at(-1)!.end, 3600.04);
  assert.throws(() => planMomentWindows(10, 0), /positive/);
});

test('an extraction that is stopped (the per-file timeout) kills its ffmpeg child instead of leaving it running', { skip: process.platform === 'win32', timeout: 120_000 }, async () => {
  // A video file whose content points at a pipe nobody writes to (an ffconcat list, which ffmpeg
  // recognises by content): ffprobe opens the pipe and waits for bytes forever, as a decoder stuck
  // on a stalled network disk would.
  const own = mkdtempSync(path.join(tmpdir(), 'trove-video-stalled-'));
  const fifo = path.join(own, 'stalled.fifo');
  execFileSync('mkfifo', [fifo]);
  writeFileSync(path.join(own, 'stalled.mp4'), 'ffconcat version 1.0\nfile stalled.fifo\n');
  const controller = new AbortController();
  let settled = false;
  const work = prepareFile({ path: path.join(own, 'stalled.mp4'), kind: 'video', mtimeMs: 0 }, CHARACTER_ESTIMATE_TOKENIZER, { signal: controller.signal });
  work.then(
    () => (settled = true),
    () => (settled = true),
  );
  // Opening the write end without blocking succeeds only once a reader (ffprobe) has the pipe open.
  let writer: number | null = null;
  while (writer === null && !settled) {
    try {
      writer = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENXIO') throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  try {
    if (writer === null) assert.fail(`ffprobe never opened the pipe: ${await work.then(String, String)}`);
    controller.abort(new Error('reading stalled.mp4 took longer than 1 s'));
    // Stopped by the abort itself (not by ffprobe's own 60 s limit, which would come much later).
    await assert.rejects(work, (e: Error) => e.name === 'AbortError');
    // With the reader gone a write fails with EPIPE; a reader still running would take the byte.
    let outcome = '';
    for (let tries = 0; tries < 100 && outcome !== 'EPIPE'; tries++) {
      try {
        writeSync(writer, 'x');
        outcome = 'written';
        await new Promise((resolve) => setTimeout(resolve, 20));
      } catch (error) {
        outcome = String((error as NodeJS.ErrnoException).code);
      }
    }
    assert.equal(outcome, 'EPIPE', 'ffprobe still has the pipe open after the extraction was stopped');
  } finally {
    if (writer !== null) closeSync(writer);
    rmSync(own, { recursive: true, force: true });
  }
});
