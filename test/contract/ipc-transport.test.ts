// The renderer's IPC transport over a TroveBridge double built the way the preload and main
// process will build it (settleApiCall on the main side), plus the shared media URL shape.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { settleApiCall } from '../../electron/contract/common/api-call-outcome.ts';
import { parseTroveMediaUrl, troveMediaUrl, type TroveBridge } from '../../electron/contract/common/bridge.ts';
import { ApiError } from '../../electron/contract/common/trove-api.ts';
import { createIpcApi } from '../../electron/contract/browser/ipc-transport.ts';
import { createApiDouble, createEventDouble, statusFixture } from '../support/api-double.ts';

function bridgeOver(): { bridge: TroveBridge; emit: (event: string, payload: unknown) => void } {
  const { handlers } = createApiDouble();
  const events = createEventDouble();
  return {
    // structuredClone stands in for Electron's IPC serialisation.
    bridge: {
      call: async (method, params) => structuredClone(await settleApiCall(handlers, method, structuredClone(params))),
      on: (event, listener) => events.on(event as never, (payload) => listener(structuredClone(payload))),
    },
    emit: (event, payload) => events.emit(event, payload),
  };
}

describe('ipc transport', () => {
  it('returns validated results and throws ApiErrors from error outcomes', async () => {
    const api = createIpcApi(bridgeOver().bridge);
    assert.deepEqual(await api.call('status.get', {}), statusFixture());
    await assert.rejects(api.call('items.get', { id: 8 }), (error: unknown) => error instanceof ApiError && error.code === 'not-found');
    await assert.rejects(api.call('roots.add', { path: '' }), (error: unknown) => error instanceof ApiError && error.code === 'invalid-params');
  });

  it('turns a failing bridge into an unavailable error and a malformed answer into failed', async () => {
    const broken = createIpcApi({ call: async () => Promise.reject(new Error('An object could not be cloned')), on: () => () => {} });
    await assert.rejects(broken.call('status.get', {}), (error: unknown) => error instanceof ApiError && error.code === 'unavailable' && /could not be cloned/.test(error.message));
    const lying = createIpcApi({ call: async () => ({ ok: true, result: { nope: 1 } }), on: () => () => {} });
    await assert.rejects(lying.call('status.get', {}), (error: unknown) => error instanceof ApiError && error.code === 'failed');
  });

  it('delivers valid events, drops invalid ones, and unsubscribes', () => {
    const { bridge, emit } = bridgeOver();
    const dropped: string[] = [];
    const api = createIpcApi(bridge, { onInvalidEvent: (event) => dropped.push(event) });
    const seen: unknown[] = [];
    const off = api.on('library.changed', (payload) => seen.push(payload));
    emit('library.changed', { indexed: 1, removed: 0 });
    emit('library.changed', { indexed: -0.5 });
    off();
    emit('library.changed', { indexed: 2, removed: 0 });
    assert.deepEqual(seen, [{ indexed: 1, removed: 0 }]);
    assert.deepEqual(dropped, ['library.changed']);
    assert.throws(() => api.on('constructor' as never, () => {}), /unknown API event/);
  });

  it('reports the link down while the shell restarts the engine, and up once it is ready', () => {
    const { bridge, emit } = bridgeOver();
    const api = createIpcApi(bridge);
    const states: boolean[] = [];
    const off = api.onConnectionChange((up) => states.push(up));
    assert.deepEqual(states, [true], 'up from the start');
    emit('engine.status', { state: 'restarting', message: 'The engine stopped; restarting.', attempt: 1, retryInMs: 500 });
    emit('engine.status', { state: 'starting', message: 'Starting the engine.' });
    emit('engine.status', { state: 'ready', message: 'Ready.' });
    emit('engine.status', { state: 'ready', message: 'Ready.' });
    emit('engine.status', { state: 'stopped', message: 'The engine was shut down.' });
    off();
    emit('engine.status', { state: 'ready', message: 'Ready.' });
    assert.deepEqual(states, [true, false, true, false], 'one change per change, none after unsubscribing');
  });

  it('builds trove:// media URLs the shell can parse back, and nothing else parses', () => {
    const api = createIpcApi(bridgeOver().bridge);
    assert.equal(api.mediaUrl('file', 12), 'trove://media/file/12');
    assert.deepEqual(parseTroveMediaUrl(troveMediaUrl('thumb', 7)), { kind: 'thumb', itemId: 7 });
    for (const url of ['trove://media/file/../1', 'trove://media/file/1?x', 'trove://media/raw/1', 'trove://media/file/-1', 'file:///etc/passwd']) {
      assert.equal(parseTroveMediaUrl(url), null, url);
    }
  });
});
