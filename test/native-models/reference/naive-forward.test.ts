// The naive float64 reference forward: hand-checkable micro cases, the worked examples of
// docs/qwen3-vl-model.md,
// and structural properties (padding, causality, DeepStack routing, segment separability, merge
// order, relative rotary) on the generated tiny checkpoints.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { GridThw, RgbImage } from '../../../electron/engine/media/common/vision-types.ts';
import { getRopeIndex } from '../../../electron/engine/model-inputs/common/rope-index.ts';
import { patchify } from '../../../electron/engine/model-inputs/common/patchify.ts';
import { generateTinyCheckpoint } from '../../../native-models/tiny/node/generate-tiny-checkpoint.ts';
import { loadNaiveWeights, naiveWeightsFromTensors, LM_HEAD, EMBED_TOKENS, type NaiveConfig, type NaiveTensor, type NaiveWeights } from '../../../native-models/reference/node/naive-weights.ts';
import { bilinearTaps, mergeOrderPatches, naiveVision, patchEmbed, positionEmbeddingRows, visionRotary, type NaiveVisionOutput } from '../../../native-models/reference/node/naive-vision.ts';
import { mropeAxisOfSlot, naiveDecoder } from '../../../native-models/reference/node/naive-decoder.ts';
import { matryoshka, naiveEmbed, naiveRerank, NO_TOKEN_ID, sigmoid, YES_TOKEN_ID, type NaiveBatch } from '../../../native-models/reference/node/naive-forward.ts';
import { erf, geluErf } from '../../../native-models/reference/common/naive-ops.ts';
import { mulberry32 } from '../../../scripts/fixtures/seeded-random.ts';

import { IM_END, IM_START, IMAGE_PAD, NL, PAD, VIDEO_PAD, VISION_END, VISION_START } from '../../support/token-ids.ts';

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  const d = maxAbsDiff(actual, expected);
  assert.ok(d <= tol, `${what}: max |Δ| = ${d} > ${tol}`);
}

