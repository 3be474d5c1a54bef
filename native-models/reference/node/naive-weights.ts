// Loads a Qwen3-VL checkpoint for the naive reference forward (tests only): every tensor as a
// Float64Array keyed by its Hugging Face state-dict name, plus the config numbers the forward uses.
import { parseQwen3VLConfig } from '../../checkpoint/common/qwen3vl-config.ts';
import { openCheckpoint } from '../../checkpoint/node/safetensors-reader.ts';

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

/**
 * The numbers the forward uses, from the project's one config parser (which validates both the
 * transformers 4.57 and v5 spellings and names the field at fault).
 */
export function parseNaiveConfig(raw: unknown, source = 'config.json'): NaiveConfig {
  const { text, vision, tokens } = parseQwen3VLConfig(raw, source);
  return {
    text: {
      vocabSize: text.vocabSize,
      hiddenSize: text.hidden,
      intermediateSize: text.intermediate,
      numLayers: text.layers,
      numHeads: text.heads,
      numKvHeads: text.kvHeads,
      headDim: text.headDim,
      rmsNormEps: text.rmsNormEps,
      ropeTheta: text.ropeTheta,
      mropeSection: text.mropeSection,
    },
    vision: {
      depth: vision.depth,
      hiddenSize: vision.hidden,
      intermediateSize: vision.intermediate,
      numHeads: vision.heads,
      inChannels: 3,
      patchSize: vision.patchSize,
      temporalPatchSize: vision.temporalPatchSize,
      spatialMergeSize: vision.spatialMergeSize,
      outHiddenSize: vision.outHidden,
      numPositionEmbeddings: vision.numPositionEmbeddings,
      deepstackVisualIndexes: vision.deepstackVisualIndexes,
    },
    imageTokenId: tokens.image,
    videoTokenId: tokens.video,
    tieWordEmbeddings: text.tieWordEmbeddings,
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
    const config = parseNaiveConfig(checkpoint.config, `${dir}/config.json`);
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
