// The fused graph variant (onnxruntime contrib ops: SimplifiedLayerNormalization,
// SkipSimplifiedLayerNormalization, MultiHeadAttention, QuickGelu, FastGelu, Gelu) against the
// plain-op graph on the CPU EP: pooled embeddings of a right-padded text batch, reranker logits of
// a left-padded batch (fully masked query rows must stay finite), vision outputs of an image and a
// video, on the tiny checkpoint and on a sharpened copy whose attention is far from uniform.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { loadQwenTokenizer, type QwenTokenizer } from '../../../electron/engine/model-inputs/node/qwen-tokenizer.ts';
import { openCheckpoint, type Checkpoint } from '../../../native-models/checkpoint/node/safetensors-reader.ts';
import { buildTextDecoder } from '../../../native-models/graphs/node/text-decoder-graph.ts';
import { buildVisionEncoder } from '../../../native-models/graphs/node/vision-encoder-graph.ts';
import { generateTinyCheckpoint } from '../../../native-models/tiny/node/generate-tiny-checkpoint.ts';
import { compareRowSets, decoderFeeds, opCounts, PROBE_TEXTS, rerankBatch, seededImage, sharpCheckpoint, textBatch, visionFeeds } from './graph-variant-fixtures.ts';

const HIDDEN = 32;
const VISION_HEAD_DIM = 16;
const ATOL = 1e-4;
const MIN_COSINE = 0.99999;
/** Fused and plain both compute in float32; their measured gap is ~1e-7, so 1e-5 still catches a layout change. */
const REGRESSION_ATOL = 1e-5;

interface Pair {
  plain: ort.InferenceSession;
  fused: ort.InferenceSession;
  fusedFile: string;
}

