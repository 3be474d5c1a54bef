// Naive float64 Qwen3-VL vision tower (tests only): the executable form of docs/qwen3-vl-model.md#vision-tower,
// checked against transformers' Qwen3VLVisionModel. One image or video (one grid) per call.
import { linspaceFloat32 } from '../../../electron/engine/base/common/torch-linspace.ts';
import type { GridThw } from '../../../electron/engine/media/common/vision-types.ts';
import { addInPlace, applyRotary, concat, geluErf, geluTanh, layerNorm, linear, mapInPlace, softmax } from '../common/naive-ops.ts';
import { VISION_PREFIX, type NaiveVisionConfig, type NaiveWeights } from './naive-weights.ts';

const f32 = Math.fround;
const LAYER_NORM_EPS = 1e-6;
const VISION_ROPE_THETA = 10000;

/** Merged rows of every DeepStack tap, in tap order (three taps in every Qwen3-VL). */
export type NaiveDeepstack = [Float64Array[], Float64Array[], Float64Array[]];

export interface NaiveVisionOutput {
  /** Final merger output: one row per 2×2 block, rows/4 × out_hidden_size, in pad-token order. */
  readonly merged: Float64Array[];
  readonly deepstack: NaiveDeepstack;
}

export function visionConfigOf(weights: NaiveWeights): NaiveVisionConfig {
  const vision = weights.config.vision;
  if (!vision) throw new Error('these weights have no vision_config');
  return vision;
}

/** Patch (row, col) of every row in merge-block order (bh, bw, mh, mw), one temporal group. */
export function mergeOrderPatches(gridH: number, gridW: number, merge: number): { row: number; col: number }[] {
  const out: { row: number; col: number }[] = [];
  for (let bh = 0; bh < gridH / merge; bh++) {
    for (let bw = 0; bw < gridW / merge; bw++) {
      for (let mh = 0; mh < merge; mh++) {
        for (let mw = 0; mw < merge; mw++) out.push({ row: bh * merge + mh, col: bw * merge + mw });
      }
    }
  }
  return out;
}

export interface BilinearTap {
  readonly index: number;
  readonly weight: number;
}

/**
 * The four (index, weight) taps of `fast_pos_embed_interpolate` for raster cell (i, j) of an
 * h×w grid over the side×side learned table. Reproduces HF's float32 arithmetic: float32
 * linspace, truncation to int, ceil clamped to side−1, fractions and weight products in float32.
 */
export function bilinearTaps(gridH: number, gridW: number, side: number, i: number, j: number): BilinearTap[] {
  const hs = linspaceFloat32(0, side - 1, gridH)[i];
  const ws = linspaceFloat32(0, side - 1, gridW)[j];
  const hFloor = Math.trunc(hs);
  const wFloor = Math.trunc(ws);
  const hCeil = Math.min(hFloor + 1, side - 1);
  const wCeil = Math.min(wFloor + 1, side - 1);
  const dh = f32(hs - hFloor);
  const dw = f32(ws - wFloor);
  return [
    { index: hFloor * side + wFloor, weight: f32(f32(1 - dh) * f32(1 - dw)) },
    { index: hFloor * side + wCeil, weight: f32(f32(1 - dh) * dw) },
    { index: hCeil * side + wFloor, weight: f32(dh * f32(1 - dw)) },
    { index: hCeil * side + wCeil, weight: f32(dh * dw) },
  ];
}

/** Interpolated learned position embedding for one temporal group, rows in merge-block order. */
export function positionEmbeddingRows(weights: NaiveWeights, gridH: number, gridW: number): Float64Array[] {
  const vision = visionConfigOf(weights);
  const hidden = vision.hiddenSize;
  const side = Math.round(Math.sqrt(vision.numPositionEmbeddings));
  if (side * side !== vision.numPositionEmbeddings) throw new Error(`num_position_embeddings ${vision.numPositionEmbeddings} is not a square`);
  const table = weights.get(`${VISION_PREFIX}pos_embed.weight`, [vision.numPositionEmbeddings, hidden]).data;
  return mergeOrderPatches(gridH, gridW, vision.spatialMergeSize).map(({ row, col }) => {
    const pe = new Float64Array(hidden);
    for (const tap of bilinearTaps(gridH, gridW, side, row, col)) {
      for (let d = 0; d < hidden; d++) pe[d] += tap.weight * table[tap.index * hidden + d];
    }
    return pe;
  });
}

/** Vision rotary inverse frequencies over `dim` = head_dim/2, in float32 like HF's buffer. */
export function visionInverseFrequencies(headDim: number): number[] {
  const dim = headDim / 2;
  const out: number[] = [];
  for (let j = 0; j < dim; j += 2) out.push(f32(1 / f32(VISION_ROPE_THETA ** f32(j / dim))));
  return out;
}

/**
 * cos/sin of the 2-D rotary for one patch: angles [row·f, col·f] (head_dim/2 values), duplicated
 * to head_dim (`cat(emb, emb)`). The angle is formed exactly from the float32 frequencies;
 * HF's float32 product differs by ≤ pos·2⁻²⁴ rad, far inside the graph tolerance.
 */
