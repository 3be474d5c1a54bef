// Grid-dependent inputs of vision_encoder.onnx (docs/qwen3-vl-model.md#vision-tower,
// docs/model-packages.md#graph-inputs-and-outputs), computed here so the
// graph stays shape-polymorphic:
// - bilinear interpolation of the learned 48×48 position grid (`fast_pos_embed_interpolate`),
// - the 2-D vision rotary cos/sin (`rot_pos_emb` + `Qwen3VLVisionRotaryEmbedding`),
// - attention segment lengths (`cu_seqlens`).
// Patches are in merge-block order (bh, bw, mh, mw) like the pixel rows. Every float is rounded to
// float32 where torch holds a float32, so the tables match the reference bit for bit (cos/sin and
// the rotary frequencies up to libm differences of about one float32 ulp).
import { linspaceFloat32 } from '../../base/common/torch-linspace.ts';
import { POS_EMBED_GRID, SPATIAL_MERGE_SIZE } from '../../../../native-models/checkpoint/common/qwen3vl-constants.ts';
import type { GridThw } from '../../media/common/vision-types.ts';
import { assertVisionGrid } from './placeholder-expansion.ts';

const f32 = Math.fround;
const ROTARY_THETA = 10000;

/** Row and column (in patches) of each patch of an h × w grid, in merge-block order. */
export function mergeOrderRowCol(h: number, w: number): { rows: Int32Array; cols: Int32Array } {
  const m = SPATIAL_MERGE_SIZE;
  const rows = new Int32Array(h * w);
  const cols = new Int32Array(h * w);
  let k = 0;
  for (let bh = 0; bh < h / m; bh++) {
    for (let bw = 0; bw < w / m; bw++) {
      for (let mh = 0; mh < m; mh++) {
        for (let mw = 0; mw < m; mw++) {
          rows[k] = bh * m + mh;
          cols[k] = bw * m + mw;
          k++;
        }
      }
    }
  }
  return { rows, cols };
}

/** One axis of the interpolation: floor/ceil grid cells and the float32 fraction. */
function axisSamples(size: number): { floor: Int32Array; ceil: Int32Array; frac: Float32Array } {
  const last = POS_EMBED_GRID - 1;
  const coords = linspaceFloat32(0, last, size);
  const floor = new Int32Array(size);
  const ceil = new Int32Array(size);
  const frac = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    floor[i] = Math.trunc(coords[i]!);
    ceil[i] = Math.min(floor[i]! + 1, last);
    frac[i] = f32(coords[i]! - floor[i]!);
  }
  return { floor, ceil, frac };
}

export interface PosEmbedTables {
  /** `[4, h·w]` row-major: corner k (ff, fc, cf, cc) of patch p at `k·h·w + p`; rows of the 2304-row pos_embed. */
  readonly idx: Int32Array;
  /** `[4, h·w]` float32 bilinear weights, same layout. */
  readonly weight: Float32Array;
}

/** Bilinear pos-embed gather indices and weights for one temporal segment of an h × w grid. */
export function posEmbedTables(h: number, w: number): PosEmbedTables {
  const n = h * w;
  const H = axisSamples(h);
  const W = axisSamples(w);
  const { rows, cols } = mergeOrderRowCol(h, w);
  const idx = new Int32Array(4 * n);
  const weight = new Float32Array(4 * n);
  for (let p = 0; p < n; p++) {
    const r = rows[p]!;
    const c = cols[p]!;
    const dh = H.frac[r]!;
    const dw = W.frac[c]!;
    const oneMinusDh = f32(1 - dh);
    const oneMinusDw = f32(1 - dw);
    const top = H.floor[r]! * POS_EMBED_GRID;
    const bottom = H.ceil[r]! * POS_EMBED_GRID;
    idx[p] = top + W.floor[c]!;
    idx[n + p] = top + W.ceil[c]!;
    idx[2 * n + p] = bottom + W.floor[c]!;
    idx[3 * n + p] = bottom + W.ceil[c]!;
    weight[p] = f32(oneMinusDh * oneMinusDw);
    weight[n + p] = f32(oneMinusDh * dw);
    weight[2 * n + p] = f32(dh * oneMinusDw);
    weight[3 * n + p] = f32(dh * dw);
  }
  return { idx, weight };
}

