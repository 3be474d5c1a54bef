// The watcher's delivery part alone (library/common/watch-delivery.ts, watch-problems.ts): events
// reach the handler one at a time and in order, a failing handler hears of it once, and problems
// say what to do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventDelivery } from '../../../electron/engine/library/common/watch-delivery.ts';
import type { WatcherEvent } from '../../../electron/engine/library/common/watch-events.ts';
import { watchProblem } from '../../../electron/engine/library/common/watch-problems.ts';
import { settle } from '../../support/fake-clock.ts';

const batch = (n: number): WatcherEvent => ({ type: 'batch', root: '/r', changes: [{ type: 'removed', path: `/r/${n}`, relativePath: String(n) }] });

test('events reach the handler one at a time, in order', async () => {
  const seen: string[] = [];
  let inHandler = 0;
  let mostAtOnce = 0;
  const delivery = new EventDelivery({
    root: '/r',
    isClosed: () => false,
    onEvent: async (event) => {
      inHandler += 1;
      mostAtOnce = Math.max(mostAtOnce, inHandler);
      // Earlier events take longer: out-of-order delivery would show.
      const n = event.type === 'batch' ? Number(event.changes[0]!.relativePath) : 0;
      for (let i = 0; i < 5 - n; i += 1) await settle();
      seen.push(event.type === 'batch' ? `batch ${n}` : event.type);
      inHandler -= 1;
    },
  });
  for (let n = 0; n < 5; n += 1) void delivery.deliver(batch(n));
  void delivery.deliver({ type: 'root-missing', root: '/r' });
  await delivery.idle();
  assert.deepEqual(seen, ['batch 0', 'batch 1', 'batch 2', 'batch 3', 'batch 4', 'root-missing']);
  assert.equal(mostAtOnce, 1);
});

test('a handler that fails hears of it once, as a problem asking for a rescan, and delivery goes on', async () => {
  const seen: WatcherEvent[] = [];
  let failing = true;
  const delivery = new EventDelivery({
    root: '/r',
    isClosed: () => false,
    onEvent: (event) => {
      seen.push(event);
      if (failing && event.type === 'batch') throw new Error('database is locked');
    },
  });
  await delivery.deliver(batch(1)); // never rejects
  assert.equal(seen.length, 2);
  const problem = seen[1]!;
  assert.ok(problem.type === 'problem');
  assert.equal(problem.code, 'EHANDLER');
  assert.equal(problem.needsRescan, true);
  assert.equal(problem.message, "Handling a 'batch' event failed: database is locked. Rescan the folder.");
  failing = false;
  await delivery.deliver(batch(2));
  assert.equal(seen.length, 3);

  // A handler failing on problems too: told once, then nothing more is said, nothing thrown.
  const calls: string[] = [];
  const quiet = new EventDelivery({
    root: '/r',
    isClosed: () => false,
    onEvent: (event) => {
      calls.push(event.type);
      throw new Error('always');
    },
  });
  await quiet.deliver(batch(3));
  assert.deepEqual(calls, ['batch', 'problem']);
  await quiet.deliver(watchProblem(new Error('EMFILE'), '/r', null));
  assert.deepEqual(calls, ['batch', 'problem', 'problem'], 'a failed problem is not reported as another problem');
});

test('nothing is delivered once the watcher is closed', async () => {
  const seen: WatcherEvent[] = [];
  let closed = false;
  const delivery = new EventDelivery({ root: '/r', isClosed: () => closed, onEvent: (event) => void seen.push(event) });
  await delivery.deliver(batch(1));
  closed = true;
  await delivery.deliver(batch(2));
  assert.equal(seen.length, 1);
});

test('problems say what happened and what to do, and whether a rescan is needed', () => {
  const enospc = watchProblem(Object.assign(new Error('ENOSPC: System limit for number of file watchers reached'), { code: 'ENOSPC' }), '/home/a/Photos', '/home/a/Photos/2024');
  assert.ok(enospc.type === 'problem');
  assert.equal(enospc.code, 'ENOSPC');
  assert.equal(enospc.needsRescan, true);
  assert.equal(enospc.path, '/home/a/Photos/2024');
  assert.match(enospc.message, /fs\.inotify\.max_user_watches=524288/);
  assert.match(enospc.message, /\(ENOSPC: System limit/);

  const denied = watchProblem(Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' }), '/r', '/r/private');
  assert.ok(denied.type === 'problem');
  assert.equal(denied.needsRescan, false);
  assert.match(denied.message, /^Cannot watch '\/r\/private': permission denied\. Grant read access to it or exclude it\./);

  const unknown = watchProblem('something odd', '/r', null);
  assert.ok(unknown.type === 'problem');
  assert.equal(unknown.code, 'EUNKNOWN');
  assert.equal(unknown.path, null);
  assert.equal(unknown.needsRescan, true);
  assert.match(unknown.message, /^Watching '\/r' failed \(EUNKNOWN\)\. Rescan the folder/);
});
