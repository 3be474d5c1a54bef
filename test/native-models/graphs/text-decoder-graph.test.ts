// The TypeScript-written text decoder graphs (text_decoder.onnx / rerank_decoder.onnx) run with
// onnxruntime-node CPU against the naive float64 reference on the tiny checkpoints: text-only
// right-padded batches, an image row with DeepStack, zeroed DeepStack, left-padded reranker
// batches (untied and tied lm_head), and one session across batch sizes and sequence lengths;
// then attention in several blocks of query rows on a sharpened checkpoint, plain and fused.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { GridThw } from '../../../electron/engine/media/common/vision-types.ts';
import { patchify } from '../../../electron/engine/model-inputs/common/patchify.ts';
import { embedderPrompt, type EmbedderInput } from '../../../electron/engine/model-inputs/common/embedder-prompt.ts';
import { rerankerPrompt, type RerankerInput } from '../../../electron/engine/model-inputs/common/reranker-prompt.ts';
import { expandVisionPlaceholders } from '../../../electron/engine/model-inputs/common/placeholder-expansion.ts';
import { buildEmbedderBatch, buildRerankerBatch, type SequenceBatch } from '../../../electron/engine/model-inputs/common/sequence-batch.ts';
import { loadQwenTokenizer, type QwenTokenizer } from '../../../electron/engine/model-inputs/node/qwen-tokenizer.ts';
import { generateTinyCheckpoint } from '../../../native-models/tiny/node/generate-tiny-checkpoint.ts';
import { openCheckpoint } from '../../../native-models/checkpoint/node/safetensors-reader.ts';
import { buildTextDecoder, type TextDecoderBuildResult } from '../../../native-models/graphs/node/text-decoder-graph.ts';
import { interleavedMropeAxes, ropeInverseFrequencies } from '../../../native-models/graphs/node/text-decoder-rotary.ts';
import { loadNaiveWeights, naiveWeightsFromTensors, type NaiveWeights } from '../../../native-models/reference/node/naive-weights.ts';
import { naiveVision, type NaiveVisionOutput } from '../../../native-models/reference/node/naive-vision.ts';
import { mropeAxisOfSlot, textInverseFrequencies } from '../../../native-models/reference/node/naive-decoder.ts';
import { naiveEmbed, naiveRerank, sigmoid } from '../../../native-models/reference/node/naive-forward.ts';
import { cosine, isSharpened, maxAbsDiff, opCounts, seededImage, SHARP_SCALE, sharpCheckpoint } from './graph-variant-fixtures.ts';

const HIDDEN = 32;
const ATOL = 1e-4;
const MIN_COSINE = 0.99999;
/**
 * The tiny checkpoint's attention is nearly uniform (q/k norm weights ~0.1), so layout mistakes
 * move outputs by only ~1e-5 (a chunked instead of interleaved M-RoPE: 4e-5), inside ATOL. The
 * graph's measured float32 error is ~1e-7, so this tighter bound is what catches such mistakes.
 */
const REGRESSION_ATOL = 1e-6;


/** Asserts atol and cosine; returns the measured pair for the diagnostics. */
function assertMatches(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): { diff: number; cos: number } {
  const diff = maxAbsDiff(actual, expected);
  const cos = cosine(actual, expected);
  assert.ok(diff <= ATOL, `${what}: max |Δ| = ${diff} > ${ATOL}`);
  assert.ok(diff <= REGRESSION_ATOL, `${what}: max |Δ| = ${diff} > ${REGRESSION_ATOL} (float32 noise is ~1e-7 here; a larger gap means a math change)`);
  assert.ok(cos >= MIN_COSINE, `${what}: cosine ${cos} < ${MIN_COSINE}`);
  return { diff, cos };
}

/** Number arrays nested up to three deep (row-major) → an int64 tensor. */
type Nested = number | readonly Nested[];
const int64 = (values: readonly Nested[], dims: number[]) =>
  new ort.Tensor('int64', BigInt64Array.from((values as unknown[]).flat(2) as number[], (v) => BigInt(v)), dims);

