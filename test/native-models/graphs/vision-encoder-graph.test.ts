import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { patchify } from '../../../electron/engine/model-inputs/common/patchify.ts';
import { visionTables } from '../../../electron/engine/model-inputs/common/vision-tables.ts';
import type { RgbImage } from '../../../electron/engine/media/common/vision-types.ts';
import { openCheckpoint, type Checkpoint } from '../../../native-models/checkpoint/node/safetensors-reader.ts';
import { parseQwen3VLConfig, type Qwen3VLVisionConfig } from '../../../native-models/checkpoint/common/qwen3vl-config.ts';
import type { SaveResult } from '../../../native-models/onnx/node/graph-builder.ts';
import { buildVisionEncoder } from '../../../native-models/graphs/node/vision-encoder-graph.ts';
import { loadNaiveWeights, naiveWeightsFromTensors, type NaiveWeights } from '../../../native-models/reference/node/naive-weights.ts';
import { naiveVision } from '../../../native-models/reference/node/naive-vision.ts';
import { generateTinyCheckpoint } from '../../../native-models/tiny/node/generate-tiny-checkpoint.ts';
import { isSharpened, opCounts, seededImage, SHARP_SCALE, sharpCheckpoint, visionFeeds } from './graph-variant-fixtures.ts';

const ATOL = 1e-4;
const MIN_COSINE = 0.99999;

let root: string;
let checkpoint: Checkpoint;
let vision: Qwen3VLVisionConfig;
let weights: NaiveWeights;
let built: SaveResult;
let buildMs: number;
const progress: [number, number][] = [];
let session: ort.InferenceSession;

before(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'trove-vision-graph-'));
  const dir = path.join(root, 'tiny');
  await generateTinyCheckpoint({ out: dir, kind: 'embedding' });
  checkpoint = await openCheckpoint(dir);
  vision = parseQwen3VLConfig(checkpoint.config, dir).vision;
  const start = performance.now();
  built = await buildVisionEncoder(checkpoint, path.join(root, 'onnx'), { onProgress: (done, total) => progress.push([done, total]) });
  buildMs = performance.now() - start;
  weights = await loadNaiveWeights(dir);
  session = await ort.InferenceSession.create(built.onnxFile);
});

after(async () => {
  await session?.release();
  await checkpoint?.close();
  await rm(root, { recursive: true, force: true });
});

interface RowStats {
  maxAbs: number;
  minCosine: number;
}

/** Compares graph rows (a flat float32 block) with the float64 reference rows. */
function compareRows(actual: Float32Array, expected: Float64Array[], width: number, what: string): RowStats {
  assert.equal(actual.length, expected.length * width, `${what}: ${actual.length / width} rows, expected ${expected.length}`);
  let maxAbs = 0;
  let minCosine = 1;
  expected.forEach((row, r) => {
    let dot = 0;
    let na = 0;
    let ne = 0;
    for (let d = 0; d < width; d++) {
      const a = actual[r * width + d];
      const e = row[d];
      maxAbs = Math.max(maxAbs, Math.abs(a - e));
      dot += a * e;
      na += a * a;
      ne += e * e;
    }
    minCosine = Math.min(minCosine, dot / Math.sqrt(na * ne));
  });
  assert.ok(maxAbs <= ATOL, `${what}: max |graph − reference| = ${maxAbs} > ${ATOL}`);
  assert.ok(minCosine >= MIN_COSINE, `${what}: lowest row cosine ${minCosine} < ${MIN_COSINE}`);
  return { maxAbs, minCosine };
}

/**
 * The reference's weights sharpened exactly as sharpCheckpoint sharpens the graph's (see
 * SHARP_SCALE: near-uniform attention would hide a wrong rotary or key layout).
 */
function sharpWeights(base: NaiveWeights): NaiveWeights {
  const tensors = new Map([...base.tensors].map(([name, t]) => [name, isSharpened(name) ? { shape: t.shape, data: t.data.map((x) => x * SHARP_SCALE) } : t]));
  return naiveWeightsFromTensors(base.config, tensors);
}