function norm(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

/** Deterministic uniform values in [−1, 1) (mulberry32). */
function seededPixels(count: number, seed: number): Float32Array {
  const next = mulberry32(seed);
  return Float32Array.from({ length: count }, () => next() / 2 ** 31 - 1);
}

const ROW = 1536;

/** A chat-shaped prompt around `content` ids. */
function prompt(content: number[]): number[] {
  return [IM_START, 872, NL, ...content, IM_END, NL, IM_START, 77091, NL];
}

function imageBlock(grid: GridThw): number[] {
  return [VISION_START, ...new Array<number>((grid[0] * grid[1] * grid[2]) / 4).fill(IMAGE_PAD), VISION_END];
}

function videoBlocks(grid: GridThw): number[] {
  const out: number[] = [];
  for (let g = 0; g < grid[0]; g++) out.push(27 + g, VISION_START, ...new Array<number>((grid[1] * grid[2]) / 4).fill(VIDEO_PAD), VISION_END);
  return out;
}

/** Pads rows to one length (right padding for the embedder, left for the reranker) and adds position ids. */
function batchOf(rows: number[][], side: 'right' | 'left', imageGrids: GridThw[] = [], videoGrids: GridThw[] = []): Pick<NaiveBatch, 'inputIds' | 'attentionMask' | 'positionIds'> {
  const S = Math.max(...rows.map((r) => r.length));
  const inputIds = rows.map((r) => {
    const pad = new Array<number>(S - r.length).fill(PAD);
    return side === 'right' ? [...r, ...pad] : [...pad, ...r];
  });
  const attentionMask = rows.map((r) => {
    const ones = new Array<number>(r.length).fill(1);
    const zeros = new Array<number>(S - r.length).fill(0);
    return side === 'right' ? [...ones, ...zeros] : [...zeros, ...ones];
  });
  return { inputIds, attentionMask, positionIds: getRopeIndex(inputIds, attentionMask, imageGrids, videoGrids) };
}

function zeroDeepstack(out: NaiveVisionOutput): NaiveVisionOutput {
  const zero = (rows: Float64Array[]) => rows.map((r) => new Float64Array(r.length));
  return { merged: out.merged, deepstack: [zero(out.deepstack[0]), zero(out.deepstack[1]), zero(out.deepstack[2])] };
}

describe('naive ops', () => {
  test('erf matches tabulated values to 1e-15 and is odd', () => {
    // Values from Abramowitz & Stegun / high-precision tables.
    const table: [number, number][] = [
      [0, 0],
      [0.1, 0.1124629160182849],
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497149],
      [1.5, 0.9661051464753108],
      [2, 0.9953222650189527],
      [3, 0.9999779095030014],
      [4, 0.9999999845827421],
      [5.9, 0.9999999999999999],
    ];
    for (const [x, v] of table) {
      assert.ok(Math.abs(erf(x) - v) <= 2e-16 * Math.max(1, Math.abs(v)) * 4, `erf(${x}) = ${erf(x)}, expected ${v}`);
      if (x !== 0) assert.equal(erf(-x), -erf(x));
    }
    assert.equal(erf(7), 1);
    // Exact GELU: Φ(1) = 0.841344746068543 → gelu(1) = 0.841344746068543.
    assert.ok(Math.abs(geluErf(1) - 0.8413447460685429) < 1e-15);
  });

  test('interleaved M-RoPE axis map: tiny [4,2,2] → T{0,3,6,7} H{1,4} W{2,5}; real [24,20,20] → H j%3=1, W j%3=2 below 60', () => {
    assert.deepEqual(mropeAxisOfSlot([4, 2, 2], 8), [0, 1, 2, 0, 1, 2, 0, 0]);
    const real = mropeAxisOfSlot([24, 20, 20], 64);
    real.forEach((axis, j) => {
      const expected = j < 60 && j % 3 === 1 ? 1 : j < 60 && j % 3 === 2 ? 2 : 0;
      assert.equal(axis, expected, `slot ${j}`);
    });
    assert.equal(real.filter((a) => a === 0).length, 24);
  });

  test('bilinear position taps reproduce the documented worked example (h = w = 4) in merge order', () => {
    // Merge order of a 4×4 grid visits (0,0) (0,1) (1,0) (1,1) (0,2) (0,3) (1,2) (1,3) first.
    const cells = [[0, 0], [0, 1], [1, 0], [1, 1], [0, 2], [0, 3], [1, 2], [1, 3]];
    assert.deepEqual(cells.map(([i, j]) => bilinearTaps(4, 4, 48, i, j)[0].index), [0, 15, 720, 735, 31, 47, 751, 767]);
    // linspace(0, 47, 4)[1] = 15.666667 in float32: fraction 0.6666670 (float32), not 2/3.
    const taps = bilinearTaps(4, 4, 48, 0, 1);
    // Row 0: floor 0, ceil 1 (weight 0 but still a tap, as in HF).
    assert.deepEqual(taps.map((t) => t.index), [15, 16, 63, 64]);
    assert.equal(taps[1].weight, Math.fround(Math.fround(15.666667) - 15));
    assert.notEqual(taps[1].weight, 2 / 3);
    assert.equal(taps[2].weight, 0); // dh = 0 on the first row
    // The last cell's ceil is clamped to 47: both h taps and both w taps hit index 47·48+47.
    assert.deepEqual(bilinearTaps(4, 4, 48, 3, 3).map((t) => t.index), [2303, 2303, 2303, 2303]);
    assert.deepEqual(bilinearTaps(4, 4, 48, 3, 3).map((t) => t.weight), [1, 0, 0, 0]);
  });
});