/**
 * The vision rotary inverse frequencies for a head dim: the rotary module is built with
 * dim = headDim/2 and computes `1 / 10000^(arange(0, dim, 2) / dim)` in float32.
 */
export function visionInverseFrequencies(headDim: number): Float32Array {
  if (!Number.isInteger(headDim) || headDim <= 0 || headDim % 4 !== 0) {
    throw new RangeError(`vision head dim must be a positive multiple of 4, got ${headDim}; read it as hidden_size / num_heads from vision_config`);
  }
  const dim = headDim / 2;
  const out = new Float32Array(dim / 2);
  for (let j = 0; j < out.length; j++) {
    const exponent = f32((2 * j) / dim);
    out[j] = f32(1 / f32(ROTARY_THETA ** exponent));
  }
  return out;
}

export interface RotaryTables {
  /** `[h·w, headDim]` float32, row-major. */
  readonly cos: Float32Array;
  readonly sin: Float32Array;
}

/**
 * cos/sin of the 2-D rotary angles for one temporal segment: per patch (merge order) the angle
 * vector is [row·f_0 … row·f_{q−1}, col·f_0 … col·f_{q−1}] (q = headDim/4), and the table holds
 * it twice ([angles, angles], length headDim).
 */
export function rotaryTables(h: number, w: number, headDim: number): RotaryTables {
  const freqs = visionInverseFrequencies(headDim);
  const q = freqs.length;
  const half = headDim / 2;
  const n = h * w;
  const { rows, cols } = mergeOrderRowCol(h, w);
  const cos = new Float32Array(n * headDim);
  const sin = new Float32Array(n * headDim);
  for (let p = 0; p < n; p++) {
    const base = p * headDim;
    for (let j = 0; j < q; j++) {
      const rowAngle = f32(rows[p]! * freqs[j]!);
      const colAngle = f32(cols[p]! * freqs[j]!);
      for (const offset of [0, half]) {
        cos[base + offset + j] = Math.cos(rowAngle);
        sin[base + offset + j] = Math.sin(rowAngle);
        cos[base + offset + q + j] = Math.cos(colAngle);
        sin[base + offset + q + j] = Math.sin(colAngle);
      }
    }
  }
  return { cos, sin };
}

export interface VisionTables {
  readonly grid: GridThw;
  /** Temporal segments (grid_t): the graph's `num_segments`; each attends only within itself. */
  readonly segmentCount: number;
  /** Patches per segment (h·w): the graph's `seg_patches`. */
  readonly segmentPatches: number;
  /** `pos_embed_idx` `[4, h·w]` for one segment; the graph adds the same pos-embed to every segment. */
  readonly posEmbedIdx: Int32Array;
  /** `pos_embed_w` `[4, h·w]`. */
  readonly posEmbedWeight: Float32Array;
  /** `rope_cos` / `rope_sin` `[h·w, headDim]` for one segment (identical for every segment). */
  readonly ropeCos: Float32Array;
  readonly ropeSin: Float32Array;
  /** Cumulative segment lengths over the whole grid: [0, hw, 2hw, …, t·hw] (HF `cu_seqlens`). */
  readonly cuSeqlens: Int32Array;
}

/** All grid-dependent vision inputs of one image or video (t temporal segments of h × w patches). */
export function visionTables(grid: GridThw, headDim: number): VisionTables {
  assertVisionGrid(grid, 'vision tables');
  const [t, h, w] = grid;
  const pos = posEmbedTables(h, w);
  const rope = rotaryTables(h, w, headDim);
  const cuSeqlens = new Int32Array(t + 1);
  for (let s = 1; s <= t; s++) cuSeqlens[s] = s * h * w;
  return {
    grid,
    segmentCount: t,
    segmentPatches: h * w,
    posEmbedIdx: pos.idx,
    posEmbedWeight: pos.weight,
    ropeCos: rope.cos,
    ropeSin: rope.sin,
    cuSeqlens,
  };
}
