// The remote backend against local inference: RemoteModelClient → FakeVllmServer (real HTTP,
// vLLM's request shapes) → Trove's runtime on the tiny packages, compared with ModelClient on the
// same packages. Embeddings of text, image, text + image and video (a clip and a whole file) and
// rerank scores must agree; the requests must have the shapes vLLM reads.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { EmbedInput } from '../../../../electron/engine/model-inputs/node/embed-inputs.ts';
import { ModelClient } from '../../../../electron/engine/inference/node/runtime/model-client.ts';
import { RemoteModelClient } from '../../../../electron/engine/inference/node/remote/remote-model-client.ts';
import { FakeVllmServer } from '../../../support/fake-vllm-server.ts';
import { agreement, seededPng, testVideo, type Agreement } from '../../../support/runtime-compare.ts';
import { buildTinyPackage } from '../../../support/tiny-package.ts';

/**
 * Measured here: max |Δ| = 0 and cosine = 1 for every input — pixels (lossless PNG frames, the
 * original image bytes), prompts and the float32 transfer (base64) are exact, and the tiny model's
 * rows come out identical whether the server embeds one input per request or the local call
 * batches them. The bounds leave room only for float32 summation-order noise (~1e-7), which a real
 * GPU server's batching would add; anything larger is a shape or preprocessing mistake.
 */
const MIN_COSINE = 0.9999;
const MAX_ABS = 1e-5;
const measured: Record<string, Agreement> = {};