describe('hand-checkable decoder micro case', () => {
  // hidden 2, one head of dim 2 (one rotary frequency, inv_freq = θ⁰ = 1, driven by T), eps 0,
  // identity projections, a one-unit SwiGLU, final norm weight [1, 2].
  const config: NaiveConfig = {
    text: { vocabSize: 3, hiddenSize: 2, intermediateSize: 1, numLayers: 1, numHeads: 1, numKvHeads: 1, headDim: 2, rmsNormEps: 0, ropeTheta: 5e6, mropeSection: [1, 0, 0] },
    imageTokenId: 151655,
    videoTokenId: 151656,
    tieWordEmbeddings: true,
  };
  const t = (shape: number[], values: number[]): NaiveTensor => ({ shape, data: Float64Array.from(values) });
  const L = 'model.language_model.layers.0.';
  const tensors = new Map<string, NaiveTensor>([
    [EMBED_TOKENS, t([3, 2], [1, 0, 0, 1, 1, 1])],
    [`${L}input_layernorm.weight`, t([2], [1, 1])],
    [`${L}post_attention_layernorm.weight`, t([2], [1, 1])],
    [`${L}self_attn.q_proj.weight`, t([2, 2], [1, 0, 0, 1])],
    [`${L}self_attn.k_proj.weight`, t([2, 2], [1, 0, 0, 1])],
    [`${L}self_attn.v_proj.weight`, t([2, 2], [1, 0, 0, 1])],
    [`${L}self_attn.o_proj.weight`, t([2, 2], [1, 0, 0, 1])],
    // Non-uniform q_norm weight: normalising before or after the rotation gives different q.
    [`${L}self_attn.q_norm.weight`, t([2], [1, 3])],
    [`${L}self_attn.k_norm.weight`, t([2], [1, 1])],
    [`${L}mlp.gate_proj.weight`, t([1, 2], [1, 0])],
    [`${L}mlp.up_proj.weight`, t([1, 2], [0, 1])],
    [`${L}mlp.down_proj.weight`, t([2, 1], [1, 0])],
    ['model.language_model.norm.weight', t([2], [1, 2])],
  ]);
  const weights = naiveWeightsFromTensors(config, tensors);

  test('two tokens at positions 0, 1 give the hand-derived outputs', () => {
    const out = naiveDecoder(weights, { inputIds: [[0, 1]], attentionMask: [[1, 1]], positionIds: [[[0, 1]], [[0, 1]], [[0, 1]]] });
    const r2 = Math.SQRT2;
    // Position 0 attends to itself: x0 = [1,0], rms-normed [√2,0] → attention returns v0 = [√2,0];
    // MLP: gate √2, up 0 → 0. Layer output [1+√2, 0]; final norm [√2, 0]·[1, 2].
    assertClose(out.layerOutputs[0][0][0], [1 + r2, 0], 1e-15, 'layer out, pos 0');
    assertClose(out.lastHidden[0][0], [r2, 0], 1e-15, 'final, pos 0');
    // Position 1: n1 = [0,√2]; q_norm first → [0, 3√2], then rotated by 1 rad →
    // q1 = [−3√2 sin1, 3√2 cos1]. k0 = [√2,0] (angle 0), k1 = [−√2 sin1, √2 cos1].
    // Scores /√2: q1·k0 → −3√2 sin1, q1·k1 → 3√2.
    const s10 = -3 * r2 * Math.sin(1);
    const s11 = 3 * r2;
    const p0 = Math.exp(s10) / (Math.exp(s10) + Math.exp(s11));
    const p1 = 1 - p0;
    const r1 = [r2 * p0, 1 + r2 * p1]; // x1 + p0·v0 + p1·v1, v0 = [√2,0], v1 = [0,√2]
    const rms = Math.sqrt((r1[0] ** 2 + r1[1] ** 2) / 2);
    const y = [r1[0] / rms, r1[1] / rms];
    const silu = (v: number) => v / (1 + Math.exp(-v));
    const layer = [r1[0] + silu(y[0]) * y[1], r1[1]];
    assertClose(out.layerOutputs[0][0][1], layer, 1e-14, 'layer out, pos 1');
    const rmsOut = Math.sqrt((layer[0] ** 2 + layer[1] ** 2) / 2);
    assertClose(out.lastHidden[0][1], [layer[0] / rmsOut, (2 * layer[1]) / rmsOut], 1e-14, 'final, pos 1');
  });

  test('GQA: query heads 0,1 read kv head 0 and heads 2,3 kv head 1 (repeat_kv order)', () => {
    // One token: each head's attention returns its kv head's v exactly. hidden 4, head_dim 2,
    // 4 query heads over 2 kv heads; v = identity; o_proj copies head 1 → out[0..1] and head 2 →
    // out[2..3]. With repeat_kv's order those are kv 0 and kv 1, so the layer adds n = rms(x)
    // itself; the interleaved order (h mod 2) would swap the halves. MLP gate 0 → no MLP term.
    const gqa: NaiveConfig = { ...config, text: { ...config.text, hiddenSize: 4, numHeads: 4, numKvHeads: 2, vocabSize: 1 } };
    const eye = (n: number, m: number) => Array.from({ length: n * m }, (_, i) => (Math.floor(i / m) === i % m ? 1 : 0));
    const o = new Array<number>(4 * 8).fill(0);
    o[0 * 8 + 2] = 1; o[1 * 8 + 3] = 1; o[2 * 8 + 4] = 1; o[3 * 8 + 5] = 1;
    const w = naiveWeightsFromTensors(gqa, new Map<string, NaiveTensor>([
      [EMBED_TOKENS, t([1, 4], [1, 2, 3, 4])],
      [`${L}input_layernorm.weight`, t([4], [1, 1, 1, 1])],
      [`${L}post_attention_layernorm.weight`, t([4], [1, 1, 1, 1])],
      [`${L}self_attn.q_proj.weight`, t([8, 4], new Array(32).fill(0.5))],
      [`${L}self_attn.k_proj.weight`, t([4, 4], eye(4, 4))],
      [`${L}self_attn.v_proj.weight`, t([4, 4], eye(4, 4))],
      [`${L}self_attn.o_proj.weight`, t([4, 8], o)],
      [`${L}self_attn.q_norm.weight`, t([2], [1, 1])],
      [`${L}self_attn.k_norm.weight`, t([2], [1, 1])],
      [`${L}mlp.gate_proj.weight`, t([1, 4], [0, 0, 0, 0])],
      [`${L}mlp.up_proj.weight`, t([1, 4], [1, 1, 1, 1])],
      [`${L}mlp.down_proj.weight`, t([4, 1], [1, 1, 1, 1])],
      ['model.language_model.norm.weight', t([4], [1, 1, 1, 1])],
    ]));
    const out = naiveDecoder(w, { inputIds: [[0]], attentionMask: [[1]], positionIds: [[[0]], [[0]], [[0]]] });
    const scale = 1 + 1 / Math.sqrt((1 + 4 + 9 + 16) / 4);
    assertClose(out.layerOutputs[0][0][0], [1, 2, 3, 4].map((v) => v * scale), 1e-14, 'GQA layer output');
  });

  test('tied weights alias lm_head to embed_tokens', () => {
    assert.equal(weights.get(LM_HEAD), weights.get(EMBED_TOKENS));
  });
});

