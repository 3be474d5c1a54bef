// onnxruntime contrib ops the `fused` graph variant uses in place of plain-op subgraphs (all have
// CPU kernels in onnxruntime 1.30 as well as CUDA ones): RMSNorm as SimplifiedLayerNormalization,
// residual add + RMSNorm as SkipSimplifiedLayerNormalization, attention as MultiHeadAttention
// with an additive bias, SiLU as QuickGelu(α = 1), GELU as Gelu / FastGelu. The M-RoPE rotary
// stays plain: RotaryEmbedding indexes one position per token, and interleaved M-RoPE mixes three.
import type { GraphBuilder } from '../../onnx/node/graph-builder.ts';
import { int64s } from './text-decoder-blocks.ts';

const MS_DOMAIN = 'com.microsoft';

/** x · 1/sqrt(mean(x²) + eps) · w over the last axis, computed in fp32 (stash_type 1). */
export function fusedRmsNorm(g: GraphBuilder, x: string, weight: string, eps: number): string {
  return g.node('SimplifiedLayerNormalization', [x, weight], { axis: -1, epsilon: eps, stash_type: 1 });
}

/** sum = x + skip and RMSNorm(sum) in one kernel; returns both (the sum is the new residual stream). */
export function fusedSkipRmsNorm(g: GraphBuilder, x: string, skip: string, weight: string, eps: number): { normed: string; sum: string } {
  const [normed, , , sum] = g.nodeN('SkipSimplifiedLayerNormalization', [x, skip, weight], 4, { epsilon: eps }, { domain: MS_DOMAIN });
  return { normed, sum };
}

/** x·sigmoid(x): QuickGelu is x·sigmoid(α·x). */
export function fusedSilu(g: GraphBuilder, x: string): string {
  return g.node('QuickGelu', [x], { alpha: { float: 1 } }, { domain: MS_DOMAIN });
}

/** tanh-approximated GELU of x + bias (gelu_pytorch_tanh), bias add included. */
export function fusedGeluTanh(g: GraphBuilder, x: string, bias: string): string {
  return g.node('FastGelu', [x, bias], {}, { domain: MS_DOMAIN });
}

/** Exact (erf) GELU. */
export function fusedGeluErf(g: GraphBuilder, x: string): string {
  return g.node('Gelu', [x], {}, { domain: MS_DOMAIN });
}

export interface FusedAttentionInput {
  /** [B, S, heads, head_dim] after q_norm and rotary. */
  readonly q: string;
  /** [B, S, kvHeads, head_dim]. */
  readonly k: string;
  readonly v: string;
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
  /** Additive float32 bias [B or 1, 1, S, S], or null for unmasked attention. */
  readonly bias: string | null;
}

/**
 * softmax(q·kᵀ/√hd + bias)·v per head → [B, S, heads·head_dim] with MultiHeadAttention. MHA wants
 * as many k/v heads as query heads, so GQA's k/v heads are repeated (query head h reads kv head
 * ⌊h / groups⌋, HF's repeat_kv order) by an Expand on a unit axis after the kv-head axis.
 */
export function fusedAttention(g: GraphBuilder, input: FusedAttentionInput): string {
  const { heads, kvHeads, headDim } = input;
  const groups = heads / kvHeads;
  const flat = int64s(g, [0, 0, heads * headDim]);
  const repeat = (x: string) => {
    if (groups === 1) return g.node('Reshape', [x, flat]);
    const shape = g.node('Concat', [g.node('Shape', [x], { start: 0, end: 3 }), int64s(g, [groups, headDim])], { axis: 0 });
    return g.node('Reshape', [g.node('Expand', [g.node('Unsqueeze', [x, int64s(g, [3])]), shape]), flat]);
  };
  const inputs = [g.node('Reshape', [input.q, flat]), repeat(input.k), repeat(input.v)];
  if (input.bias !== null) inputs.push('', '', input.bias);
  return g.node('MultiHeadAttention', inputs, { num_heads: heads, scale: { float: 1 / Math.sqrt(headDim) } }, { domain: MS_DOMAIN });
}
