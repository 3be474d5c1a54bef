// Shared helpers for the runtime tests: seeded image files, a short ffmpeg test video, and the
// atol / cosine comparison of runtime outputs against the naive float64 reference.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import type { PreparedEmbedBatch } from '../../electron/engine/model-inputs/node/embed-inputs.ts';
import type { NaiveBatch } from '../../native-models/reference/node/naive-forward.ts';
import { seededBytes } from '../../scripts/fixtures/seeded-random.ts';

export const ATOL = 1e-4;
export const MIN_COSINE = 0.99999;
/**
 * The tiny checkpoint's attention is nearly uniform, so layout mistakes (a wrong visual row
 * order, a chunked M-RoPE) move outputs by only ~1e-5, inside ATOL. The graphs' float32 error
 * is ~1e-7 here, so this tighter bound is what catches such mistakes.
 */
export const REGRESSION_ATOL = 1e-6;

/** Writes a deterministic noise PNG (mulberry32) of width × height and returns its path. */
export async function seededPng(dir: string, width: number, height: number, seed: number): Promise<string> {
  const data = seededBytes(width * height * 3, seed);
  const file = path.join(dir, `noise-${width}x${height}-${seed}.png`);
  await sharp(data, { raw: { width, height, channels: 3 } }).png().toFile(file);
  return file;
}

/** 3 s of ffmpeg's testsrc2 at 10 fps: 4 sampled frames → grid_t = 2. */
export async function testVideo(dir: string, size = '160x128'): Promise<string> {
  const file = path.join(dir, `testsrc2-${size}.mp4`);
  await promisify(execFile)('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=10:duration=3`, '-pix_fmt', 'yuv420p', '-y', file]);
  return file;
}

/** The naive reference's batch for the same prepared inputs (vision inputs in order of appearance, per kind). */
export function naiveBatchOf(prepared: PreparedEmbedBatch | { batch: PreparedEmbedBatch['batch']; vision: PreparedEmbedBatch['vision'] }): NaiveBatch {
  const { batch, vision } = prepared;
  return {
    inputIds: batch.inputIds,
    attentionMask: batch.attentionMask,
    positionIds: batch.positionIds,
    images: vision.filter((v) => v.kind === 'image').map((v) => ({ pixelValues: v.pixelValues, gridThw: v.gridThw })),
    videos: vision.filter((v) => v.kind === 'video').map((v) => ({ pixelValues: v.pixelValues, gridThw: v.gridThw })),
  };
}

export interface Agreement {
  readonly maxAbs: number;
  readonly cosine: number;
}

export function agreement(actual: ArrayLike<number>, expected: ArrayLike<number>): Agreement {
  assert.equal(actual.length, expected.length, 'lengths differ');
  let maxAbs = 0;
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    maxAbs = Math.max(maxAbs, Math.abs(a - e));
    ab += a * e;
    aa += a * a;
    bb += e * e;
  }
  return { maxAbs, cosine: ab / Math.sqrt(aa * bb) };
}

/** Asserts atol 1e-4 (and the 1e-6 regression bound) and cosine ≥ 0.99999; returns the measured agreement for the report. */
export function assertAgrees(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): Agreement {
  const a = agreement(actual, expected);
  assert.ok(a.maxAbs <= ATOL, `${what}: max |Δ| = ${a.maxAbs} > ${ATOL}`);
  assert.ok(a.maxAbs <= REGRESSION_ATOL, `${what}: max |Δ| = ${a.maxAbs} > ${REGRESSION_ATOL} (float32 noise is ~1e-7 here; more means a layout or math change)`);
  assert.ok(a.cosine >= MIN_COSINE, `${what}: cosine ${a.cosine} < ${MIN_COSINE}`);
  return a;
}
