// Every file that is not indexed has a reason, through the real engine and its API (issue 13,
// points 3 and 4): a name that is not valid UTF-8, a PDF over the size limit and a broken image are
// listed by files.failures (paged, with a total) and counted by status.get; a folder that becomes
// unreadable is listed with the files it held; files.retry tries files again on demand (and reads
// unreadable folders again); a failed file touched on disk is tried again by the next scan.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, stat, truncate, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { unprivilegedCommand, unprivilegedUnavailable } from '../../support/unprivileged.ts';
import type { FileFailures, Status } from '../../../electron/contract/common/entities.ts';
import { LibrarySync } from '../../../electron/engine/app/node/library-sync.ts';
import { fingerprintFile } from '../../../electron/engine/library/node/fingerprint.ts';
import { Store } from '../../../electron/engine/store/node/store.ts';

const child = fileURLToPath(new URL('./failures-child.ts', import.meta.url));

/** One engine start in the child (as nobody when root); the answers of its steps, by step. */
async function engineRun(dataDir: string, library: string, steps: string[]): Promise<Array<{ step: string; answer: unknown }>> {
  const [command, ...rest] = unprivilegedCommand([process.execPath, '--import', 'tsx', child, dataDir, library, ...steps]);
  const { stdout } = await promisify(execFile)(command!, rest, { cwd: process.cwd(), env: { ...process.env, HOME: tmpdir() }, maxBuffer: 16 * 1024 * 1024 });
  return stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { step: string; answer: unknown });
}

const answer = <T>(run: Array<{ step: string; answer: unknown }>, step: string, nth = 0): T => run.filter((r) => r.step === step)[nth]!.answer as T;
const byName = (page: FileFailures) => Object.fromEntries(page.failures.map((f) => [path.basename(f.path), f]));

