import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TroveEngine } from '../../electron/engine/app/node/trove-engine-types.ts';
import { serveEngineHost } from '../../electron/shell/electron-utility/engine-host-core.ts';
import { EngineSupervisor } from '../../electron/shell/electron-main/engine-supervisor.ts';
import type { EngineStatus } from '../../electron/shell/common/shell-events.ts';
import { createFakeEngineProcess, type FakeEngineProcess } from '../support/fake-engine-port.ts';

const root = { id: 1, path: '/photos', include: [], exclude: [], present: true, addedAt: 1 };

function engineWith(generation: number): TroveEngine {
  return {
    handlers: { 'roots.list': async () => [{ ...root, id: generation }] } as unknown as TroveEngine['handlers'],
    media: { thumbnail: async () => null, filePath: async () => null, rootPaths: async () => [] },
    on: () => () => undefined,
    idle: async () => undefined,
    close: async () => undefined,
  };
}

/** Spawns fake hosts; `failOpen` makes the nth spawn (1-based) fail to open its engine. */
function harness(opts: { failOpen?: number[]; backoffMs?: number[]; readyWaitMs?: number } = {}) {
  const processes: FakeEngineProcess[] = [];
  const statuses: EngineStatus[] = [];
  const supervisor = new EngineSupervisor({
    spawn: () => {
      const proc = createFakeEngineProcess();
      const generation = processes.push(proc);
      serveEngineHost(proc.host, {
        openEngine: async () => {
          if (opts.failOpen?.includes(generation)) throw new Error(`database locked (spawn ${generation})`);
          return engineWith(generation);
        },
        exit: (code) => proc.exit(code),
      });
      return proc.main;
    },
    startOptions: { dataDir: '/data' },
    backoffMs: opts.backoffMs ?? [10, 20, 40],
    readyWaitMs: opts.readyWaitMs ?? 2_000,
    onStatus: (status) => statuses.push(status),
  });
  return { supervisor, processes, statuses };
}

const rootIdOf = (outcome: { ok: boolean; result?: unknown }): number => (outcome.ok ? (outcome.result as { id: number }[])[0]!.id : -1);

test('a crashed engine is restarted and the window is told', async () => {
  const { supervisor, processes, statuses } = harness();
  supervisor.start();
  assert.equal(rootIdOf(await supervisor.call('roots.list', {})), 1);
  processes[0]!.exit(139);
  // A call made while it restarts waits for the new process instead of failing.
  const during = await supervisor.call('roots.list', {});
  assert.equal(rootIdOf(during), 2);
  assert.equal(processes.length, 2);
  const states = statuses.map((s) => s.state);
  assert.deepEqual(states, ['starting', 'ready', 'restarting', 'starting', 'ready']);
  const restarting = statuses.find((s) => s.state === 'restarting');
  assert.match(restarting!.message, /exit code 139/);
  await supervisor.stop();
  assert.equal(supervisor.status.state, 'stopped');
});

test('back-off grows between failed starts and the reason is reported', async () => {
  const { supervisor, processes, statuses } = harness({ failOpen: [1, 2, 3] });
  supervisor.start();
  const outcome = await supervisor.call('roots.list', {});
  assert.equal(rootIdOf(outcome), 4, 'the fourth process opened');
  const restarts = statuses.filter((s): s is Extract<EngineStatus, { state: 'restarting' }> => s.state === 'restarting');
  assert.deepEqual(restarts.map((s) => s.retryInMs), [10, 20, 40]);
  assert.deepEqual(restarts.map((s) => s.attempt), [1, 2, 3]);
  assert.match(restarts[0]!.message, /database locked \(spawn 1\)/);
  assert.equal(processes.length, 4);
  await supervisor.stop();
});

test('calls give up with unavailable when the engine does not come back in time', async () => {
  const { supervisor } = harness({ failOpen: [1, 2, 3, 4, 5, 6], backoffMs: [1_000], readyWaitMs: 50 });
  supervisor.start();
  const outcome = await supervisor.call('roots.list', {});
  assert.equal(outcome.ok, false);
  assert.equal(!outcome.ok && outcome.error.code, 'unavailable');
  assert.equal(await supervisor.thumbnail(1), null);
  await supervisor.stop();
});

test('stop shuts the engine down and does not restart it', async () => {
  const { supervisor, processes } = harness();
  supervisor.start();
  await supervisor.call('roots.list', {});
  await supervisor.stop();
  assert.equal(processes[0]!.exited, true);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(processes.length, 1);
  const after = await supervisor.call('roots.list', {});
  assert.equal(!after.ok && after.error.code, 'unavailable');
});
