// Trove against the official implementation: goldens written by transformers 5.12 and the
// official Qwen3-VL-Embedding / -Reranker wrappers (fp32, eager attention) on checkpoints that
// transformers' own classes saved (tools/reference-goldens, docs/reference-goldens.md). No Python
// here: the checkpoints are rebuilt byte for byte from the committed recipe, packages are built
// from them, and every fp32 package variant must reproduce the goldens — prompts, token ids,
// grids, frame indices and timestamps exactly, image pixels to the bit, video pixels to the bit
// or within a stated tolerance, embeddings to cosine ≥ 0.99999, reranker scores to |Δ| ≤ 1e-4.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { GRAPH_VARIANTS } from '../../native-models/manifest/common/model-manifest.ts';
import { prepareEmbedBatch } from '../../electron/engine/model-inputs/node/embed-inputs.ts';
import { prepareRerankBatch } from '../../electron/engine/model-inputs/node/rerank-inputs.ts';
import { openModelPackage } from '../../electron/engine/inference/node/runtime/model-package.ts';
import { Qwen3VLEmbedder } from '../../electron/engine/inference/node/runtime/qwen3vl-embedder.ts';
import { Qwen3VLReranker } from '../../electron/engine/inference/node/runtime/qwen3vl-reranker.ts';
import {
  assertPreparedMatches,
  cosine,
  GoldenWorkspace,
  loadEmbedderGoldens,
  loadRerankerGoldens,
  MODEL_RUN_MAX_TOKENS,
  toEmbedInput,
  type EmbedderGoldens,
  type GoldenEmbedCase,
  type RerankerGoldens,
} from './golden-fixtures.ts';

const MIN_COSINE = 0.99999;
const MAX_SCORE_DIFFERENCE = 1e-4;
/** CPU unless TROVE_EP names another execution provider (docs/device-checks.md). */
const environment = { platform: process.platform, arch: process.arch, override: process.env.TROVE_EP || undefined };

/** Worst agreement per package, printed at the end (docs/reference-goldens.md quotes it). */
const measured: Record<string, { minCosine?: number; maxScoreDifference?: number }> = {};
const videoHashes = { videoHashMismatches: [] as string[] };

function note(key: string, value: { cosine?: number; scoreDifference?: number }): void {
  const m = (measured[key] ??= {});
  if (value.cosine !== undefined) m.minCosine = Math.min(m.minCosine ?? 1, value.cosine);
  if (value.scoreDifference !== undefined) m.maxScoreDifference = Math.max(m.maxScoreDifference ?? 0, value.scoreDifference);
}

const runnable = (c: GoldenEmbedCase): boolean => !c.error && c.input_ids!.length <= MODEL_RUN_MAX_TOKENS;