export function visionRotary(row: number, col: number, headDim: number): { cos: Float64Array; sin: Float64Array } {
  const freqs = visionInverseFrequencies(headDim);
  const angles = [...freqs.map((f) => row * f), ...freqs.map((f) => col * f)];
  const emb = [...angles, ...angles];
  return { cos: Float64Array.from(emb, Math.cos), sin: Float64Array.from(emb, Math.sin) };
}

interface BlockWeights {
  norm1w: Float64Array; norm1b: Float64Array; norm2w: Float64Array; norm2b: Float64Array;
  qkvW: Float64Array; qkvB: Float64Array; projW: Float64Array; projB: Float64Array;
  fc1W: Float64Array; fc1B: Float64Array; fc2W: Float64Array; fc2B: Float64Array;
}

function blockWeights(weights: NaiveWeights, vision: NaiveVisionConfig, index: number): BlockWeights {
  const p = `${VISION_PREFIX}blocks.${index}.`;
  const hid = vision.hiddenSize;
  const inter = vision.intermediateSize;
  const w = (name: string, shape: number[]) => weights.get(p + name, shape).data;
  return {
    norm1w: w('norm1.weight', [hid]), norm1b: w('norm1.bias', [hid]),
    norm2w: w('norm2.weight', [hid]), norm2b: w('norm2.bias', [hid]),
    qkvW: w('attn.qkv.weight', [3 * hid, hid]), qkvB: w('attn.qkv.bias', [3 * hid]),
    projW: w('attn.proj.weight', [hid, hid]), projB: w('attn.proj.bias', [hid]),
    fc1W: w('mlp.linear_fc1.weight', [inter, hid]), fc1B: w('mlp.linear_fc1.bias', [inter]),
    fc2W: w('mlp.linear_fc2.weight', [hid, inter]), fc2B: w('mlp.linear_fc2.bias', [hid]),
  };
}

/** Full (non-causal) multi-head attention over one segment, with the 2-D rotary on q and k. */
function segmentAttention(
  normed: Float64Array[],
  rotary: { cos: Float64Array; sin: Float64Array }[],
  b: BlockWeights,
  vision: NaiveVisionConfig,
): Float64Array[] {
  const hid = vision.hiddenSize;
  const heads = vision.numHeads;
  const hd = hid / heads;
  const L = normed.length;
  // qkv row layout is [3, heads, head_dim]: q block, then k block, then v block.
  const qkv = normed.map((x) => linear(b.qkvW, b.qkvB, x, 3 * hid));
  const attended = Array.from({ length: L }, () => new Float64Array(hid));
  for (let h = 0; h < heads; h++) {
    const q = qkv.map((r, i) => applyRotary(r.subarray(h * hd, (h + 1) * hd), rotary[i].cos, rotary[i].sin));
    const k = qkv.map((r, i) => applyRotary(r.subarray(hid + h * hd, hid + (h + 1) * hd), rotary[i].cos, rotary[i].sin));
    const v = qkv.map((r) => r.subarray(2 * hid + h * hd, 2 * hid + (h + 1) * hd));
    for (let i = 0; i < L; i++) {
      const scores = new Float64Array(L);
      for (let j = 0; j < L; j++) {
        let s = 0;
        for (let d = 0; d < hd; d++) s += q[i][d] * k[j][d];
        scores[j] = s / Math.sqrt(hd);
      }
      const p = softmax(scores);
      for (let j = 0; j < L; j++) for (let d = 0; d < hd; d++) attended[i][h * hd + d] += p[j] * v[j][d];
    }
  }
  return attended.map((a) => linear(b.projW, b.projB, a, hid));
}

function visionBlock(x: Float64Array[], segments: number[][], rotary: { cos: Float64Array; sin: Float64Array }[], b: BlockWeights, vision: NaiveVisionConfig): Float64Array[] {
  const hid = vision.hiddenSize;
  const out = x.map((r) => Float64Array.from(r));
  const normed = out.map((r) => layerNorm(r, b.norm1w, b.norm1b, LAYER_NORM_EPS));
  // cu_seqlens: tokens attend only to tokens of their own temporal group.
  for (const rows of segments) {
    const attn = segmentAttention(rows.map((r) => normed[r]), rows.map((r) => rotary[r]), b, vision);
    rows.forEach((r, i) => addInPlace(out[r], attn[i]));
  }
  for (const r of out) {
    const hiddenMlp = mapInPlace(linear(b.fc1W, b.fc1B, layerNorm(r, b.norm2w, b.norm2b, LAYER_NORM_EPS), vision.intermediateSize), geluTanh);
    addInPlace(r, linear(b.fc2W, b.fc2B, hiddenMlp, hid));
  }
  return out;
}

/**
 * A patch merger. DeepStack mergers normalise after the 2×2 shuffle (over 4·hid); the final
 * merger normalises each token (over hid) before it.
 */
