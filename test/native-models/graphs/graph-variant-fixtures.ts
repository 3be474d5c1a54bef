// Shared fixtures of the precision and fused-variant graph tests: session feeds for text-only
// embedder batches, reranker batches and patchified images, a "sharpened" checkpoint view, and
// comparison helpers. Not a test file itself (no .test.ts suffix).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { patchify } from '../../../electron/engine/model-inputs/common/patchify.ts';
import { visionTables } from '../../../electron/engine/model-inputs/common/vision-tables.ts';
import type { RgbImage } from '../../../electron/engine/media/common/vision-types.ts';
import { embedderPrompt } from '../../../electron/engine/model-inputs/common/embedder-prompt.ts';
import { rerankerPrompt } from '../../../electron/engine/model-inputs/common/reranker-prompt.ts';
import { buildEmbedderBatch, buildRerankerBatch, type SequenceBatch } from '../../../electron/engine/model-inputs/common/sequence-batch.ts';
import type { QwenTokenizer } from '../../../electron/engine/model-inputs/node/qwen-tokenizer.ts';
import type { Checkpoint } from '../../../native-models/checkpoint/node/safetensors-reader.ts';
import { seededBytes } from '../../../scripts/fixtures/seeded-random.ts';

/** Ten short, varied texts: the probe set the precision cosines are measured on. */
export const PROBE_TEXTS = [
  'A cat sitting on a warm windowsill.',
  'Quarterly revenue grew by twelve percent, driven by strong demand in the northern region.',
  'x',
  'How do I reset my router to factory settings?',
  'Die Katze schläft auf dem Sofa.',
  '東京の天気は晴れです。',
  'def add(a, b):\n    return a + b',
  'The mitochondria is the powerhouse of the cell.',
  'Invoice #4821 — due 2024-03-01, total €1,250.00',
  'A long walk along the river at dusk, with geese flying south and the first lights coming on in the town.',
];

/**
 * Scales q/k so that attention is sharp: the tiny checkpoint's 0.1-std weights leave it nearly
 * uniform, where a wrong head or mask layout moves outputs by only ~1e-5. The decoder normalises
 * q/k per head (q_norm/k_norm) before the product, so its norm weights are scaled; the vision
 * tower scales the qkv projection. ×4 is exact in float32 and makes the logits ~16× larger.
 */
export const SHARP_SCALE = 4;
export const isSharpened = (name: string) =>
  /^model\.visual\.blocks\.\d+\.attn\.qkv\./.test(name) || /^model\.language_model\.layers\.\d+\.self_attn\.[qk]_norm\.weight$/.test(name);

export function sharpCheckpoint(base: Checkpoint): Checkpoint {
  return {
    dir: base.dir,
    config: base.config,
    names: () => base.names(),
    has: (name) => base.has(name),
    info: (name) => base.info(name),
    readFloat32: async (name) => {
      const data = await base.readFloat32(name);
      return isSharpened(name) ? data.map((x) => x * SHARP_SCALE) : data;
    },
    close: () => base.close(),
  };
}

/** Number arrays nested up to three deep (row-major) → an int64 tensor. */
const int64 = (values: readonly unknown[], dims: number[]) =>
  new ort.Tensor('int64', BigInt64Array.from(values.flat(2) as number[], (v) => BigInt(v)), dims);

/** Decoder feeds for `batch` with no images (num_visual = 0). */
export function decoderFeeds(batch: SequenceBatch, hidden: number): Record<string, ort.Tensor> {
  const B = batch.inputIds.length;
  const S = batch.inputIds[0].length;
  assert.equal(batch.numVisual, 0);
  return {
    input_ids: int64(batch.inputIds, [B, S]),
    attention_mask: int64(batch.attentionMask, [B, S]),
    position_ids: int64(batch.positionIds, [3, B, S]),
    visual_embeds: new ort.Tensor('float32', new Float32Array(0), [0, hidden]),
    deepstack_embeds: new ort.Tensor('float32', new Float32Array(0), [3, 0, hidden]),
    visual_index: int64(batch.visualIndex, [B, S]),
    last_index: int64(batch.lastIndex, [B]),
  };
}