test('what is not indexed is listed with a reason and counted, retried on demand, and an unreadable folder keeps its count', { skip: unprivilegedUnavailable() ?? false, timeout: 240_000 }, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'trove-failures-'));
  const library = path.join(dir, 'library');
  const locked = path.join(library, 'locked');
  try {
    await chmod(dir, 0o777); // the data folder is made by the child, maybe as nobody
    await mkdir(locked, { recursive: true });
    await writeFile(path.join(library, 'ok.md'), '# fine\n\nIndexed as usual.\n');
    await writeFile(path.join(locked, 'a.md'), '# a\n');
    await writeFile(path.join(locked, 'b.md'), '# b\n');
    await writeFile(path.join(library, 'broken.jpg'), 'these bytes are not a JPEG');
    await writeFile(Buffer.concat([Buffer.from(library + path.sep), Buffer.from('Stra\xdfe.md', 'latin1')]), '# street\n');
    await writeFile(path.join(library, 'huge.pdf'), '');
    await truncate(path.join(library, 'huge.pdf'), 2.5 * 2 ** 30); // sparse: costs no disk
    const dataDir = path.join(dir, 'data');

    const first = await engineRun(dataDir, library, ['add', 'idle', 'failures', 'status', 'retry:broken.jpg', 'idle', 'failures']);
    const page = answer<FileFailures>(first, 'failures');
    assert.equal(page.total, 3, JSON.stringify(page));
    const listed = byName(page);
    assert.deepEqual(Object.keys(listed).sort(), ['Stra\uFFFDe.md', 'broken.jpg', 'huge.pdf']);
    assert.deepEqual([listed['Stra\uFFFDe.md']!.kind, listed['Stra\uFFFDe.md']!.attempts], ['text', 0]);
    assert.match(listed['Stra\uFFFDe.md']!.reason, /^The file name is not valid UTF-8 .* Rename it/);
    assert.match(listed['huge.pdf']!.reason, /^This PDF is 2\.5 GB, more than the 2\.0 GB Trove can read of one PDF file; split it/);
    assert.doesNotMatch(listed['huge.pdf']!.reason, /exists/);
    assert.match(listed['broken.jpg']!.reason, /decode|corrupt|supported/i);
    assert.deepEqual([listed['broken.jpg']!.attempts, listed['broken.jpg']!.nextTry], [1, 'on-change']);
    const status = answer<Status>(first, 'status');
    assert.deepEqual(status.files, { total: 6, indexed: 3, failed: 3, pending: 0 });
    assert.deepEqual(status.unreadableFolders, { count: 0, files: 0 });
    // Retried on demand: read again (one attempt), and failing again with its reason.
    assert.deepEqual(answer(first, 'retry:broken.jpg'), { queued: 1 });
    assert.deepEqual(byName(answer<FileFailures>(first, 'failures', 1))['broken.jpg']!.attempts, 1);

    // The folder becomes unreadable: the next start lists it with the two files it held.
    await chmod(locked, 0o000);
    const second = await engineRun(dataDir, library, ['idle', 'failures', 'status', 'retry-all', 'idle', 'failures']);
    const folder = byName(answer<FileFailures>(second, 'failures'))['locked']!;
    assert.deepEqual([folder.what, folder.fileId, folder.kind, folder.files, folder.nextTry], ['folder', null, null, 2, 'next-start']);
    // Listed beside its path, the reason does not repeat it (base/common/path-free-reason.ts).
    assert.match(folder.reason, /^Cannot read folder: EACCES: permission denied.*grant read access or exclude it\.$/);
    assert.equal(answer<FileFailures>(second, 'failures').total, 4);
    const secondStatus = answer<Status>(second, 'status');
    assert.deepEqual(secondStatus.unreadableFolders, { count: 1, files: 2 });
    assert.deepEqual(secondStatus.files, { total: 4, indexed: 1, failed: 3, pending: 0 });
    // Retry all: every failed file goes back to the queue (the refused ones are refused again at once).
    assert.deepEqual(answer(second, 'retry-all'), { queued: 3 });
    assert.equal(answer<FileFailures>(second, 'failures', 1).total, 4);

    // Readable again: the next scan indexes its files and the folder leaves the list.
    await chmod(locked, 0o755);
    const third = await engineRun(dataDir, library, ['idle', 'failures', 'status']);
    assert.equal(answer<FileFailures>(third, 'failures').total, 3);
    assert.deepEqual(answer<Status>(third, 'status').unreadableFolders, { count: 0, files: 0 });
  } finally {
    await chmod(locked, 0o755).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
});

test('a failed file touched on disk (same bytes, new mtime) is tried again by the next scan', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'trove-touch-'));
  const library = path.join(dir, 'library');
  await mkdir(library);
  const file = path.join(library, 'photo.jpg');
  await writeFile(file, 'these bytes are not a JPEG either');
  const store = Store.open(path.join(dir, 'data'));
  const sync = new LibrarySync({ store, watch: false, onPending: () => undefined, onRemoved: () => undefined, onRootsChanged: () => undefined, onScanState: () => undefined, log: () => undefined });
  try {
    const root = store.roots.add({ path: library });
    const settled = async (): Promise<void> => {
      while (sync.scanning) await new Promise((r) => setTimeout(r, 10));
    };
    sync.attach(root);
    await settled();
    const row = store.files.byPath(file)!;
    // What indexing leaves for a file it could not decode: its fingerprint, and why it failed.
    store.files.setFingerprint(row.id, await fingerprintFile(file));
    store.files.markStatus(row.id, 'failed', 'Cannot decode image.');
    sync.rescan(root.id);
    await settled();
    assert.equal(store.files.byPath(file)!.status, 'failed', 'unchanged: left as it is');

    const { mtimeMs } = await stat(file);
    await utimes(file, new Date(), new Date(mtimeMs + 60_000));
    sync.rescan(root.id);
    await settled();
    const after = store.files.byPath(file)!;
    assert.deepEqual([after.id, after.status, after.attempts, after.error], [row.id, 'pending', 0, null]);
  } finally {
    await sync.close();
    store.close();
    await rm(dir, { recursive: true, force: true });
  }
});
