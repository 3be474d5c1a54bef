// The renderer's HTTP transport against the real server in Node (global fetch; the `ws` client
// as the WebSocket), and the in-process transport giving the same answers for the same handlers.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import type { ApiEventPayload } from '../../electron/contract/common/api-events.ts';
import type { ApiMethod, ApiParams } from '../../electron/contract/common/api-methods.ts';
import { createInProcessApi } from '../../electron/contract/common/in-process-api.ts';
import { ApiError, type TroveApi } from '../../electron/contract/common/trove-api.ts';
import { createHttpApi, tokenFromLocation, type HttpApi, type WebSocketConstructorLike } from '../../electron/contract/browser/http-transport.ts';
import { startApiServer, type ApiServer } from '../../electron/server/node/api-server.ts';
import { createApiDouble, createEventDouble, createMediaDouble, statusFixture } from '../support/api-double.ts';

const NodeWebSocket = WebSocket as unknown as WebSocketConstructorLike;

function waitFor<T>(register: (resolve: (value: T) => void) => void, ms = 3000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`nothing arrived within ${ms} ms`)), ms);
    register((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}

async function outcomeOf(api: TroveApi, method: ApiMethod, params: unknown): Promise<unknown> {
  try {
    return { ok: true, result: await api.call(method, params as ApiParams<ApiMethod>) };
  } catch (error) {
    assert.ok(error instanceof ApiError, `${method} threw a ${(error as Error)?.name}, not an ApiError`);
    return { ok: false, code: error.code, message: error.message };
  }
}

describe('http transport', () => {
  let server: ApiServer;
  let api: HttpApi;
  const events = createEventDouble();
  const double = createApiDouble();

  before(async () => {
    server = await startApiServer({ handlers: double.handlers, events, media: createMediaDouble(new Map(), []) });
    api = createHttpApi({ baseUrl: server.url, token: server.token, WebSocket: NodeWebSocket, reconnect: { initialMs: 20, maxMs: 100 } });
  });
  after(async () => {
    api.close();
    await server.close();
  });

  it('calls methods and returns validated results', async () => {
    assert.deepEqual(await api.call('status.get', {}), statusFixture());
    const root = await api.call('roots.add', { path: '/photos' });
    assert.deepEqual(root.include, []);
    assert.deepEqual(await api.call('roots.list', {}), [root]);
    const found = await api.call('search.run', { text: 'cat' });
    assert.equal(found.results[0].name, 'cat.jpg');
  });

  it('throws ApiError with the server-side code for error outcomes', async () => {
    await assert.rejects(api.call('items.get', { id: 'x' as never }), (error: unknown) => error instanceof ApiError && error.code === 'invalid-params');
    await assert.rejects(api.call('search.run', { text: '  ' }), (error: unknown) => error instanceof ApiError && /needs text, an image/.test(error.message));
    await assert.rejects(api.call('nope.nope' as ApiMethod, {} as never), (error: unknown) => error instanceof ApiError && error.code === 'unknown-method');
    await assert.rejects(api.call('items.get', { id: 8 }), (error: unknown) => error instanceof ApiError && error.code === 'not-found');
  });

  it('says what to do when the token is wrong or the server is gone', async () => {
    const stranger = createHttpApi({ baseUrl: server.url, token: 'stale', WebSocket: NodeWebSocket });
    await assert.rejects(stranger.call('status.get', {}), (error: unknown) => error instanceof ApiError && error.code === 'unavailable' && /new token/.test(error.message));
    const gone = createHttpApi({ baseUrl: 'http://127.0.0.1:1', token: 't', WebSocket: NodeWebSocket });
    await assert.rejects(gone.call('status.get', {}), (error: unknown) => error instanceof ApiError && error.code === 'unavailable' && /trove serve/.test(error.message));
  });

  it('validates what the server answers before handing it to the UI', async () => {
    const lying = createHttpApi({
      baseUrl: server.url,
      token: server.token,
      fetch: async () => ({ status: 200, json: async () => ({ ok: true, result: { files: 'many' } }) }),
    });
    await assert.rejects(lying.call('status.get', {}), (error: unknown) => error instanceof ApiError && /unexpected answer/.test(error.message));
    const garbled = createHttpApi({ baseUrl: server.url, token: server.token, fetch: async () => ({ status: 200, json: async () => ['?'] }) });
    await assert.rejects(garbled.call('status.get', {}), /not an API outcome/);
  });

  it('delivers events over the WebSocket, validated, to every subscriber until it unsubscribes', async () => {
    const connected = waitFor<boolean>((resolve) => api.onConnectionChange((up) => up && resolve(up)));
    const seen: ApiEventPayload<'library.changed'>[] = [];
    const unsubscribe = api.on('library.changed', (payload) => seen.push(payload));
    const second = waitFor<ApiEventPayload<'library.changed'>>((resolve) => api.on('library.changed', resolve));
    await connected;
    events.emit('library.changed', { indexed: 3, removed: 1 });
    assert.deepEqual(await second, { indexed: 3, removed: 1 });
    assert.deepEqual(seen, [{ indexed: 3, removed: 1 }]);
    unsubscribe();
    const third = waitFor<unknown>((resolve) => api.on('library.changed', resolve));
    events.emit('library.changed', { indexed: 4, removed: 0 });
    await third;
    assert.equal(seen.length, 1);
  });

  it('reconnects after the socket drops and keeps delivering', async () => {
    // The client's own socket is cut (as a sleeping laptop or a flaky proxy would): same server, same token.
    const sockets: WebSocket[] = [];
    class TrackedWebSocket extends WebSocket {
      constructor(url: string) {
        super(url);
        sockets.push(this);
      }
    }
    const client = createHttpApi({ baseUrl: server.url, token: server.token, WebSocket: TrackedWebSocket as unknown as WebSocketConstructorLike, reconnect: { initialMs: 20, maxMs: 100 } });
    try {
      const states: boolean[] = [];
      client.onConnectionChange((up) => states.push(up));
      const first = waitFor<boolean>((resolve) => client.onConnectionChange((up) => up && resolve(up)));
      client.on('model.changed', () => {});
      await first;
      const back = waitFor<boolean>((resolve) => client.onConnectionChange((up) => up && states.length >= 3 && resolve(up)));
      sockets[0].terminate();
      await back;
      assert.deepEqual(states, [true, false, true]);
      assert.equal(sockets.length, 2);
      const payload = waitFor<ApiEventPayload<'model.changed'>>((resolve) => client.on('model.changed', resolve));
      events.emit('model.changed', { statement: 'back' });
      assert.deepEqual(await payload, { statement: 'back' });
    } finally {
      client.close();
    }
  });

  it('builds media URLs that carry the token', async () => {
    assert.equal(api.mediaUrl('thumb', 7), `http://127.0.0.1:${server.port}/media/thumb/7?token=${server.token}`);
  });
});

describe('http transport reconnect backoff', () => {
  it('keeps retrying with backoff while the server is down, and stops after close()', async () => {
    const server = await startApiServer({ handlers: createApiDouble().handlers, events: createEventDouble(), media: createMediaDouble(new Map(), []) });
    const { port, token } = server;
    await server.close();
    const attemptTimes: number[] = [];
    class CountingWebSocket extends WebSocket {
      constructor(url: string) {
        attemptTimes.push(performance.now());
        super(url);
      }
    }
    const api = createHttpApi({ baseUrl: `http://127.0.0.1:${port}`, token, WebSocket: CountingWebSocket as unknown as WebSocketConstructorLike, reconnect: { initialMs: 10, maxMs: 40 } });
    api.on('roots.changed', () => {});
    // Wait for six attempts (a slow machine only makes this take longer), then stop.
    const deadline = Date.now() + 20_000;
    while (attemptTimes.length < 6 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    api.close();
    assert.ok(attemptTimes.length >= 6, `only ${attemptTimes.length} reconnect attempts in 20 s`);
    // Backoff: the waits grow 10, 20, 40, 40 ms (±20 % jitter). Lower bounds only — load can only
    // lengthen a wait, never shorten it — so this holds on any machine.
    const gaps = attemptTimes.slice(1, 5).map((t, i) => t - attemptTimes[i]!);
    [10, 20, 40, 40].forEach((delay, i) => assert.ok(gaps[i]! >= delay * 0.8 - 1, `wait ${i + 1} was ${gaps[i]!.toFixed(1)} ms, expected ≥ ${delay * 0.8} ms (${gaps.map((g) => g.toFixed(1)).join(', ')})`));
    const counted = attemptTimes.length;
    await new Promise((resolve) => setTimeout(resolve, 120));
    const attempts = attemptTimes.length;
    assert.equal(attempts, counted, 'close() must stop reconnecting');
  });
});

describe('in-process and HTTP transports agree', () => {
  let server: ApiServer;
  let http: HttpApi;
  let local: TroveApi;

  before(async () => {
    const events = createEventDouble();
    const handlers = createApiDouble().handlers;
    server = await startApiServer({ handlers, events, media: createMediaDouble(new Map(), []) });
    http = createHttpApi({ baseUrl: server.url, token: server.token, WebSocket: NodeWebSocket });
    local = createInProcessApi(handlers, events);
  });
  after(async () => {
    http.close();
    await server.close();
  });

  const cases: [ApiMethod, unknown][] = [
    ['status.get', {}],
    ['status.get', { extra: 1 }],
    ['roots.list', {}],
    ['roots.add', { path: '/a', exclude: ['*.tmp'] }],
    ['roots.add', { path: '' }],
    ['roots.remove', { id: 42 }],
    ['indexing.pause', {}],
    ['search.run', { text: 'cat', limit: 1 }],
    ['search.run', { image: { dataBase64: 'AAAA', mime: 'image/png' } }],
    ['search.run', { image: { dataBase64: 'AAAA', mime: 'text/plain' } }],
    ['search.run', {}],
    ['items.get', { id: 7 }],
    ['items.get', { id: 8 }],
    ['items.get', { id: 13 }],
    ['items.get', { id: 666 }],
    ['files.failures', { limit: 5 }],
    ['files.failures', { limit: 0 }],
    ['files.open', { itemId: 7 }],
    ['no.such' as ApiMethod, {}],
  ];

  for (const [method, params] of cases) {
    it(`${method} ${JSON.stringify(params)}`, async () => {
      // Sequential: the handlers double is stateful (roots.add) and both transports share it.
      const viaHttp = await outcomeOf(http, method, params);
      const inProcess = await outcomeOf(local, method, params);
      if (method === 'roots.add' && (viaHttp as { ok: boolean }).ok) {
        // The same root added twice gets the next id; everything else must match.
        const a = viaHttp as { result: { id: number } };
        const b = inProcess as { result: { id: number } };
        assert.equal(b.result.id, a.result.id + 1);
        b.result.id = a.result.id;
      }
      assert.deepEqual(inProcess, viaHttp);
    });
  }

  it('both deliver the same validated events', async () => {
    const events = createEventDouble();
    const local2 = createInProcessApi(createApiDouble().handlers, events);
    const invalid: string[] = [];
    const strict = createInProcessApi(createApiDouble().handlers, events, { onInvalidEvent: (event) => invalid.push(event) });
    const got: unknown[] = [];
    local2.on('roots.changed', (roots) => got.push(roots));
    strict.on('roots.changed', () => {});
    events.emit('roots.changed', [{ id: 1, path: '/a', include: [], exclude: [], present: true, addedAt: 1 }]);
    events.emit('roots.changed', [{ id: 'one' }]);
    assert.equal(got.length, 1);
    assert.deepEqual(invalid, ['roots.changed']);
    assert.throws(() => local2.on('nope' as never, () => {}), /unknown API event/);
  });
});

describe('tokenFromLocation', () => {
  it('reads the token from the fragment and removes it from the address bar', () => {
    const replaced: string[] = [];
    const history = { state: { a: 1 }, replaceState: (_: unknown, __: string, url?: string) => void replaced.push(url ?? '') };
    assert.equal(tokenFromLocation({ hash: '#token=abc_123', pathname: '/', search: '' }, history), 'abc_123');
    assert.equal(tokenFromLocation({ hash: '#view=grid&token=xyz', pathname: '/search', search: '?q=cat' }, history), 'xyz');
    assert.deepEqual(replaced, ['/', '/search?q=cat#view=grid']);
    assert.equal(tokenFromLocation({ hash: '', pathname: '/', search: '' }, history), null);
    assert.equal(replaced.length, 2);
  });
});
