// The watcher's batch part alone (library/common/watch-batches.ts): what several events on one
// path come to, when a flush runs (fake clock), and batches of at most 500 changes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { batchesOf, FlushSchedule, PendingChanges } from '../../../electron/engine/library/common/watch-batches.ts';
import type { FileFacts, WatchChange } from '../../../electron/engine/library/common/watch-events.ts';
import { FakeClock, settle } from '../../support/fake-clock.ts';

const facts = (path: string, size = 1): FileFacts => ({ path, relativePath: path.slice(3), size, mtimeMs: 1, kind: 'text' });

test('pending changes: what several events on one path come to', () => {
  const pending = new PendingChanges();
  // Created and deleted inside one window (a temp file, an aborted copy): nothing.
  pending.present('/r/tmp.md', 'add', facts('/r/tmp.md'), false);
  pending.removed('/r/tmp.md', 'tmp.md', 10);
  // Added, then written again: still an addition, with the latest facts.
  pending.present('/r/new.md', 'add', facts('/r/new.md', 1), false);
  pending.present('/r/new.md', 'change', facts('/r/new.md', 2), false);
  // Removed, then back at the same path: its content was replaced, a change.
  pending.removed('/r/back.md', 'back.md', 20);
  pending.present('/r/back.md', 'add', facts('/r/back.md'), false);
  // Back at a path whose removal was held for pairing: a change too.
  pending.present('/r/held.md', 'add', facts('/r/held.md'), true);
  // Changed, then removed: a removal; removed again: it keeps the time of the first.
  pending.present('/r/gone.md', 'change', facts('/r/gone.md'), false);
  pending.removed('/r/gone.md', 'gone.md', 30);
  pending.removed('/r/gone.md', 'gone.md', 40);
  assert.equal(pending.size, 4);
  assert.equal(pending.has('/r/tmp.md'), false);
  assert.equal(pending.hasPresent(), true);
  const { present, absent } = pending.take();
  assert.deepEqual(
    present.map(([path, p]) => [path, p.firstEvent, p.facts.size]),
    [
      ['/r/new.md', 'add', 2],
      ['/r/back.md', 'change', 1],
      ['/r/held.md', 'change', 1],
    ],
  );
  assert.deepEqual(absent, [['/r/gone.md', { present: false, relativePath: 'gone.md', since: 30 }]]);
  assert.equal(pending.size, 0, 'take empties the list');
  assert.equal(pending.hasPresent(), false);
});

function schedule(options: { canSchedule?: () => boolean; workLeft?: () => boolean; fail?: boolean } = {}) {
  const clock = new FakeClock();
  const flushes: { at: number; finish: () => void }[] = [];
  const errors: unknown[] = [];
  let running = 0;
  let mostAtOnce = 0;
  const flusher = new FlushSchedule({
    intervalMs: 250,
    clock,
    canSchedule: options.canSchedule ?? (() => true),
    workLeft: options.workLeft ?? (() => false),
    onError: (error) => void errors.push(error),
    flush: () =>
      new Promise<void>((resolve, reject) => {
        running += 1;
        mostAtOnce = Math.max(mostAtOnce, running);
        flushes.push({
          at: clock.now(),
          finish: () => {
            running -= 1;
            if (options.fail) reject(new Error('SQLITE_BUSY'));
            else resolve();
          },
        });
      }),
  });
  return { clock, flusher, flushes, errors, mostAtOnce: () => mostAtOnce };
}

test('changes gather for intervalMs, then one flush takes them all', async () => {
  const h = schedule();
  const t0 = h.clock.now();
  for (let i = 0; i < 100; i += 1) {
    h.flusher.soon();
    await h.clock.advance(1);
  }
  await h.clock.advance(149);
  assert.equal(h.flushes.length, 0, '249 ms after the first change');
  await h.clock.advance(1);
  assert.deepEqual(h.flushes.map((f) => f.at - t0), [250]);
  assert.equal(h.flusher.running, true);
  h.flushes[0]!.finish();
  await settle();
  assert.equal(h.flusher.running, false);
  await h.clock.advance(10_000);
  assert.equal(h.flushes.length, 1, 'nothing left: no more flushes');
});

test('a flush asked for while one runs is that one; the work it left gets another, intervalMs later', async () => {
  let left = true;
  const h = schedule({ workLeft: () => left });
  const first = h.flusher.now();
  assert.equal(h.flusher.now(), first);
  h.flusher.soon();
  const t = h.clock.now();
  h.flushes[0]!.finish();
  await first;
  left = false;
  await h.clock.advance(250);
  assert.equal(h.flushes.length, 2);
  assert.equal(h.flushes[1]!.at - t, 250);
  h.flushes[1]!.finish();
  await h.flusher.settled();
  assert.equal(h.mostAtOnce(), 1);
});

test('a failed flush is reported and the schedule goes on; cancel drops a scheduled flush; nothing is scheduled while not watching', async () => {
  const h = schedule({ fail: true, workLeft: () => true });
  void h.flusher.now();
  h.flushes[0]!.finish();
  await settle();
  assert.match(String(h.errors[0]), /SQLITE_BUSY/);
  await h.clock.advance(250);
  assert.equal(h.flushes.length, 2, 'work left: flushed again');

  const c = schedule();
  c.flusher.soon();
  c.flusher.cancel();
  await c.clock.advance(1000);
  assert.equal(c.flushes.length, 0);

  const n = schedule({ canSchedule: () => false });
  n.flusher.soon();
  await n.clock.advance(1000);
  assert.equal(n.flushes.length, 0);
});

test('batches hold at most maxBatchSize changes, in order', () => {
  const changes: WatchChange[] = Array.from({ length: 1201 }, (_, i) => ({ type: 'removed', path: `/r/${i}`, relativePath: String(i) }));
  const batches = batchesOf(changes, 500);
  assert.deepEqual(batches.map((b) => b.length), [500, 500, 201]);
  assert.deepEqual(batches.flat(), changes);
  assert.deepEqual(batchesOf([], 500), []);
  assert.deepEqual(batchesOf(changes.slice(0, 3), 0).map((b) => b.length), [1, 1, 1]);
});
