// One Qwen3 decoder layer (docs/qwen3-vl-model.md#text-decoder): RMSNorm → q/k/v → q_norm/k_norm → rotary → GQA attention
// with an additive mask → o_proj → residual; RMSNorm → SwiGLU → residual. The plain variant uses
// ONNX primitives only; the fused one uses onnxruntime contrib ops for the norms, the
// residual + norm, attention and SiLU (fused-ops.ts). Linear layers go through the precision
// writer (fp32 MatMul, fp16, or MatMulNBits).
import type { Checkpoint } from '../../checkpoint/node/safetensors-reader.ts';
import type { Qwen3VLTextConfig } from '../../checkpoint/common/qwen3vl-config.ts';
import type { GraphBuilder } from '../../onnx/node/graph-builder.ts';
import { int64s, rmsNorm } from './text-decoder-blocks.ts';
import { fusedAttention, fusedRmsNorm, fusedSilu, fusedSkipRmsNorm } from './fused-ops.ts';
import { blockedDecoderAttention, singleProductDecoderAttention, type DecoderAttentionPlan } from './decoder-attention.ts';
import type { GraphVariant, PrecisionWriter } from './graph-precision.ts';
import { applyRotary, type RotaryTables } from './text-decoder-rotary.ts';

export const TEXT_PREFIX = 'model.language_model.';

/**
 * How the layers' attention is masked: in blocks of query rows with the mask made per block
 * (decoder-attention.ts, every package since graph revision 3), or the single product with the
 * whole additive bias — [batch, 1, 1, seq, seq] for the plain variant, [batch, 1, seq, seq]
 * (MultiHeadAttention's attention_bias) for the fused one — kept as the benchmark's baseline.
 */
export type LayerAttention = { readonly blocked: DecoderAttentionPlan } | { readonly bias: string };

/** Values every layer reads: the rotary tables, the attention's mask or block plan, the precision writer and the variant. */
export interface LayerContext {
  readonly rotary: RotaryTables;
  readonly attention: LayerAttention;
  readonly writer: PrecisionWriter;
  readonly variant: GraphVariant;
}

/** Reads a float32 tensor after checking its shape against config.json. */
export async function readChecked(checkpoint: Checkpoint, name: string, shape: number[]): Promise<Float32Array> {
  const actual = checkpoint.info(name).shape;
  if (actual.length !== shape.length || actual.some((d, i) => d !== shape[i])) {
    throw new RangeError(`${checkpoint.dir}: tensor ${name} has shape [${actual.join(', ')}], config.json implies [${shape.join(', ')}]; the weights and config.json disagree`);
  }
  return checkpoint.readFloat32(name);
}


async function normWeight(g: GraphBuilder, checkpoint: Checkpoint, name: string, size: number): Promise<string> {
  return g.weight(name, await readChecked(checkpoint, name, [size]), [size]);
}

/** Appends layer `index` to the graph; `x` is the hidden state [batch, seq, hidden]. Returns the layer output. */
export async function addDecoderLayer(g: GraphBuilder, checkpoint: Checkpoint, text: Qwen3VLTextConfig, index: number, x: string, context: LayerContext): Promise<string> {
  const { hidden, heads, kvHeads, headDim, intermediate, rmsNormEps: eps } = text;
  if (heads % kvHeads !== 0) throw new RangeError(`num_attention_heads ${heads} is not a multiple of num_key_value_heads ${kvHeads}; check config.json`);
  const p = `${TEXT_PREFIX}layers.${index}.`;
  const fused = context.variant === 'fused';
  const norm = (value: string, weight: string) => (fused ? fusedRmsNorm(g, value, weight, eps) : rmsNorm(g, value, weight, eps));
  // down_proj writes the residual stream's massive activations, which overflow fp16 (docs/qwen3-vl-model.md#numeric-precision).
  const linear = async (input: string, name: string, outFeatures: number, inFeatures: number, range: 'fp16-ok' | 'fp32-island' = 'fp16-ok') =>
    context.writer.linear(input, name, await readChecked(checkpoint, name, [outFeatures, inFeatures]), outFeatures, inFeatures, range);

  // Attention block.
  const normed = norm(x, await normWeight(g, checkpoint, `${p}input_layernorm.weight`, hidden));
  const project = async (name: string, outFeatures: number, n: number) => {
    const flat = await linear(normed, `${p}self_attn.${name}.weight`, outFeatures, hidden);
    return g.node('Reshape', [flat, int64s(g, [0, 0, n, headDim])]); // [B, S, n, hd]
  };
  // q_norm/k_norm (over head_dim) come before the rotation.
  const qNorm = await normWeight(g, checkpoint, `${p}self_attn.q_norm.weight`, headDim);
  const kNorm = await normWeight(g, checkpoint, `${p}self_attn.k_norm.weight`, headDim);
  const q = applyRotary(g, norm(await project('q_proj', heads * headDim, heads), qNorm), context.rotary, headDim);
  const k = applyRotary(g, norm(await project('k_proj', kvHeads * headDim, kvHeads), kNorm), context.rotary, headDim);
  const v = await project('v_proj', kvHeads * headDim, kvHeads);

  let merged: string;
  if ('blocked' in context.attention) {
    merged = blockedDecoderAttention(g, context.attention.blocked, { q, k, v, fused });
  } else if (fused) {
    merged = fusedAttention(g, { q, k, v, heads, kvHeads, headDim, bias: context.attention.bias });
  } else {
    merged = singleProductDecoderAttention(g, { q, k, v, bias: context.attention.bias, heads, kvHeads, headDim });
  }
  const attentionOut = await linear(merged, `${p}self_attn.o_proj.weight`, hidden, heads * headDim);
  const postNorm = await normWeight(g, checkpoint, `${p}post_attention_layernorm.weight`, hidden);
  let afterAttention: string;
  let y: string;
  if (fused) {
    ({ sum: afterAttention, normed: y } = fusedSkipRmsNorm(g, attentionOut, x, postNorm, eps));
  } else {
    afterAttention = g.node('Add', [x, attentionOut]);
    y = rmsNorm(g, afterAttention, postNorm, eps);
  }

  // SwiGLU MLP block.
  const gate = await linear(y, `${p}mlp.gate_proj.weight`, intermediate, hidden);
  const up = await linear(y, `${p}mlp.up_proj.weight`, intermediate, hidden);
  const activated = g.node('Mul', [fused ? fusedSilu(g, gate) : g.node('Mul', [gate, g.node('Sigmoid', [gate])]), up]);
  const down = await linear(activated, `${p}mlp.down_proj.weight`, hidden, intermediate, 'fp32-island');
  return g.node('Add', [afterAttention, down]);
}
