// The Qwen3-VL `config.json` (model_type "qwen3_vl"), validated and normalised into the few
// numbers the graph builder and the reference forward need. Every spelling the official stack
// writes is accepted (transformers 4.57, which the Qwen3-VL releases were saved with, and 5.x,
// which re-saves them; docs/model-packages.md lists them):
// - rotary settings: 4.57 writes `text_config.rope_scaling` {rope_type, mrope_section,
//   mrope_interleaved} plus `text_config.rope_theta`; 5.x writes `text_config.rope_parameters`
//   {rope_type, rope_theta, mrope_section, mrope_interleaved};
// - `vision_config.model_type`: "qwen3_vl" (4.57) or "qwen3_vl_vision" (5.x);
// - `dtype` (4.56+) or `torch_dtype` (older), `architectures` Qwen3VLForConditionalGeneration or
//   Qwen3VLForEmbedding (the embedding wrapper's class): neither is read, the tensors carry their
//   own dtype and the caller says which head to build;
// - tied or untied embeddings (qwen3vl-parameters.ts lists `lm_head.weight` only when untied).
// Architecture fields are required (the transformers class defaults match no released model);
// token ids fall back to transformers' defaults, which are the real ids.
import { z } from 'zod';

export interface Qwen3VLTextConfig {
  vocabSize: number;
  hidden: number;
  intermediate: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  rmsNormEps: number;
  ropeTheta: number;
  /** Rotary frequencies owned by the T, H, W axes (interleaved layout); sums to headDim / 2. */
  mropeSection: [number, number, number];
  tieWordEmbeddings: boolean;
}

export interface Qwen3VLVisionConfig {
  depth: number;
  hidden: number;
  intermediate: number;
  heads: number;
  patchSize: number;
  temporalPatchSize: number;
  spatialMergeSize: number;
  outHidden: number;
  numPositionEmbeddings: number;
  deepstackVisualIndexes: number[];
}

export interface Qwen3VLTokenIds {
  image: number;
  video: number;
  visionStart: number;
  visionEnd: number;
}

export interface Qwen3VLConfig {
  text: Qwen3VLTextConfig;
  vision: Qwen3VLVisionConfig;
  tokens: Qwen3VLTokenIds;
}

function describe(value: unknown): string {
  return value === undefined ? 'nothing (the field is missing)' : JSON.stringify(value);
}

const positiveInt = z.custom<number>((v) => Number.isSafeInteger(v) && (v as number) > 0, {
  error: (issue) => `expected a positive integer, got ${describe(issue.input)}`,
});
const nonNegativeInt = z.custom<number>((v) => Number.isSafeInteger(v) && (v as number) >= 0, {
  error: (issue) => `expected a non-negative integer, got ${describe(issue.input)}`,
});
const positiveNumber = z.custom<number>((v) => typeof v === 'number' && Number.isFinite(v) && v > 0, {
  error: (issue) => `expected a positive number, got ${describe(issue.input)}`,
});
const bool = z.custom<boolean>((v) => typeof v === 'boolean', {
  error: (issue) => `expected true or false, got ${describe(issue.input)}`,
});
function exactly<T extends string | boolean>(expected: T) {
  return z.custom<T>((v) => v === expected, {
    error: (issue) => `expected ${JSON.stringify(expected)}, got ${describe(issue.input)}`,
  });
}
const mropeSection = z.custom<[number, number, number]>(
  (v) => Array.isArray(v) && v.length === 3 && v.every((x) => Number.isSafeInteger(x) && x > 0),
  { error: (issue) => `expected three positive integers [T, H, W], got ${describe(issue.input)}` },
);

const ropeScaling = z.looseObject({
  rope_type: exactly('default').optional(),
  type: exactly('default').optional(),
  mrope_section: mropeSection.optional(),
  mrope_interleaved: bool.optional(),
});
const ropeParameters = ropeScaling.extend({ rope_theta: positiveNumber.optional() });

const textConfigSchema = z.looseObject({
  model_type: exactly('qwen3_vl_text').optional(),
  vocab_size: positiveInt,
  hidden_size: positiveInt,
  intermediate_size: positiveInt,
  num_hidden_layers: positiveInt,
  num_attention_heads: positiveInt,
  num_key_value_heads: positiveInt,
  head_dim: positiveInt,
  hidden_act: exactly('silu'),
  rms_norm_eps: positiveNumber,
  attention_bias: exactly(false).optional(),
  rope_theta: positiveNumber.optional(),
  rope_scaling: ropeScaling.nullable().optional(),
  rope_parameters: ropeParameters.nullable().optional(),
  tie_word_embeddings: bool.optional(),
});

