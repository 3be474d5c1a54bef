// fp16, int8 and int4 packages against the official fp32 goldens (the same inputs as
// reference-goldens.test.ts, minus the two over 1,000 tokens): the lowest cosine per precision,
// top-k agreement of a small retrieval over the golden inputs, and the reranker's score error and
// order. Each precision is held to the bound measured for docs/model-precision.md, with a margin,
// so a change that makes a precision worse fails here.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Precision } from '../../native-models/manifest/common/model-manifest.ts';
import { Qwen3VLEmbedder } from '../../electron/engine/inference/node/runtime/qwen3vl-embedder.ts';
import { Qwen3VLReranker } from '../../electron/engine/inference/node/runtime/qwen3vl-reranker.ts';
import { NBITS_BLOCK_SIZE } from '../../native-models/graphs/node/graph-precision.ts';
import { dequantizeBlockwise, dequantizeRowsInt8, quantizeBlockwise, quantizeRowsInt8, type QuantBits } from '../../native-models/graphs/common/weight-quantization.ts';
import { naiveEmbed } from '../../native-models/reference/node/naive-forward.ts';
import { loadNaiveWeights, naiveWeightsFromTensors, type NaiveWeights } from '../../native-models/reference/node/naive-weights.ts';
import { prepareEmbedBatch } from '../../electron/engine/model-inputs/node/embed-inputs.ts';
import { naiveBatchOf } from '../support/runtime-compare.ts';
import { cosine, GoldenWorkspace, loadEmbedderGoldens, loadRerankerGoldens, toEmbedInput, type EmbedderGoldens, type GoldenEmbedCase, type RerankerGoldens } from './golden-fixtures.ts';

const PRECISION_MAX_TOKENS = 1000;
/** CPU unless TROVE_EP names another execution provider (docs/device-checks.md). */
const environment = { platform: process.platform, arch: process.arch, override: process.env.TROVE_EP || undefined };

interface Bound {
  /** Lowest and mean cosine of the inputs to their fp32 goldens. */
  readonly minCosine: number;
  readonly meanCosine: number;
  /** Queries whose top-1 neighbour matches the golden ranking's. */
  readonly minTop1: number;
  /** Mean overlap of the top-5 neighbours. */
  readonly minTop5: number;
  /** Largest |score − golden score| of a reranker pair. */
  readonly maxScoreDifference: number;
}

/**
 * The values measured on the golden checkpoints (docs/model-precision.md), loosened by a margin:
 * cosine distances and score errors × 3, top-k agreement minus one query's worth (1/19). int4's
 * lowest cosine is too far from 1 for a ×3 rule; its bounds sit about 0.05–0.2 below the
 * measurement instead.
 */
const BOUNDS: Record<Exclude<Precision, 'fp32'>, Bound> = {
  // measured: min 0.9999646, mean 0.9999931, top-1 1, top-5 1, |Δscore| 1.15e-3
  fp16: { minCosine: 0.9999, meanCosine: 0.99998, minTop1: 0.94, minTop5: 0.94, maxScoreDifference: 3.5e-3 },
  // measured (MatMulNBits accuracy_level 4): min 0.98953, mean 0.99748, top-1 0.895, top-5 0.968, |Δscore| 0.0371
  // (accuracy_level 0 measured min 0.99715, mean 0.99898, top-1 0.895, top-5 0.958, |Δscore| 0.0132)
  int8: { minCosine: 0.968, meanCosine: 0.992, minTop1: 0.84, minTop5: 0.91, maxScoreDifference: 0.11 },
  // measured (accuracy_level 4): min 0.472, mean 0.853, top-1 0.632, top-5 0.537, |Δscore| 0.133
  int4: { minCosine: 0.3, meanCosine: 0.8, minTop1: 0.57, minTop5: 0.47, maxScoreDifference: 0.3 },
};

/**
 * Weight-only quantisation must cost exactly what quantising the weights costs: the embeddings of
 * a package built with MatMulNBits accuracy_level 0 (fp32 activations, so the weights are the only
 * error) against the float64 reference run on the same weights quantised and dequantised as the
 * builder quantises them (graph-precision.ts: decoder linears block-wise, 8-bit symmetric or 4-bit
 * with zero points; the token table int8 per row; the vision tower untouched). The shipped packages
 * use accuracy_level 4, which also quantises activations; the bounds below measure that.
 */
