// Interleaved M-RoPE of the Qwen3-VL text decoder (docs/qwen3-vl-model.md#interleaved-m-rope), computed inside the
// graph from position_ids [3, batch, seq] so every sequence length and image layout works.
import type { GraphBuilder } from '../../onnx/node/graph-builder.ts';
import { int64s } from './text-decoder-blocks.ts';

const ONNX_FLOAT = 1;

/**
 * inv_freq_j = 1 / theta^(2j / head_dim) in float32, step by step as transformers'
 * compute_default_rope_parameters: `arange(0, dim, 2).float() / dim`, then `base ** ·`, then `1.0 / ·`,
 * each rounded to float32.
 */
export function ropeInverseFrequencies(theta: number, headDim: number): Float32Array {
  const out = new Float32Array(headDim / 2);
  for (let j = 0; j < out.length; j++) out[j] = Math.fround(1 / Math.fround(theta ** Math.fround((2 * j) / headDim)));
  return out;
}

/**
 * The position axis (0 = T, 1 = H, 2 = W) of each rotary frequency, as apply_interleaved_mrope
 * lays them out: start all-T, then axis a ∈ {1, 2} takes slots a, a+3, … below 3·section[a].
 */
export function interleavedMropeAxes(section: readonly [number, number, number], slots: number): number[] {
  if (section[0] + section[1] + section[2] !== slots) {
    throw new RangeError(`mrope_section [${section.join(', ')}] must sum to head_dim/2 = ${slots}; check text_config.rope_scaling in config.json`);
  }
  const axes = new Array<number>(slots).fill(0);
  for (const a of [1, 2]) for (let j = a; j < Math.min(3 * section[a], slots); j += 3) axes[j] = a;
  return axes;
}

export interface RotaryTables {
  /** float32 [batch, seq, 1, head_dim]: broadcasts over the heads of a [batch, seq, heads, head_dim] tensor. */
  readonly cos: string;
  readonly sin: string;
}

/**
 * cos/sin of [θ, θ] with θ_j = position_ids[axis(j)] · inv_freq_j. The per-axis frequency table
 * [3, 1, 1, head_dim/2] holds inv_freq where the axis owns the slot and 0 elsewhere, so summing
 * the three axis products over axis 0 picks each slot's own axis exactly (adding zeros is exact).
 */
export function rotaryTables(g: GraphBuilder, positionIds: string, theta: number, headDim: number, mropeSection: readonly [number, number, number]): RotaryTables {
  const half = headDim / 2;
  const inverse = ropeInverseFrequencies(theta, headDim);
  const axes = interleavedMropeAxes(mropeSection, half);
  const table = new Float32Array(3 * half);
  for (let j = 0; j < half; j++) table[axes[j] * half + j] = inverse[j];
  const frequencies = g.constant(table, [3, 1, 1, half], 'float32');
  const positions = g.node('Unsqueeze', [g.node('Cast', [positionIds], { to: ONNX_FLOAT }), int64s(g, [-1])]); // [3, B, S, 1]
  const angles = g.node('ReduceSum', [g.node('Mul', [positions, frequencies]), int64s(g, [0])], { keepdims: 0 }); // [B, S, half]
  const doubled = g.node('Unsqueeze', [g.node('Concat', [angles, angles], { axis: -1 }), int64s(g, [2])]); // [B, S, 1, hd]
  return { cos: g.node('Cos', [doubled]), sin: g.node('Sin', [doubled]) };
}

/** x·cos + rotate_half(x)·sin with rotate_half(x) = [−x₂, x₁] (HF apply_rotary_pos_emb), x [B, S, heads, hd]. */
export function applyRotary(g: GraphBuilder, x: string, tables: RotaryTables, headDim: number): string {
  const half = headDim / 2;
  const [first, second] = g.nodeN('Split', [x, int64s(g, [half, half])], 2, { axis: -1 });
  const rotated = g.node('Concat', [g.node('Neg', [second]), first], { axis: -1 });
  return g.node('Add', [g.node('Mul', [x, tables.cos]), g.node('Mul', [rotated, tables.sin])]);
}
