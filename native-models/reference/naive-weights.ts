// Loads a Qwen3-VL checkpoint for the naive reference forward (tests only): every tensor as a
// Float64Array keyed by its Hugging Face state-dict name, plus the config numbers the forward uses.
import { openCheckpoint } from '../checkpoint/safetensors-reader.ts';

export interface NaiveTensor {
  readonly shape: readonly number[];
  /** Row-major values (PyTorch layout; a Linear weight is [out, in]). */
  readonly data: Float64Array;
}

export interface NaiveTextConfig {
  readonly vocabSize: number;
  readonly hiddenSize: number;
  readonly intermediateSize: number;
  readonly numLayers: number;
  readonly numHeads: number;
  readonly numKvHeads: number;
  readonly headDim: number;
  readonly rmsNormEps: number;
  readonly ropeTheta: number;
  /** Rotary frequency slots per axis [T, H, W]; sums to headDim / 2. */
  readonly mropeSection: readonly [number, number, number];
}

export interface NaiveVisionConfig {
  readonly depth: number;
  readonly hiddenSize: number;
  readonly intermediateSize: number;
  readonly numHeads: number;
  readonly inChannels: number;
  readonly patchSize: number;
  readonly temporalPatchSize: number;
  readonly spatialMergeSize: number;
  readonly outHiddenSize: number;
  readonly numPositionEmbeddings: number;
  readonly deepstackVisualIndexes: readonly number[];
}

export interface NaiveConfig {
  readonly text: NaiveTextConfig;
  /** Absent for a text-only weight set (the handcrafted micro cases). */
  readonly vision?: NaiveVisionConfig;
  readonly imageTokenId: number;
  readonly videoTokenId: number;
  readonly tieWordEmbeddings: boolean;
}

export interface NaiveWeights {
  readonly config: NaiveConfig;
  readonly tensors: ReadonlyMap<string, NaiveTensor>;
  /** The tensor, with its shape checked when `shape` is given; throws when missing. */
  get(name: string, shape?: readonly number[]): NaiveTensor;
  has(name: string): boolean;
}

export const TEXT_PREFIX = 'model.language_model.';
export const VISION_PREFIX = 'model.visual.';
export const EMBED_TOKENS = `${TEXT_PREFIX}embed_tokens.weight`;
export const LM_HEAD = 'lm_head.weight';

type Json = Record<string, unknown>;

function section(raw: Json, key: string): Json | undefined {
  const value = raw[key];
  return value && typeof value === 'object' ? (value as Json) : undefined;
}

function num(obj: Json, key: string, where: string): number {
  const value = obj[key];
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`config ${where}.${key} must be a number, got ${JSON.stringify(value)}`);
  return value;
}

function intList(value: unknown, where: string): number[] {
  if (!Array.isArray(value) || !value.every((v) => Number.isInteger(v))) throw new Error(`config ${where} must be a list of integers, got ${JSON.stringify(value)}`);
  return value as number[];
}

/**
 * Reads the numbers of an HF Qwen3-VL config.json. Accepts transformers 4.57's
 * `rope_theta` + `rope_scaling` and v5's `rope_parameters` (which carries rope_theta itself).
 */