const FAKE_QUANT_MIN_COSINE = 0.99999;
const FAKE_QUANT_CASES = ['text-en', 'image-grow-both', 'text-and-image'];

function fakeQuantized(weights: NaiveWeights, bits: QuantBits): NaiveWeights {
  const tensors = new Map(weights.tensors);
  for (const [name, t] of weights.tensors) {
    if (/^model\.language_model\.layers\.\d+\.(self_attn\.[qkvo]_proj|mlp\.(gate|up|down)_proj)\.weight$/.test(name)) {
      const [n, k] = t.shape as [number, number];
      const q = quantizeBlockwise(Float32Array.from(t.data), n, k, { bits, blockSize: NBITS_BLOCK_SIZE, symmetric: bits === 8 });
      tensors.set(name, { ...t, data: Float64Array.from(dequantizeBlockwise(q)) });
    } else if (name === 'model.language_model.embed_tokens.weight') {
      const [rows, width] = t.shape as [number, number];
      tensors.set(name, { ...t, data: Float64Array.from(dequantizeRowsInt8(quantizeRowsInt8(Float32Array.from(t.data), rows, width), width)) });
    }
  }
  return naiveWeightsFromTensors(weights.config, tensors);
}

interface Measured {
  minCosine: number;
  meanCosine: number;
  top1: number;
  top5: number;
  maxScoreDifference: number;
  sameOrder: number;
}
const measured: Partial<Record<Precision, Measured>> = {};

/** Indexes of `corpus` ranked by cosine to `query`, best first. */
function ranking(query: ArrayLike<number>, corpus: readonly ArrayLike<number>[], skip: number): number[] {
  return corpus.map((e, i) => [i, cosine(query, e)] as const).filter(([i]) => i !== skip).sort((a, b) => b[1] - a[1]).map(([i]) => i);
}

/** Top-1 agreement and mean top-5 overlap when every text case queries all inputs. */
function topKAgreement(golden: readonly ArrayLike<number>[], actual: readonly ArrayLike<number>[], queries: readonly number[]): { top1: number; top5: number } {
  let top1 = 0;
  let top5 = 0;
  for (const q of queries) {
    const g = ranking(golden[q]!, golden, q);
    const a = ranking(actual[q]!, actual, q);
    if (g[0] === a[0]) top1 += 1;
    const five = new Set(g.slice(0, 5));
    top5 += a.slice(0, 5).filter((i) => five.has(i)).length / 5;
  }
  return { top1: top1 / queries.length, top5: top5 / queries.length };
}

