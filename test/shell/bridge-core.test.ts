import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TROVE_IPC_CHANNELS } from '../../electron/contract/common/bridge.ts';
import { createTroveBridge, type IpcRendererLike } from '../../electron/shell/electron-preload/bridge-core.ts';

function fakeIpc(answer: (channel: string, args: unknown[]) => unknown) {
  const invoked: [string, unknown[]][] = [];
  const listeners = new Map<string, (event: unknown, message: unknown) => void>();
  const ipc: IpcRendererLike = {
    invoke: async (channel, ...args) => {
      invoked.push([channel, args]);
      return answer(channel, args);
    },
    on: (channel, listener) => void listeners.set(channel, listener),
  };
  return { ipc, invoked, push: (message: unknown) => listeners.get(TROVE_IPC_CHANNELS.event)?.({ sender: 'ipc internals' }, message) };
}

test('call sends known methods on the call channel and returns the outcome', async () => {
  const fake = fakeIpc(() => ({ ok: true, result: [] }));
  const bridge = createTroveBridge(fake.ipc);
  assert.deepEqual(await bridge.call('roots.list', {}), { ok: true, result: [] });
  assert.deepEqual(fake.invoked, [[TROVE_IPC_CHANNELS.call, ['roots.list', {}]]]);
});

test('unknown methods are refused before anything is sent', async () => {
  const fake = fakeIpc(() => ({ ok: true, result: null }));
  const bridge = createTroveBridge(fake.ipc);
  for (const method of ['shell.openExternal', '__proto__', 'constructor', 'toString']) {
    const outcome = await bridge.call(method, {});
    assert.equal(outcome.ok, false, method);
    assert.equal(!outcome.ok && outcome.error.code, 'unknown-method');
  }
  assert.equal(fake.invoked.length, 0);
});

test('a broken or throwing shell becomes an error outcome', async () => {
  const odd = createTroveBridge(fakeIpc(() => 'surprise').ipc);
  const outcome = await odd.call('status.get', {});
  assert.equal(!outcome.ok && outcome.error.code, 'failed');
  const throwing = createTroveBridge(fakeIpc(() => Promise.reject(new Error('No handler registered'))).ipc);
  const failed = await throwing.call('status.get', {});
  assert.equal(!failed.ok && failed.error.code, 'unavailable');
});

test('events reach only their listeners, as bare payloads, until unsubscribed', () => {
  const fake = fakeIpc(() => null);
  const bridge = createTroveBridge(fake.ipc);
  const got: unknown[][] = [];
  const off = bridge.on('library.changed', (...args) => got.push(args));
  bridge.on('engine.status', () => got.push(['status']));
  fake.push({ event: 'library.changed', payload: { indexed: 1, removed: 0 } });
  fake.push({ event: 'roots.changed', payload: [] });
  fake.push('garbage');
  fake.push({ event: 42 });
  fake.push({ event: 'engine.status', payload: { state: 'ready' } });
  off();
  fake.push({ event: 'library.changed', payload: { indexed: 2, removed: 0 } });
  assert.deepEqual(got, [[{ indexed: 1, removed: 0 }], ['status']]);
  assert.throws(() => bridge.on('ipc-internal', () => undefined), /unknown Trove event/);
});

test('the bridge is frozen and exposes only call and on', () => {
  const bridge = createTroveBridge(fakeIpc(() => null).ipc);
  assert.deepEqual(Object.keys(bridge).sort(), ['call', 'on']);
  assert.ok(Object.isFrozen(bridge));
});
