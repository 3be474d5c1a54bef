// Naive float64 embedder and reranker heads (tests only): docs/qwen3-vl-model.md#pooling,
// docs/qwen3-vl-model.md#matryoshka-dimensions and docs/qwen3-vl-model.md#reranker-score, on top of the naive vision
// tower and decoder.
import { NO_TOKEN_ID, YES_TOKEN_ID } from '../../checkpoint/common/qwen3vl-constants.ts';

export { NO_TOKEN_ID, YES_TOKEN_ID };
import type { GridThw } from '../../../electron/engine/media/common/vision-types.ts';
import { naiveDecoder, type NaiveDecoderInput, type NaiveDecoderOutput } from './naive-decoder.ts';
import { dot } from '../common/naive-ops.ts';
import { naiveVision, type NaiveVisionOutput } from './naive-vision.ts';
import { LM_HEAD, type NaiveWeights } from './naive-weights.ts';

/** F.normalize's default eps: the norm is clamped from below, so a zero vector stays zero. */
const NORMALIZE_EPS = 1e-12;

export interface NaiveVisionInput {
  /** t·h·w rows × 1536, merge-block order (patchify output). */
  readonly pixelValues: Float32Array;
  readonly gridThw: GridThw;
}

/**
 * A batch for the heads: tokens, mask, position ids, and the vision inputs either as pixels
 * (run through naiveVision here) or as precomputed vision outputs — not both for one kind.
 */
export interface NaiveBatch extends NaiveDecoderInput {
  readonly images?: readonly NaiveVisionInput[];
  readonly videos?: readonly NaiveVisionInput[];
}

export interface NaiveEmbedOutput {
  /** Final hidden state at the last position whose mask is 1, per row. */
  readonly pooled: Float64Array[];
  /** `pooled` L2-normalised (F.normalize, eps 1e-12). */
  readonly embedding: Float64Array[];
  /** Stage-by-stage taps (fused inputs_embeds, per-layer hidden states, last_hidden_state). */
  readonly decoder: NaiveDecoderOutput;
}

export interface NaiveRerankOutput {
  /** h[S−1] · (lm_head[yes] − lm_head[no]) per row. */
  readonly logit: number[];
  /** sigmoid(logit). */
  readonly score: number[];
  readonly decoder: NaiveDecoderOutput;
}

export function l2Normalize(v: Float64Array): Float64Array {
  const norm = Math.sqrt(dot(v, v));
  const scale = 1 / Math.max(norm, NORMALIZE_EPS);
  return v.map((x) => x * scale);
}

/** MRL: keep the first `dims` values and L2-normalise again. */
export function matryoshka(embedding: Float64Array, dims: number): Float64Array {
  if (!Number.isInteger(dims) || dims < 1 || dims > embedding.length) throw new RangeError(`MRL dims must be an integer in [1, ${embedding.length}], got ${dims}`);
  return l2Normalize(embedding.slice(0, dims));
}

function visionOutputs(weights: NaiveWeights, pixels: readonly NaiveVisionInput[] | undefined, precomputed: readonly NaiveVisionOutput[] | undefined, kind: string): readonly NaiveVisionOutput[] | undefined {
  if (pixels && precomputed) throw new Error(`give ${kind} either as pixels or as vision outputs, not both`);
  return pixels ? pixels.map((p) => naiveVision(weights, p.pixelValues, p.gridThw)) : precomputed;
}

/** The whole model up to last_hidden_state: vision tower for every image/video, then the decoder. */
export function naiveModel(weights: NaiveWeights, batch: NaiveBatch): NaiveDecoderOutput {
  return naiveDecoder(weights, {
    inputIds: batch.inputIds,
    attentionMask: batch.attentionMask,
    positionIds: batch.positionIds,
    imageEmbeds: visionOutputs(weights, batch.images, batch.imageEmbeds, 'images'),
    videoEmbeds: visionOutputs(weights, batch.videos, batch.videoEmbeds, 'videos'),
  });
}

/** Index of the last position with mask 1 (`_pooling_last`: flip + argmax). */
export function lastRealIndex(mask: readonly number[]): number {
  const index = mask.lastIndexOf(1);
  if (index < 0) throw new Error('a batch row has no position with attention mask 1');
  return index;
}

/** Embedder: last-token pooling of last_hidden_state, then L2 normalisation. */
export function naiveEmbed(weights: NaiveWeights, batch: NaiveBatch): NaiveEmbedOutput {
  const decoder = naiveModel(weights, batch);
  const pooled = decoder.lastHidden.map((row, b) => Float64Array.from(row[lastRealIndex(batch.attentionMask[b])]));
  return { pooled, embedding: pooled.map(l2Normalize), decoder };
}

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/**
 * Reranker: the final hidden state at index S−1 (the batch must be left-padded, as the reference
 * processor is) dotted with lm_head[yes] − lm_head[no]; score = sigmoid(logit).
 */
export function naiveRerank(weights: NaiveWeights, batch: NaiveBatch): NaiveRerankOutput {
  const hid = weights.config.text.hiddenSize;
  const head = weights.get(LM_HEAD, [weights.config.text.vocabSize, hid]).data;
  const direction = new Float64Array(hid);
  for (let d = 0; d < hid; d++) direction[d] = head[YES_TOKEN_ID * hid + d] - head[NO_TOKEN_ID * hid + d];
  batch.attentionMask.forEach((mask, b) => {
    if (mask[mask.length - 1] !== 1) throw new Error(`rerank row ${b} is not left-padded: its last position is padding`);
  });
  const decoder = naiveModel(weights, batch);
  const logit = decoder.lastHidden.map((row) => dot(row[row.length - 1], direction));
  return { logit, score: logit.map(sigmoid), decoder };
}
