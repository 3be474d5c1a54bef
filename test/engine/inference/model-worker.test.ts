// The model worker through ModelClient on the tiny packages: results equal the in-thread runtime,
// cancellation rejects at once and the worker keeps serving, the in-flight bound holds, and a bad
// package fails start() with the runtime's message.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { threadId } from 'node:worker_threads';
import { ModelClient } from '../../../electron/engine/inference/node/runtime/model-client.ts';
import { Qwen3VLEmbedder } from '../../../electron/engine/inference/node/runtime/qwen3vl-embedder.ts';
import { Qwen3VLReranker } from '../../../electron/engine/inference/node/runtime/qwen3vl-reranker.ts';
import type { EmbedInput } from '../../../electron/engine/model-inputs/node/embed-inputs.ts';
import { buildTinyPackage } from '../../support/tiny-package.ts';
import { seededPng } from '../../support/runtime-compare.ts';

const environment = { platform: process.platform, arch: process.arch, override: 'cpu' };

describe('ModelClient / model worker (tiny packages)', () => {
  let root = '';
  let embeddingPackage = '';
  let rerankerPackage = '';
  let image = '';
  let client: ModelClient;

  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'trove-model-worker-'));
    embeddingPackage = (await buildTinyPackage(root, 'embedding')).packageDir;
    rerankerPackage = (await buildTinyPackage(root, 'reranker')).packageDir;
    image = await seededPng(root, 64, 96, 5);
    client = await ModelClient.start({ embeddingPackage, rerankerPackage, environment, maxInFlight: 2 });
  });

  after(async () => {
    await client?.close();
    await rm(root, { recursive: true, force: true });
  });

  test('the worker reports its EP; results equal the in-thread runtime bit for bit', async () => {
    assert.equal(client.providers.embedding?.ep, 'cpu');
    assert.match(client.providers.reranker?.statement ?? '', /Running on CPU \(forced by TROVE_EP=cpu\)/);
    const inputs: EmbedInput[] = [{ texts: ['hello'] }, { texts: ['a picture'], images: [image] }, { texts: ['a picture'], images: [await readFile(image)] }];
    const embedder = await Qwen3VLEmbedder.open(embeddingPackage, { environment });
    const reranker = await Qwen3VLReranker.open(rerankerPackage, { environment });
    try {
      const local = await embedder.embed(inputs, { instruction: 'Find it' });
      const remote = await client.embed(inputs, { instruction: 'Find it' });
      assert.equal(threadId, 0, 'the test itself runs on the main thread');
      assert.ok(remote.every((e) => e instanceof Float32Array && e.buffer.byteLength === e.byteLength), 'each embedding owns its (transferred) buffer');
      assert.deepEqual(remote, local);
      assert.deepEqual(remote[1], remote[2], 'a Buffer image equals the same file by path');
      const documents = [{ texts: ['x'] }, { images: [image] }];
      assert.deepEqual(await client.rerank({ texts: ['q'] }, documents), await reranker.rerank({ texts: ['q'] }, documents));
    } finally {
      await embedder.close();
      await reranker.close();
    }
  });

  test('cancellation rejects with AbortError and the worker keeps serving', async () => {
    const many: EmbedInput[] = Array.from({ length: 40 }, (_, i) => ({ texts: [`item ${i}`], images: [image] }));
    const before = client.cancelledByWorker;
    const controller = new AbortController();
    const running = client.embed(many, { signal: controller.signal });
    setTimeout(() => controller.abort(), 30);
    const started = performance.now();
    await assert.rejects(running, { name: 'AbortError' });
    assert.ok(performance.now() - started < 2000, 'the caller is released at once');
    // The worker answers the cancelled request with AbortError once it reaches a check.
    while (client.inFlight > 0) await new Promise((r) => setTimeout(r, 10));
    assert.equal(client.cancelledByWorker, before + 1, 'the worker stopped the request instead of finishing it');
    const [again] = await client.embed([{ texts: ['still here'] }]);
    assert.equal(again!.length, 32);
    const aborted = new AbortController();
    aborted.abort();
    await assert.rejects(client.embed([{ texts: ['x'] }], { signal: aborted.signal }), { name: 'AbortError' });
  });

  test('back-pressure: never more than maxInFlight requests with the worker; order and results kept', async () => {
    const texts = Array.from({ length: 7 }, (_, i) => `text number ${i}`);
    const expected = await client.embed(texts.map((t) => ({ texts: [t] })));
    const seen: number[] = [];
    const results = await Promise.all(
      texts.map(async (t) => {
        const promise = client.embed([{ texts: [t] }]);
        seen.push(client.inFlight);
        return (await promise)[0];
      }),
    );
    assert.ok(Math.max(...seen) <= 2, `in flight: ${seen.join(',')}`);
    assert.equal(client.peakInFlight, 2);
    results.forEach((r, i) => assert.deepEqual(r, expected[i]));
  });

  test('an interactive request overtakes queued background work and skips the back-pressure queue', async () => {
    const heavy: EmbedInput[] = Array.from({ length: 6 }, (_, i) => ({ texts: [`background ${i}`], images: [image] }));
    const order: string[] = [];
    const backgrounds = [0, 1, 2, 3].map((n) => client.embed(heavy).then(() => order.push(`background ${n}`)));
    // maxInFlight is 2: two background requests wait on the client, two are queued in the worker.
    const query = client.embed([{ texts: ['a search'] }], { priority: 'interactive' }).then(() => order.push('interactive'));
    await Promise.all([...backgrounds, query]);
    assert.ok(order.indexOf('interactive') <= 1, `the search waited only for the batch already running: ${order.join(', ')}`);
    assert.ok(client.peakInFlight <= 3, 'background work still respects maxInFlight (the search is extra)');
  });

  test('a waiting request can be cancelled before it reaches the worker', async () => {
    const controller = new AbortController();
    const first = client.embed([{ texts: ['a'] }]);
    const second = client.embed([{ texts: ['b'] }]);
    const third = client.embed([{ texts: ['c'] }], { signal: controller.signal });
    controller.abort();
    await assert.rejects(third, { name: 'AbortError' });
    await Promise.all([first, second]);
  });

  test('start() fails with the runtime message for a folder that is not a package', async () => {
    await assert.rejects(ModelClient.start({ embeddingPackage: root }), /not a Trove model package/);
  });
});
