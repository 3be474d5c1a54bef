import { test } from 'node:test';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';
import { parseQwen3VLConfig } from '../../../native-models/checkpoint/common/qwen3vl-config.ts';
import { tinyConfigJson } from '../../../native-models/tiny/common/tiny-config.ts';

// Config JSON is mutated and read freely here (that is what these tests exercise), so it is untyped.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

// Qwen3-VL-2B / 8B values of docs/qwen3-vl-model.md#model-configuration, as transformers 4.57 writes config.json.
function config2B(): Record<string, Json> {
  return {
    architectures: ['Qwen3VLForConditionalGeneration'],
    image_token_id: 151655,
    model_type: 'qwen3_vl',
    text_config: {
      attention_bias: false, attention_dropout: 0.0, bos_token_id: 151643, dtype: 'bfloat16', eos_token_id: 151645,
      head_dim: 128, hidden_act: 'silu', hidden_size: 2048, initializer_range: 0.02, intermediate_size: 6144,
      max_position_embeddings: 262144, model_type: 'qwen3_vl_text', num_attention_heads: 16, num_hidden_layers: 28,
      num_key_value_heads: 8, rms_norm_eps: 1e-6,
      rope_scaling: { mrope_interleaved: true, mrope_section: [24, 20, 20], rope_type: 'default' },
      rope_theta: 5000000, tie_word_embeddings: true, use_cache: true, vocab_size: 151936,
    },
    tie_word_embeddings: true,
    transformers_version: '4.57.0.dev0',
    video_token_id: 151656,
    vision_config: {
      deepstack_visual_indexes: [5, 11, 17], depth: 24, hidden_act: 'gelu_pytorch_tanh', hidden_size: 1024, in_channels: 3,
      initializer_range: 0.02, intermediate_size: 4096, model_type: 'qwen3_vl', num_heads: 16, num_position_embeddings: 2304,
      out_hidden_size: 2048, patch_size: 16, spatial_merge_size: 2, temporal_patch_size: 2,
    },
    vision_end_token_id: 151653,
    vision_start_token_id: 151652,
  };
}

// The 8B in the transformers v5 spelling: rope_parameters holds rope_theta and the mrope settings.
function config8Bv5(): Record<string, Json> {
  const c = config2B();
  c.tie_word_embeddings = false;
  c.text_config = {
    ...c.text_config, hidden_size: 4096, intermediate_size: 12288, num_hidden_layers: 36, num_attention_heads: 32,
    tie_word_embeddings: false,
    rope_parameters: { mrope_interleaved: true, mrope_section: [24, 20, 20], rope_type: 'default', rope_theta: 5000000 },
  };
  delete c.text_config.rope_scaling;
  delete c.text_config.rope_theta;
  c.vision_config = { ...c.vision_config, depth: 27, hidden_size: 1152, intermediate_size: 4304, out_hidden_size: 4096, deepstack_visual_indexes: [8, 16, 24] };
  return c;
}

test('the 2B config in the transformers 4.57 spelling parses to the published values', () => {
  assert.deepEqual(parseQwen3VLConfig(config2B(), '2B/config.json'), {
    text: {
      vocabSize: 151936, hidden: 2048, intermediate: 6144, layers: 28, heads: 16, kvHeads: 8, headDim: 128,
      rmsNormEps: 1e-6, ropeTheta: 5000000, mropeSection: [24, 20, 20], tieWordEmbeddings: true,
    },
    vision: {
      depth: 24, hidden: 1024, intermediate: 4096, heads: 16, patchSize: 16, temporalPatchSize: 2, spatialMergeSize: 2,
      outHidden: 2048, numPositionEmbeddings: 2304, deepstackVisualIndexes: [5, 11, 17],
    },
    tokens: { image: 151655, video: 151656, visionStart: 151652, visionEnd: 151653 },
  });
});

test('the 8B config in the transformers v5 spelling (rope_parameters) parses to the published values', () => {
  const c = parseQwen3VLConfig(config8Bv5(), '8B/config.json');
  assert.deepEqual(c.text, {
    vocabSize: 151936, hidden: 4096, intermediate: 12288, layers: 36, heads: 32, kvHeads: 8, headDim: 128,
    rmsNormEps: 1e-6, ropeTheta: 5000000, mropeSection: [24, 20, 20], tieWordEmbeddings: false,
  });
  assert.deepEqual(c.vision, {
    depth: 27, hidden: 1152, intermediate: 4304, heads: 16, patchSize: 16, temporalPatchSize: 2, spatialMergeSize: 2,
    outHidden: 4096, numPositionEmbeddings: 2304, deepstackVisualIndexes: [8, 16, 24],
  });
});

test('the 8B parses to the same config in both spellings', () => {
  const v457 = config8Bv5();
  v457.text_config.rope_scaling = { mrope_interleaved: true, mrope_section: [24, 20, 20], rope_type: 'default' };
  v457.text_config.rope_theta = 5000000;
  delete v457.text_config.rope_parameters;
  assert.deepEqual(parseQwen3VLConfig(v457, 'a'), parseQwen3VLConfig(config8Bv5(), 'b'));
});

