// Video preprocessing cost on a generated 60 s 1280×720 30 fps clip:
//   node --import tsx bench/preprocess-video.ts
// Baseline: ffmpeg decoding the whole clip to nothing (`-f null -`), in the same run. Ours: probe
// (packet count + packet index) + decoding the sampled frame numbers to RGB, then torchvision
// resize + patchify.
// Then moments and thumbnails of that clip and of a generated 10-minute 320×180 video (x264
// veryfast: B-frames, keyframe every ≤ 250 frames), decoded by seeking to the keyframe before each
// vs. decoding from frame 0 (the behaviour before seeking; the baseline of each pair). The frames
// are checked to be identical.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { locateFfmpeg } from '../electron/engine/media/node/ffmpeg-locate.ts';
import { probeVideo, type VideoProbe } from '../electron/engine/media/node/video-probe.ts';
import { decodeFramesByNumber } from '../electron/engine/media/node/video-frames.ts';
import { planFileSampling, videoFrameTargetSize } from '../electron/engine/model-inputs/common/video-sampling.ts';
import { planWindowSampling, videoFrameRange } from '../electron/engine/model-inputs/common/video-window.ts';
import { planMomentWindows, thumbnailFrame } from '../electron/engine/extract/node/video-extract.ts';
import { resizeBicubicTorchvision } from '../electron/engine/model-inputs/common/torchvision-resize.ts';
import { patchify } from '../electron/engine/model-inputs/common/patchify.ts';
import type { RgbImage } from '../electron/engine/media/common/vision-types.ts';

const tools = await locateFfmpeg();
const dir = mkdtempSync(path.join(tmpdir(), 'trove-bench-video-'));
const clip = path.join(dir, 'clip-60s-720p30.mp4');
try {
  const t = performance.now();
  execFileSync(tools.ffmpeg, [
    '-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=s=1280x720:r=30:d=60',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '250', '-pix_fmt', 'yuv420p', clip,
  ]);
  const generateMs = performance.now() - t;

  const timeIt = async (fn: () => Promise<unknown> | unknown): Promise<number> => {
    const start = performance.now();
    await fn();
    return performance.now() - start;
  };

  const baselineMs = await timeIt(() => execFileSync(tools.ffmpeg, ['-v', 'error', '-i', clip, '-f', 'null', '-']));
  let probe = await probeVideo(clip);
  utimesSync(clip, new Date(), new Date()); // a changed mtime: the timed probe reads the file again, not the cache
  const probeMs = await timeIt(async () => {
    probe = await probeVideo(clip);
  });
  const plan = planFileSampling(probe.totalFrames, probe.fps);
  const raw: RgbImage[] = [];
  const extractMs = await timeIt(async () => {
    for await (const f of decodeFramesByNumber(clip, probe, plan.frameIndices)) raw.push(f.image);
  });
  const [h, w] = videoFrameTargetSize(probe.height, probe.width, plan.frameCount, 'file');
  let resized: RgbImage[] = [];
  const resizeMs = await timeIt(() => {
    resized = raw.map((f) => resizeBicubicTorchvision(f, w, h));
  });
  const patchifyMs = await timeIt(() => patchify(resized));

  const n = plan.frameCount;
  const rows: [string, number, string][] = [
    ['ffmpeg full decode to null (baseline)', baselineMs, '1.00'],
    ['probe (ffprobe -count_packets + packet index)', probeMs, (probeMs / baselineMs).toFixed(2)],
    [`decode ${n} sampled frames → RGB`, extractMs, (extractMs / baselineMs).toFixed(2)],
    ['probe + decode (our extraction)', probeMs + extractMs, ((probeMs + extractMs) / baselineMs).toFixed(2)],
    [`torchvision resize ${probe.width}×${probe.height}→${w}×${h}, ${n} frames`, resizeMs, (resizeMs / baselineMs).toFixed(2)],
    [`patchify ${n} frames`, patchifyMs, (patchifyMs / baselineMs).toFixed(2)],
  ];
  console.log(`clip: 60 s 1280×720 @ 30 fps (${probe.totalFrames} frames), generated in ${(generateMs / 1000).toFixed(1)} s; ffmpeg ${tools.version?.join('.') ?? 'unknown'}`);
  console.log(`${'step'.padEnd(58)} ${'ms'.padStart(9)} ${'× baseline'.padStart(11)} ${'ms/frame'.padStart(9)}`);
  for (const [name, ms, ratio] of rows) {
    const perFrame = name.includes('resize') || name.includes('patchify') || name.includes('sampled') ? (ms / n).toFixed(1) : '';
    console.log(`${name.padEnd(58)} ${ms.toFixed(0).padStart(9)} ${ratio.padStart(11)} ${perFrame.padStart(9)}`);
  }
  await momentsBench();
} finally {
  rmSync(dir, { recursive: true, force: true });
}