/** A right-padded embedder batch of text-only inputs. */
export function textBatch(tokenizer: QwenTokenizer, texts: readonly string[]): SequenceBatch {
  return buildEmbedderBatch(texts.map((text) => ({ ids: tokenizer.encode(embedderPrompt({ texts: [text], imageCount: 0, videoCount: 0 })) })));
}

/** A left-padded reranker batch of (query, document) text pairs. */
export function rerankBatch(tokenizer: QwenTokenizer, pairs: readonly [string, string][]): SequenceBatch {
  const text = (t: string) => ({ texts: [t], imageCount: 0, videoCount: 0 });
  return buildRerankerBatch(pairs.map(([query, document]) => ({ ids: tokenizer.encode(rerankerPrompt({ query: text(query), document: text(document) })) })));
}

/** Deterministic noise RGB bytes (mulberry32), so every run sees the same pixels. */
export function seededImage(width: number, height: number, seed: number): RgbImage {
  return { width, height, data: seededBytes(width * height * 3, seed) };
}

/** Vision encoder feeds for frames (one image, or an even number of video frames). */
export function visionFeeds(frames: RgbImage[], headDim: number): Record<string, ort.Tensor> {
  const { pixelValues, gridThw } = patchify(frames);
  const tables = visionTables(gridThw, headDim);
  const S = tables.segmentCount;
  const L = tables.segmentPatches;
  return {
    pixel_values: new ort.Tensor('float32', pixelValues, [S, L, pixelValues.length / (S * L)]),
    pos_embed_idx: new ort.Tensor('int64', BigInt64Array.from(tables.posEmbedIdx, (i) => BigInt(i)), [4, L]),
    pos_embed_w: new ort.Tensor('float32', tables.posEmbedWeight, [4, L]),
    rope_cos: new ort.Tensor('float32', tables.ropeCos, [L, headDim]),
    rope_sin: new ort.Tensor('float32', tables.ropeSin, [L, headDim]),
  };
}

export function rows(data: Float32Array, width: number): Float32Array[] {
  return Array.from({ length: data.length / width }, (_, r) => data.subarray(r * width, (r + 1) * width));
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb);
}

/** Row-wise comparison: the largest |Δ| and the lowest row cosine. */
export function compareRowSets(actual: Float32Array, expected: Float32Array, width: number): { maxAbs: number; minCosine: number } {
  const a = rows(actual, width);
  const e = rows(expected, width);
  assert.equal(a.length, e.length);
  let maxAbs = 0;
  let minCosine = 1;
  a.forEach((row, r) => {
    assert.ok(row.every(Number.isFinite), `row ${r} has a non-finite value`);
    maxAbs = Math.max(maxAbs, maxAbsDiff(row, e[r]));
    minCosine = Math.min(minCosine, cosine(row, e[r]));
  });
  return { maxAbs, minCosine };
}

/** op_type → count (with domain prefix for contrib ops) of a saved graph. */
/** Node counts by op type ("domain.op" for contrib ops); `nested` also counts the nodes of Loop/If bodies. */
export async function opCounts(onnxFile: string, options: { nested?: boolean } = {}): Promise<Map<string, number>> {
  const model = onnxProto.onnx.ModelProto.decode(await readFile(onnxFile));
  const counts = new Map<string, number>();
  const visit = (graph: onnxProto.onnx.IGraphProto | null | undefined) => {
    for (const node of graph?.node ?? []) {
      const key = node.domain ? `${node.domain}.${node.opType}` : String(node.opType);
      counts.set(key, (counts.get(key) ?? 0) + 1);
      if (options.nested) for (const attribute of node.attribute ?? []) visit(attribute.g);
    }
  };
  visit(model.graph);
  return counts;
}
