// The watcher's write-stability part alone (library/common/watch-write-stability.ts), on a fake
// clock and a fake lstat: when a file counts as written, which files a poll looks at, and what a
// file that stopped being a regular file becomes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WriteStability, type FileState, type FirstSeenAs } from '../../../electron/engine/library/common/watch-write-stability.ts';
import { FakeClock } from '../../support/fake-clock.ts';

const file = (size: number, mtimeMs: number): FileState => ({ isFile: () => true, size, mtimeMs });
const link = (): FileState => ({ isFile: () => false, size: 7, mtimeMs: 1 });

function harness(disk: Map<string, FileState>, active = { now: true }) {
  const clock = new FakeClock();
  const written: { path: string; firstSeenAs: FirstSeenAs; size: number; at: number }[] = [];
  const noLongerFiles: string[] = [];
  const statted: string[] = [];
  const stability = new WriteStability({
    stableMs: 300,
    pollMs: 100,
    clock,
    isActive: () => active.now,
    stat: async (path) => {
      statted.push(path);
      const state = disk.get(path);
      if (state === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
      return state;
    },
    onWritten: (path, firstSeenAs, state) => written.push({ path, firstSeenAs, size: state.size, at: clock.now() }),
    onNoLongerAFile: (path) => noLongerFiles.push(path),
  });
  return { clock, stability, written, noLongerFiles, statted };
}

test('a file is handed on once its size and mtime held still for 300 ms, not before', async () => {
  const disk = new Map([['/r/a.md', file(10, 5)]]);
  const h = harness(disk);
  const t0 = h.clock.now();
  h.stability.track('/r/a.md', 'add', { size: 10, mtimeMs: 5 });
  await h.clock.advance(299);
  assert.equal(h.written.length, 0);
  assert.equal(h.stability.waitingForAdditions(), true);
  await h.clock.advance(1);
  assert.deepEqual(h.written, [{ path: '/r/a.md', firstSeenAs: 'add', size: 10, at: t0 + 300 }]);
  assert.equal(h.stability.waitingForAdditions(), false);
  assert.equal(h.clock.pendingTimers, 0, 'the poll stops once nothing waits');
});

test('a write seen by the poll starts the quiet time again', async () => {
  const disk = new Map([['/r/video.mp4', file(100, 1)]]);
  const h = harness(disk);
  const t0 = h.clock.now();
  h.stability.track('/r/video.mp4', 'add', { size: 100, mtimeMs: 1 });
  await h.clock.advance(250);
  disk.set('/r/video.mp4', file(5000, 2)); // still being copied
  await h.clock.advance(50); // due at 300: the poll sees the new size
  assert.equal(h.written.length, 0);
  await h.clock.advance(299);
  assert.equal(h.written.length, 0);
  await h.clock.advance(1);
  assert.deepEqual(h.written, [{ path: '/r/video.mp4', firstSeenAs: 'add', size: 5000, at: t0 + 600 }]);
});

test('a file whose event gave no stats is stat\'ed when due and handed on 300 ms after that', async () => {
  const disk = new Map([['/r/b.md', file(3, 3)]]);
  const h = harness(disk);
  const t0 = h.clock.now();
  h.stability.track('/r/b.md', 'change', undefined);
  await h.clock.advance(600);
  assert.deepEqual(h.written, [{ path: '/r/b.md', firstSeenAs: 'change', size: 3, at: t0 + 600 }]);
});

test('a poll stats only the files that are due, not every waiting file', async () => {
  const disk = new Map([
    ['/r/early.md', file(1, 1)],
    ['/r/late.md', file(2, 2)],
  ]);
  const h = harness(disk);
  h.stability.track('/r/early.md', 'add', { size: 1, mtimeMs: 1 });
  await h.clock.advance(200);
  h.stability.track('/r/late.md', 'add', { size: 2, mtimeMs: 2 });
  await h.clock.advance(100);
  assert.deepEqual(h.statted, ['/r/early.md'], 'the file seen 100 ms ago is not due yet');
  assert.deepEqual(h.written.map((w) => w.path), ['/r/early.md']);
  await h.clock.advance(200);
  assert.deepEqual(h.statted, ['/r/early.md', '/r/late.md']);
  assert.deepEqual(h.written.map((w) => w.path), ['/r/early.md', '/r/late.md']);
});

test('a new file that is changed while it settles is still handed on as added', async () => {
  const disk = new Map([['/r/c.md', file(4, 4)]]);
  const h = harness(disk);
  h.stability.track('/r/c.md', 'add', { size: 1, mtimeMs: 1 });
  await h.clock.advance(50);
  h.stability.track('/r/c.md', 'change', { size: 4, mtimeMs: 4 });
  await h.clock.advance(300); // due 300 ms after the change: the poll at 400
  assert.equal(h.written.length, 0);
  await h.clock.advance(50);
  assert.deepEqual(h.written.map((w) => [w.path, w.firstSeenAs]), [['/r/c.md', 'add']]);
});

test('a forgotten file (removed while settling) is not handed on; forget says how it was first seen', async () => {
  const disk = new Map([['/r/d.md', file(1, 1)]]);
  const h = harness(disk);
  h.stability.track('/r/d.md', 'add', { size: 1, mtimeMs: 1 });
  assert.equal(h.stability.has('/r/d.md'), true);
  assert.equal(h.stability.forget('/r/d.md'), 'add');
  assert.equal(h.stability.forget('/r/d.md'), undefined);
  await h.clock.advance(1000);
  assert.equal(h.written.length, 0);
});

test('a changed file that became a link is reported; a new one that is not a file, or one gone, is dropped silently', async () => {
  const disk = new Map([
    ['/r/was-file.md', link()],
    ['/r/new-fifo.md', link()],
  ]);
  const h = harness(disk);
  h.stability.track('/r/was-file.md', 'change', { size: 9, mtimeMs: 9 });
  h.stability.track('/r/new-fifo.md', 'add', { size: 0, mtimeMs: 0 });
  h.stability.track('/r/gone.md', 'change', { size: 1, mtimeMs: 1 });
  await h.clock.advance(300);
  assert.deepEqual(h.noLongerFiles, ['/r/was-file.md']);
  assert.equal(h.written.length, 0);
  assert.equal(h.stability.has('/r/new-fifo.md') || h.stability.has('/r/gone.md') || h.stability.has('/r/was-file.md'), false);
});

test('while the watcher is not watching, a poll hands nothing on', async () => {
  const disk = new Map([['/r/e.md', file(1, 1)]]);
  const active = { now: true };
  const h = harness(disk, active);
  h.stability.track('/r/e.md', 'add', { size: 1, mtimeMs: 1 });
  active.now = false;
  await h.clock.advance(1000);
  assert.equal(h.written.length, 0);
  h.stability.close();
  assert.equal(h.clock.pendingTimers, 0);
});
