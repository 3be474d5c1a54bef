// fp16 / int8 / int4 graphs on the tiny checkpoint, ORT CPU: the TypeScript quantiser round trip
// and its layout against onnxruntime's own MatMulNBits kernel, then whole graphs that build, run
// and stay close to fp32 on a probe set (ten texts through the decoder, two images and a video
// through the vision tower). The measured cosines are printed (docs/model-precision.md reports them).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { loadQwenTokenizer, type QwenTokenizer } from '../../../electron/engine/model-inputs/node/qwen-tokenizer.ts';
import type { Precision } from '../../../native-models/manifest/common/model-manifest.ts';
import { openCheckpoint } from '../../../native-models/checkpoint/node/safetensors-reader.ts';
import { GraphBuilder } from '../../../native-models/onnx/node/graph-builder.ts';
import { buildTextDecoder, type TextDecoderBuildResult } from '../../../native-models/graphs/node/text-decoder-graph.ts';
import { buildVisionEncoder } from '../../../native-models/graphs/node/vision-encoder-graph.ts';
import { dequantizeBlockwise, dequantizeRowsInt8, quantizeBlockwise, quantizeRowsInt8, type BlockQuantOptions } from '../../../native-models/graphs/common/weight-quantization.ts';
import { generateTinyCheckpoint } from '../../../native-models/tiny/node/generate-tiny-checkpoint.ts';
import { seededRandom } from '../../../scripts/fixtures/seeded-random.ts';
import { compareRowSets, decoderFeeds, maxAbsDiff, opCounts, PROBE_TEXTS, rerankBatch, seededImage, textBatch, visionFeeds } from './graph-variant-fixtures.ts';

const HIDDEN = 32;
const VISION_HEAD_DIM = 16;
/**
 * Quality bounds on the lowest per-row cosine to the fp32 graph. int8/int4: the usual bound for
 * final embeddings of weight-only quantised decoders (0.99, docs/qwen3-vl-model.md#numeric-precision). fp16: the only fp16 arithmetic is
 * fp16-rounded weights and activations into fp32-accumulating MatMuls (relative error ~1e-3 per
 * layer), so anything under 0.999 means a real defect (an overflow, a wrong cast), not rounding.
 */
const MIN_COSINE: Readonly<Record<Exclude<Precision, 'fp32'>, number>> = { fp16: 0.999, int8: 0.99, int4: 0.99 };

/** Deterministic N(0, 1)-ish values (sum of uniforms from mulberry32), with a few outliers. */
function seededWeights(count: number, seed: number): Float32Array {
  const uniform = seededRandom(seed);
  return Float32Array.from({ length: count }, (_, i) => (uniform() + uniform() + uniform() - 1.5) * (i % 97 === 0 ? 8 : 1));
}