describe('reference goldens (transformers 5.12 + official wrappers, fp32 eager)', () => {
  let workspace: GoldenWorkspace;
  let embedderGoldens: EmbedderGoldens;
  let rerankerGoldens: RerankerGoldens;
  let tiedGoldens: RerankerGoldens;

  before(async () => {
    workspace = await GoldenWorkspace.create();
    [embedderGoldens, rerankerGoldens, tiedGoldens] = await Promise.all([loadEmbedderGoldens(), loadRerankerGoldens('reranker'), loadRerankerGoldens('reranker-tied')]);
  });

  after(async () => {
    await workspace?.remove();
    console.log(`reference goldens, worst agreement per package: ${JSON.stringify(measured)}`);
    console.log(`video pixel hashes that differed (within tolerance): ${JSON.stringify(videoHashes.videoHashMismatches)}`);
  });

  test('embedder inputs: prompts, token ids, grids, pixels, frames and timestamps equal the reference', async () => {
    const pkg = await openModelPackage(await workspace.package({ checkpoint: 'embedder', precision: 'fp32', variant: 'plain' }), 'embedding');
    const passOrderCases = embedderGoldens.cases.filter((c) => c.images?.some((i) => i.pillow13_differs));
    assert.ok(passOrderCases.length >= 5, 'the goldens must hold images whose pixels depend on the resize pass order');
    for (const c of embedderGoldens.cases) {
      const prepare = prepareEmbedBatch(pkg.tokenizer, [toEmbedInput(c.input)], { instruction: c.instruction });
      if (c.error) {
        await assert.rejects(prepare, /aspect ratio/, `${c.id}: the reference refuses this input (${c.error})`);
        continue;
      }
      const prepared = await prepare;
      const { batch } = prepared;
      assert.equal(batch.lastIndex[0], c.last_index, `${c.id}: pooled index`);
      assertPreparedMatches(c.id, { prompt: prepared.prompts[0]!, ids: batch.inputIds[0]!.slice(0, batch.lastIndex[0]! + 1), images: prepared.images[0]!, videos: prepared.videos[0]! }, c as Required<GoldenEmbedCase>, videoHashes);
    }
  });

  for (const variant of GRAPH_VARIANTS) {
    test(`embedder fp32 ${variant}: every input, a padded batch and Matryoshka sizes`, async () => {
      const embedder = await Qwen3VLEmbedder.open(await workspace.package({ checkpoint: 'embedder', precision: 'fp32', variant }), { environment });
      try {
        const key = `embedder fp32 ${variant}`;
        const cases = embedderGoldens.cases.filter(runnable);
        // Grouped by instruction (one embed call takes one); Trove batches each group its own way.
        const instructions = [...new Set(cases.map((c) => c.instruction))];
        for (const instruction of instructions) {
          const group = cases.filter((c) => c.instruction === instruction);
          const embeddings = await embedder.embed(group.map((c) => toEmbedInput(c.input)), { instruction });
          group.forEach((c, i) => {
            const cos = cosine(embeddings[i]!, c.embedding!);
            note(key, { cosine: cos });
            assert.ok(cos >= MIN_COSINE, `${c.id}: cosine to the reference embedding ${cos} < ${MIN_COSINE}`);
          });
        }
        const byId = new Map(embedderGoldens.cases.map((c) => [c.id, c]));
        for (const batch of embedderGoldens.batches) {
          const inputs = batch.cases.map((id) => toEmbedInput(byId.get(id)!.input));
          const together = await embedder.embed(inputs);
          const alone: Float32Array[] = [];
          for (const input of inputs) alone.push((await embedder.embed([input]))[0]!);
          batch.cases.forEach((id, i) => {
            for (const [label, actual] of [['in the batch', together[i]!], ['alone', alone[i]!]] as const) {
              const cos = cosine(actual, batch.embeddings[i]!);
              note(key, { cosine: cos });
              assert.ok(cos >= MIN_COSINE, `${batch.id}/${id} ${label}: cosine to the reference's padded batch ${cos}`);
            }
            assert.ok(cosine(batch.embeddings[i]!, byId.get(id)!.embedding!) >= MIN_COSINE, `${batch.id}/${id}: the reference itself differs between batch and single`);
          });
        }
        for (const m of embedderGoldens.matryoshka) {
          const c = byId.get(m.case)!;
          const [actual] = await embedder.embed([toEmbedInput(c.input)], { dims: m.dims, instruction: c.instruction });
          assert.equal(actual!.length, m.dims);
          const cos = cosine(actual!, m.embedding);
          assert.ok(cos >= MIN_COSINE, `${m.case} at ${m.dims} dims: cosine ${cos}`);
        }
      } finally {
        await embedder.close();
      }
    });
  }

  test('reranker inputs: every pair kind tokenises and preprocesses as the reference (incl. truncation at 10,240 + 5)', async () => {
    const pkg = await openModelPackage(await workspace.package({ checkpoint: 'reranker', precision: 'fp32', variant: 'plain' }), 'reranker');
    for (const c of [...rerankerGoldens.cases, ...tiedGoldens.cases]) {
      const prepared = await prepareRerankBatch(pkg.tokenizer, toEmbedInput(c.query), c.pairs.map((p) => toEmbedInput(p.document)), { instruction: c.instruction });
      c.pairs.forEach((pair, b) => {
        const mask = prepared.batch.attentionMask[b]!;
        const ids = prepared.batch.inputIds[b]!.filter((_, s) => mask[s] === 1);
        assertPreparedMatches(`${c.id}/${pair.kind}`, { prompt: prepared.prompts[b]!, ids, images: prepared.rowImages[b]!, videos: prepared.rowVideos[b]! }, pair, videoHashes);
      });
    }
    const kinds = rerankerGoldens.cases.filter((c) => c.id.endsWith('-query')).flatMap((c) => c.pairs.map((p) => `${c.id}×${p.kind}`));
    assert.equal(kinds.length, 12, 'text/image/video queries × text/image/video/mixed documents');
  });

  for (const [checkpoint, goldensOf] of [['reranker', () => rerankerGoldens], ['reranker-tied', () => tiedGoldens]] as const) {
    for (const variant of GRAPH_VARIANTS) {
      test(`${checkpoint} fp32 ${variant}: scores of every pair`, async () => {
        const reranker = await Qwen3VLReranker.open(await workspace.package({ checkpoint, precision: 'fp32', variant }), { environment });
        try {
          for (const c of goldensOf().cases) {
            if (c.pairs.some((p) => p.input_ids.length > MODEL_RUN_MAX_TOKENS)) continue;
            const scores = await reranker.rerank(toEmbedInput(c.query), c.pairs.map((p) => toEmbedInput(p.document)), { instruction: c.instruction });
            c.pairs.forEach((pair, i) => {
              const difference = Math.abs(scores[i]! - pair.score);
              note(`${checkpoint} fp32 ${variant}`, { scoreDifference: difference });
              assert.ok(difference <= MAX_SCORE_DIFFERENCE, `${c.id}/${pair.kind}: score ${scores[i]} vs the reference's ${pair.score}`);
            });
          }
        } finally {
          await reranker.close();
        }
      });
    }
  }
});
