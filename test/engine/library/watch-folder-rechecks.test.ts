// The watcher's folder-recheck part alone (library/common/watch-folder-rechecks.ts), on a fake
// clock with a fake walk: when a new folder is walked again, that one walk per folder runs at a
// time, and which files count as present under a folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FolderRechecks } from '../../../electron/engine/library/common/watch-folder-rechecks.ts';
import { FakeClock, settle } from '../../support/fake-clock.ts';

interface Walk {
  readonly folder: string;
  readonly at: number;
  readonly stillWanted: () => boolean;
  finish: (error?: Error) => void;
}

function harness(options: { quietMs?: number; maxWaitMs?: number } = {}) {
  const clock = new FakeClock();
  const active = { now: true };
  const walks: Walk[] = [];
  let running = 0;
  let mostAtOnce = 0;
  const rechecks = new FolderRechecks({
    quietMs: options.quietMs ?? 600,
    maxWaitMs: options.maxWaitMs ?? 10_000,
    separator: '/',
    clock,
    isActive: () => active.now,
    walk: (folder, stillWanted) =>
      new Promise<void>((resolve, reject) => {
        running += 1;
        mostAtOnce = Math.max(mostAtOnce, running);
        walks.push({
          folder,
          at: clock.now(),
          stillWanted,
          finish: (error) => {
            running -= 1;
            if (error) reject(error);
            else resolve();
          },
        });
      }),
  });
  return { clock, active, rechecks, walks, mostAtOnce: () => mostAtOnce };
}

test('a new folder is walked once adds under it were quiet for quietMs', async () => {
  const h = harness();
  const t0 = h.clock.now();
  h.rechecks.folderAdded('/r/new');
  await h.clock.advance(400);
  h.rechecks.fileAdded('/r/new/a.md');
  await h.clock.advance(599);
  assert.equal(h.walks.length, 0, 'adds under it 599 ms ago: not quiet yet');
  h.rechecks.fileAdded('/r/elsewhere/b.md'); // not under it: does not delay it
  await h.clock.advance(1);
  assert.deepEqual(h.walks.map((w) => [w.folder, w.at - t0]), [['/r/new', 1000]]);
  assert.equal(h.rechecks.busy(), true, 'busy while the walk runs');
  h.walks[0]!.finish();
  await settle();
  assert.equal(h.rechecks.busy(), false);
  assert.equal(h.clock.pendingTimers, 0);
});

test('a folder whose adds never go quiet is walked maxWaitMs after it appeared', async () => {
  const h = harness({ quietMs: 600, maxWaitMs: 3000 });
  const t0 = h.clock.now();
  h.rechecks.folderAdded('/r/storm');
  for (let i = 0; i < 20; i += 1) {
    await h.clock.advance(200);
    h.rechecks.fileAdded(`/r/storm/f${i}.md`);
  }
  assert.deepEqual(h.walks.map((w) => [w.folder, w.at - t0]), [['/r/storm', 3000]]);
});

test('one walk per folder at a time: adds during a walk ask for one more walk after it', async () => {
  const h = harness();
  h.rechecks.folderAdded('/r/new');
  await h.clock.advance(600);
  assert.equal(h.walks.length, 1);
  await h.clock.advance(4900);
  for (let i = 0; i < 50; i += 1) h.rechecks.fileAdded(`/r/new/late-${i}.md`); // e.g. files the walk itself found
  const lastAddAt = h.clock.now();
  await h.clock.advance(100);
  assert.equal(h.walks.length, 1, 'no second walk while the first runs');
  h.walks[0]!.finish();
  await settle();
  await h.clock.advance(499);
  assert.equal(h.walks.length, 1, 'the walk after waits until the adds were quiet for quietMs');
  await h.clock.advance(1);
  assert.equal(h.walks.length, 2);
  assert.equal(h.walks[1]!.at - lastAddAt, 600);
  h.walks[1]!.finish();
  await settle();
  await h.clock.advance(20_000);
  assert.equal(h.walks.length, 2, 'no adds during the second walk: no third');
  assert.equal(h.mostAtOnce(), 1);
  assert.equal(h.rechecks.busy(), false);
});

test('a folder inside one waiting for its walk is covered by it', async () => {
  const h = harness();
  h.rechecks.folderAdded('/r/album');
  await h.clock.advance(300);
  h.rechecks.folderAdded('/r/album/2024'); // counts as an add under /r/album
  h.rechecks.folderAdded('/r/album-2'); // a sibling whose name starts the same: a folder of its own
  await h.clock.advance(600);
  assert.deepEqual(h.walks.map((w) => w.folder).sort(), ['/r/album', '/r/album-2']);
});

test('a walk that fails ends the recheck; clear stops waiting walks and tells a running one to stop', async () => {
  const h = harness();
  h.rechecks.folderAdded('/r/gone');
  await h.clock.advance(600);
  h.walks[0]!.finish(new Error('ENOENT'));
  await settle();
  assert.equal(h.rechecks.busy(), false);

  h.rechecks.folderAdded('/r/a');
  await h.clock.advance(600);
  h.rechecks.folderAdded('/r/b');
  assert.equal(h.walks.at(-1)!.stillWanted(), true);
  h.rechecks.clear();
  assert.equal(h.walks.at(-1)!.stillWanted(), false, 'the running walk of /r/a is told to stop');
  await h.clock.advance(20_000);
  assert.deepEqual(h.walks.map((w) => w.folder), ['/r/gone', '/r/a'], '/r/b is never walked');
  assert.equal(h.rechecks.busy(), false);
});

test('nothing is walked while the watcher is not watching', async () => {
  const h = harness();
  h.rechecks.folderAdded('/r/x');
  h.active.now = false;
  await h.clock.advance(1000);
  h.rechecks.folderAdded('/r/y');
  assert.equal(h.walks.length, 0);
  h.active.now = true;
  h.rechecks.folderAdded('/r/z');
  await h.clock.advance(600);
  assert.equal(h.walks.at(-1)?.folder, '/r/z');
  h.active.now = false;
  assert.equal(h.walks.at(-1)!.stillWanted(), false);
});

test('present files: what is inside a folder, by whole folder names', () => {
  const h = harness();
  for (const path of ['/r/a/1.md', '/r/a/sub/2.md', '/r/ab/3.md', '/r/a', '/r/b/4.md']) h.rechecks.notePresent(path);
  assert.deepEqual(h.rechecks.presentInside('/r/a').sort(), ['/r/a/1.md', '/r/a/sub/2.md']);
  h.rechecks.noteGone('/r/a/1.md');
  assert.equal(h.rechecks.isPresent('/r/a/1.md'), false);
  assert.equal(h.rechecks.isPresent('/r/ab/3.md'), true);
  assert.deepEqual(h.rechecks.presentInside('/r/a'), ['/r/a/sub/2.md']);
  h.rechecks.clear();
  assert.deepEqual(h.rechecks.presentInside('/r'), []);
});