describe('weight quantiser (MatMulNBits layout, int8 embedding rows)', () => {
  const cases: BlockQuantOptions[] = [
    { bits: 4, blockSize: 32, symmetric: false },
    { bits: 4, blockSize: 32, symmetric: true },
    { bits: 8, blockSize: 32, symmetric: true },
    { bits: 8, blockSize: 16, symmetric: false },
    { bits: 4, blockSize: 128, symmetric: false },
  ];
  // K = 72 is not a multiple of any block size: the last block is zero-padded.
  const N = 24;
  const K = 72;
  const weight = seededWeights(N * K, 11);

  for (const options of cases) {
    const label = `${options.bits}-bit, block ${options.blockSize}, ${options.symmetric ? 'symmetric' : 'zero points'}`;
    test(`${label}: every dequantised value is within one rounding step of the weight`, () => {
      const q = quantizeBlockwise(weight, N, K, options);
      assert.equal(q.packed.length, N * Math.ceil(K / options.blockSize) * (options.blockSize * options.bits) / 8);
      assert.equal(q.zeroPoints === null, options.symmetric);
      const back = dequantizeBlockwise(q);
      for (let row = 0; row < N; row++) {
        for (let col = 0; col < K; col++) {
          const scale = Math.abs(q.scales[row * q.blocksPerRow + Math.floor(col / options.blockSize)]);
          // Round to nearest: half a step; symmetric codes clamp +2^(bits−1) to one less, a full step.
          const bound = (options.symmetric ? 1 : 0.5) * scale * (1 + 1e-6) + 1e-12;
          const error = Math.abs(back[row * K + col] - weight[row * K + col]);
          assert.ok(error <= bound, `${label} [${row}, ${col}]: |error| ${error} > ${bound}`);
        }
      }
    });

    test(`${label}: onnxruntime's MatMulNBits computes x·dequant(W)ᵀ (layout and packing agree)`, async () => {
      const q = quantizeBlockwise(weight, N, K, options);
      const g = new GraphBuilder('nbits_probe');
      g.input('x', 'float32', ['rows', K]);
      const inputs = ['x', g.weight('b', q.packed, [N, q.blocksPerRow, q.blobSize], 'uint8'), g.weight('scales', q.scales, [N * q.blocksPerRow])];
      if (q.zeroPoints) inputs.push(g.weight('zp', q.zeroPoints, [q.zeroPoints.length], 'uint8'));
      g.output('y', 'float32', ['rows', N], g.node('MatMulNBits', inputs, { K, N, bits: options.bits, block_size: options.blockSize, accuracy_level: 0 }, { domain: 'com.microsoft' }));
      const dir = await mkdtemp(path.join(tmpdir(), 'nbits-'));
      try {
        const saved = await g.save(path.join(dir, 'nbits.onnx'));
        const session = await ort.InferenceSession.create(saved.onnxFile);
        const M = 5;
        const x = seededWeights(M * K, 5);
        const y = (await session.run({ x: new ort.Tensor('float32', x, [M, K]) })).y.data as Float32Array;
        await session.release();
        const w = dequantizeBlockwise(q);
        const expected = Float32Array.from({ length: M * N }, (_, i) => {
          const [m, n] = [Math.floor(i / N), i % N];
          let sum = 0;
          for (let k = 0; k < K; k++) sum += x[m * K + k] * w[n * K + k];
          return sum;
        });
        const diff = maxAbsDiff(y, expected);
        assert.ok(diff < 1e-4, `${label}: MatMulNBits differs from the dequantised product by ${diff}`);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }

  test('per-row int8 embedding table: within half a step per row; zero rows stay zero', () => {
    const rows = 7;
    const width = 40;
    const table = seededWeights(rows * width, 3);
    table.fill(0, 2 * width, 3 * width);
    const q = quantizeRowsInt8(table, rows, width);
    const back = dequantizeRowsInt8(q, width);
    for (let i = 0; i < table.length; i++) {
      const bound = 0.5 * q.scales[Math.floor(i / width)] * (1 + 1e-6);
      assert.ok(Math.abs(back[i] - table[i]) <= bound, `value ${i}: ${back[i]} vs ${table[i]}`);
    }
    assert.equal(q.scales[2], 0);
    assert.ok(back.subarray(2 * width, 3 * width).every((v) => v === 0));
  });

  test('bad options say what is wrong', () => {
    assert.throws(() => quantizeBlockwise(weight, N, K, { bits: 4, blockSize: 24, symmetric: true }), /power of two ≥ 16/);
    assert.throws(() => quantizeBlockwise(weight, N, K, { bits: 3 as 4, blockSize: 32, symmetric: true }), /bits must be 4 or 8/);
    assert.throws(() => quantizeBlockwise(weight, N + 1, K, { bits: 4, blockSize: 32, symmetric: true }), /expected 25×72/);
  });
});

describe('fp16 / int8 / int4 graphs vs fp32 (tiny checkpoint, ORT CPU)', () => {
  let dir = '';
  let tokenizer: QwenTokenizer;
  const decoders = new Map<string, { built: TextDecoderBuildResult; session: ort.InferenceSession }>();
  const visions = new Map<string, ort.InferenceSession>();
  const precisions: Precision[] = ['fp32', 'fp16', 'int8', 'int4'];

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'graph-precision-'));
    const ckptDir = await generateTinyCheckpoint({ out: path.join(dir, 'tiny'), kind: 'embedding' });
    tokenizer = await loadQwenTokenizer(ckptDir);
    const checkpoint = await openCheckpoint(ckptDir);
    try {
      for (const precision of precisions) {
        await mkdir(path.join(dir, precision));
        const built = await buildTextDecoder(checkpoint, path.join(dir, precision, 'text_decoder.onnx'), { head: 'embedding', precision });
        assert.equal(built.precision, precision);
        decoders.set(precision, { built, session: await ort.InferenceSession.create(built.onnxFile) });
        const rerank = await buildTextDecoder(checkpoint, path.join(dir, precision, 'rerank_decoder.onnx'), { head: 'rerank', precision });
        decoders.set(`${precision}-rerank`, { built: rerank, session: await ort.InferenceSession.create(rerank.onnxFile) });
        if (precision === 'fp32' || precision === 'fp16') {
          const vision = await buildVisionEncoder(checkpoint, path.join(dir, precision, 'vision'), { precision });
          visions.set(precision, await ort.InferenceSession.create(vision.onnxFile));
        }
      }
      for (const precision of ['fp16', 'int4'] as const) {
        await mkdir(path.join(dir, `${precision}-fused`));
        const built = await buildTextDecoder(checkpoint, path.join(dir, `${precision}-fused`, 'text_decoder.onnx'), { head: 'embedding', precision, variant: 'fused' });
        decoders.set(`${precision}-fused`, { built, session: await ort.InferenceSession.create(built.onnxFile) });
      }
    } finally {
      await checkpoint.close();
    }
  });
  after(async () => {
    for (const { session } of decoders.values()) await session.release();
    for (const session of visions.values()) await session.release();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('graph contents: MatMulNBits for every decoder linear in int8/int4, float16 weights in fp16; sizes shrink', async (t) => {
    const linears = 4 * 7;
    for (const precision of ['int8', 'int4'] as const) {
      const ops = await opCounts(decoders.get(precision)!.built.onnxFile);
      assert.equal(ops.get('com.microsoft.MatMulNBits'), linears, `${precision}: q/k/v/o/gate/up/down of 4 layers`);
    }
    const fp16 = await opCounts(decoders.get('fp16')!.built.onnxFile);
    assert.equal(fp16.get('com.microsoft.MatMulNBits'), undefined);
    const sizes = precisions.map((p) => decoders.get(p)!.built.dataBytes);
    t.diagnostic(`decoder data bytes fp32/fp16/int8/int4: ${sizes.join(' / ')}`);
    for (let i = 1; i < sizes.length; i++) assert.ok(sizes[i] < sizes[i - 1], `${precisions[i]} (${sizes[i]} B) is not smaller than ${precisions[i - 1]} (${sizes[i - 1]} B)`);
  });

  test('decoder: pooled embeddings of the ten-text probe set, cosine to fp32 per precision', async (t) => {
    const feeds = decoderFeeds(textBatch(tokenizer, PROBE_TEXTS), HIDDEN);
    const reference = (await decoders.get('fp32')!.session.run(feeds)).pooled_hidden.data as Float32Array;
    for (const precision of ['fp16', 'int8', 'int4'] as const) {
      const out = (await decoders.get(precision)!.session.run(feeds)).pooled_hidden.data as Float32Array;
      const m = compareRowSets(out, reference, HIDDEN);
      t.diagnostic(`decoder ${precision}: lowest cosine to fp32 ${m.minCosine.toFixed(9)}, max |Δ| ${m.maxAbs.toExponential(2)}`);
      assert.ok(m.minCosine >= MIN_COSINE[precision], `${precision}: cosine ${m.minCosine} < ${MIN_COSINE[precision]}`);
      assert.ok(m.maxAbs > 0, `${precision} gave exactly the fp32 output: the precision option did nothing`);
    }
  });

  test('reranker: yes−no logits of left-padded pairs per precision', async (t) => {
    const feeds = decoderFeeds(rerankBatch(tokenizer, [['what do cats eat', 'Cats eat mostly meat.'], ['capital of France', 'Paris'], ['best pizza', 'A recipe for sourdough bread.']]), HIDDEN);
    const reference = (await decoders.get('fp32-rerank')!.session.run(feeds)).yes_no_logit.data as Float32Array;
    for (const precision of ['fp16', 'int8', 'int4'] as const) {
      const out = (await decoders.get(`${precision}-rerank`)!.session.run(feeds)).yes_no_logit.data as Float32Array;
      assert.ok(out.every(Number.isFinite));
      t.diagnostic(`rerank ${precision}: logits ${[...out].map((v) => v.toFixed(4)).join(', ')} vs fp32 ${[...reference].map((v) => v.toFixed(4)).join(', ')} (max |Δ| ${maxAbsDiff(out, reference).toExponential(2)})`);
    }
  });

  test('fused fp16 and int4 decoders equal their plain graphs', async (t) => {
    const feeds = decoderFeeds(textBatch(tokenizer, PROBE_TEXTS.slice(0, 4)), HIDDEN);
    for (const precision of ['fp16', 'int4'] as const) {
      const plain = (await decoders.get(precision)!.session.run(feeds)).pooled_hidden.data as Float32Array;
      const fused = (await decoders.get(`${precision}-fused`)!.session.run(feeds)).pooled_hidden.data as Float32Array;
      const m = compareRowSets(fused, plain, HIDDEN);
      t.diagnostic(`${precision} fused vs plain: max |Δ| ${m.maxAbs.toExponential(2)}`);
      assert.ok(m.maxAbs <= 1e-4 && m.minCosine >= 0.99999, `${precision}: max |Δ| ${m.maxAbs}, cosine ${m.minCosine}`);
    }
  });

  test('vision fp16: merged and DeepStack outputs of two images and a video, cosine to fp32', async (t) => {
    const probes = [[seededImage(96, 64, 7)], [seededImage(128, 128, 8)], [seededImage(64, 96, 20), seededImage(64, 96, 21)]];
    let lowest = 1;
    for (const frames of probes) {
      const feeds = visionFeeds(frames, VISION_HEAD_DIM);
      const reference = await visions.get('fp32')!.run(feeds);
      const out = await visions.get('fp16')!.run(feeds);
      for (const name of ['merged_embeds', 'deepstack_embeds']) {
        const m = compareRowSets(out[name].data as Float32Array, reference[name].data as Float32Array, HIDDEN);
        lowest = Math.min(lowest, m.minCosine);
        assert.ok(m.maxAbs > 0, 'fp16 gave exactly the fp32 output');
      }
    }
    t.diagnostic(`vision fp16: lowest row cosine to fp32 ${lowest.toFixed(9)}`);
    assert.ok(lowest >= MIN_COSINE.fp16, `vision fp16 cosine ${lowest}`);
  });
});
