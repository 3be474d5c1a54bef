// trove serve's HTTP + WebSocket server: the call route, its error cases, and every security rule
// (token, Host, Origin, no CORS, loopback only, body limit) checked over real sockets.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import os from 'node:os';
import { startApiServer, type ApiServer } from '../../electron/server/node/api-server.ts';
import { createApiDouble, createEventDouble, createMediaDouble, statusFixture } from '../support/api-double.ts';
import { callRaw, nextMessage, rawRequest, tryWebSocket } from './http-helpers.ts';

function assertNoCors(headers: Record<string, unknown>): void {
  const cors = Object.keys(headers).filter((name) => name.toLowerCase().startsWith('access-control-'));
  assert.deepEqual(cors, [], `no Access-Control-* header may be sent, got ${cors.join(', ')}`);
}

describe('api server', () => {
  let server: ApiServer;
  const events = createEventDouble();
  const logged: string[] = [];

  before(async () => {
    server = await startApiServer({
      handlers: createApiDouble().handlers,
      events,
      media: createMediaDouble(new Map(), []),
      maxBodyBytes: 64 * 1024,
      log: (line) => logged.push(line),
    });
  });
  after(async () => {
    await server.close();
  });

  it('prints a loopback URL carrying the token in the fragment', () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/#token=[A-Za-z0-9_-]{43}$/);
    assert.equal(server.url, `http://127.0.0.1:${server.port}/#token=${server.token}`);
  });

  it('round-trips a call with validated params and result', async () => {
    const response = await callRaw(server.port, server.token, { method: 'status.get', params: {} });
    assert.equal(response.status, 200);
    assert.match(String(response.headers['content-type']), /^application\/json/);
    assert.equal(response.headers['cache-control'], 'no-store');
    assert.deepEqual(JSON.parse(response.body.toString()), { ok: true, result: statusFixture() });
  });

  it('applies the contract defaults before the handler runs', async () => {
    const response = await callRaw(server.port, server.token, { method: 'files.failures', params: {} });
    const body = JSON.parse(response.body.toString());
    assert.equal(body.result.failures[0].path, '/broken-100-0.png');
  });

  it('answers invalid params, unknown methods and handler failures as error data with HTTP 200', async () => {
    const invalid = await callRaw(server.port, server.token, { method: 'items.get', params: { id: 'seven' } });
    assert.equal(invalid.status, 200);
    const invalidBody = JSON.parse(invalid.body.toString());
    assert.equal(invalidBody.ok, false);
    assert.equal(invalidBody.error.code, 'invalid-params');
    assert.match(invalidBody.error.message, /^items\.get: id:/);

    const unknown = JSON.parse((await callRaw(server.port, server.token, { method: 'files.delete', params: {} })).body.toString());
    assert.deepEqual(unknown, { ok: false, error: { code: 'unknown-method', message: "unknown API method 'files.delete'" } });

    const notFound = JSON.parse((await callRaw(server.port, server.token, { method: 'items.get', params: { id: 8 } })).body.toString());
    assert.deepEqual(notFound.error, { code: 'not-found', message: 'no item 8' });

    const thrown = JSON.parse((await callRaw(server.port, server.token, { method: 'items.get', params: { id: 666 } })).body.toString());
    assert.deepEqual(thrown.error, { code: 'failed', message: 'the store is on fire' });

    const broken = JSON.parse((await callRaw(server.port, server.token, { method: 'items.get', params: { id: 13 } })).body.toString());
    assert.equal(broken.error.code, 'failed');
    assert.match(broken.error.message, /produced an invalid result/);
  });

  it('refuses malformed bodies with 400 and bodies over the limit with 413', async () => {
    assert.equal((await callRaw(server.port, server.token, '{"method": "status.get",')).status, 400);
    assert.equal((await callRaw(server.port, server.token, '[1, 2]')).status, 400);
    assert.equal((await callRaw(server.port, server.token, { params: {} })).status, 400);
    const big = JSON.stringify({ method: 'search.run', params: { image: { dataBase64: 'A'.repeat(70 * 1024), mime: 'image/png' } } });
    const declared = await callRaw(server.port, server.token, big);
    assert.equal(declared.status, 413);
    // Chunked (no Content-Length): counted while streaming.
    const chunked = await callRaw(server.port, server.token, big, { 'transfer-encoding': 'chunked' });
    assert.equal(chunked.status, 413);
  });

  it('refuses calls without the token, with a wrong one, or with the token in the query', async () => {
    const body = { method: 'status.get', params: {} };
    const missing = await callRaw(server.port, null, body);
    assert.equal(missing.status, 401);
    assert.equal(missing.headers['www-authenticate'], 'Bearer');
    assert.equal((await callRaw(server.port, `${server.token}x`, body)).status, 401);
    assert.equal((await callRaw(server.port, server.token.slice(0, -1), body)).status, 401);
    const inQuery = await rawRequest(server.port, { method: 'POST', path: `/api/call?token=${server.token}`, body: JSON.stringify(body) });
    assert.equal(inQuery.status, 401);
    assert.equal((await rawRequest(server.port, { method: 'GET', path: '/api/call', headers: { authorization: `Bearer ${server.token}` } })).status, 405);
  });

  it('refuses a call from a foreign Origin even with the token', async () => {
    const foreign = await callRaw(server.port, server.token, { method: 'status.get', params: {} }, { origin: 'http://evil.example' });
    assert.equal(foreign.status, 403);
    const own = await callRaw(server.port, server.token, { method: 'status.get', params: {} }, { origin: `http://localhost:${server.port}` });
    assert.equal(own.status, 200);
  });

  it('refuses any Host that is not 127.0.0.1 or localhost with its own port (DNS rebinding)', async () => {
    for (const host of ['evil.example', `evil.example:${server.port}`, `127.0.0.1:${server.port + 1}`, '127.0.0.1', `[::1]:${server.port}`, `0.0.0.0:${server.port}`]) {
      const response = await rawRequest(server.port, { path: '/', headers: { host } });
      assert.equal(response.status, 403, `Host ${host}`);
      const call = await callRaw(server.port, server.token, { method: 'status.get', params: {} }, { host });
      assert.equal(call.status, 403, `call with Host ${host}`);
    }
    assert.equal((await callRaw(server.port, server.token, { method: 'status.get', params: {} }, { host: `LocalHost:${server.port}` })).status, 200);
    const ws = await tryWebSocket(`ws://127.0.0.1:${server.port}/api/events?token=${server.token}`, { headers: { host: `evil.example:${server.port}` } });
    assert.equal(ws.outcome, 403);
  });

  it('sends no CORS headers on any response, preflights included', async () => {
    const responses = [
      await rawRequest(server.port, {
        method: 'OPTIONS',
        path: '/api/call',
        headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
      }),
      await rawRequest(server.port, { method: 'OPTIONS', path: '/media/thumb/1', headers: { origin: 'http://evil.example', 'access-control-request-method': 'GET' } }),
      await callRaw(server.port, server.token, { method: 'status.get', params: {} }, { origin: `http://127.0.0.1:${server.port}` }),
      await callRaw(server.port, null, { method: 'status.get', params: {} }, { origin: 'http://evil.example' }),
      await rawRequest(server.port, { path: '/', headers: { origin: 'http://evil.example' } }),
      await rawRequest(server.port, { path: `/media/thumb/1?token=${server.token}`, headers: { origin: 'http://evil.example' } }),
    ];
    assert.equal(responses[0].status, 405);
    for (const response of responses) {
      assertNoCors(response.headers);
      assert.equal(response.headers['x-content-type-options'], 'nosniff');
      assert.equal(response.headers['referrer-policy'], 'no-referrer');
    }
  });

  it('upgrades the event socket only with the token and an allowed Origin', async () => {
    const base = `ws://127.0.0.1:${server.port}/api/events`;
    assert.equal((await tryWebSocket(base)).outcome, 401);
    assert.equal((await tryWebSocket(`${base}?token=wrong`)).outcome, 401);
    assert.equal((await tryWebSocket(base, { headers: { authorization: `Bearer ${server.token}` } })).outcome, 401);
    assert.equal((await tryWebSocket(`${base}?token=${server.token}`, { origin: 'http://evil.example' })).outcome, 403);
    assert.equal((await tryWebSocket(`${base}?token=${server.token}`, { origin: `http://127.0.0.1:${server.port + 1}` })).outcome, 403);
    assert.equal((await tryWebSocket(`ws://127.0.0.1:${server.port}/api/other?token=${server.token}`)).outcome, 404);
    const own = await tryWebSocket(`${base}?token=${server.token}`, { origin: `http://127.0.0.1:${server.port}` });
    assert.equal(own.outcome, 'open');
    if (own.outcome === 'open') own.socket.close();
  });

  it('pushes contract-valid events to connected sockets and drops invalid ones', async () => {
    const opened = await tryWebSocket(`ws://127.0.0.1:${server.port}/api/events?token=${server.token}`, { origin: `http://localhost:${server.port}` });
    assert.equal(opened.outcome, 'open');
    if (opened.outcome !== 'open') return;
    const first = nextMessage(opened.socket);
    events.emit('library.changed', { indexed: 'lots', removed: 0 });
    events.emit('model.changed', { statement: 'reranker ready' });
    assert.deepEqual(await first, { event: 'model.changed', payload: { statement: 'reranker ready' } });
    assert.ok(logged.some((line) => line.startsWith('dropped event library.changed')));
    opened.socket.close();
  });

  it('keeps the token out of its log lines', () => {
    assert.ok(logged.length > 0);
    for (const line of logged) assert.ok(!line.includes(server.token), line);
  });
});