test('token ids default to the transformers defaults; tie_word_embeddings from either level', () => {
  const c = config2B();
  for (const k of ['image_token_id', 'video_token_id', 'vision_start_token_id', 'vision_end_token_id']) delete c[k];
  delete c.text_config.tie_word_embeddings;
  const parsed = parseQwen3VLConfig(c, 'x');
  assert.deepEqual(parsed.tokens, { image: 151655, video: 151656, visionStart: 151652, visionEnd: 151653 });
  assert.equal(parsed.text.tieWordEmbeddings, true);
  delete c.tie_word_embeddings;
  assert.equal(parseQwen3VLConfig(c, 'x').text.tieWordEmbeddings, false, 'both absent: the transformers default (false)');
});

test('the tiny config of docs/qwen3-vl-model.md#tiny-test-checkpoint parses for both kinds', () => {
  const embedding = parseQwen3VLConfig(tinyConfigJson('embedding'), 'tiny');
  assert.deepEqual(embedding.text, {
    vocabSize: 151936, hidden: 32, intermediate: 64, layers: 4, heads: 4, kvHeads: 2, headDim: 16,
    rmsNormEps: 1e-6, ropeTheta: 5000000, mropeSection: [4, 2, 2], tieWordEmbeddings: true,
  });
  assert.deepEqual(embedding.vision.deepstackVisualIndexes, [1, 2, 3]);
  assert.equal(parseQwen3VLConfig(tinyConfigJson('reranker'), 'tiny').text.tieWordEmbeddings, false);
});

function errorOf(json: unknown): string {
  try {
    parseQwen3VLConfig(json, 'models/x/config.json');
  } catch (error) {
    return (error as Error).message;
  }
  assert.fail('expected the config to be refused');
}

test('field errors name the path, the value and the file', () => {
  const c = config2B();
  c.text_config.head_dim = 'x';
  delete c.vision_config.depth;
  c.vision_config.deepstack_visual_indexes = [5, -1, 17];
  c.text_config.rope_scaling.mrope_section = [24, 20];
  const message = errorOf(c);
  assert.match(message, /^models\/x\/config\.json: /);
  assert.ok(message.includes('text_config.head_dim: expected a positive integer, got "x"'), message);
  assert.ok(message.includes('vision_config.depth: expected a positive integer, got nothing (the field is missing)'), message);
  assert.ok(message.includes('vision_config.deepstack_visual_indexes[1]: expected a non-negative integer, got -1'), message);
  assert.ok(message.includes('text_config.rope_scaling.mrope_section: expected three positive integers'), message);
  assert.match(message, /Fix these fields/);
  assert.match(errorOf({ ...config2B(), model_type: 'qwen2_5_vl' }), /model_type: expected "qwen3_vl", got "qwen2_5_vl"/);
  assert.match(errorOf({ ...config2B(), text_config: 3 }), /text_config: expected an object, got 3/);
  const act = config2B();
  act.text_config.hidden_act = 'gelu';
  assert.match(errorOf(act), /text_config\.hidden_act: expected "silu", got "gelu"/);
});

test('structural checks: mrope sum, GQA, square grid, DeepStack taps, widths, tying, rotary', () => {
  const cases: [string, (c: Record<string, Json>) => void, RegExp][] = [
    ['mrope', (c) => { c.text_config.rope_scaling.mrope_section = [24, 20, 21]; }, /sums to 65, but head_dim \/ 2 = 64/],
    ['gqa', (c) => { c.text_config.num_key_value_heads = 6; }, /num_key_value_heads: 6 must divide num_attention_heads 16/],
    ['grid', (c) => { c.vision_config.num_position_embeddings = 2300; }, /num_position_embeddings: 2300 must be a square/],
    ['taps', (c) => { c.vision_config.deepstack_visual_indexes = [5, 11]; }, /expected 3 block indexes, got 2/],
    ['tap range', (c) => { c.vision_config.deepstack_visual_indexes = [5, 11, 24]; }, /deepstack_visual_indexes\[2\]: 24 is not a block index \(depth is 24\)/],
    ['heads', (c) => { c.vision_config.num_heads = 3; }, /hidden_size: 1024 must be divisible by num_heads 3/],
    ['out hidden', (c) => { c.vision_config.out_hidden_size = 4096; }, /out_hidden_size: 4096 must equal text_config\.hidden_size 2048/],
    ['tie', (c) => { c.text_config.tie_word_embeddings = false; }, /tie_word_embeddings: top level says true but text_config says false/],
    ['theta', (c) => { delete c.text_config.rope_theta; }, /text_config\.rope_theta: missing/],
    ['rope', (c) => { delete c.text_config.rope_scaling; }, /neither rope_scaling \(transformers 4\.57\) nor rope_parameters \(v5\)/],
    ['rope type', (c) => { c.text_config.rope_scaling.rope_type = 'yarn'; }, /rope_scaling\.rope_type: expected "default", got "yarn"/],
    ['bias', (c) => { c.text_config.attention_bias = true; }, /attention_bias: expected false, got true/],
    ['token', (c) => { c.image_token_id = 200000; }, /image_token_id: 200000 is outside the vocabulary/],
  ];
  for (const [label, mutate, expected] of cases) {
    const c = config2B();
    mutate(c);
    assert.match(errorOf(c), expected, label);
  }
  const disagree = config8Bv5();
  disagree.text_config.rope_scaling = { mrope_section: [32, 16, 16], rope_type: 'default' };
  assert.match(errorOf(disagree), /rope_parameters\.mrope_section: \[24,20,20\] disagrees with text_config\.rope_scaling\.mrope_section \[32,16,16\]/);
});

