// The remote backend's behaviour when the server misbehaves, against FakeVllmServer (real HTTP):
// 503-then-ok is retried, persistent 503s give up after `retries`, a slow answer times out (not
// retried), an AbortSignal cancels the HTTP request, a refused or missing API key and a wrong
// model name give messages that say what to do, and at most `concurrency` requests are in flight.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseRemoteConfig, RemoteConfigError } from '../../../../electron/engine/inference/node/remote/remote-config.ts';
import { RemoteModelClient } from '../../../../electron/engine/inference/node/remote/remote-model-client.ts';
import { ConcurrencyLimiter, RemoteInferenceError } from '../../../../electron/engine/inference/node/remote/vllm-client.ts';
import { FakeVllmServer } from '../../../support/fake-vllm-server.ts';
import { buildTinyPackage } from '../../../support/tiny-package.ts';

/** Lets the event loop run until `done()` holds (at most `turns` turns); no wall-clock bound. */
async function eventually(done: () => boolean, turns = 10_000): Promise<void> {
  for (let i = 0; i < turns && !done(); i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('remote inference: retries, timeouts, cancellation, auth, model names, concurrency', () => {
  let root = '';
  let packageDir = '';
  let fake: FakeVllmServer;
  const connect = (settings: Record<string, unknown> = {}) =>
    RemoteModelClient.connect({ url: fake.url, embeddingModel: fake.embeddingModel, backoffMs: 5, ...settings }, { probe: false });

  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'trove-remote-fail-'));
    ({ packageDir } = await buildTinyPackage(root, 'embedding'));
    fake = await FakeVllmServer.start({ embeddingPackage: packageDir, workDir: path.join(root, 'fake') });
  });

  after(async () => {
    await fake?.close();
    await rm(root, { recursive: true, force: true });
  });

  test('503 twice, then an answer: retried with back-off and succeeds', async () => {
    const client = await connect({ retries: 3 });
    fake.resetCounters();
    fake.failNext(2, 503);
    const [v] = await client.embed([{ texts: ['retry me'] }]);
    assert.equal(v!.length, 32);
    assert.equal(fake.requests.length, 3, 'two failed attempts and one that worked');
    await client.close();
  });

  test('429 with Retry-After is retried too', async () => {
    const client = await connect({ retries: 1 });
    fake.resetCounters();
    fake.failNext(1, 429, '0');
    await client.embed([{ texts: ['busy'] }]);
    assert.equal(fake.requests.length, 2);
    await client.close();
  });

  test('persistent 503: gives up after retries + 1 attempts and says so', async () => {
    const client = await connect({ retries: 2 });
    fake.resetCounters();
    fake.failNext(5, 503);
    await assert.rejects(client.embed([{ texts: ['x'] }]), (error: unknown) => {
      assert.ok(error instanceof RemoteInferenceError);
      assert.equal(error.kind, 'server');
      assert.match(error.message, /failed POST \/v1\/embeddings \(HTTP 503: Injected failure \(HTTP 503\)\); it may be overloaded or restarting — check its log\. \(gave up after 3 attempts\)/);
      return true;
    });
    assert.equal(fake.requests.length, 3);
    fake.clearFailures();
    await client.close();
  });

  test('a slow answer times out with a clear error and is not retried', async () => {
    const client = await connect({ timeoutMs: 200, retries: 3 });
    fake.resetCounters();
    fake.delayMs = 60_000;
    try {
      await assert.rejects(client.embed([{ texts: ['slow'] }]), (error: unknown) => {
        assert.ok(error instanceof RemoteInferenceError);
        assert.equal(error.kind, 'timeout');
        assert.match(error.message, /did not answer POST \/v1\/embeddings within 0\.2 s \(timeoutMs\).*Raise timeoutMs/);
        return true;
      });
      assert.equal(fake.requests.length, 1, 'a timed-out request is not sent again');
      await eventually(() => fake.hangUps === 1);
      assert.equal(fake.hangUps, 1, 'the timed-out request was closed on the wire');
    } finally {
      fake.delayMs = 0;
      await client.close();
    }
  });

  test('an AbortSignal cancels the request: the promise rejects and the connection closes', async () => {
    const client = await connect({ timeoutMs: 600_000 });
    fake.resetCounters();
    fake.delayMs = 600_000;
    try {
      const controller = new AbortController();
      const arrived = fake.nextRequest();
      const pending = client.embed([{ texts: ['cancel me'] }], { signal: controller.signal });
      await arrived;
      controller.abort();
      await assert.rejects(pending, { name: 'AbortError' });
      await eventually(() => fake.hangUps === 1);
      assert.equal(fake.hangUps, 1, 'the server saw the client hang up');
      assert.equal(fake.requests.length, 1);
    } finally {
      fake.delayMs = 0;
      await client.close();
    }
  });

  test('close() stops running requests', async () => {
    const client = await connect();
    fake.delayMs = 600_000;
    try {
      const arrived = fake.nextRequest();
      const pending = client.embed([{ texts: ['closing'] }]);
      await arrived;
      await client.close();
      await assert.rejects(pending, { name: 'AbortError' });
    } finally {
      fake.delayMs = 0;
    }
  });

  test('API key: refused, missing and right', async () => {
    const guarded = await FakeVllmServer.start({ embeddingPackage: packageDir, apiKey: 'secret', workDir: path.join(root, 'guarded') });
    try {
      const settings = { url: guarded.url, embeddingModel: guarded.embeddingModel, retries: 3, backoffMs: 5 };
      await assert.rejects(RemoteModelClient.connect({ ...settings, apiKey: 'wrong' }), /The server at http:\/\/127\.0\.0\.1:\d+ refused the API key \(HTTP 401: Unauthorized\); check apiKey in the remote settings/);
      await assert.rejects(RemoteModelClient.connect(settings), /requires an API key \(HTTP 401: Unauthorized\); set apiKey in the remote settings/);
      assert.equal(guarded.requests.length, 2, 'a refused key is not retried');
      const ok = await RemoteModelClient.connect({ ...settings, apiKey: 'secret' });
      assert.equal(ok.dims, 32);
      await ok.close();
    } finally {
      await guarded.close();
    }
  });

  test('a model name the server does not serve: the message lists what it serves', async () => {
    await assert.rejects(
      connect({ embeddingModel: 'Qwen/Qwen3-VL-Embedding-8B' }),
      (error: unknown) => {
        assert.ok(error instanceof RemoteInferenceError);
        assert.equal(error.kind, 'model');
        assert.equal(
          error.message,
          `The server at ${fake.url} does not serve the model 'Qwen/Qwen3-VL-Embedding-8B'; it serves: tiny/Qwen3-VL-Embedding. ` +
            "Set embeddingModel in the remote settings to one of these (or start vLLM with --served-model-name 'Qwen/Qwen3-VL-Embedding-8B').",
        );
        return true;
      },
    );
  });

  test('a server that is not there: says so, after the retries', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    await assert.rejects(
      RemoteModelClient.connect({ url: `http://127.0.0.1:${port}`, embeddingModel: 'm', retries: 1, backoffMs: 1 }),
      /Could not reach the inference server at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\); check that vLLM is running there.*\(gave up after 2 attempts\)/,
    );
  });

  test('at most `concurrency` requests are in flight at the server', async () => {
    const client = await connect({ concurrency: 2 });
    fake.resetCounters();
    fake.maxInFlight = 0;
    fake.delayMs = 50;
    try {
      const inputs = Array.from({ length: 7 }, (_, i) => ({ texts: [`input ${i}`] }));
      const out = await client.embed(inputs);
      assert.equal(out.length, 7);
      assert.equal(fake.requests.length, 7);
      assert.equal(fake.maxInFlight, 2, 'the server saw two requests at once, never more');
      assert.equal(client.peakInFlight, 2);
    } finally {
      fake.delayMs = 0;
      await client.close();
    }
  });

  test('interactive requests wait at the front of the queue', async () => {
    const limiter = new ConcurrencyLimiter(1);
    const order: string[] = [];
    let release!: () => void;
    const first = limiter.run(() => new Promise<void>((resolve) => (release = resolve)));
    const background = limiter.run(async () => void order.push('background'));
    const interactive = limiter.run(async () => void order.push('interactive'), { priority: 'interactive' });
    await eventually(() => release !== undefined);
    assert.equal(limiter.inFlight, 1);
    release();
    await Promise.all([first, background, interactive]);
    assert.deepEqual(order, ['interactive', 'background']);
  });

  test('settings are validated with messages that name the setting', () => {
    assert.throws(() => parseRemoteConfig({ url: 'ftp://gpu-box', embeddingModel: 'm' }), (e: unknown) => e instanceof RemoteConfigError && /remote\.url: must be an http:\/\/ or https:\/\/ URL/.test(e.message));
    assert.throws(() => parseRemoteConfig({ url: 'http://gpu-box:8000' }), /remote\.embeddingModel: set embeddingModel and\/or rerankerModel/);
    assert.throws(() => parseRemoteConfig({ url: 'http://gpu-box:8000', embeddingModel: 'm', concurrency: 0 }), /remote\.concurrency/);
    const config = parseRemoteConfig({ url: 'http://gpu-box:8000/v1/', embeddingModel: 'm' });
    assert.deepEqual([config.timeoutMs, config.retries, config.concurrency, config.videoFrameFormat], [120_000, 3, 4, 'png']);
  });
});