export function parseNaiveConfig(raw: unknown): NaiveConfig {
  if (!raw || typeof raw !== 'object') throw new Error('config.json must be an object');
  const top = raw as Json;
  const text = section(top, 'text_config');
  if (!text) throw new Error('config.json has no text_config');
  const rope = section(text, 'rope_parameters') ?? section(text, 'rope_scaling') ?? {};
  const ropeType = rope.rope_type ?? rope.type ?? 'default';
  if (ropeType !== 'default') throw new Error(`only default (unscaled) M-RoPE is modelled, config says rope_type ${JSON.stringify(ropeType)}`);
  const ropeTheta = typeof rope.rope_theta === 'number' ? rope.rope_theta : num(text, 'rope_theta', 'text_config');
  const mrope = intList(rope.mrope_section, 'text_config.rope_scaling.mrope_section');
  if (mrope.length !== 3) throw new Error(`mrope_section needs 3 entries, got ${mrope.length}`);
  const hiddenSize = num(text, 'hidden_size', 'text_config');
  const numHeads = num(text, 'num_attention_heads', 'text_config');
  const headDim = typeof text.head_dim === 'number' ? text.head_dim : hiddenSize / numHeads;
  const mropeSection: [number, number, number] = [mrope[0], mrope[1], mrope[2]];
  if (mropeSection[0] + mropeSection[1] + mropeSection[2] !== headDim / 2) {
    throw new Error(`mrope_section ${JSON.stringify(mropeSection)} must sum to head_dim/2 = ${headDim / 2}`);
  }
  const textConfig: NaiveTextConfig = {
    vocabSize: num(text, 'vocab_size', 'text_config'),
    hiddenSize,
    intermediateSize: num(text, 'intermediate_size', 'text_config'),
    numLayers: num(text, 'num_hidden_layers', 'text_config'),
    numHeads,
    numKvHeads: num(text, 'num_key_value_heads', 'text_config'),
    headDim,
    rmsNormEps: num(text, 'rms_norm_eps', 'text_config'),
    ropeTheta,
    mropeSection,
  };
  if (text.attention_bias === true) throw new Error('attention_bias true is not modelled (Qwen3-VL has none)');
  if (text.hidden_act !== undefined && text.hidden_act !== 'silu') throw new Error(`text hidden_act ${JSON.stringify(text.hidden_act)} is not silu`);

  const vision = section(top, 'vision_config');
  let visionConfig: NaiveVisionConfig | undefined;
  if (vision) {
    if (vision.hidden_act !== undefined && vision.hidden_act !== 'gelu_pytorch_tanh') throw new Error(`vision hidden_act ${JSON.stringify(vision.hidden_act)} is not gelu_pytorch_tanh`);
    visionConfig = {
      depth: num(vision, 'depth', 'vision_config'),
      hiddenSize: num(vision, 'hidden_size', 'vision_config'),
      intermediateSize: num(vision, 'intermediate_size', 'vision_config'),
      numHeads: num(vision, 'num_heads', 'vision_config'),
      inChannels: num(vision, 'in_channels', 'vision_config'),
      patchSize: num(vision, 'patch_size', 'vision_config'),
      temporalPatchSize: num(vision, 'temporal_patch_size', 'vision_config'),
      spatialMergeSize: num(vision, 'spatial_merge_size', 'vision_config'),
      outHiddenSize: num(vision, 'out_hidden_size', 'vision_config'),
      numPositionEmbeddings: num(vision, 'num_position_embeddings', 'vision_config'),
      deepstackVisualIndexes: intList(vision.deepstack_visual_indexes, 'vision_config.deepstack_visual_indexes'),
    };
  }
  // transformers 4.57 ties through the text config (get_text_config(decoder=True)), v5 through the
  // top level; a checkpoint where the two disagree is ambiguous, so refuse it.
  if (text.tie_word_embeddings !== undefined && top.tie_word_embeddings !== undefined && text.tie_word_embeddings !== top.tie_word_embeddings) {
    throw new Error('tie_word_embeddings differs between text_config and the top level');
  }
  const tie = text.tie_word_embeddings ?? top.tie_word_embeddings ?? false;
  return {
    text: textConfig,
    vision: visionConfig,
    imageTokenId: typeof top.image_token_id === 'number' ? top.image_token_id : 151655,
    videoTokenId: typeof top.video_token_id === 'number' ? top.video_token_id : 151656,
    tieWordEmbeddings: tie === true,
  };
}

/**
 * Wraps tensors already in memory. A tied checkpoint gets `lm_head.weight` as an alias of
 * `embed_tokens` (HF ties the modules, whatever the file holds); an untied one must carry its own.
 */
export function naiveWeightsFromTensors(config: NaiveConfig, tensors: ReadonlyMap<string, NaiveTensor>): NaiveWeights {
  const all = new Map(tensors);
  if (config.tieWordEmbeddings) {
    const embed = all.get(EMBED_TOKENS);
    if (embed) all.set(LM_HEAD, embed);
  } else if (!all.has(LM_HEAD) && all.has(EMBED_TOKENS)) {
    throw new Error(`tie_word_embeddings is false but the checkpoint has no ${LM_HEAD}`);
  }
  return {
    config,
    tensors: all,
    has: (name) => all.has(name),
    get(name, shape) {
      const tensor = all.get(name);
      if (!tensor) throw new Error(`weight ${name} is missing`);
      if (shape && (shape.length !== tensor.shape.length || shape.some((d, i) => d !== tensor.shape[i]))) {
        throw new Error(`weight ${name} has shape [${tensor.shape.join(', ')}], expected [${shape.join(', ')}]`);
      }
      return tensor;
    },
  };
}

/**
 * Reads every tensor of the checkpoint in `dir` (any float dtype the reader widens to float32).
 * Meant for the tiny checkpoints: it holds the whole model in float64 (a 2B model would need 17 GB).
 */
export async function loadNaiveWeights(dir: string): Promise<NaiveWeights> {
  const checkpoint = await openCheckpoint(dir);
  try {
    const config = parseNaiveConfig(checkpoint.config);
    const tensors = new Map<string, NaiveTensor>();
    for (const name of checkpoint.names()) {
      const shape = [...checkpoint.info(name).shape];
      tensors.set(name, { shape, data: Float64Array.from(await checkpoint.readFloat32(name)) });
    }
    return naiveWeightsFromTensors(config, tensors);
  } finally {
    await checkpoint.close();
  }
}
