import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import type { ApiHandlers } from '../../electron/contract/common/trove-api.ts';
import type { EngineOptions, TroveEngine } from '../../electron/engine/app/node/trove-engine-types.ts';
import { serveEngineHost } from '../../electron/shell/electron-utility/engine-host-core.ts';
import { EngineClient } from '../../electron/shell/common/engine-protocol.ts';
import { createFakeEngineProcess } from '../support/fake-engine-port.ts';

const root = { id: 1, path: '/photos', include: [], exclude: [], present: true, addedAt: 1 };

/** A fake engine with just enough handlers; anything else throws as a real engine bug would. */
function fakeEngine(overrides: Partial<ApiHandlers> = {}) {
  const listeners = new Map<string, Set<(p: unknown) => void>>();
  let closed = false;
  const handlers = new Proxy(
    {
      'roots.list': async () => [root],
      'roots.add': async (p: { path: string }) => ({ ...root, path: p.path }),
      'indexing.pause': async () => ({ ok: true as const }),
      ...overrides,
    } as Partial<ApiHandlers>,
    { get: (target, key) => (target as Record<string | symbol, unknown>)[key] ?? (async () => Promise.reject(new Error(`not in the fake: ${String(key)}`))) },
  ) as ApiHandlers;
  const engine: TroveEngine = {
    handlers,
    media: {
      thumbnail: async (id) => (id === 1 ? { mime: 'image/webp', bytes: new Uint8Array([9, 8, 7]) } : null),
      filePath: async (id) => (id === 1 ? '/photos/a.jpg' : null),
      rootPaths: async () => ['/photos'],
    },
    on(event, listener) {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(listener as (p: unknown) => void);
      return () => set.delete(listener as (p: unknown) => void);
    },
    idle: async () => undefined,
    close: async () => {
      closed = true;
    },
  };
  return { engine, emit: (event: string, payload: unknown) => listeners.get(event)?.forEach((l) => l(payload)), isClosed: () => closed };
}

function connect(engine: TroveEngine, opts: { timeoutMs?: number; exitOnShutdown?: boolean } = {}) {
  const proc = createFakeEngineProcess();
  const opened: EngineOptions[] = [];
  const exits: number[] = [];
  serveEngineHost(proc.host, {
    openEngine: async (options) => {
      opened.push(options);
      return engine;
    },
    exit: (code) => {
      exits.push(code);
      if (opts.exitOnShutdown !== false) proc.exit(code);
    },
  });
  const client = new EngineClient(proc.main, { dataDir: '/data', watch: true }, { timeoutMs: opts.timeoutMs ?? 2_000 });
  return { proc, client, opened, exits };
}

test('start, call, validation on receipt in the host', async () => {
  const fake = fakeEngine();
  const { client, opened } = connect(fake.engine);
  await client.ready;
  assert.deepEqual(opened, [{ dataDir: '/data', watch: true }]);
  assert.deepEqual(await client.call('roots.list', {}), { ok: true, result: [root] });
  // zod defaults applied by dispatchApiCall in the host:
  const added = await client.call('roots.add', { path: '/more' });
  assert.equal(added.ok, true);
  const invalid = await client.call('roots.add', { path: 42 });
  assert.equal(invalid.ok, false);
  assert.equal(!invalid.ok && invalid.error.code, 'invalid-params');
  const unknown = await client.call('shell.exec', { cmd: 'rm -rf /' });
  assert.equal(!unknown.ok && unknown.error.code, 'unknown-method');
  const failing = await client.call('status.get', {});
  assert.equal(!failing.ok && failing.error.code, 'failed');
  assert.match(!failing.ok ? failing.error.message : '', /not in the fake/);
  assert.equal(client.pendingCount, 0);
});

test('replies are matched by id even when they come back out of order', async () => {
  let release!: () => void;
  const slow = new Promise<void>((resolve) => (release = resolve));
  const fake = fakeEngine({
    'roots.list': async () => {
      await slow;
      return [root];
    },
  });
  const { client } = connect(fake.engine);
  const first = client.call('roots.list', {});
  const second = client.call('indexing.pause', {});
  assert.deepEqual(await second, { ok: true, result: { ok: true } });
  release();
  assert.deepEqual(await first, { ok: true, result: [root] });
});