describe('naive forward on the tiny checkpoints', () => {
  let dir: string;
  let embedder: NaiveWeights;
  let reranker: NaiveWeights;
  const imageGrid: GridThw = [1, 4, 6];
  const videoGrid: GridThw = [2, 4, 4];
  const imagePixels = seededPixels(24 * ROW, 1);
  const videoPixels = seededPixels(32 * ROW, 2);
  let image: NaiveVisionOutput;
  let video: NaiveVisionOutput;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'naive-forward-'));
    await generateTinyCheckpoint({ out: path.join(dir, 'embedding'), kind: 'embedding', seed: 0 });
    await generateTinyCheckpoint({ out: path.join(dir, 'reranker'), kind: 'reranker', seed: 1 });
    embedder = await loadNaiveWeights(path.join(dir, 'embedding'));
    reranker = await loadNaiveWeights(path.join(dir, 'reranker'));
    image = naiveVision(embedder, imagePixels, imageGrid);
    video = naiveVision(embedder, videoPixels, videoGrid);
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('config and weights load as the tiny config says; the reranker keeps its own lm_head', () => {
    assert.equal(embedder.config.text.hiddenSize, 32);
    assert.deepEqual(embedder.config.text.mropeSection, [4, 2, 2]);
    assert.deepEqual(embedder.config.vision?.deepstackVisualIndexes, [1, 2, 3]);
    assert.equal(embedder.get(LM_HEAD), embedder.get(EMBED_TOKENS));
    assert.equal(reranker.config.tieWordEmbeddings, false);
    assert.notEqual(maxAbsDiff(reranker.get(LM_HEAD).data.subarray(0, 32), reranker.get(EMBED_TOKENS).data.subarray(0, 32)), 0);
  });

  test('vision output shapes: rows/4 merged rows of out_hidden, three DeepStack taps alike', () => {
    assert.equal(image.merged.length, 6);
    assert.ok(image.merged.every((r) => r.length === 32 && r.every(Number.isFinite)));
    for (const tap of image.deepstack) assert.equal(tap.length, 6);
    assert.equal(video.merged.length, 8);
  });

  test('patch embed: pixel column ((c·2+t)·16+y)·16+x of patchify meets conv weight [:, c, t, y, x]', () => {
    // Change one pixel of a still 32×32 image: patchify duplicates it into both temporal slots,
    // so the patch-embedding difference must be W[:,c,0,y,x] + W[:,c,1,y,x] times the value step.
    const base: RgbImage = { width: 32, height: 32, data: new Uint8Array(32 * 32 * 3).fill(100) };
    const changed: RgbImage = { ...base, data: Uint8Array.from(base.data) };
    const [y, x, c] = [3, 5, 1];
    changed.data[(y * 32 + x) * 3 + c] = 200;
    const a = patchify([base]);
    const b = patchify([changed]);
    const diffCols: number[] = [];
    for (let k = 0; k < a.pixelValues.length; k++) if (a.pixelValues[k] !== b.pixelValues[k]) diffCols.push(k);
    assert.deepEqual(diffCols, [((c * 2 + 0) * 16 + y) * 16 + x, ((c * 2 + 1) * 16 + y) * 16 + x]);
    const vision = embedder.config.vision!;
    const ea = patchEmbed(embedder, vision, a.pixelValues, 4);
    const eb = patchEmbed(embedder, vision, b.pixelValues, 4);
    const conv = embedder.get('model.visual.patch_embed.proj.weight', [32, 3, 2, 16, 16]).data;
    const step = b.pixelValues[diffCols[0]] - a.pixelValues[diffCols[0]];
    const expected = Array.from({ length: 32 }, (_, o) => step * (conv[o * 1536 + c * 512 + 0 * 256 + y * 16 + x] + conv[o * 1536 + c * 512 + 1 * 256 + y * 16 + x]));
    assertClose(eb[0].map((v, o) => v - ea[0][o]), expected, 1e-12, 'patch-embed difference');
    for (let r = 1; r < 4; r++) assert.equal(maxAbsDiff(ea[r], eb[r]), 0);
  });

  test('position embedding and 2-D rotary rows follow the merge-block order of the pixel rows', () => {
    const cells = mergeOrderPatches(4, 6, 2).map(({ row, col }) => [row, col]);
    assert.deepEqual(cells.slice(0, 10), [[0, 0], [0, 1], [1, 0], [1, 1], [0, 2], [0, 3], [1, 2], [1, 3], [0, 4], [0, 5]]);
    assert.deepEqual(cells.slice(12, 14), [[2, 0], [2, 1]]);
    const table = embedder.get('model.visual.pos_embed.weight').data;
    const rows = positionEmbeddingRows(embedder, 4, 6);
    cells.forEach(([i, j], r) => {
      const expected = new Float64Array(32);
      for (const tap of bilinearTaps(4, 6, 48, i, j)) for (let d = 0; d < 32; d++) expected[d] += tap.weight * table[tap.index * 32 + d];
      assertClose(rows[r], expected, 1e-15, `pos-embed row ${r}`);
    });
    // Rotary for vision head_dim 16: 4 frequencies 1, 0.1, 0.01, 0.001 (float32), [row·f, col·f] twice.
    const f = [1, 0.1, 0.01, 0.001].map(Math.fround);
    const { cos, sin } = visionRotary(3, 5, 16);
    const angles = [...f.map((v) => 3 * v), ...f.map((v) => 5 * v)];
    assert.deepEqual([...cos], [...angles, ...angles].map(Math.cos));
    assert.deepEqual([...sin], [...angles, ...angles].map(Math.sin));
  });

  test('segment separability: each temporal group of a video equals that group run alone', () => {
    for (let g = 0; g < 2; g++) {
      const alone = naiveVision(embedder, videoPixels.subarray(g * 16 * ROW, (g + 1) * 16 * ROW), [1, 4, 4]);
      for (let i = 0; i < 4; i++) {
        assertClose(video.merged[g * 4 + i], alone.merged[i], 1e-12, `group ${g} merged ${i}`);
        for (let tap = 0; tap < 3; tap++) assertClose(video.deepstack[tap][g * 4 + i], alone.deepstack[tap][i], 1e-12, `group ${g} tap ${tap}`);
      }
    }
    // …and the groups really differ (the check is not vacuous).
    assert.ok(maxAbsDiff(video.merged[0], video.merged[4]) > 1e-3);
  });

  test('merge order matters: the same patches fed in raster order give different features', () => {
    // Rows are in merge-block order; rebuild raster order (row-major over the 4×6 patch grid).
    const raster = new Float32Array(imagePixels.length);
    let r = 0;
    for (let bh = 0; bh < 2; bh++) for (let bw = 0; bw < 3; bw++) for (let mh = 0; mh < 2; mh++) for (let mw = 0; mw < 2; mw++) {
      const rasterRow = (bh * 2 + mh) * 6 + (bw * 2 + mw);
      raster.set(imagePixels.subarray(r * ROW, (r + 1) * ROW), rasterRow * ROW);
      r++;
    }
    assert.notEqual(maxAbsDiff(raster, imagePixels), 0);
    const wrong = naiveVision(embedder, raster, imageGrid);
    const worst = Math.max(...wrong.merged.map((row, i) => maxAbsDiff(row, image.merged[i])));
    assert.ok(worst > 1e-2, `raster order changed the merged rows by only ${worst}`);
  });

  test('embedding has unit norm; matryoshka truncates and renormalises', () => {
    const out = naiveEmbed(embedder, { ...batchOf([prompt([9707, 1879])], 'right') });
    const e = out.embedding[0];
    assert.ok(Math.abs(norm(e) - 1) < 1e-14);
    assertClose(e, out.pooled[0].map((v) => v / norm(out.pooled[0])), 1e-15, 'embedding = pooled/‖pooled‖');
    const m = matryoshka(e, 16);
    assert.equal(m.length, 16);
    assert.ok(Math.abs(norm(m) - 1) < 1e-14);
    const head = e.slice(0, 16);
    assertClose(m, head.map((v) => v / norm(head)), 1e-15, 'MRL prefix');
    assert.ok(norm(head) < 1 - 1e-6, 'the prefix alone is not unit length, so the renormalisation is real');
  });

  test('right padding invariance: a row embedded alone equals that row inside a longer padded batch', () => {
    const short = prompt([...imageBlock(imageGrid), 785]);
    const long = prompt([9707, 1879, 11, 1052, 374, 264, 1293, 1467, 311, 5155, 279, 7162, 13, 2]);
    assert.ok(long.length > short.length);
    const alone = naiveEmbed(embedder, { ...batchOf([short], 'right', [imageGrid]), imageEmbeds: [image] });
    const both = naiveEmbed(embedder, { ...batchOf([long, short], 'right', [imageGrid]), imageEmbeds: [image] });
    const longAlone = naiveEmbed(embedder, batchOf([long], 'right'));
    assertClose(both.embedding[1], alone.embedding[0], 1e-12, 'short row');
    assertClose(both.embedding[0], longAlone.embedding[0], 1e-12, 'long row');
    for (let s = 0; s < short.length; s++) assertClose(both.decoder.lastHidden[1][s], alone.decoder.lastHidden[0][s], 1e-12, `hidden ${s}`);
    // Pooling takes the last real token, not the last position.
    assert.ok(maxAbsDiff(both.pooled[1], both.decoder.lastHidden[1][long.length - 1]) > 1e-6);
  });

  test('left padding invariance: a reranker row scored alone equals the same row left-padded in a batch', () => {
    const short = prompt([27, 2, ...imageBlock(imageGrid), 3]);
    const long = prompt([27, 2, 9707, 1879, 11, 1052, 374, 264, 1293, 1467, 311, 5155, 279, 7162]);
    const alone = naiveRerank(reranker, { ...batchOf([short], 'left', [imageGrid]), images: [{ pixelValues: imagePixels, gridThw: imageGrid }] });
    const both = naiveRerank(reranker, { ...batchOf([long, short], 'left', [imageGrid]), images: [{ pixelValues: imagePixels, gridThw: imageGrid }] });
    const longAlone = naiveRerank(reranker, batchOf([long], 'left'));
    assert.ok(Math.abs(both.logit[1] - alone.logit[0]) < 1e-12, `${both.logit[1]} vs ${alone.logit[0]}`);
    assert.ok(Math.abs(both.logit[0] - longAlone.logit[0]) < 1e-12);
    assert.ok(Math.abs(both.logit[0] - both.logit[1]) > 1e-6, 'different rows score differently');
  });

  test('reranker: score = sigmoid(logit) ∈ (0, 1), logit = h[S−1]·(lm_head[yes] − lm_head[no])', () => {
    const out = naiveRerank(reranker, batchOf([prompt([27, 2, 9707]), prompt([27, 2, 1879, 1052])], 'left'));
    const head = reranker.get(LM_HEAD).data;
    out.logit.forEach((logit, b) => {
      assert.equal(out.score[b], sigmoid(logit));
      assert.ok(out.score[b] > 0 && out.score[b] < 1);
      const h = out.decoder.lastHidden[b].at(-1)!;
      const yes = h.reduce((s, v, d) => s + v * head[YES_TOKEN_ID * 32 + d], 0);
      const no = h.reduce((s, v, d) => s + v * head[NO_TOKEN_ID * 32 + d], 0);
      assert.ok(Math.abs(logit - (yes - no)) < 1e-12);
    });
    assert.throws(() => naiveRerank(reranker, batchOf([prompt([27]), prompt([27, 2, 3])], 'right')), /left-padded/);
  });

  test('causality: changing tokens after position p leaves every hidden state at ≤ p unchanged', () => {
    const ids = prompt([9707, 1879, 11, 1052, 374, 264]);
    const p = 6;
    const edited = ids.map((id, s) => (s > p ? (id + 17) % 151643 : id));
    const a = naiveEmbed(embedder, batchOf([ids], 'right')).decoder;
    const b = naiveEmbed(embedder, batchOf([edited], 'right')).decoder;
    for (let layer = 0; layer < 4; layer++) {
      for (let s = 0; s <= p; s++) assert.equal(maxAbsDiff(a.layerOutputs[layer][0][s], b.layerOutputs[layer][0][s]), 0, `layer ${layer} pos ${s}`);
    }
    for (let s = 0; s < ids.length; s++) {
      const d = maxAbsDiff(a.lastHidden[0][s], b.lastHidden[0][s]);
      if (s <= p) assert.equal(d, 0);
      else assert.ok(d > 1e-6, `position ${s} should change`);
    }
  });

  test('DeepStack: zeroing it changes layer-0 hidden states at visual positions only; images and videos get their own rows', () => {
    const ids = prompt([27, ...videoBlocks(videoGrid), 2, ...imageBlock(imageGrid), 3]);
    const base = { ...batchOf([ids], 'right', [imageGrid], [videoGrid]) };
    const full = naiveDecoder(embedder, { ...base, imageEmbeds: [image], videoEmbeds: [video] });
    const noVideoDeep = naiveDecoder(embedder, { ...base, imageEmbeds: [image], videoEmbeds: [zeroDeepstack(video)] });
    const noDeep = naiveDecoder(embedder, { ...base, imageEmbeds: [zeroDeepstack(image)], videoEmbeds: [zeroDeepstack(video)] });
    const firstVisual = ids.findIndex((id) => id === VIDEO_PAD);
    ids.forEach((id, s) => {
      // Fused inputs and the layer-0 output (before the add) do not see DeepStack.
      assert.equal(maxAbsDiff(full.inputsEmbeds[0][s], noDeep.inputsEmbeds[0][s]), 0);
      assert.equal(maxAbsDiff(full.layerOutputs[0][0][s], noDeep.layerOutputs[0][0][s]), 0);
      const visual = id === IMAGE_PAD || id === VIDEO_PAD;
      // After layer 0's add: exactly the visual positions differ, by exactly DeepStack tap 0.
      const d = maxAbsDiff(full.afterDeepstack[0][0][s], noDeep.afterDeepstack[0][0][s]);
      assert.equal(d > 0, visual, `position ${s} (token ${id})`);
      // Zeroing only the video rows touches only video positions.
      assert.equal(maxAbsDiff(full.afterDeepstack[0][0][s], noVideoDeep.afterDeepstack[0][0][s]) > 0, id === VIDEO_PAD);
      // Text before the first visual token never sees it (causal).
      if (s < firstVisual) assert.equal(maxAbsDiff(full.lastHidden[0][s], noDeep.lastHidden[0][s]), 0);
    });
    const imagePositions = ids.flatMap((id, s) => (id === IMAGE_PAD ? [s] : []));
    imagePositions.forEach((s, k) => assertClose(full.afterDeepstack[0][0][s].map((v, d) => v - noDeep.afterDeepstack[0][0][s][d]), image.deepstack[0][k], 1e-12, `image row ${k}`));
    const videoPositions = ids.flatMap((id, s) => (id === VIDEO_PAD ? [s] : []));
    videoPositions.forEach((s, k) => assertClose(full.afterDeepstack[0][0][s].map((v, d) => v - noDeep.afterDeepstack[0][0][s][d]), video.deepstack[0][k], 1e-12, `video row ${k}`));
    // Layers past the taps (3) add nothing: layer 3 output equals what leaves it.
    assert.equal(maxAbsDiff(full.layerOutputs[3][0][firstVisual], full.afterDeepstack[3][0][firstVisual]), 0);
    assert.ok(maxAbsDiff(full.lastHidden[0].at(-1)!, noDeep.lastHidden[0].at(-1)!) > 1e-6, 'DeepStack reaches the pooled token');
  });

  test('relative rotary: shifting all position axes by a constant leaves a text-only embedding unchanged', () => {
    const batch = batchOf([prompt([9707, 1879, 11, 1052])], 'right');
    const shift = (k: number) => batch.positionIds.map((axis) => axis.map((row) => row.map((p) => p + k)));
    const base = naiveEmbed(embedder, batch).embedding[0];
    const shifted = naiveEmbed(embedder, { ...batch, positionIds: shift(1000) }).embedding[0];
    assertClose(shifted, base, 1e-10, 'shift by 1000');
    // A non-constant change of positions (doubling) does change it: the property is not vacuous.
    const doubled = batch.positionIds.map((axis) => axis.map((row) => row.map((p) => 2 * p)));
    assert.ok(maxAbsDiff(naiveEmbed(embedder, { ...batch, positionIds: doubled }).embedding[0], base) > 1e-6);
  });

  test('M-RoPE uses the H and W axes: swapping them on an image changes the output', () => {
    const ids = prompt([...imageBlock(imageGrid)]);
    const batch = { ...batchOf([ids], 'right', [imageGrid]), imageEmbeds: [image] };
    const [T, H, W] = batch.positionIds;
    assert.notDeepEqual(H, W);
    const a = naiveEmbed(embedder, batch).embedding[0];
    const b = naiveEmbed(embedder, { ...batch, positionIds: [T, W, H] }).embedding[0];
    assert.ok(maxAbsDiff(a, b) > 1e-6);
  });
});