/** Runs the graph on patchified frames and checks every output against naiveVision. */
async function checkAgainstReference(frames: RgbImage[], expectedGrid: [number, number, number], model: { session: ort.InferenceSession; weights: NaiveWeights } = { session, weights }): Promise<Record<string, RowStats>> {
  const { pixelValues, gridThw } = patchify(frames);
  assert.deepEqual([...gridThw], expectedGrid);
  const headDim = vision.hidden / vision.heads;
  const tables = visionTables(gridThw, headDim);
  const S = tables.segmentCount;
  const L = tables.segmentPatches;
  const out = await model.session.run({
    pixel_values: new ort.Tensor('float32', pixelValues, [S, L, pixelValues.length / (S * L)]),
    pos_embed_idx: new ort.Tensor('int64', BigInt64Array.from(tables.posEmbedIdx, (i) => BigInt(i)), [4, L]),
    pos_embed_w: new ort.Tensor('float32', tables.posEmbedWeight, [4, L]),
    rope_cos: new ort.Tensor('float32', tables.ropeCos, [L, headDim]),
    rope_sin: new ort.Tensor('float32', tables.ropeSin, [L, headDim]),
  });
  const T = L / 4;
  const outHidden = vision.outHidden;
  assert.deepEqual(out.merged_embeds.dims, [S, T, outHidden]);
  assert.deepEqual(out.deepstack_embeds.dims, [3, S, T, outHidden]);
  const reference = naiveVision(model.weights, pixelValues, gridThw);
  const stats: Record<string, RowStats> = {};
  // Segment-major flattening of [S, T, out] is the prompt's token order, as the reference returns it.
  stats.merged = compareRows(out.merged_embeds.data as Float32Array, reference.merged, outHidden, `merged_embeds ${gridThw.join('×')}`);
  const deepstack = out.deepstack_embeds.data as Float32Array;
  for (let tap = 0; tap < 3; tap++) {
    const block = deepstack.subarray(tap * S * T * outHidden, (tap + 1) * S * T * outHidden);
    stats[`deepstack${tap}`] = compareRows(block, reference.deepstack[tap], outHidden, `deepstack_embeds[${tap}] ${gridThw.join('×')}`);
  }
  return stats;
}

test('the vision graph is written with external data, a small .onnx and progress to the last tensor', async (t) => {
  assert.ok(built.dataFile);
  assert.equal((await stat(built.onnxFile)).size, built.onnxBytes);
  assert.equal((await stat(built.dataFile)).size, built.dataBytes);
  assert.ok(built.onnxBytes < 200_000, `the .onnx should hold only the graph, got ${built.onnxBytes} bytes`);
  assert.deepEqual((await readdir(path.dirname(built.onnxFile))).sort(), ['vision_encoder.onnx', 'vision_encoder.onnx_data']);
  assert.ok(progress.length > 0);
  const [done, total] = progress[progress.length - 1];
  assert.equal(done, total);
  t.diagnostic(`tiny vision graph: .onnx ${built.onnxBytes} B, data ${built.dataBytes} B, built in ${buildMs.toFixed(0)} ms`);
});

// Three image sizes and a video run through ONE session: the graph is shape-polymorphic.
for (const [width, height, grid, seed] of [
  [96, 64, [1, 4, 6], 1],
  [288, 192, [1, 12, 18], 2],
  [128, 128, [1, 8, 8], 3],
] as [number, number, [number, number, number], number][]) {
  test(`image ${width}×${height} (grid ${grid.join('×')}) matches the float64 reference`, async (t) => {
    const stats = await checkAgainstReference([seededImage(width, height, seed)], grid);
    t.diagnostic(JSON.stringify(stats));
  });
}