// config.json as transformers 5.12 wrote it for the golden checkpoints (tools/reference-goldens):
// vision_config.model_type "qwen3_vl_vision", rope_parameters, architectures Qwen3VLForEmbedding
// (the embedder, tied) or Qwen3VLForConditionalGeneration (the reranker, untied), `dtype`.
function goldenConfig(name: 'embedder' | 'reranker'): Record<string, Json> {
  return JSON.parse(readFileSync(path.join(import.meta.dirname, `../../fixtures/goldens/${name}-config.json`), 'utf8')) as Record<string, Json>;
}

/** The same config in transformers 4.57's spelling. */
function as457(c: Record<string, Json>): Record<string, Json> {
  const out = structuredClone(c);
  const { rope_theta, ...scaling } = out.text_config.rope_parameters;
  delete out.text_config.rope_parameters;
  out.text_config.rope_scaling = scaling;
  out.text_config.rope_theta = rope_theta;
  out.vision_config.model_type = 'qwen3_vl';
  out.torch_dtype = out.dtype;
  delete out.dtype;
  out.architectures = ['Qwen3VLForConditionalGeneration'];
  out.transformers_version = '4.57.3';
  return out;
}

test('configs written by transformers 5 parse (qwen3_vl_vision, rope_parameters, Qwen3VLForEmbedding, dtype)', () => {
  const embedder = goldenConfig('embedder');
  assert.equal(embedder.vision_config.model_type, 'qwen3_vl_vision');
  assert.deepEqual(embedder.architectures, ['Qwen3VLForEmbedding']);
  const parsed = parseQwen3VLConfig(embedder, 'embedder/config.json');
  assert.deepEqual(parsed.text, {
    vocabSize: 151936, hidden: 48, intermediate: 112, layers: 3, heads: 4, kvHeads: 2, headDim: 32,
    rmsNormEps: 1e-6, ropeTheta: 5000000, mropeSection: [6, 5, 5], tieWordEmbeddings: true,
  });
  assert.deepEqual(parsed.vision.deepstackVisualIndexes, [0, 2, 3]);
  const reranker = parseQwen3VLConfig(goldenConfig('reranker'), 'reranker/config.json');
  assert.equal(reranker.text.tieWordEmbeddings, false);
});

test('every spelling combination of transformers 4.57 and 5 parses to the same config', () => {
  const v5 = goldenConfig('reranker');
  const v457 = as457(v5);
  const expected = parseQwen3VLConfig(v5, 'v5');
  assert.deepEqual(parseQwen3VLConfig(v457, '4.57'), expected);
  // Mixed files (a 4.57 config partly re-saved or hand-edited) parse the same too.
  for (const visionType of ['qwen3_vl', 'qwen3_vl_vision']) {
    for (const rope of ['rope_scaling', 'rope_parameters', 'both']) {
      for (const dtypeKey of ['dtype', 'torch_dtype']) {
        for (const architecture of ['Qwen3VLForConditionalGeneration', 'Qwen3VLForEmbedding']) {
          const c = structuredClone(v5);
          c.vision_config.model_type = visionType;
          if (rope !== 'rope_parameters') {
            c.text_config.rope_scaling = v457.text_config.rope_scaling;
            c.text_config.rope_theta = v457.text_config.rope_theta;
          }
          if (rope === 'rope_scaling') delete c.text_config.rope_parameters;
          delete c.dtype;
          c[dtypeKey] = 'bfloat16';
          c.architectures = [architecture];
          assert.deepEqual(parseQwen3VLConfig(c, 'mixed'), expected, `${visionType} ${rope} ${dtypeKey} ${architecture}`);
        }
      }
    }
  }
});

test('a vision model_type that is neither spelling is refused, naming both', () => {
  const c = goldenConfig('embedder');
  c.vision_config.model_type = 'siglip_vision_model';
  assert.match(errorOf(c), /vision_config\.model_type: expected "qwen3_vl" or "qwen3_vl_vision", got "siglip_vision_model"/);
});