function zeroDeepstack(out: NaiveVisionOutput): NaiveVisionOutput {
  const zero = (rows: Float64Array[]) => rows.map((r) => new Float64Array(r.length));
  return { merged: out.merged, deepstack: [zero(out.deepstack[0]), zero(out.deepstack[1]), zero(out.deepstack[2])] };
}

/** The decoder's feeds; `vision[k]` is the output of visionOrder[k]'s image/video. */
function feeds(batch: SequenceBatch, vision: readonly NaiveVisionOutput[] = []): Record<string, ort.Tensor> {
  const B = batch.inputIds.length;
  const S = batch.inputIds[0].length;
  assert.equal(vision.length, batch.visionOrder.length);
  const visual = new Float32Array(batch.numVisual * HIDDEN);
  const deepstack = new Float32Array(3 * batch.numVisual * HIDDEN);
  batch.visionOrder.forEach((placement, k) => {
    assert.equal(vision[k].merged.length, placement.tokenCount);
    vision[k].merged.forEach((row, r) => visual.set(row, (placement.firstVisualRow + r) * HIDDEN));
    vision[k].deepstack.forEach((tap, t) => tap.forEach((row, r) => deepstack.set(row, (t * batch.numVisual + placement.firstVisualRow + r) * HIDDEN)));
  });
  return {
    input_ids: int64(batch.inputIds, [B, S]),
    attention_mask: int64(batch.attentionMask, [B, S]),
    position_ids: int64(batch.positionIds, [3, B, S]),
    visual_embeds: new ort.Tensor('float32', visual, [batch.numVisual, HIDDEN]),
    deepstack_embeds: new ort.Tensor('float32', deepstack, [3, batch.numVisual, HIDDEN]),
    visual_index: int64(batch.visualIndex, [B, S]),
    last_index: int64(batch.lastIndex, [B]),
  };
}

function rowsOf(tensor: ort.Tensor): Float32Array[] {
  const [B, H] = tensor.dims;
  const data = tensor.data as Float32Array;
  return Array.from({ length: B }, (_, b) => data.subarray(b * H, (b + 1) * H));
}

const TEXT_ONLY = (texts: string[]): EmbedderInput => ({ texts, imageCount: 0, videoCount: 0 });

