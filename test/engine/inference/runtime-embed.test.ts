// The embedder runtime end to end on the tiny fp32 package (ORT CPU) against the naive float64
// reference given the same prepared batch: text only (num_visual = 0), text + image at three
// sizes, a video with grid_t = 2, a padded batch of mixed inputs; plus dims and errors.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { prepareEmbedBatch, type EmbedInput } from '../../../electron/engine/model-inputs/node/embed-inputs.ts';
import { Qwen3VLEmbedder } from '../../../electron/engine/inference/node/runtime/qwen3vl-embedder.ts';
import { openModelPackage } from '../../../electron/engine/inference/node/runtime/model-package.ts';
import { loadNaiveWeights, type NaiveWeights } from '../../../native-models/reference/node/naive-weights.ts';
import { naiveEmbed } from '../../../native-models/reference/node/naive-forward.ts';
import { buildTinyPackage } from '../../support/tiny-package.ts';
import { assertAgrees, naiveBatchOf, seededPng, testVideo, type Agreement } from '../../support/runtime-compare.ts';

const measured: Record<string, Agreement> = {};

describe('Qwen3VLEmbedder vs the naive reference (tiny fp32 package, ORT CPU)', () => {
  let root = '';
  let packageDir = '';
  let checkpointDir = '';
  let weights: NaiveWeights;
  let embedder: Qwen3VLEmbedder;
  const images: Record<string, string> = {};
  let video = '';

  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'trove-runtime-embed-'));
    ({ packageDir, checkpointDir } = await buildTinyPackage(root, 'embedding'));
    weights = await loadNaiveWeights(checkpointDir);
    embedder = await Qwen3VLEmbedder.open(packageDir, { environment: { platform: process.platform, arch: process.arch } });
    images.small = await seededPng(root, 64, 96, 1);
    images.medium = await seededPng(root, 192, 288, 2);
    images.large = await seededPng(root, 320, 480, 3);
    video = await testVideo(root);
  });

  after(async () => {
    await embedder?.close();
    await rm(root, { recursive: true, force: true });
    console.log(`embedder vs naive: ${JSON.stringify(measured)}`);
  });

  /** Runtime embeddings vs naiveEmbed on the batch prepareEmbedBatch builds for the same inputs. */
  async function compare(name: string, inputs: EmbedInput[], instruction?: string): Promise<void> {
    const prepared = await prepareEmbedBatch(embedder.modelPackage.tokenizer, inputs, { instruction });
    const expected = naiveEmbed(weights, naiveBatchOf(prepared)).embedding;
    const actual = await embedder.embed(inputs, { instruction });
    assert.equal(actual.length, inputs.length);
    actual.forEach((embedding, i) => {
      assert.equal(embedding.length, 32);
      measured[`${name}[${i}]`] = assertAgrees(embedding, expected[i]!, `${name} input ${i}`);
      let norm = 0;
      for (const x of embedding) norm += x * x;
      assert.ok(Math.abs(Math.sqrt(norm) - 1) < 1e-6, `${name} input ${i} is not unit length`);
    });
  }

  test('chooses the CPU EP here and says so', () => {
    assert.equal(embedder.provider.ep, 'cpu');
    assert.match(embedder.provider.statement, /^Running on CPU\./);
    console.log(`EP statement: ${embedder.provider.statement}`);
  });

  test('text only (num_visual = 0)', async () => {
    await compare('text', [{ texts: ['a red bicycle leaning on a wall'] }], 'Find the picture');
  });

  for (const size of ['small', 'medium', 'large'] as const) {
    test(`text + ${size} image`, async () => {
      await compare(`image-${size}`, [{ texts: ['what is shown'], images: [images[size]!] }]);
    });
  }

  test('video with grid_t = 2', async () => {
    const prepared = await prepareEmbedBatch(embedder.modelPackage.tokenizer, [{ videos: [video] }]);
    assert.equal(prepared.vision[0]!.gridThw[0], 2, 'the test video must have two temporal groups');
    await compare('video', [{ videos: [video], texts: ['a test pattern'] }]);
  });

  test('padded batch of mixed inputs keeps order', async () => {
    const inputs: EmbedInput[] = [
      { texts: ['short'] },
      { texts: ['a much longer text that pads the other rows of this batch by quite a few tokens'], images: [images.small!] },
      { images: [images.small!, images.small!], texts: ['two'] },
      {},
    ];
    const lengths = (await prepareEmbedBatch(embedder.modelPackage.tokenizer, inputs)).batch.lastIndex;
    assert.ok(new Set(lengths).size >= 3, `rows must differ in length so the batch is padded: ${lengths.join(', ')}`);
    await compare('batch', inputs);
  });

  test('dims: full size allowed, outside [32, hidden] refused; distinct inputs differ', async () => {
    const [full] = await embedder.embed([{ texts: ['x'] }]);
    const [same] = await embedder.embed([{ texts: ['x'] }], { dims: 32 });
    assert.deepEqual(same, full);
    await assert.rejects(embedder.embed([{ texts: ['x'] }], { dims: 16 }), /dims must be an integer from 32 to 32/);
    await assert.rejects(embedder.embed([{ texts: ['x'] }], { dims: 33 }), /dims must be an integer from 32 to 32/);
    const [other] = await embedder.embed([{ texts: ['y'] }]);
    assert.notDeepEqual(other, full);
  });

  test('an already aborted signal rejects with AbortError', async () => {
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(embedder.embed([{ texts: ['x'] }], { signal: controller.signal }), { name: 'AbortError' });
  });

  test('model package errors say what to do', async () => {
    await assert.rejects(openModelPackage(checkpointDir), /is a Hugging Face checkpoint, not a Trove model package.*trove model build/);
    await assert.rejects(openModelPackage(path.join(root, 'missing')), /does not exist.*trove model build/);
    await assert.rejects(Qwen3VLEmbedder.open(root), /not a Trove model package/);
    const broken = path.join(root, 'broken');
    await mkdir(broken);
    await writeFile(path.join(broken, 'manifest.json'), '{"format":"trove-model-package"}');
    await assert.rejects(openModelPackage(broken), /not a valid Trove model package manifest/);
  });
});
