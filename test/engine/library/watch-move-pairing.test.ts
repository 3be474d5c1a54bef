// The watcher's move-pairing part alone (library/common/watch-move-pairing.ts), on a fake clock:
// a held removal pairs with a later addition of the same content, goes out as removed once its
// hold is over, and is held longer while additions are still in flight.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { HeldRemovals, type HeldRemoval } from '../../../electron/engine/library/common/watch-move-pairing.ts';
import { FakeClock } from '../../support/fake-clock.ts';

function harness(moveWindowMs = 2000, maxHoldMs = 30_000) {
  const clock = new FakeClock();
  const held = new HeldRemovals({ moveWindowMs, maxHoldMs, baseName: path.posix.basename });
  const hold = (filePath: string, size: number, fingerprint: string): HeldRemoval => {
    const removal = { relativePath: filePath.replace('/r/', ''), since: clock.now(), size, fingerprint };
    held.hold(filePath, removal);
    return removal;
  };
  const due = (additionsInFlight: boolean): string[] => held.due(clock.now(), additionsInFlight).map(([p]) => p);
  return { clock, held, hold, due };
}

test('a removal pairs with an addition of the same size and fingerprint that comes within its hold', async () => {
  const h = harness();
  h.hold('/r/old/photo.jpg', 1234, 'fp-a');
  await h.clock.advance(1500);
  assert.deepEqual(h.due(false), [], 'inside the move window: still held');
  assert.equal(h.held.hasSize(1234), true, 'an addition of this size is worth fingerprinting');
  assert.equal(h.held.hasSize(999), false);
  assert.equal(h.held.take(1234, 'fp-other', '/r/new/photo.jpg'), undefined, 'same size, other content: no pair');
  assert.equal(h.held.take(1234, 'fp-a', '/r/new/photo.jpg'), '/r/old/photo.jpg');
  assert.equal(h.held.size, 0);
  assert.equal(h.held.hasSize(1234), false);
  await h.clock.advance(60_000);
  assert.deepEqual(h.due(false), [], 'a paired removal never goes out as removed');
});

test('a removal no addition came for is due once its move window passed, and goes when released', async () => {
  const h = harness();
  const removal = h.hold('/r/deleted.md', 10, 'fp-d');
  await h.clock.advance(1999);
  assert.deepEqual(h.due(false), []);
  await h.clock.advance(1);
  assert.deepEqual(h.due(false), ['/r/deleted.md']);
  assert.equal(h.held.size, 1, 'due does not take it out of the hold');
  assert.deepEqual(h.held.release('/r/deleted.md'), removal);
  assert.equal(h.held.release('/r/deleted.md'), undefined);
  assert.deepEqual(h.due(false), []);
  assert.equal(h.held.take(10, 'fp-d', '/r/later.md'), undefined, 'released: an addition finds nothing to pair with');
});

test('the hold is extended while additions are in flight, up to maxHoldMs', async () => {
  const h = harness(2000, 30_000);
  h.hold('/r/album/a.png', 50, 'fp-1');
  await h.clock.advance(2500);
  assert.deepEqual(h.due(true), [], 'additions still on their way: held past the move window');
  await h.clock.advance(27_499);
  assert.deepEqual(h.due(true), [], '29,999 ms');
  await h.clock.advance(1);
  assert.deepEqual(h.due(true), ['/r/album/a.png'], 'at 30 s it goes out even while additions are in flight');
  // An addition arriving late in the extended hold still pairs.
  h.hold('/r/album/b.png', 60, 'fp-2');
  await h.clock.advance(20_000);
  assert.deepEqual(h.due(true), ['/r/album/a.png']);
  assert.equal(h.held.take(60, 'fp-2', '/r/album-2024/b.png'), '/r/album/b.png');
  // Once the additions are through, the move window alone counts again.
  assert.deepEqual(h.due(false), ['/r/album/a.png']);
});

test('a maxHoldMs shorter than the move window still holds for the whole move window', async () => {
  const h = harness(2000, 500);
  h.hold('/r/x.md', 1, 'fp');
  await h.clock.advance(1000);
  assert.deepEqual(h.due(true), []);
  await h.clock.advance(1000);
  assert.deepEqual(h.due(true), ['/r/x.md']);
});

test('among removals with the same content, the one with the same file name is taken', () => {
  const h = harness();
  h.hold('/r/a/copy-1.txt', 5, 'same');
  h.hold('/r/a/readme.txt', 5, 'same');
  h.hold('/r/a/copy-2.txt', 5, 'same');
  assert.equal(h.held.take(5, 'same', '/r/b/readme.txt'), '/r/a/readme.txt');
  assert.equal(h.held.take(5, 'same', '/r/b/other.txt'), '/r/a/copy-1.txt', 'no name matches: the first held');
  assert.equal(h.held.hasSize(5), true, 'one is left');
  assert.equal(h.held.take(5, 'same', '/r/b/copy-2.txt'), '/r/a/copy-2.txt');
  assert.equal(h.held.hasSize(5), false);
});

test('a removal held again at the same path replaces the first; clear forgets them all', () => {
  const h = harness();
  h.hold('/r/f.md', 1, 'fp-old');
  h.held.release('/r/f.md');
  h.hold('/r/f.md', 2, 'fp-new');
  assert.equal(h.held.take(1, 'fp-old', '/r/g.md'), undefined);
  assert.equal(h.held.has('/r/f.md'), true);
  h.hold('/r/h.md', 3, 'fp-h');
  h.held.clear();
  assert.equal(h.held.size, 0);
  assert.equal(h.held.hasSize(2) || h.held.hasSize(3), false);
  assert.equal(h.held.take(3, 'fp-h', '/r/i.md'), undefined);
});