describe('text decoder graph vs the naive reference (tiny checkpoints, ORT CPU)', () => {
  let dir = '';
  let tokenizer: QwenTokenizer;
  let embedWeights: NaiveWeights;
  let rerankWeights: NaiveWeights;
  let embedSession: ort.InferenceSession;
  let rerankSession: ort.InferenceSession;
  let tiedRerankSession: ort.InferenceSession;
  const built: TextDecoderBuildResult[] = [];
  const imageGrid: GridThw = [1, 4, 6];
  let imagePixels: Float32Array;

  const embedIds = (input: EmbedderInput, images: GridThw[] = []) => tokenizer.encode(expandVisionPlaceholders(embedderPrompt(input), images, []));
  const rerankIds = (input: RerankerInput) => tokenizer.encode(rerankerPrompt(input));

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'text-decoder-graph-'));
    const embedDir = await generateTinyCheckpoint({ out: path.join(dir, 'embedding'), kind: 'embedding' });
    const rerankDir = await generateTinyCheckpoint({ out: path.join(dir, 'reranker'), kind: 'reranker' });
    const embedCheckpoint = await openCheckpoint(embedDir);
    const rerankCheckpoint = await openCheckpoint(rerankDir);
    const progress: [number, number][] = [];
    try {
      built.push(await buildTextDecoder(embedCheckpoint, path.join(embedDir, 'text_decoder.onnx'), { head: 'embedding', onProgress: (d, t) => progress.push([d, t]) }));
      built.push(await buildTextDecoder(rerankCheckpoint, path.join(rerankDir, 'rerank_decoder.onnx'), { head: 'rerank' }));
      built.push(await buildTextDecoder(embedCheckpoint, path.join(embedDir, 'rerank_decoder.onnx'), { head: 'rerank' }));
    } finally {
      await embedCheckpoint.close();
      await rerankCheckpoint.close();
    }
    assert.deepEqual(progress, [[1, 6], [2, 6], [3, 6], [4, 6], [5, 6], [6, 6]]);
    [embedSession, rerankSession, tiedRerankSession] = await Promise.all(built.map((b) => ort.InferenceSession.create(b.onnxFile)));
    tokenizer = await loadQwenTokenizer(embedDir);
    embedWeights = await loadNaiveWeights(embedDir);
    rerankWeights = await loadNaiveWeights(rerankDir);
    imagePixels = patchify([seededImage(96, 64, 7)]).pixelValues;
  });
  after(async () => {
    await Promise.all([embedSession, rerankSession, tiedRerankSession].map((s) => s?.release()));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('graph files: external data beside the graph, the contract inputs and outputs', (t) => {
    for (const b of built) {
      assert.equal(path.basename(b.dataFile ?? ''), `${path.basename(b.onnxFile, '.onnx')}.onnx_data`);
      t.diagnostic(`${b.head} ${path.basename(b.onnxFile)}: graph ${b.onnxBytes} B, data ${b.dataBytes} B, built in ${b.buildSeconds.toFixed(3)} s`);
    }
    assert.deepEqual(embedSession.inputNames, ['input_ids', 'attention_mask', 'position_ids', 'visual_embeds', 'deepstack_embeds', 'visual_index', 'last_index']);
    assert.deepEqual(embedSession.outputNames, ['pooled_hidden']);
    assert.deepEqual(rerankSession.outputNames, ['pooled_hidden', 'yes_no_logit']);
  });

  test('rotary constants equal the reference: float32 inverse frequencies and the interleaved axis map', () => {
    assert.deepEqual([...ropeInverseFrequencies(5e6, 16)], textInverseFrequencies(embedWeights.config.text));
    assert.deepEqual(interleavedMropeAxes([4, 2, 2], 8), mropeAxisOfSlot([4, 2, 2], 8));
    assert.deepEqual(interleavedMropeAxes([24, 20, 20], 64), mropeAxisOfSlot([24, 20, 20], 64));
    assert.throws(() => interleavedMropeAxes([4, 2, 1], 8), /must sum to head_dim\/2/);
  });

  test('(a) text only: a right-padded batch of two lengths, num_visual = 0', async (t) => {
    const batch = buildEmbedderBatch([
      { ids: embedIds(TEXT_ONLY(['A cat sitting on a warm windowsill.'])) },
      { ids: embedIds({ ...TEXT_ONLY(['Quarterly revenue grew by twelve percent, driven by strong demand in the northern region.']), instruction: 'Find financial reports' }) },
    ]);
    assert.equal(batch.numVisual, 0);
    assert.ok(batch.attentionMask[0].includes(0), 'row 0 is padded');
    const out = await embedSession.run(feeds(batch));
    const expected = naiveEmbed(embedWeights, batch).pooled;
    rowsOf(out.pooled_hidden).forEach((row, b) => {
      const m = assertMatches(row, expected[b], `row ${b}`);
      t.diagnostic(`row ${b} (len ${batch.lastIndex[b] + 1}): max |Δ| ${m.diff.toExponential(2)}, cosine ${m.cos.toFixed(9)}`);
    });
  });

  test('(b) image row (grid [1,4,6]) with DeepStack next to a text row; (c) zeroed DeepStack changes the output and matches the reference', async (t) => {
    const vision = naiveVision(embedWeights, imagePixels, imageGrid);
    const batch = buildEmbedderBatch([
      { ids: embedIds(TEXT_ONLY(['short'])) },
      { ids: embedIds({ texts: ['What is in this picture?'], imageCount: 1, videoCount: 0 }, [imageGrid]), images: [imageGrid] },
    ]);
    assert.equal(batch.numVisual, 6);
    const out = rowsOf((await embedSession.run(feeds(batch, [vision]))).pooled_hidden);
    const expected = naiveEmbed(embedWeights, { ...batch, imageEmbeds: [vision] }).pooled;
    out.forEach((row, b) => {
      const m = assertMatches(row, expected[b], `image batch row ${b}`);
      t.diagnostic(`(b) row ${b}: max |Δ| ${m.diff.toExponential(2)}, cosine ${m.cos.toFixed(9)}`);
    });

    // Every position of the image row through last_index: the image tokens' own states carry the
    // H/W rotary directly, where a wrong axis layout shows most (the pooled last token sees it
    // only through attention).
    const reference = naiveEmbed(embedWeights, { ...batch, imageEmbeds: [vision] }).decoder.lastHidden[1];
    const realPositions = batch.lastIndex[1] + 1;
    let worst = { diff: 0, cos: 1 };
    for (let p = 0; p < realPositions; p++) {
      const probe = feeds(batch, [vision]);
      probe.last_index = int64([0, p], [2]);
      const row = rowsOf((await embedSession.run(probe)).pooled_hidden)[1];
      const m = assertMatches(row, reference[p], `image row, position ${p}`);
      worst = { diff: Math.max(worst.diff, m.diff), cos: Math.min(worst.cos, m.cos) };
    }
    t.diagnostic(`(b) all ${realPositions} positions of the image row: worst max |Δ| ${worst.diff.toExponential(2)}, worst cosine ${worst.cos.toFixed(9)}`);

    const zeroed = zeroDeepstack(vision);
    const outZero = rowsOf((await embedSession.run(feeds(batch, [zeroed]))).pooled_hidden);
    const expectedZero = naiveEmbed(embedWeights, { ...batch, imageEmbeds: [zeroed] }).pooled;
    const m = assertMatches(outZero[1], expectedZero[1], 'zeroed DeepStack');
    t.diagnostic(`(c) zeroed DeepStack: max |Δ| ${m.diff.toExponential(2)}, cosine ${m.cos.toFixed(9)}`);
    const change = maxAbsDiff(outZero[1], out[1]);
    assert.ok(change > 1e-2, `zeroing DeepStack changed the image row by only ${change}`);
    assert.equal(maxAbsDiff(outZero[0], out[0]), 0, 'the text row does not see the other row\'s DeepStack');
  });

  test('(d) reranker: left-padded pairs → yes_no_logit (untied and tied lm_head), score = sigmoid(logit)', async (t) => {
    const batch = buildRerankerBatch([
      { ids: rerankIds({ query: TEXT_ONLY(['what do cats eat']), document: TEXT_ONLY(['Cats are obligate carnivores and eat mostly meat.']) }) },
      { ids: rerankIds({ instruction: 'Judge relevance.', query: TEXT_ONLY(['capital of France']), document: TEXT_ONLY(['Paris']) }) },
    ]);
    assert.ok(batch.attentionMask[1][0] === 0 && batch.lastIndex.every((i) => i === batch.inputIds[0].length - 1), 'left padding, pooled at seq − 1');
    for (const [session, weights, what] of [[rerankSession, rerankWeights, 'untied'], [tiedRerankSession, embedWeights, 'tied']] as const) {
      const out = await session.run(feeds(batch));
      const expected = naiveRerank(weights, batch);
      const logits = out.yes_no_logit.data as Float32Array;
      assert.deepEqual(out.yes_no_logit.dims, [2]);
      rowsOf(out.pooled_hidden).forEach((row, b) => {
        const S = batch.inputIds[b].length;
        const m = assertMatches(row, expected.decoder.lastHidden[b][S - 1], `${what} pooled row ${b}`);
        const delta = Math.abs(logits[b] - expected.logit[b]);
        assert.ok(delta <= ATOL, `${what} logit row ${b}: |Δ| = ${delta}`);
        assert.ok(Math.abs(sigmoid(logits[b]) - expected.score[b]) <= ATOL);
        t.diagnostic(`${what} row ${b}: logit ${logits[b].toFixed(6)} vs ${expected.logit[b].toFixed(6)} (|Δ| ${delta.toExponential(2)}), pooled max |Δ| ${m.diff.toExponential(2)}, cosine ${m.cos.toFixed(9)}`);
      });
    }
  });

  test('(d) reranker: an image document left-padded beside a longer text pair', async (t) => {
    const vision = naiveVision(rerankWeights, imagePixels, imageGrid);
    const imagePrompt = expandVisionPlaceholders(rerankerPrompt({ query: TEXT_ONLY(['a red bicycle']), document: { texts: [], imageCount: 1, videoCount: 0 } }), [imageGrid], []);
    const batch = buildRerankerBatch([
      { ids: rerankIds({ query: TEXT_ONLY(['what do cats eat']), document: TEXT_ONLY(['Cats are obligate carnivores and eat mostly meat, fish and some insects.']) }) },
      { ids: tokenizer.encode(imagePrompt), images: [imageGrid] },
    ]);
    assert.equal(batch.attentionMask[1][0], 0, 'the image row is the padded one');
    const out = await rerankSession.run(feeds(batch, [vision]));
    const expected = naiveRerank(rerankWeights, { ...batch, imageEmbeds: [vision] });
    const logits = out.yes_no_logit.data as Float32Array;
    logits.forEach((logit, b) => {
      const delta = Math.abs(logit - expected.logit[b]);
      assert.ok(delta <= ATOL && delta <= REGRESSION_ATOL, `image pair logit row ${b}: |Δ| = ${delta}`);
      t.diagnostic(`image pair row ${b}: logit ${logit.toFixed(6)} vs ${expected.logit[b].toFixed(6)} (|Δ| ${delta.toExponential(2)})`);
    });
  });

  test('(e) one session runs batch 1 and batch 3 at other sequence lengths', async (t) => {
    const texts = [['x'], ['A much longer sentence about mountains, rivers and the weather in spring.'], ['Two words']];
    for (const rows of [[texts[0]], texts]) {
      const batch = buildEmbedderBatch(rows.map((r) => ({ ids: embedIds(TEXT_ONLY(r)) })));
      const out = rowsOf((await embedSession.run(feeds(batch))).pooled_hidden);
      const expected = naiveEmbed(embedWeights, batch).pooled;
      assert.equal(out.length, rows.length);
      out.forEach((row, b) => {
        const m = assertMatches(row, expected[b], `batch ${rows.length} row ${b}`);
        t.diagnostic(`batch ${rows.length} × seq ${batch.inputIds[0].length}, row ${b}: max |Δ| ${m.diff.toExponential(2)}, cosine ${m.cos.toFixed(9)}`);
      });
    }
  });
});