/** A request body as JSON, read loosely (the assertions check the shape). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON payloads inspected field by field
type Json = any;

describe('remote inference (fake vLLM server) agrees with local inference', () => {
  let root = '';
  let local: ModelClient;
  let fake: FakeVllmServer;
  let remote: RemoteModelClient;
  let image = '';
  let video = '';

  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'trove-remote-eq-'));
    const [embedding, reranker] = [await buildTinyPackage(root, 'embedding'), await buildTinyPackage(root, 'reranker')];
    local = await ModelClient.start({ embeddingPackage: embedding.packageDir, rerankerPackage: reranker.packageDir });
    fake = await FakeVllmServer.start({ embeddingPackage: embedding.packageDir, rerankerPackage: reranker.packageDir, workDir: path.join(root, 'fake') });
    remote = await RemoteModelClient.connect({ url: `${fake.url}/v1`, embeddingModel: fake.embeddingModel, rerankerModel: fake.rerankerModel, backoffMs: 10 });
    image = await seededPng(root, 96, 64, 7);
    video = await testVideo(root);
  });

  after(async () => {
    await remote?.close();
    await fake?.close();
    await local?.close();
    await rm(root, { recursive: true, force: true });
    console.log(`remote vs local: ${JSON.stringify(measured)}`);
  });

  async function compare(name: string, inputs: EmbedInput[], instruction?: string): Promise<void> {
    const expected = await local.embed(inputs, { instruction });
    const actual = await remote.embed(inputs, { instruction });
    assert.equal(actual.length, inputs.length);
    actual.forEach((v, i) => {
      const a = agreement(v, expected[i]!);
      measured[`${name}[${i}]`] = a;
      assert.ok(a.cosine > MIN_COSINE, `${name} input ${i}: cosine ${a.cosine}`);
      assert.ok(a.maxAbs < MAX_ABS, `${name} input ${i}: max |Δ| ${a.maxAbs}`);
    });
  }

  test('connect learns the embedding size and describe() says what leaves the machine', () => {
    assert.equal(remote.dims, 32);
    const text = remote.describe();
    assert.match(text, /Embedding with tiny\/Qwen3-VL-Embedding \(32 dimensions\) on the vLLM server at http:\/\/127\.0\.0\.1:\d+\./);
    assert.match(text, /Your files' content — images, video frames and text — is sent to that server/);
  });

  test('text, image, text + image and an empty input', async () => {
    await compare('mixed', [{ texts: ['a red bicycle ', 'leaning on a wall'] }, { images: [image] }, { texts: ['what is shown'], images: [image] }, {}]);
  });

  test('the instruction travels (and changes the embedding)', async () => {
    await compare('instruction', [{ texts: ['a red bicycle'] }], 'Retrieve images or text relevant to the user\'s query');
    const [plain] = await remote.embed([{ texts: ['a red bicycle'] }]);
    const [instructed] = await remote.embed([{ texts: ['a red bicycle'] }], { instruction: 'Find the picture' });
    assert.ok(agreement(plain!, instructed!).maxAbs > 1e-4, 'an instruction must change the embedding');
  });

  test('a video clip (a moment) and a whole video file', async () => {
    fake.resetCounters();
    await compare('video', [{ videos: [{ path: video, start: 0.5, end: 2.5 }], texts: ['a test pattern'] }, { videos: [video] }]);
    const bodies = fake.requests.filter((r) => r.path === '/v1/embeddings').map((r) => r.body as Json);
    const clip = bodies.find((b) => JSON.stringify(b.messages).includes('a test pattern'))!;
    const [part, text] = clip.messages[1].content;
    assert.equal(part.type, 'video_url');
    assert.match(part.video_url.url, /^data:video\/jpeg;base64,iVBORw0KGgo[^,]*(,iVBORw0KGgo[^,]*){3}$/, 'four lossless PNG frames in a frame-sequence URL');
    assert.deepEqual(text, { type: 'text', text: 'a test pattern' });
    // 10 fps, window 0.5–2.5 s: frames 5…25, 4 sampled (qwen-vl-utils rules), timing for "<t seconds>".
    assert.deepEqual(clip.media_io_kwargs, { video: { fps: 10, frames_indices: [5, 12, 18, 25], total_num_frames: 30, num_frames: 4, do_sample_frames: false } });
  });

  test('the embedding request has the shape vLLM reads', async () => {
    fake.resetCounters();
    await remote.embed([{ texts: ['a cat'], images: [image] }], { instruction: 'Find the picture' });
    const body = fake.requests[0]!.body as Json;
    assert.equal(body.model, fake.embeddingModel);
    assert.equal(body.encoding_format, 'base64');
    assert.equal(body.add_generation_prompt, true);
    assert.deepEqual(body.messages[0], { role: 'system', content: [{ type: 'text', text: 'Find the picture.' }] });
    assert.equal(body.messages[1].role, 'user');
    assert.match(body.messages[1].content[0].image_url.url, /^data:image\/png;base64,iVBORw0KGgo/);
    assert.deepEqual(body.messages[1].content[1], { type: 'text', text: 'a cat' });
    assert.equal(body.media_io_kwargs, undefined);
  });

  test('rerank scores match local reranking', async () => {
    const query: EmbedInput = { texts: ['a red bicycle'] };
    const documents: EmbedInput[] = [{ texts: ['a bicycle leaning on a wall'] }, { images: [image] }, { texts: ['a photo'], images: [image] }, {}];
    const expected = await local.rerank(query, documents);
    fake.resetCounters();
    const actual = await remote.rerank(query, documents);
    assert.equal(actual.length, documents.length);
    actual.forEach((s, i) => assert.ok(Math.abs(s - expected[i]!) < 1e-6, `document ${i}: ${s} vs ${expected[i]}`));
    measured.rerank = agreement(actual, expected);
    const body = fake.requests[0]!.body as Json;
    assert.equal(body.query, 'a red bicycle');
    assert.equal(body.documents[0], 'a bicycle leaning on a wall');
    assert.equal(body.documents[1].content[0].type, 'image_url');
    assert.equal(body.documents[3], 'NULL');
    assert.equal(body.top_n, 4);
  });

  test('an image query reranks too, and a custom rerank instruction is refused with the reason', async () => {
    const documents: EmbedInput[] = [{ texts: ['noise'] }, { images: [image] }];
    const expected = await local.rerank({ images: [image] }, documents);
    const actual = await remote.rerank({ images: [image] }, documents);
    actual.forEach((s, i) => assert.ok(Math.abs(s - expected[i]!) < 1e-6, `document ${i}: ${s} vs ${expected[i]}`));
    await assert.rejects(remote.rerank({ texts: ['x'] }, documents, { instruction: 'Find cats' }), /vLLM's rerank request has no instruction field/);
  });
});
