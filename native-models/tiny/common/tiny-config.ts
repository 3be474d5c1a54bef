// The tiny Qwen3-VL config (docs/qwen3-vl-model.md#tiny-test-checkpoint) as the exact config.json transformers 4.57 loads: every
// structural constant of the real models (patch 16, temporal 2, merge 2, 48×48 position grid,
// 3 DeepStack taps, interleaved M-RoPE with a T-only tail, GQA, explicit head_dim ≠ hidden/heads)
// and the real vocabulary and token ids, with small widths and depths. Keys are written in sorted
// order, as `save_pretrained` does.

export type TinyKind = 'embedding' | 'reranker';

/** transformers release the layout follows (Qwen3-VL support starts at 4.57; the reference stack pins 4.57.3). */
export const TINY_TRANSFORMERS_VERSION = '4.57.3';

/**
 * Benchmarks only: a wider text model than the tiny one (hidden size; the MLP is twice as wide), so
 * the vocabulary's embedding table reaches the size of a real model's (2B: 2048, 8B: 4096). Tests
 * and goldens use the tiny widths.
 */
export interface TinyWidening {
  textHiddenSize: number;
}

/** config.json of the tiny checkpoint. The embedder ties lm_head to the embeddings; the reranker does not. */
export function tinyConfigJson(kind: TinyKind, widening?: TinyWidening): Record<string, unknown> {
  const tie = kind === 'embedding';
  const hidden = widening?.textHiddenSize ?? 32;
  return {
    architectures: ['Qwen3VLForConditionalGeneration'],
    // 4.56+ writes `dtype` (it reads the older `torch_dtype` too, with a deprecation warning).
    dtype: 'float32',
    image_token_id: 151655,
    model_type: 'qwen3_vl',
    text_config: {
      attention_bias: false,
      attention_dropout: 0.0,
      bos_token_id: 151643,
      dtype: 'float32',
      eos_token_id: 151645,
      head_dim: 16,
      hidden_act: 'silu',
      hidden_size: hidden,
      initializer_range: 0.02,
      intermediate_size: 2 * hidden,
      max_position_embeddings: 262144,
      model_type: 'qwen3_vl_text',
      num_attention_heads: 4,
      num_hidden_layers: 4,
      num_key_value_heads: 2,
      rms_norm_eps: 1e-6,
      // 4.57's rotary reads `.get` on this dict; v5 spells it rope_parameters and converts this form.
      rope_scaling: { mrope_interleaved: true, mrope_section: [4, 2, 2], rope_type: 'default' },
      rope_theta: 5000000,
      // 4.57 ties through the text config (get_text_config(decoder=True)); kept equal to the top level.
      tie_word_embeddings: tie,
      use_cache: true,
      vocab_size: 151936,
    },
    tie_word_embeddings: tie,
    transformers_version: TINY_TRANSFORMERS_VERSION,
    video_token_id: 151656,
    vision_config: {
      deepstack_visual_indexes: [1, 2, 3],
      depth: 5,
      hidden_act: 'gelu_pytorch_tanh',
      hidden_size: 32,
      in_channels: 3,
      initializer_range: 0.02,
      intermediate_size: 64,
      model_type: 'qwen3_vl',
      num_heads: 2,
      num_position_embeddings: 2304,
      out_hidden_size: hidden,
      patch_size: 16,
      spatial_merge_size: 2,
      temporal_patch_size: 2,
    },
    vision_end_token_id: 151653,
    vision_start_token_id: 151652,
  };
}