/** The reference's weights with the graphs' sharpened q/k norms (sharpCheckpoint's ×SHARP_SCALE). */
function sharpWeights(base: NaiveWeights): NaiveWeights {
  const tensors = new Map([...base.tensors].map(([name, t]) => [name, isSharpened(name) ? { shape: t.shape, data: t.data.map((x) => x * SHARP_SCALE) } : t]));
  return naiveWeightsFromTensors(base.config, tensors);
}

// The decoder's attention runs in blocks of query rows (a Loop per layer, the mask made per block,
// keys cut at the block's causal limit) so that an 8,192-token row never holds its
// [heads, S, S] scores. The tiny model has 4 heads: a bound of 4·4·5·(B·S) bytes gives blocks of 5
// rows, so these prompts (S 34–62) run in 7–13 blocks with a ragged last one. On a sharpened
// checkpoint (q/k norms ×4, attention far from uniform) the blocked plain and fused graphs match the
// float64 reference on a right-padded embedder batch and a left-padded reranker batch (whose pad
// rows have every key masked), and the single-product graph to float32 noise.
describe('decoder attention in blocks of query rows (sharpened tiny checkpoints, ORT CPU)', () => {
  let dir = '';
  let tokenizer: QwenTokenizer;
  let embedWeights: NaiveWeights;
  let rerankWeights: NaiveWeights;
  const sessions = new Map<string, ort.InferenceSession>();
  const files = new Map<string, string>();
  const rowsPerBlock = 5;
  const heads = 4;
  const blockBytesFor = (batch: SequenceBatch) => 4 * heads * rowsPerBlock * batch.inputIds.length * batch.inputIds[0].length;

  const embedBatch = () => buildEmbedderBatch([
    'A cat sitting on a warm windowsill.',
    'Quarterly revenue grew by twelve percent, driven by strong demand in the northern region, while costs fell sharply.',
    'x',
  ].map((text) => ({ ids: tokenizer.encode(embedderPrompt(TEXT_ONLY([text]))) })));
  const rerankBatch = () => buildRerankerBatch([
    { ids: tokenizer.encode(rerankerPrompt({ query: TEXT_ONLY(['what do cats eat']), document: TEXT_ONLY(['Cats are obligate carnivores and eat mostly meat, fish and some insects.']) })) },
    { ids: tokenizer.encode(rerankerPrompt({ instruction: 'Judge relevance.', query: TEXT_ONLY(['capital of France']), document: TEXT_ONLY(['Paris']) })) },
  ]);

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'text-decoder-blocks-'));
    const embedDir = await generateTinyCheckpoint({ out: path.join(dir, 'embedding'), kind: 'embedding' });
    const rerankDir = await generateTinyCheckpoint({ out: path.join(dir, 'reranker'), kind: 'reranker' });
    tokenizer = await loadQwenTokenizer(embedDir);
    embedWeights = sharpWeights(await loadNaiveWeights(embedDir));
    rerankWeights = sharpWeights(await loadNaiveWeights(rerankDir));
    const embedBytes = blockBytesFor(embedBatch());
    const rerankBytes = blockBytesFor(rerankBatch());
    for (const [kind, checkpointDir, head, blockBytes] of [['embed', embedDir, 'embedding', embedBytes], ['rerank', rerankDir, 'rerank', rerankBytes]] as const) {
      const checkpoint = sharpCheckpoint(await openCheckpoint(checkpointDir));
      try {
        for (const [graph, options] of [
          ['plain', { variant: 'plain', attentionBlockBytes: blockBytes }],
          ['fused', { variant: 'fused', attentionBlockBytes: blockBytes }],
          ['unblocked', { variant: 'plain', attentionBlockBytes: 'unblocked' }],
          ['default', { variant: 'plain' }],
        ] as const) {
          const built = await buildTextDecoder(checkpoint, path.join(dir, `${kind}-${graph}.onnx`), { head, ...options });
          files.set(`${kind}-${graph}`, built.onnxFile);
          if (graph !== 'default') sessions.set(`${kind}-${graph}`, await ort.InferenceSession.create(built.onnxFile));
        }
      } finally {
        await checkpoint.close();
      }
    }
  });
  after(async () => {
    await Promise.all([...sessions.values()].map((s) => s.release()));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('every layer attends in a Loop over query blocks; no [S, S] mask or full softmax is left', async () => {
    const layers = embedWeights.config.text.numLayers;
    assert.equal(embedWeights.config.text.numHeads, heads);
    for (const kind of ['embed', 'rerank']) {
      for (const graph of ['default', 'plain', 'fused']) {
        const top = await opCounts(files.get(`${kind}-${graph}`)!);
        const nested = await opCounts(files.get(`${kind}-${graph}`)!, { nested: true });
        assert.equal(top.get('Loop'), layers, `${kind} ${graph}: one Loop per layer`);
        assert.equal(top.get('Softmax'), undefined, `${kind} ${graph}: no softmax over whole rows outside the loops`);
        assert.equal(top.get('Trilu'), undefined, `${kind} ${graph}: no [S, S] causal mask`);
        if (graph === 'fused') assert.equal(nested.get('com.microsoft.MultiHeadAttention'), layers);
        else assert.equal(nested.get('Softmax'), layers);
      }
    }
    const unblocked = await opCounts(files.get('embed-unblocked')!);
    assert.equal(unblocked.get('Loop'), undefined);
    assert.equal(unblocked.get('Trilu'), 1);
  });

  test('right-padded embedder batch in blocks of 5 rows: plain and fused match the float64 reference and the single product', async (t) => {
    const batch = embedBatch();
    const S = batch.inputIds[0].length;
    assert.ok(S > 6 * rowsPerBlock && S % rowsPerBlock !== 0, `S = ${S}: several blocks, the last one ragged`);
    assert.ok(batch.attentionMask[0].includes(0) && batch.attentionMask[2].includes(0), 'rows 0 and 2 are padded');
    const expected = naiveEmbed(embedWeights, batch).pooled;
    const single = rowsOf((await sessions.get('embed-unblocked')!.run(feeds(batch))).pooled_hidden);
    for (const graph of ['plain', 'fused']) {
      const out = rowsOf((await sessions.get(`embed-${graph}`)!.run(feeds(batch))).pooled_hidden);
      out.forEach((row, b) => {
        const m = assertMatches(row, expected[b], `${graph} row ${b}`);
        const vsSingle = maxAbsDiff(row, single[b]);
        assert.ok(vsSingle <= 1e-6, `${graph} row ${b}: blocked vs single product differ by ${vsSingle}`);
        t.diagnostic(`${graph} row ${b} (len ${batch.lastIndex[b] + 1} of ${S}, ${Math.ceil(S / rowsPerBlock)} blocks): vs reference max |Δ| ${m.diff.toExponential(2)}, cosine ${m.cos.toFixed(9)}; vs single product ${vsSingle.toExponential(2)}`);
      });
    }
    // Sharpened attention is far from uniform: the reference differs from the tiny model's.
    const plainRow = rowsOf((await sessions.get('embed-plain')!.run(feeds(batch))).pooled_hidden)[1];
    assert.ok(maxAbsDiff(plainRow, naiveEmbed(await loadNaiveWeights(path.join(dir, 'embedding')), batch).pooled[1]) > 1e-3, 'the sharpened checkpoint changes the output');
  });

  test('left-padded reranker batch in blocks of 5 rows: logits match the reference and the single product', async (t) => {
    const batch = rerankBatch();
    const S = batch.inputIds[0].length;
    const pads = batch.attentionMask[1].indexOf(1);
    assert.ok(pads > rowsPerBlock, `row 1 has ${pads} pad positions: at least one whole block of fully masked query rows`);
    const expected = naiveRerank(rerankWeights, batch);
    const single = (await sessions.get('rerank-unblocked')!.run(feeds(batch))).yes_no_logit.data as Float32Array;
    for (const graph of ['plain', 'fused']) {
      const out = await sessions.get(`rerank-${graph}`)!.run(feeds(batch));
      const logits = out.yes_no_logit.data as Float32Array;
      rowsOf(out.pooled_hidden).forEach((row, b) => {
        const m = assertMatches(row, expected.decoder.lastHidden[b][S - 1], `${graph} pooled row ${b}`);
        const delta = Math.abs(logits[b] - expected.logit[b]);
        assert.ok(delta <= REGRESSION_ATOL, `${graph} logit row ${b}: |Δ| = ${delta}`);
        assert.ok(Math.abs(logits[b] - single[b]) <= 1e-6, `${graph} logit row ${b}: blocked ${logits[b]} vs single product ${single[b]}`);
        t.diagnostic(`${graph} row ${b}: logit ${logits[b].toFixed(6)} vs ${expected.logit[b].toFixed(6)} (|Δ| ${delta.toExponential(2)}), pooled max |Δ| ${m.diff.toExponential(2)}`);
      });
    }
  });
});
