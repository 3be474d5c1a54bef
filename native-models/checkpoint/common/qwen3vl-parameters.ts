// Every parameter of transformers' Qwen3VLForConditionalGeneration (4.57 and v5 module layout):
// state-dict name and shape, in the order `model.named_parameters()` yields them (module
// registration order). Non-persistent buffers (rotary inv_freq) are not saved and not listed.
// `lm_head.weight` is listed only when the embeddings are untied: `save_pretrained` drops tied
// duplicates (`_tied_weights_keys = ["lm_head.weight"]`), and loading re-ties it.
import type { Qwen3VLConfig } from './qwen3vl-config.ts';

export interface ParameterShape {
  name: string;
  shape: number[];
}

export function qwen3VLParameterShapes(config: Qwen3VLConfig): ParameterShape[] {
  const { text: t, vision: v } = config;
  const out: ParameterShape[] = [];
  const add = (name: string, ...shape: number[]): void => {
    out.push({ name, shape });
  };

  // Vision tower: Conv3d patch embedding, learned 48×48 position grid, ViT blocks, mergers.
  const vis = 'model.visual';
  add(`${vis}.patch_embed.proj.weight`, v.hidden, 3, v.temporalPatchSize, v.patchSize, v.patchSize);
  add(`${vis}.patch_embed.proj.bias`, v.hidden);
  add(`${vis}.pos_embed.weight`, v.numPositionEmbeddings, v.hidden);
  for (let i = 0; i < v.depth; i++) {
    const b = `${vis}.blocks.${i}`;
    add(`${b}.norm1.weight`, v.hidden);
    add(`${b}.norm1.bias`, v.hidden);
    add(`${b}.norm2.weight`, v.hidden);
    add(`${b}.norm2.bias`, v.hidden);
    add(`${b}.attn.qkv.weight`, 3 * v.hidden, v.hidden);
    add(`${b}.attn.qkv.bias`, 3 * v.hidden);
    add(`${b}.attn.proj.weight`, v.hidden, v.hidden);
    add(`${b}.attn.proj.bias`, v.hidden);
    add(`${b}.mlp.linear_fc1.weight`, v.intermediate, v.hidden);
    add(`${b}.mlp.linear_fc1.bias`, v.intermediate);
    add(`${b}.mlp.linear_fc2.weight`, v.hidden, v.intermediate);
    add(`${b}.mlp.linear_fc2.bias`, v.hidden);
  }
  const merged = v.hidden * v.spatialMergeSize * v.spatialMergeSize;
  // The final merger normalises each patch before the 2×2 shuffle (LayerNorm(hidden));
  // the DeepStack mergers normalise after it (LayerNorm(4·hidden), use_postshuffle_norm).
  const merger = (prefix: string, normSize: number): void => {
    add(`${prefix}.norm.weight`, normSize);
    add(`${prefix}.norm.bias`, normSize);
    add(`${prefix}.linear_fc1.weight`, merged, merged);
    add(`${prefix}.linear_fc1.bias`, merged);
    add(`${prefix}.linear_fc2.weight`, v.outHidden, merged);
    add(`${prefix}.linear_fc2.bias`, v.outHidden);
  };
  merger(`${vis}.merger`, v.hidden);
  v.deepstackVisualIndexes.forEach((_, j) => merger(`${vis}.deepstack_merger_list.${j}`, merged));

  // Text decoder (Qwen3): no biases; q_norm/k_norm are RMSNorms over one head.
  const lm = 'model.language_model';
  add(`${lm}.embed_tokens.weight`, t.vocabSize, t.hidden);
  for (let i = 0; i < t.layers; i++) {
    const l = `${lm}.layers.${i}`;
    add(`${l}.self_attn.q_proj.weight`, t.heads * t.headDim, t.hidden);
    add(`${l}.self_attn.k_proj.weight`, t.kvHeads * t.headDim, t.hidden);
    add(`${l}.self_attn.v_proj.weight`, t.kvHeads * t.headDim, t.hidden);
    add(`${l}.self_attn.o_proj.weight`, t.hidden, t.heads * t.headDim);
    add(`${l}.self_attn.q_norm.weight`, t.headDim);
    add(`${l}.self_attn.k_norm.weight`, t.headDim);
    add(`${l}.mlp.gate_proj.weight`, t.intermediate, t.hidden);
    add(`${l}.mlp.up_proj.weight`, t.intermediate, t.hidden);
    add(`${l}.mlp.down_proj.weight`, t.hidden, t.intermediate);
    add(`${l}.input_layernorm.weight`, t.hidden);
    add(`${l}.post_attention_layernorm.weight`, t.hidden);
  }
  add(`${lm}.norm.weight`, t.hidden);
  if (!t.tieWordEmbeddings) add('lm_head.weight', t.vocabSize, t.hidden);
  return out;
}