test('a video with grid_t = 2 (two segments, shared tables) matches the float64 reference', async (t) => {
  const frames = [10, 11, 12, 13].map((seed) => seededImage(64, 96, seed));
  const stats = await checkAgainstReference(frames, [2, 6, 4]);
  t.diagnostic(JSON.stringify(stats));
});

test('with sharpened attention (qkv ×4) an image and a video still match the reference', async (t) => {
  const sharpDir = path.join(root, 'onnx-sharp');
  const sharp = await buildVisionEncoder(sharpCheckpoint(checkpoint), sharpDir);
  const sharpSession = await ort.InferenceSession.create(sharp.onnxFile);
  try {
    const model = { session: sharpSession, weights: sharpWeights(weights) };
    t.diagnostic(JSON.stringify(await checkAgainstReference([seededImage(96, 64, 4)], [1, 4, 6], model)));
    t.diagnostic(JSON.stringify(await checkAgainstReference([20, 21, 22, 23].map((seed) => seededImage(64, 96, seed)), [2, 6, 4], model)));
  } finally {
    await sharpSession.release();
  }
});

// The plain graph computes attention in blocks of query rows (a Loop per vision block) so that a
// 7,200-patch image never holds its [heads, L, L] scores at once. A bound of 8,640 bytes gives the
// tiny tower (2 heads) blocks of 5 rows on the 216-patch image (44 blocks, the last one ragged) and
// of 22 rows on the two-segment video (24 patches each: 22 + 2); the 24-patch image fits in one.
test('attention in blocks of query rows (ragged last block) matches the reference and the single-product graph', async (t) => {
  const blockBytes = 5 * 216 * 2 * 4;
  const sharp = sharpCheckpoint(checkpoint);
  const blockedGraph = await buildVisionEncoder(sharp, path.join(root, 'onnx-blocked'), { attentionBlockBytes: blockBytes });
  const unblockedGraph = await buildVisionEncoder(sharp, path.join(root, 'onnx-unblocked'), { attentionBlockBytes: 'unblocked' });
  const ops = await opCounts(blockedGraph.onnxFile);
  assert.equal(ops.get('Loop'), vision.depth, 'one Loop over query blocks per vision block');
  assert.equal(ops.get('Softmax'), undefined, 'no full-size softmax outside the loop');
  assert.equal((await opCounts(unblockedGraph.onnxFile)).get('Loop'), undefined);
  const blocked = await ort.InferenceSession.create(blockedGraph.onnxFile);
  const unblocked = await ort.InferenceSession.create(unblockedGraph.onnxFile);
  try {
    const model = { session: blocked, weights: sharpWeights(weights) };
    const inputs: [RgbImage[], [number, number, number]][] = [
      [[seededImage(288, 192, 5)], [1, 12, 18]],
      [[30, 31, 32, 33].map((seed) => seededImage(64, 96, seed)), [2, 6, 4]],
      [[seededImage(96, 64, 6)], [1, 4, 6]],
    ];
    for (const [frames, grid] of inputs) {
      t.diagnostic(`${grid.join('×')} vs reference: ${JSON.stringify(await checkAgainstReference(frames, grid, model))}`);
      const feeds = visionFeeds(frames, vision.hidden / vision.heads);
      const [a, b] = [await blocked.run(feeds), await unblocked.run(feeds)];
      for (const name of ['merged_embeds', 'deepstack_embeds']) {
        const x = a[name]!.data as Float32Array;
        const y = b[name]!.data as Float32Array;
        assert.equal(x.length, y.length);
        let maxAbs = 0;
        for (let i = 0; i < x.length; i++) maxAbs = Math.max(maxAbs, Math.abs(x[i]! - y[i]!));
        assert.ok(maxAbs <= 1e-6, `${grid.join('×')} ${name}: blocked vs single product differ by ${maxAbs}`);
        t.diagnostic(`${grid.join('×')} ${name}: blocked vs single product max |Δ| ${maxAbs.toExponential(2)}`);
      }
    }
  } finally {
    await Promise.all([blocked.release(), unblocked.release()]);
  }
});