test('media lookups and pushed events', async () => {
  const fake = fakeEngine();
  const { client } = connect(fake.engine);
  await client.ready;
  const thumb = await client.thumbnail(1);
  assert.equal(thumb?.mime, 'image/webp');
  assert.deepEqual([...thumb!.bytes], [9, 8, 7]);
  assert.equal(await client.thumbnail(2), null);
  assert.equal(await client.filePath(1), '/photos/a.jpg');
  assert.equal(await client.filePath(2), null);
  assert.deepEqual(await client.rootPaths(), ['/photos']);
  const events: [string, unknown][] = [];
  client.onEvent((event, payload) => events.push([event, payload]));
  fake.emit('library.changed', { indexed: 3, removed: 0 });
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(events, [['library.changed', { indexed: 3, removed: 0 }]]);
});

test('a request with no answer times out as unavailable, and the late answer is dropped', async () => {
  const fake = fakeEngine({ 'roots.list': () => new Promise(() => undefined) });
  const { client } = connect(fake.engine, { timeoutMs: 50 });
  const outcome = await client.call('roots.list', {});
  assert.equal(!outcome.ok && outcome.error.code, 'unavailable');
  assert.match(!outcome.ok ? outcome.error.message : '', /did not answer roots\.list/);
  assert.equal(client.pendingCount, 0);
});

test('a crash fails every pending request at once and later calls answer at once', async () => {
  const fake = fakeEngine({ 'roots.list': () => new Promise(() => undefined) });
  const { client, proc } = connect(fake.engine, { timeoutMs: 60_000 });
  await client.ready;
  const pending = [client.call('roots.list', {}), client.call('roots.list', {})];
  await new Promise((r) => setTimeout(r, 5));
  proc.exit(134);
  for (const outcome of await Promise.all(pending)) {
    assert.equal(!outcome.ok && outcome.error.code, 'unavailable');
    assert.match(!outcome.ok ? outcome.error.message : '', /exit code 134/);
  }
  assert.equal(await client.thumbnail(1), null, 'media lookups after the exit answer null at once');
  assert.equal(await client.exit, 134);
  const after = await client.call('roots.list', {});
  assert.equal(!after.ok && after.error.code, 'unavailable');
});

test('an engine that fails to open reports it and exits', async () => {
  const proc = createFakeEngineProcess();
  const exits: number[] = [];
  serveEngineHost(proc.host, {
    openEngine: async () => Promise.reject(new Error('the data folder /data is in use by another Trove engine (pid 7)')),
    exit: (code) => {
      exits.push(code);
      proc.exit(code);
    },
  });
  const client = new EngineClient(proc.main, { dataDir: '/data' });
  await assert.rejects(client.ready, /in use by another Trove engine/);
  assert.equal(await client.exit, 1);
  assert.deepEqual(exits, [1]);
});

test('shutdown closes the engine and waits for the exit; a stuck host is killed', async () => {
  const fake = fakeEngine();
  const { client, exits } = connect(fake.engine);
  await client.ready;
  await client.shutdown(1_000);
  assert.equal(fake.isClosed(), true);
  assert.deepEqual(exits, [0]);

  const stuck = connect(fakeEngine().engine, { exitOnShutdown: false });
  await stuck.client.ready;
  await stuck.client.shutdown(30);
  assert.equal(stuck.proc.killed, true);
});

test('calls before the engine is open are answered unavailable by the host', async () => {
  const proc = createFakeEngineProcess();
  let open!: (e: TroveEngine) => void;
  serveEngineHost(proc.host, { openEngine: () => new Promise((r) => (open = r)), exit: () => undefined });
  const client = new EngineClient(proc.main, { dataDir: '/data' });
  const early = await client.call('roots.list', {});
  assert.equal(!early.ok && early.error.code, 'unavailable');
  open(fakeEngine().engine);
  await client.ready;
  assert.equal((await client.call('roots.list', {})).ok, true);
  // Every message main sent was structured-clone safe (the fake clones them like Electron does).
  assert.ok(z.array(z.object({ type: z.string() })).parse(proc.sent).length >= 2);
});