describe('api server binding and shutdown', () => {
  it('listens on 127.0.0.1 only and refuses to bind anything else', async () => {
    const events = createEventDouble();
    const server = await startApiServer({ handlers: createApiDouble().handlers, events, media: createMediaDouble(new Map(), []) });
    try {
      const external = Object.values(os.networkInterfaces())
        .flat()
        .find((info) => info && info.family === 'IPv4' && !info.internal);
      const reachable = (host: string) =>
        new Promise<boolean>((resolve) => {
          const socket = net.connect({ host, port: server.port }, () => {
            socket.destroy();
            resolve(true);
          });
          socket.on('error', () => resolve(false));
        });
      assert.equal(await reachable('127.0.0.1'), true);
      if (external) assert.equal(await reachable(external.address), false, `reachable on ${external.address}`);
      assert.equal(await reachable('::1'), false);
    } finally {
      await server.close();
    }
    await assert.rejects(
      startApiServer({ handlers: createApiDouble().handlers, events, media: createMediaDouble(new Map(), []), host: '0.0.0.0' as never }),
      /binds 127\.0\.0\.1 only/,
    );
  });

  it('closes gracefully: sockets closed, event listeners removed, port freed', async () => {
    const events = createEventDouble();
    const server = await startApiServer({ handlers: createApiDouble().handlers, events, media: createMediaDouble(new Map(), []) });
    assert.ok(events.listenerCount() > 0);
    const opened = await tryWebSocket(`ws://127.0.0.1:${server.port}/api/events?token=${server.token}`);
    assert.equal(opened.outcome, 'open');
    if (opened.outcome !== 'open') return;
    const closed = new Promise<number>((resolve) => opened.socket.on('close', (code: number) => resolve(code)));
    await server.close();
    assert.equal(await closed, 1001);
    assert.equal(events.listenerCount(), 0);
    await assert.rejects(rawRequest(server.port, { path: '/' }), /ECONNREFUSED/);
    await server.close(); // idempotent
  });
});
