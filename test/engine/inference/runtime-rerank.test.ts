// The reranker runtime end to end on the tiny fp32 reranker package (ORT CPU) against the naive
// float64 reference on the same left-padded batch: text pairs, a query image shared by every row,
// document images at different sizes, a video document; scores in [0, 1] and in document order.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { prepareRerankBatch, type RerankSide } from '../../../electron/engine/model-inputs/node/rerank-inputs.ts';
import { Qwen3VLReranker, sigmoid } from '../../../electron/engine/inference/node/runtime/qwen3vl-reranker.ts';
import { Qwen3VLEmbedder } from '../../../electron/engine/inference/node/runtime/qwen3vl-embedder.ts';
import { loadNaiveWeights, type NaiveWeights } from '../../../native-models/reference/node/naive-weights.ts';
import { naiveRerank } from '../../../native-models/reference/node/naive-forward.ts';
import { buildTinyPackage } from '../../support/tiny-package.ts';
import { ATOL, REGRESSION_ATOL, naiveBatchOf, seededPng, testVideo } from '../../support/runtime-compare.ts';

const measured: Record<string, number> = {};

describe('Qwen3VLReranker vs the naive reference (tiny fp32 package, ORT CPU)', () => {
  let root = '';
  let packageDir = '';
  let weights: NaiveWeights;
  let reranker: Qwen3VLReranker;
  let small = '';
  let medium = '';
  let video = '';

  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'trove-runtime-rerank-'));
    const built = await buildTinyPackage(root, 'reranker');
    packageDir = built.packageDir;
    weights = await loadNaiveWeights(built.checkpointDir);
    reranker = await Qwen3VLReranker.open(packageDir, { environment: { platform: process.platform, arch: process.arch } });
    small = await seededPng(root, 64, 96, 11);
    medium = await seededPng(root, 128, 192, 12);
    video = await testVideo(root);
  });

  after(async () => {
    await reranker?.close();
    await rm(root, { recursive: true, force: true });
    console.log(`reranker vs naive (max |Δscore|, max |Δlogit|): ${JSON.stringify(measured)}`);
  });

  async function compare(name: string, query: RerankSide, documents: RerankSide[], instruction?: string): Promise<number[]> {
    const prepared = await prepareRerankBatch(reranker.modelPackage.tokenizer, query, documents, { instruction });
    const expected = naiveRerank(weights, naiveBatchOf(prepared));
    const scores = await reranker.rerank(query, documents, { instruction });
    assert.equal(scores.length, documents.length);
    let maxScore = 0;
    let maxLogit = 0;
    scores.forEach((score, i) => {
      assert.ok(score >= 0 && score <= 1, `${name} score ${i} = ${score} is outside [0, 1]`);
      const logit = Math.log(score / (1 - score));
      maxScore = Math.max(maxScore, Math.abs(score - expected.score[i]!));
      maxLogit = Math.max(maxLogit, Math.abs(logit - expected.logit[i]!));
    });
    measured[`${name}:score`] = maxScore;
    measured[`${name}:logit`] = maxLogit;
    assert.ok(maxScore <= ATOL, `${name}: max |Δscore| = ${maxScore} > ${ATOL}`);
    assert.ok(maxLogit <= 10 * REGRESSION_ATOL, `${name}: max |Δlogit| = ${maxLogit} (float32 noise is ~1e-7)`);
    return scores;
  }

  test('text pairs of different lengths (left padding, num_visual = 0)', async () => {
    const scores = await compare('text', { texts: ['what is the capital of France?'] }, [
      { texts: ['Paris is the capital and largest city of France, on the Seine.'] },
      { texts: ['no'] },
      {},
    ]);
    assert.notEqual(scores[0], scores[1]);
  });

  test('query image shared by every row, document images of two sizes, instruction', async () => {
    await compare('image', { images: [small], texts: ['find this'] }, [{ images: [medium] }, { texts: ['a caption'] }, { images: [small], texts: ['same'] }], 'Match images.');
  });

  test('video document with grid_t = 2', async () => {
    const prepared = await prepareRerankBatch(reranker.modelPackage.tokenizer, { texts: ['q'] }, [{ videos: [video] }]);
    assert.equal(prepared.vision[0]!.gridThw[0], 2);
    await compare('video', { texts: ['a test pattern'] }, [{ videos: [video] }, { texts: ['unrelated'] }]);
  });

  test('sigmoid is stable at the extremes', () => {
    assert.equal(sigmoid(0), 0.5);
    assert.equal(sigmoid(-1000), 0);
    assert.equal(sigmoid(1000), 1);
    assert.ok(Math.abs(sigmoid(2) - 1 / (1 + Math.exp(-2))) < 1e-16);
  });

  test('package kinds are checked; no documents, no scores', async () => {
    await assert.rejects(Qwen3VLEmbedder.open(packageDir), /is a reranker package; this needs an embedding package/);
    assert.deepEqual(await reranker.rerank({ texts: ['q'] }, []), []);
  });
});