function patchMerger(weights: NaiveWeights, vision: NaiveVisionConfig, prefix: string, x: Float64Array[], postShuffleNorm: boolean): Float64Array[] {
  const hid = vision.hiddenSize;
  const unit = vision.spatialMergeSize ** 2;
  const wide = hid * unit;
  const normSize = postShuffleNorm ? wide : hid;
  const normW = weights.get(`${prefix}norm.weight`, [normSize]).data;
  const normB = weights.get(`${prefix}norm.bias`, [normSize]).data;
  const fc1W = weights.get(`${prefix}linear_fc1.weight`, [wide, wide]).data;
  const fc1B = weights.get(`${prefix}linear_fc1.bias`, [wide]).data;
  const fc2W = weights.get(`${prefix}linear_fc2.weight`, [vision.outHiddenSize, wide]).data;
  const fc2B = weights.get(`${prefix}linear_fc2.bias`, [vision.outHiddenSize]).data;
  const tokens = postShuffleNorm ? x : x.map((r) => layerNorm(r, normW, normB, LAYER_NORM_EPS));
  const out: Float64Array[] = [];
  for (let g = 0; g < tokens.length; g += unit) {
    let shuffled = concat(tokens.slice(g, g + unit));
    if (postShuffleNorm) shuffled = layerNorm(shuffled, normW, normB, LAYER_NORM_EPS);
    const inner = mapInPlace(linear(fc1W, fc1B, shuffled, wide), geluErf);
    out.push(linear(fc2W, fc2B, inner, vision.outHiddenSize));
  }
  return out;
}

/** Conv3d with kernel = stride as a matmul: one output per pixel row of C·T·P·P values. */
export function patchEmbed(weights: NaiveWeights, vision: NaiveVisionConfig, pixelValues: Float32Array, rows: number): Float64Array[] {
  const hid = vision.hiddenSize;
  const { inChannels: c, temporalPatchSize: t, patchSize: p } = vision;
  const width = c * t * p * p;
  if (pixelValues.length !== rows * width) throw new RangeError(`pixelValues has ${pixelValues.length} values, expected ${rows}×${width}`);
  // Conv weight [hid, C, T, P, P] flattened row-major is (c, t, y, x) — the pixel column order,
  // because HF views each pixel row as (C, T, P, P) before the convolution.
  const convW = weights.get(`${VISION_PREFIX}patch_embed.proj.weight`, [hid, c, t, p, p]).data;
  const convB = weights.get(`${VISION_PREFIX}patch_embed.proj.bias`, [hid]).data;
  const out: Float64Array[] = [];
  for (let r = 0; r < rows; r++) out.push(linear(convW, convB, Float64Array.from(pixelValues.subarray(r * width, (r + 1) * width)), hid));
  return out;
}

/**
 * Runs the vision tower on one image or video: `pixelValues` holds t·h·w rows of
 * C·T·P·P (1536) values in merge-block order, as the patchifier writes them.
 */
export function naiveVision(weights: NaiveWeights, pixelValues: Float32Array, gridThw: GridThw): NaiveVisionOutput {
  const vision = visionConfigOf(weights);
  const [t, h, w] = gridThw;
  const merge = vision.spatialMergeSize;
  if (h % merge !== 0 || w % merge !== 0) throw new RangeError(`grid ${h}×${w} is not divisible by the merge size ${merge}`);
  if (vision.deepstackVisualIndexes.length !== 3) throw new Error(`expected 3 DeepStack taps, config has ${vision.deepstackVisualIndexes.length}`);
  const perGroup = h * w;
  const rows = t * perGroup;
  const hd = vision.hiddenSize / vision.numHeads;

  let x = patchEmbed(weights, vision, pixelValues, rows);
  const pe = positionEmbeddingRows(weights, h, w);
  const rotaryGroup = mergeOrderPatches(h, w, merge).map(({ row, col }) => visionRotary(row, col, hd));
  const rotary: { cos: Float64Array; sin: Float64Array }[] = [];
  const segments: number[][] = [];
  for (let g = 0; g < t; g++) {
    segments.push(Array.from({ length: perGroup }, (_, i) => g * perGroup + i));
    for (let i = 0; i < perGroup; i++) {
      addInPlace(x[g * perGroup + i], pe[i]); // the same table for every temporal group
      rotary.push(rotaryGroup[i]);
    }
  }

  const deepstack: Float64Array[][] = [];
  for (let blockIndex = 0; blockIndex < vision.depth; blockIndex++) {
    x = visionBlock(x, segments, rotary, blockWeights(weights, vision, blockIndex), vision);
    const tap = vision.deepstackVisualIndexes.indexOf(blockIndex);
    if (tap >= 0) deepstack[tap] = patchMerger(weights, vision, `${VISION_PREFIX}deepstack_merger_list.${tap}.`, x, true);
  }
  if (deepstack.some((d) => d === undefined) || deepstack.length !== 3) throw new Error('a DeepStack tap index lies outside the vision depth');
  const merged = patchMerger(weights, vision, `${VISION_PREFIX}merger.`, x, false);
  return { merged, deepstack: [deepstack[0], deepstack[1], deepstack[2]] };
}
