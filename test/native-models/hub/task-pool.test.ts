import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runPool } from '../../../native-models/hub/common/task-pool.ts';

const tick = () => new Promise((resolve) => setImmediate(resolve));

test('runPool runs at most `concurrency` tasks at once and all of them', async () => {
  let running = 0;
  let peak = 0;
  const done: number[] = [];
  await runPool([1, 2, 3, 4, 5, 6, 7], 3, new AbortController(), async (n) => {
    running += 1;
    peak = Math.max(peak, running);
    for (let i = 0; i < n; i++) await tick();
    running -= 1;
    done.push(n);
  });
  assert.equal(peak, 3);
  assert.deepEqual(done.sort(), [1, 2, 3, 4, 5, 6, 7]);
});

test('runPool: the first failure aborts the rest and is rethrown only once every started task has stopped', async () => {
  const controller = new AbortController();
  const started: number[] = [];
  let stillRunning = 0;
  const failure = new Error('file 2 failed');
  await assert.rejects(
    runPool([1, 2, 3, 4, 5, 6], 2, controller, async (n) => {
      started.push(n);
      stillRunning += 1;
      try {
        if (n === 2) throw failure;
        // A download that notices the abort only after a while (it is writing).
        while (!controller.signal.aborted) await tick();
        for (let i = 0; i < 5; i++) await tick();
      } finally {
        stillRunning -= 1;
      }
    }),
    (error: unknown) => {
      assert.equal(error, failure);
      assert.equal(stillRunning, 0, 'no task may still be running when the error reaches the caller');
      return true;
    },
  );
  assert.equal(controller.signal.aborted, true);
  assert.deepEqual(started.sort(), [1, 2], 'nothing started after the failure');
});