describe('fp16 / int8 / int4 against the fp32 goldens', () => {
  let workspace: GoldenWorkspace;
  let embedderGoldens: EmbedderGoldens;
  let rerankerGoldens: RerankerGoldens;
  let corpus: GoldenEmbedCase[];
  let weights: NaiveWeights;

  before(async () => {
    workspace = await GoldenWorkspace.create();
    [embedderGoldens, rerankerGoldens] = await Promise.all([loadEmbedderGoldens(), loadRerankerGoldens('reranker')]);
    // Inputs whose golden embeddings coincide (two files that decode to the same pixels) would
    // make the ranking a coin toss between them; keep the first of each.
    corpus = [];
    for (const c of embedderGoldens.cases) {
      if (c.error || c.input_ids!.length > PRECISION_MAX_TOKENS) continue;
      if (corpus.some((k) => cosine(k.embedding!, c.embedding!) > 0.999999)) continue;
      corpus.push(c);
    }
    weights = await loadNaiveWeights(await workspace.checkpoint('embedder'));
  });
  after(async () => {
    await workspace?.remove();
    console.log(`precision against the fp32 goldens: ${JSON.stringify(measured)}`);
  });

  for (const precision of ['fp16', 'int8', 'int4'] as const) {
    test(`${precision}: embeddings and reranker scores stay within the measured bounds`, async () => {
      const bound = BOUNDS[precision];
      const embedder = await Qwen3VLEmbedder.open(await workspace.package({ checkpoint: 'embedder', precision, variant: 'plain' }), { environment });
      const actual: Float32Array[] = [];
      try {
        for (const instruction of [...new Set(corpus.map((c) => c.instruction))]) {
          const group = corpus.filter((c) => c.instruction === instruction);
          const out = await embedder.embed(group.map((c) => toEmbedInput(c.input)), { instruction });
          group.forEach((c, i) => { actual[corpus.indexOf(c)] = out[i]!; });
        }
      } finally {
        await embedder.close();
      }
      if (precision !== 'fp16') {
        const quantized = fakeQuantized(weights, precision === 'int8' ? 8 : 4);
        const weightOnly = await Qwen3VLEmbedder.open(await workspace.package({ checkpoint: 'embedder', precision, variant: 'plain', nbits: { accuracyLevel: 0 } }), { environment });
        try {
          for (const id of FAKE_QUANT_CASES) {
            const c = corpus.find((k) => k.id === id)!;
            const [embedding] = await weightOnly.embed([toEmbedInput(c.input)], { instruction: c.instruction });
            const prepared = await prepareEmbedBatch(weightOnly.modelPackage.tokenizer, [toEmbedInput(c.input)], { instruction: c.instruction });
            const reference = naiveEmbed(quantized, naiveBatchOf(prepared)).embedding[0]!;
            const cos = cosine(embedding!, reference);
            assert.ok(cos >= FAKE_QUANT_MIN_COSINE, `${precision} ${id}: cosine ${cos} to the float64 reference on the same quantised weights; the graph computes something else than the quantised weights imply`);
          }
        } finally {
          await weightOnly.close();
        }
      }
      const cosines = corpus.map((c, i) => cosine(actual[i]!, c.embedding!));
      const queries = corpus.flatMap((c, i) => (c.input.images || c.input.videos ? [] : [i]));
      const agreement = topKAgreement(corpus.map((c) => c.embedding!), actual, queries);

      const reranker = await Qwen3VLReranker.open(await workspace.package({ checkpoint: 'reranker', precision, variant: 'plain' }), { environment });
      let maxScoreDifference = 0;
      let sameOrder = 0;
      let rankedQueries = 0;
      try {
        for (const c of rerankerGoldens.cases) {
          if (c.pairs.some((p) => p.input_ids.length > PRECISION_MAX_TOKENS)) continue;
          const scores = await reranker.rerank(toEmbedInput(c.query), c.pairs.map((p) => toEmbedInput(p.document)), { instruction: c.instruction });
          c.pairs.forEach((p, i) => { maxScoreDifference = Math.max(maxScoreDifference, Math.abs(scores[i]! - p.score)); });
          const order = (s: readonly number[]) => s.map((x, i) => [i, x] as const).sort((a, b) => b[1] - a[1]).map(([i]) => i).join();
          rankedQueries += 1;
          if (order(scores) === order(c.pairs.map((p) => p.score))) sameOrder += 1;
        }
      } finally {
        await reranker.close();
      }
      const m: Measured = {
        minCosine: Math.min(...cosines),
        meanCosine: cosines.reduce((a, b) => a + b, 0) / cosines.length,
        top1: agreement.top1,
        top5: agreement.top5,
        maxScoreDifference,
        sameOrder: sameOrder / rankedQueries,
      };
      measured[precision] = m;
      const worst = corpus[cosines.indexOf(m.minCosine)]!.id;
      assert.ok(m.minCosine >= bound.minCosine, `${precision}: lowest cosine ${m.minCosine} (${worst}) < ${bound.minCosine}`);
      assert.ok(m.meanCosine >= bound.meanCosine, `${precision}: mean cosine ${m.meanCosine} < ${bound.meanCosine}`);
      assert.ok(m.top1 >= bound.minTop1, `${precision}: top-1 agreement ${m.top1} < ${bound.minTop1}`);
      assert.ok(m.top5 >= bound.minTop5, `${precision}: top-5 overlap ${m.top5} < ${bound.minTop5}`);
      assert.ok(m.maxScoreDifference <= bound.maxScoreDifference, `${precision}: reranker score off by ${m.maxScoreDifference} > ${bound.maxScoreDifference}`);
    });
  }
});