describe('fused graph variant = plain graph (tiny checkpoint, ORT CPU)', () => {
  let dir = '';
  let tokenizer: QwenTokenizer;
  const decoders = new Map<string, Pair>();
  const visions = new Map<string, Pair>();

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'graph-fused-'));
    const ckptDir = await generateTinyCheckpoint({ out: path.join(dir, 'tiny'), kind: 'embedding' });
    tokenizer = await loadQwenTokenizer(ckptDir);
    const base = await openCheckpoint(ckptDir);
    try {
      for (const [label, checkpoint] of [['tiny', base], ['sharp', sharpCheckpoint(base)]] as [string, Checkpoint][]) {
        for (const head of ['embedding', 'rerank'] as const) {
          await mkdir(path.join(dir, `${label}-${head}`));
          const out = (variant: string) => path.join(dir, `${label}-${head}`, `${variant}.onnx`);
          const plain = await buildTextDecoder(checkpoint, out('plain'), { head });
          const fused = await buildTextDecoder(checkpoint, out('fused'), { head, variant: 'fused' });
          assert.equal(fused.variant, 'fused');
          decoders.set(`${label}-${head}`, { plain: await ort.InferenceSession.create(plain.onnxFile), fused: await ort.InferenceSession.create(fused.onnxFile), fusedFile: fused.onnxFile });
        }
        const plainVision = await buildVisionEncoder(checkpoint, path.join(dir, `${label}-vision-plain`));
        const fusedVision = await buildVisionEncoder(checkpoint, path.join(dir, `${label}-vision-fused`), { variant: 'fused' });
        visions.set(label, { plain: await ort.InferenceSession.create(plainVision.onnxFile), fused: await ort.InferenceSession.create(fusedVision.onnxFile), fusedFile: fusedVision.onnxFile });
      }
    } finally {
      await base.close();
    }
  });
  after(async () => {
    for (const pair of [...decoders.values(), ...visions.values()]) await Promise.all([pair.plain.release(), pair.fused.release()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('the fused graphs use the contrib ops in place of the plain subgraphs', async () => {
    const decoder = await opCounts(decoders.get('tiny-embedding')!.fusedFile, { nested: true });
    assert.equal(decoder.get('com.microsoft.MultiHeadAttention'), 4, 'one MultiHeadAttention per layer (in its loop over query blocks)');
    assert.equal(decoder.get('Loop'), 4);
    assert.equal(decoder.get('com.microsoft.SkipSimplifiedLayerNormalization'), 4);
    assert.equal(decoder.get('com.microsoft.QuickGelu'), 4);
    // input_layernorm + q_norm + k_norm per layer, and the final norm.
    assert.equal(decoder.get('SimplifiedLayerNormalization'), 4 * 3 + 1);
    assert.equal(decoder.get('Softmax'), undefined, 'no plain softmax left');
    const vision = await opCounts(visions.get('tiny')!.fusedFile);
    assert.equal(vision.get('com.microsoft.MultiHeadAttention'), 5, 'one per vision block');
    assert.equal(vision.get('com.microsoft.FastGelu'), 5);
    assert.equal(vision.get('com.microsoft.Gelu'), 4, 'three DeepStack mergers and the final merger');
    assert.equal(vision.get('Softmax'), undefined);
  });

  for (const label of ['tiny', 'sharp']) {
    test(`${label}: pooled embeddings of a right-padded batch of ten texts`, async (t) => {
      const { plain, fused } = decoders.get(`${label}-embedding`)!;
      const feeds = decoderFeeds(textBatch(tokenizer, PROBE_TEXTS), HIDDEN);
      const expected = (await plain.run(feeds)).pooled_hidden.data as Float32Array;
      const actual = (await fused.run(feeds)).pooled_hidden.data as Float32Array;
      const m = compareRowSets(actual, expected, HIDDEN);
      t.diagnostic(`${label} embedding: max |Δ| ${m.maxAbs.toExponential(2)}, lowest cosine ${m.minCosine.toFixed(9)}`);
      assert.ok(m.maxAbs <= ATOL && m.maxAbs <= REGRESSION_ATOL, `max |Δ| ${m.maxAbs}`);
      assert.ok(m.minCosine >= MIN_COSINE, `cosine ${m.minCosine}`);
    });

    test(`${label}: reranker logits of a left-padded batch (masked query rows stay finite)`, async (t) => {
      const { plain, fused } = decoders.get(`${label}-rerank`)!;
      const batch = rerankBatch(tokenizer, [['what do cats eat', 'Cats are obligate carnivores and eat mostly meat, fish and some insects.'], ['capital of France', 'Paris']]);
      assert.equal(batch.attentionMask[1][0], 0, 'row 1 is left-padded');
      const feeds = decoderFeeds(batch, HIDDEN);
      const expected = await plain.run(feeds);
      const actual = await fused.run(feeds);
      const pooled = compareRowSets(actual.pooled_hidden.data as Float32Array, expected.pooled_hidden.data as Float32Array, HIDDEN);
      const logits = compareRowSets(actual.yes_no_logit.data as Float32Array, expected.yes_no_logit.data as Float32Array, 1);
      t.diagnostic(`${label} rerank: pooled max |Δ| ${pooled.maxAbs.toExponential(2)}, logit max |Δ| ${logits.maxAbs.toExponential(2)}`);
      assert.ok(pooled.maxAbs <= REGRESSION_ATOL && logits.maxAbs <= REGRESSION_ATOL);
      assert.ok(pooled.minCosine >= MIN_COSINE);
    });

    test(`${label}: vision outputs of an image and a two-frame video`, async (t) => {
      const { plain, fused } = visions.get(label)!;
      for (const frames of [[seededImage(96, 64, 7)], [seededImage(64, 96, 20), seededImage(64, 96, 21)]]) {
        const feeds = visionFeeds(frames, VISION_HEAD_DIM);
        const expected = await plain.run(feeds);
        const actual = await fused.run(feeds);
        for (const name of ['merged_embeds', 'deepstack_embeds']) {
          const m = compareRowSets(actual[name].data as Float32Array, expected[name].data as Float32Array, HIDDEN);
          t.diagnostic(`${label} vision ${frames.length} frame(s) ${name}: max |Δ| ${m.maxAbs.toExponential(2)}, lowest cosine ${m.minCosine.toFixed(9)}`);
          assert.ok(m.maxAbs <= ATOL && m.maxAbs <= REGRESSION_ATOL, `${name}: max |Δ| ${m.maxAbs}`);
          assert.ok(m.minCosine >= MIN_COSINE, `${name}: cosine ${m.minCosine}`);
        }
      }
    });
  }

  test('sharpening changes the outputs (the sharp runs test something else than the tiny ones)', async () => {
    const feeds = decoderFeeds(textBatch(tokenizer, PROBE_TEXTS.slice(0, 3)), HIDDEN);
    const tiny = (await decoders.get('tiny-embedding')!.plain.run(feeds)).pooled_hidden.data as Float32Array;
    const sharp = (await decoders.get('sharp-embedding')!.plain.run(feeds)).pooled_hidden.data as Float32Array;
    const gap = compareRowSets(sharp, tiny, HIDDEN).maxAbs;
    assert.ok(gap > 1e-2, `sharpening moved the pooled rows by only ${gap}`);
  });
});
