// The controller when the link to the engine drops and comes back (the WebSocket over HTTP, an
// engine restart inside Electron): the banner state, and a reload of everything events would have
// changed meanwhile, taking a restarted engine's models state even if its clock reads earlier.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ApiMethod } from '../../electron/contract/common/api-methods.ts';
import type { ModelsState } from '../../electron/contract/common/model-setup.ts';
import type { TroveApi } from '../../electron/contract/common/trove-api.ts';
import { current, initialState } from '../../renderer/src/state/app-state.ts';
import { createController } from '../../renderer/src/state/controller.ts';
import { createStore } from '../../renderer/src/state/store.ts';
import { modelsStateFixture, statusFixture } from '../support/api-double.ts';

test('a dropped link shows as lost, and coming back reloads status, folders and models', async () => {
  const calls: ApiMethod[] = [];
  let engineStatus: (payload: unknown) => void = () => {};
  let models: ModelsState = { ...modelsStateFixture(), asOf: 5_000 };
  const api = {
    async call(method: ApiMethod) {
      calls.push(method);
      if (method === 'status.get') return statusFixture();
      if (method === 'roots.list') return [];
      if (method === 'models.state') return models;
      throw new Error(`unexpected call ${method}`);
    },
    on(event: string, listener: (payload: unknown) => void) {
      if (event === 'engine.status') engineStatus = listener;
      return () => {};
    },
  } as unknown as TroveApi;
  let link: (connected: boolean) => void = () => {};
  const store = createStore(initialState('system'));
  const controller = createController(api, store, (listener) => {
    link = listener;
    listener(true);
    return () => {};
  });
  const stop = controller.start();
  const settled = () => new Promise((resolve) => setTimeout(resolve, 0));
  await settled();
  assert.equal(store.getState().link, 'up');
  assert.deepEqual(calls.sort(), ['models.state', 'roots.list', 'status.get']);

  calls.length = 0;
  const why = 'The engine stopped unexpectedly (exit code 139). Restarting in 1 s; searches and indexing resume after that.';
  engineStatus({ state: 'restarting', message: why, attempt: 1, retryInMs: 1000 });
  link(false);
  assert.equal(store.getState().link, 'lost', 'the banner shows while the engine is away');
  assert.equal(store.getState().engineMessage, why, 'with the shell’s words on why and when');
  // The engine came back as a new process whose clock reads earlier: its state is still taken.
  models = { ...modelsStateFixture(), asOf: 1_000, declined: true };
  engineStatus({ state: 'ready', message: 'Ready.' });
  link(true);
  await settled();
  assert.equal(store.getState().link, 'up');
  assert.equal(store.getState().engineMessage, null);
  assert.deepEqual(calls.sort(), ['models.state', 'roots.list', 'status.get'], 'everything events would have changed is read again');
  assert.equal(current(store.getState().models)?.declined, true, 'the restarted engine’s models state replaces the old one');
  stop();
});