/** Decodes `indices` of `file` and returns the raw frames (kept to compare both paths). */
async function decode(file: string, p: VideoProbe, indices: number[], seek: boolean): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const f of decodeFramesByNumber(file, p, indices, { seek })) out.push(f.image.data);
  return out;
}

/**
 * Moments (each its own decode, as the embedder asks for them) and the thumbnail pass (one call
 * for all middles, as prepareVideoFile does), from frame 0 vs seeking; throws if a frame differs.
 */
async function momentsTable(file: string, label: string, maxMoments: number): Promise<void> {
  const countOnlyMs = await (async () => {
    const start = performance.now();
    execFileSync(tools.ffprobe, ['-v', 'error', '-count_packets', '-select_streams', 'V', '-show_entries', 'stream=nb_read_packets', '-of', 'json', file]);
    return performance.now() - start;
  })();
  utimesSync(file, new Date(), new Date()); // not the cached probe
  const start = performance.now();
  const p = await probeVideo(file);
  const indexMs = performance.now() - start;
  const keyframes = p.packets!.keyframe.reduce((a, k) => a + k, 0);
  const windows = planMomentWindows(p.totalFrames / p.fps);
  // Moments spread from the first to the last (timing all of a long file from frame 0 takes minutes).
  const count = Math.min(maxMoments, windows.length);
  const picked = Array.from({ length: count }, (_, i) => Math.round((i * (windows.length - 1)) / Math.max(1, count - 1)));
  const momentFrames = picked.map((i) => planWindowSampling(p.totalFrames, p.fps, windows[i]).frameIndices);
  const thumbRanges = [videoFrameRange(p.totalFrames, p.fps), ...windows.map((w) => videoFrameRange(p.totalFrames, p.fps, w))];
  const thumbFrames = thumbRanges.map((r) => Math.floor((r.startFrame + r.endFrame) / 2));
  // What prepareVideoFile shows now: the keyframe nearest each middle, inside its window.
  const keyThumbFrames = thumbRanges.map((r, i) => thumbnailFrame(p, thumbFrames[i]!, r));

  const timed = async (indices: number[][], seek: boolean): Promise<{ ms: number; frames: Uint8Array[] }> => {
    const frames: Uint8Array[] = [];
    const s0 = performance.now();
    for (const list of indices) frames.push(...(await decode(file, p, list, seek)));
    return { ms: performance.now() - s0, frames };
  };
  const fullMoments = await timed(momentFrames, false);
  const seekMoments = await timed(momentFrames, true);
  const fullThumbs = await timed([thumbFrames], false);
  const seekThumbs = await timed([thumbFrames], true);
  const keyThumbs = await timed([keyThumbFrames], true);
  const same = (a: Uint8Array[], b: Uint8Array[]): boolean => a.length === b.length && a.every((f, i) => Buffer.from(f).equals(Buffer.from(b[i])));
  if (!same(fullMoments.frames, seekMoments.frames) || !same(fullThumbs.frames, seekThumbs.frames)) {
    throw new Error('seeked frames differ from the decode from frame 0; this is a bug in video-frames.ts');
  }

  console.log('');
  console.log(`${label}: ${p.totalFrames} frames, ${keyframes} keyframes, ${windows.length} moments; seeked frames identical to the decode from frame 0`);
  console.log(`${'step'.padEnd(58)} ${'ms'.padStart(9)} ${'× baseline'.padStart(11)}`);
  const rows: [string, number, number][] = [
    ['probe: packet count only (before)', countOnlyMs, countOnlyMs],
    ['probe: count + packet index (now)', indexMs, countOnlyMs],
    [`${count} moments (${momentFrames.flat().length} frames), decode from frame 0`, fullMoments.ms, fullMoments.ms],
    [`${count} moments, seeking`, seekMoments.ms, fullMoments.ms],
    [`${thumbFrames.length} thumbnails in one call, decode from frame 0`, fullThumbs.ms, fullThumbs.ms],
    [`${thumbFrames.length} thumbnails at the middles, seeking (before)`, seekThumbs.ms, fullThumbs.ms],
    [`${thumbFrames.length} thumbnails at the nearest keyframes, seeking (now)`, keyThumbs.ms, fullThumbs.ms],
  ];
  for (const [name, ms, base] of rows) console.log(`${name.padEnd(58)} ${ms.toFixed(0).padStart(9)} ${(ms / base).toFixed(2).padStart(11)}`);
}

async function momentsBench(): Promise<void> {
  await momentsTable(clip, 'moments of the same 60 s 1280×720 clip (keyframe every 250 frames)', 4);
  const long = path.join(dir, 'long-10min-320x180.mp4');
  const t = performance.now();
  execFileSync(tools.ffmpeg, [
    '-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=s=320x180:r=30:d=600',
    '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', long,
  ]);
  await momentsTable(long, `10 min 320×180 @ 30 fps, x264 veryfast (B-frames, keyint 250), generated in ${((performance.now() - t) / 1000).toFixed(1)} s`, 6);
}