function oneOf<T extends string>(...allowed: T[]) {
  return z.custom<T>((v) => allowed.includes(v as T), {
    error: (issue) => `expected ${allowed.map((a) => JSON.stringify(a)).join(' or ')}, got ${describe(issue.input)}`,
  });
}

const visionConfigSchema = z.looseObject({
  // transformers 5 renamed the vision sub-config's model_type and rewrites old files on load.
  model_type: oneOf('qwen3_vl', 'qwen3_vl_vision').optional(),
  depth: positiveInt,
  hidden_size: positiveInt,
  intermediate_size: positiveInt,
  num_heads: positiveInt,
  hidden_act: exactly('gelu_pytorch_tanh'),
  in_channels: positiveInt.optional(),
  patch_size: positiveInt,
  temporal_patch_size: positiveInt,
  spatial_merge_size: positiveInt,
  out_hidden_size: positiveInt,
  num_position_embeddings: positiveInt,
  deepstack_visual_indexes: z.array(nonNegativeInt, {
    error: (issue) => `expected a list of block indexes, got ${describe(issue.input)}`,
  }),
});

export const qwen3VLConfigSchema = z.looseObject({
  model_type: exactly('qwen3_vl'),
  text_config: z.looseObject({}, { error: (issue) => `expected an object, got ${describe(issue.input)}` }).pipe(textConfigSchema),
  vision_config: z.looseObject({}, { error: (issue) => `expected an object, got ${describe(issue.input)}` }).pipe(visionConfigSchema),
  image_token_id: nonNegativeInt.default(151655),
  video_token_id: nonNegativeInt.default(151656),
  vision_start_token_id: nonNegativeInt.default(151652),
  vision_end_token_id: nonNegativeInt.default(151653),
  tie_word_embeddings: bool.optional(),
});

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : `${out ? '.' : ''}${String(part)}`;
  return out || '(top level)';
}

function fail(source: string, problems: string[]): never {
  throw new Error(
    `${source}: not a usable Qwen3-VL config.json:\n${problems.map((p) => `  - ${p}`).join('\n')}\n` +
      'Fix these fields (compare with the config.json of the published checkpoint) or download the checkpoint again.',
  );
}

