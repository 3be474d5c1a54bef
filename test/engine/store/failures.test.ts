// Failures in the store (issue 13, points 3 and 4): attempts counted per start of work and the
// retry policy they drive, refused files recorded with their reason, unreadable folders listed
// with the files they held, files.failures paged with a total, and retries on demand and on touch.
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { MAX_INDEX_ATTEMPTS } from '../../../electron/engine/store/node/files-repo.ts';
import { Store } from '../../../electron/engine/store/node/store.ts';
import { tempDir } from './store-fixtures.ts';

describe('failures and retries in the store', () => {
  let store: Store;
  let cleanup: () => void;
  let rootPath: string;
  let rootId: number;

  beforeEach(() => {
    const t = tempDir('failures');
    cleanup = t.cleanup;
    store = Store.open(path.join(t.dir, 'data'));
    rootPath = path.join(t.dir, 'Photos');
    rootId = store.roots.add({ path: rootPath }).id;
  });
  afterEach(() => {
    store.close();
    cleanup();
  });

  const add = (rel: string, size = 10, mtimeMs = 5) => store.files.upsertScanned({ rootId, path: path.join(rootPath, rel), size, mtimeMs, kind: 'image' }).file;
  const statusOf = (id: number) => store.files.get(id)!.status;

  it('attempts count starts of work; indexing the file clears them', () => {
    const f = add('a.jpg');
    store.files.beginAttempts([f.id]);
    store.files.beginAttempts([f.id]);
    assert.equal(store.files.get(f.id)!.attempts, 2);
    store.commitIndexedFile({ fileId: f.id, items: [{ kind: 'image', locator: { type: 'whole' }, date: 1 }] });
    assert.equal(store.files.get(f.id)!.attempts, 0);
    store.files.beginAttempts([f.id]);
    store.files.undoAttempts([f.id]); // indexed: a close does not touch it
    assert.equal(store.files.get(f.id)!.attempts, 1);
  });

  it('a failure that may pass is tried again at start until it has MAX_INDEX_ATTEMPTS attempts; the reason says which', () => {
    const timedOut = add('slow.jpg');
    const corrupt = add('corrupt.jpg');
    store.files.beginAttempts([timedOut.id, corrupt.id]);
    store.files.markFailed(timedOut.id, 'reading it took longer than 120 s.', { retryAtStart: true }, 100);
    store.files.markFailed(corrupt.id, 'Cannot decode image: premature end.', { retryAtStart: false }, 50);

    const page = store.files.failures();
    assert.equal(page.total, 2);
    assert.deepEqual(
      page.failures.map((f) => [path.basename(f.path), f.attempts, f.nextTry, f.reason]),
      [
        ['slow.jpg', 1, 'next-start', `Reading it took longer than 120 s. Trove tries it again at its next start (tried 1 of ${MAX_INDEX_ATTEMPTS} times).`],
        ['corrupt.jpg', 1, 'on-change', 'Cannot decode image: premature end.'],
      ],
    );

    for (let attempt = 2; attempt <= MAX_INDEX_ATTEMPTS; attempt++) {
      assert.equal(store.files.requeueRetryableFailures(), 1, `start ${attempt} requeues only the timed-out file`);
      assert.equal(statusOf(timedOut.id), 'pending');
      assert.equal(statusOf(corrupt.id), 'failed');
      store.files.beginAttempts([timedOut.id]);
      store.files.markFailed(timedOut.id, 'reading it took longer than 120 s.', { retryAtStart: true });
    }
    assert.equal(store.files.requeueRetryableFailures(), 0, 'no start tries it a fourth time');
    // A cause without a full stop still reads as two sentences.
    const unfinished = add('unfinished.jpg');
    store.files.markFailed(unfinished.id, 'reading it took longer than 120 s; check the disk', { retryAtStart: true });
    assert.equal(store.files.failures().failures.find((f) => f.fileId === unfinished.id)!.reason, 'Reading it took longer than 120 s; check the disk. Trove tries it again at its next start.');
    const slow = store.files.failures().failures.find((f) => f.fileId === timedOut.id)!;
    assert.equal(slow.nextTry, 'on-change');
    assert.equal(slow.reason, `Reading it took longer than 120 s. Tried ${MAX_INDEX_ATTEMPTS} times; Trove tries again when the file changes, or when you retry it.`);

    // A change starts the count over.
    store.files.upsertScanned({ rootId, path: timedOut.path, size: 11, mtimeMs: 6, kind: 'image' });
    assert.deepEqual([statusOf(timedOut.id), store.files.get(timedOut.id)!.attempts, store.files.get(timedOut.id)!.retryAtStart], ['pending', 0, false]);
  });

  it('files.retry: the named failed files, or all of them, go back to pending with their attempts cleared', () => {
    const [a, b, c, ok] = ['a.jpg', 'b.jpg', 'c.jpg', 'ok.jpg'].map((n) => add(n));
    store.files.beginAttempts([a!.id, b!.id, c!.id]);
    for (const f of [a!, b!, c!]) store.files.markFailed(f.id, 'broken', { retryAtStart: false });
    assert.equal(store.files.retryFailed([a!.id, ok!.id, 9999]), 1, 'only failed files count');
    assert.deepEqual([statusOf(a!.id), store.files.get(a!.id)!.attempts, statusOf(ok!.id)], ['pending', 0, 'pending']);
    assert.equal(store.files.retryFailed(), 2);
    assert.equal(store.files.failures().total, 0);
  });

  it('a touched failed file (same content, new mtime) is tried again; a touched indexed one stays indexed', () => {
    const failed = add('failed.jpg');
    const indexed = add('indexed.jpg');
    store.files.markFailed(failed.id, 'broken', { retryAtStart: false });
    store.files.markStatus(indexed.id, 'indexed');
    assert.equal(store.files.touch(failed.id, failed.path, 99).status, 'pending');
    assert.equal(store.files.get(failed.id)!.mtimeMs, 99);
    assert.equal(store.files.touch(indexed.id, indexed.path, 99).status, 'indexed');
  });

  it('a refused file is recorded failed with its reason, stays so while unchanged, and is looked at again when it changes', () => {
    const reason = 'This PDF is 2.3 GB, more than the 2.0 GB Trove can read of one PDF file; split it.';
    const file = { rootId, path: path.join(rootPath, 'huge.pdf'), size: 2_500_000_000, mtimeMs: 5, kind: 'pdf' as const };
    const added = store.files.upsertScanned({ ...file, refusal: reason });
    assert.deepEqual([added.change, added.file.status, added.file.error, added.file.attempts], ['new', 'failed', reason, 0]);
    assert.equal(store.files.upsertScanned({ ...file, refusal: reason }).change, 'unchanged');
    assert.equal(statusOf(added.file.id), 'failed');
    const smaller = store.files.upsertScanned({ ...file, size: 1000, mtimeMs: 6 });
    assert.deepEqual([smaller.change, smaller.file.status, smaller.file.error], ['changed', 'pending', null]);
    assert.deepEqual(store.files.counts().byKind.pdf, { total: 1, indexed: 0, failed: 0, pending: 1 });
  });

  it('unreadable folders are listed beside failed files, newest first, paged, with the total and the files they held', () => {
    const photos = path.join(rootPath, '100% private_');
    for (const rel of ['100% private_/a.jpg', '100% private_/sub/b.jpg', '100% privateX/c.jpg', 'ok.jpg']) add(rel);
    // substr, not LIKE: '%' and '_' in the folder name match only themselves.
    assert.equal(store.files.countUnder(photos), 2);
    const broken = add('broken.jpg');
    store.files.markFailed(broken.id, 'broken', { retryAtStart: false }, 200);
    store.files.replaceUnreadableFolders(rootId, [{ path: photos, reason: 'Cannot read folder: EACCES.', files: 2 }], 100);
    assert.deepEqual(store.files.unreadableFolders(), { count: 1, files: 2 });

    const all = store.files.failures(10, 0);
    assert.equal(all.total, 2);
    assert.deepEqual(all.failures[1], { fileId: null, what: 'folder', path: photos, kind: null, reason: 'Cannot read folder: EACCES.', at: 100, attempts: 0, files: 2, nextTry: 'next-start' });
    assert.deepEqual(store.files.failures(1, 1), { total: 2, failures: [all.failures[1]] });
    assert.deepEqual(store.files.rootsWithUnreadableFolders(), [rootId]);

    // The next scan finds it still unreadable, now without knowing its files (they left the index): the count and first sighting stay.
    store.files.replaceUnreadableFolders(rootId, [{ path: photos, reason: 'Cannot read folder: EACCES.', files: null }], 300);
    assert.deepEqual(store.files.failures(1, 1).failures[0]!.files, 2);
    assert.equal(store.files.failures(1, 1).failures[0]!.at, 100);
    // Readable again: gone.
    store.files.replaceUnreadableFolders(rootId, [], 400);
    assert.deepEqual(store.files.unreadableFolders(), { count: 0, files: 0 });
    // And removing the root removes its folders' rows.
    store.files.replaceUnreadableFolders(rootId, [{ path: photos, reason: 'x', files: null }]);
    store.roots.remove(rootId);
    assert.equal(store.files.failures().total, 0);
  });
});
