// Video preprocessing cost on a generated 60 s 1280×720 30 fps clip:
//   node --import tsx bench/preprocess-video.ts
// Baseline: ffmpeg decoding the whole clip to nothing (`-f null -`), in the same run. Ours: probe
// (packet count) + decoding the sampled frame numbers to RGB, then torchvision resize + patchify.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { locateFfmpeg } from '../electron/engine/models/node/ffmpeg-locate.ts';
import { probeVideo } from '../electron/engine/models/node/video-probe.ts';
import { decodeFramesByNumber } from '../electron/engine/models/node/video-frames.ts';
import { planFileSampling, videoFrameTargetSize } from '../electron/engine/models/common/video-sampling.ts';
import { resizeBicubicTorchvision } from '../electron/engine/models/common/torchvision-resize.ts';
import { patchify } from '../electron/engine/models/common/patchify.ts';
import type { RgbImage } from '../electron/engine/models/common/vision-types.ts';

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
    ['probe (ffprobe -count_packets)', probeMs, (probeMs / baselineMs).toFixed(2)],
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
} finally {
  rmSync(dir, { recursive: true, force: true });
}