/** Validates a parsed Qwen3-VL `config.json` and returns the normalised numbers; `source` names the file in errors. */
export function parseQwen3VLConfig(json: unknown, source: string): Qwen3VLConfig {
  const parsed = qwen3VLConfigSchema.safeParse(json);
  if (!parsed.success) fail(source, parsed.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`));
  const top = parsed.data;
  const t = top.text_config;
  const v = top.vision_config;
  const problems: string[] = [];

  // Rotary settings: one of the two spellings, and the two must agree where both are given.
  const rp = t.rope_parameters ?? undefined;
  const rs = t.rope_scaling ?? undefined;
  if (!rp && !rs) problems.push('text_config.rope_scaling: missing (neither rope_scaling (transformers 4.57) nor rope_parameters (v5) is present); add the mrope settings');
  const ropeTheta = rp?.rope_theta ?? t.rope_theta;
  if (ropeTheta === undefined) problems.push('text_config.rope_theta: missing (neither text_config.rope_theta nor text_config.rope_parameters.rope_theta is present)');
  if (rp?.rope_theta !== undefined && t.rope_theta !== undefined && rp.rope_theta !== t.rope_theta) {
    problems.push(`text_config.rope_parameters.rope_theta: ${rp.rope_theta} disagrees with text_config.rope_theta ${t.rope_theta}`);
  }
  const section = rp?.mrope_section ?? rs?.mrope_section;
  if ((rp || rs) && !section) problems.push(`text_config.${rp ? 'rope_parameters' : 'rope_scaling'}.mrope_section: missing; Qwen3-VL needs the [T, H, W] split of the rotary frequencies`);
  if (rp?.mrope_section && rs?.mrope_section && rp.mrope_section.join() !== rs.mrope_section.join()) {
    problems.push(`text_config.rope_parameters.mrope_section: [${rp.mrope_section}] disagrees with text_config.rope_scaling.mrope_section [${rs.mrope_section}]`);
  }

  // transformers 4.57 ties through text_config.tie_word_embeddings (get_text_config(decoder=True));
  // the top-level value is what Qwen3VLConfig passes on. Released configs carry both, equal.
  if (t.tie_word_embeddings !== undefined && top.tie_word_embeddings !== undefined && t.tie_word_embeddings !== top.tie_word_embeddings) {
    problems.push(`tie_word_embeddings: top level says ${top.tie_word_embeddings} but text_config says ${t.tie_word_embeddings}; transformers 4.57 follows text_config, v5 the top level — make them equal`);
  }
  const tieWordEmbeddings = t.tie_word_embeddings ?? top.tie_word_embeddings ?? false;

  // Structural constants the graphs and the reference forward rely on.
  if (section && section[0] + section[1] + section[2] !== t.head_dim / 2) {
    problems.push(`text_config mrope_section: [${section}] sums to ${section[0] + section[1] + section[2]}, but head_dim / 2 = ${t.head_dim / 2}`);
  }
  if (t.head_dim % 2 !== 0) problems.push(`text_config.head_dim: ${t.head_dim} must be even for rotary embeddings`);
  if (t.num_attention_heads % t.num_key_value_heads !== 0) {
    problems.push(`text_config.num_key_value_heads: ${t.num_key_value_heads} must divide num_attention_heads ${t.num_attention_heads}`);
  }
  const grid = Math.round(Math.sqrt(v.num_position_embeddings));
  if (grid * grid !== v.num_position_embeddings) {
    problems.push(`vision_config.num_position_embeddings: ${v.num_position_embeddings} must be a square (a side × side grid of learned positions)`);
  }
  if (v.hidden_size % v.num_heads !== 0) {
    problems.push(`vision_config.hidden_size: ${v.hidden_size} must be divisible by num_heads ${v.num_heads}`);
  } else if ((v.hidden_size / v.num_heads) % 4 !== 0) {
    problems.push(`vision_config.hidden_size: head dim ${v.hidden_size / v.num_heads} must be a multiple of 4 (2-D rotary over row and column)`);
  }
  if (v.in_channels !== undefined && v.in_channels !== 3) problems.push(`vision_config.in_channels: expected 3 (RGB), got ${v.in_channels}`);
  const ds = v.deepstack_visual_indexes;
  if (ds.length !== 3) problems.push(`vision_config.deepstack_visual_indexes: expected 3 block indexes, got ${ds.length}`);
  ds.forEach((k, j) => {
    if (k >= v.depth) problems.push(`vision_config.deepstack_visual_indexes[${j}]: ${k} is not a block index (depth is ${v.depth})`);
  });
  if (new Set(ds).size !== ds.length) problems.push(`vision_config.deepstack_visual_indexes: [${ds}] repeats an index`);
  if (v.out_hidden_size !== t.hidden_size) {
    problems.push(`vision_config.out_hidden_size: ${v.out_hidden_size} must equal text_config.hidden_size ${t.hidden_size} (vision features replace token embeddings)`);
  }
  for (const [field, id] of [['image_token_id', top.image_token_id], ['video_token_id', top.video_token_id], ['vision_start_token_id', top.vision_start_token_id], ['vision_end_token_id', top.vision_end_token_id]] as const) {
    if (id >= t.vocab_size) problems.push(`${field}: ${id} is outside the vocabulary (text_config.vocab_size ${t.vocab_size})`);
  }
  if (problems.length > 0) fail(source, problems);

  return {
    text: {
      vocabSize: t.vocab_size,
      hidden: t.hidden_size,
      intermediate: t.intermediate_size,
      layers: t.num_hidden_layers,
      heads: t.num_attention_heads,
      kvHeads: t.num_key_value_heads,
      headDim: t.head_dim,
      rmsNormEps: t.rms_norm_eps,
      ropeTheta: ropeTheta!,
      mropeSection: [section![0], section![1], section![2]],
      tieWordEmbeddings,
    },
    vision: {
      depth: v.depth,
      hidden: v.hidden_size,
      intermediate: v.intermediate_size,
      heads: v.num_heads,
      patchSize: v.patch_size,
      temporalPatchSize: v.temporal_patch_size,
      spatialMergeSize: v.spatial_merge_size,
      outHidden: v.out_hidden_size,
      numPositionEmbeddings: v.num_position_embeddings,
      deepstackVisualIndexes: [...ds],
    },
    tokens: {
      image: top.image_token_id,
      video: top.video_token_id,
      visionStart: top.vision_start_token_id,
      visionEnd: top.vision_end_token_id,
    },
  };
}
