// downloadSnapshot against the fake hub: clean pulls, resume after a cut, corruption, errors,
// retries, pagination, cancel + resume, stalls and the up-front disk check.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { downloadSnapshot, type DownloadProgress } from '../../../native-models/hub/node/snapshot-download.ts';
import { DOWNLOAD_RECORD_FILE, readDownloadRecord } from '../../../native-models/hub/node/download-record.ts';
import { startFakeHub, type FakeHub } from '../../support/fake-hub-server.ts';
import { SHARDED_REPO, TINY_REPO, TINY_SELECTED, assertSameFiles, hubOptions, listFiles, rejectsWith, shardedRepoFolder, tinyRepoFolder } from './hub-fixtures.ts';

let root: string;
let tiny: string;
let sharded: string;
let hub: FakeHub;
let counter = 0;
const dest = () => path.join(root, `dest-${++counter}`);

before(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'trove-hub-'));
  tiny = await tinyRepoFolder(root);
  sharded = await shardedRepoFolder(root);
  hub = await startFakeHub({ repos: { [TINY_REPO]: tiny, [SHARDED_REPO]: sharded } });
});

after(async () => {
  await hub.close();
  await rm(root, { recursive: true, force: true });
});

/** Each test starts from a clean hub: no knobs left over, no requests recorded. */
function freshHub(): FakeHub {
  hub.reset();
  return hub;
}

const size = (file: string) => stat(file).then((s) => s.size);

test('a clean pull fetches exactly the allow-listed files, byte-identical, and records the commit last', async () => {
  const hub = freshHub();
  const events: DownloadProgress[] = [];
  const out = dest();
  const result = await downloadSnapshot({ repo: TINY_REPO }, out, hubOptions(hub, { onProgress: (p) => events.push(p) }));
  assert.equal(result.dir, out);
  assert.equal(result.commit, hub.repo(TINY_REPO).commit);
  assert.deepEqual(result.files.map((f) => f.path).sort(), TINY_SELECTED);
  assert.ok(result.files.every((f) => f.source === 'downloaded'));
  // README.md and onnx/model.safetensors are not in the default allow-list.
  assert.deepEqual(await listFiles(out), [DOWNLOAD_RECORD_FILE, ...TINY_SELECTED].sort());
  await assertSameFiles(out, tiny, TINY_SELECTED);

  const record = await readDownloadRecord(out);
  assert.equal(record?.commit, result.commit);
  assert.equal(record?.repo, TINY_REPO);
  const weights = record?.files.find((f) => f.path === 'model.safetensors');
  assert.equal(weights?.sha256, hub.repo(TINY_REPO).files.find((f) => f.path === 'model.safetensors')?.sha256);
  // Downloads address the commit, not the branch, so a moving branch cannot mix versions.
  assert.ok(hub.fileRequests().every((r) => r.url.includes(result.commit) || r.kind === 'cdn'));
  assert.ok(hub.requests.filter((r) => r.kind === 'resolve').every((r) => r.url.includes(`/resolve/${result.commit}/`)));

  const phases = [...new Set(events.map((e) => e.phase))];
  assert.deepEqual(phases, ['listing', 'checking', 'downloading', 'verifying', 'done']);
  const last = events.at(-1)!;
  assert.equal(last.doneBytes, last.totalBytes);
  assert.equal(last.files.done, TINY_SELECTED.length);
  assert.equal(last.totalBytes, result.files.reduce((s, f) => s + f.size, 0));
});

test('a second pull into a finished folder fetches nothing', async () => {
  const hub = freshHub();
  const out = dest();
  await downloadSnapshot({ repo: SHARDED_REPO }, out, hubOptions(hub));
  hub.clearRequests();
  const again = await downloadSnapshot({ repo: SHARDED_REPO }, out, hubOptions(hub));
  assert.equal(hub.fileRequests().length, 0);
  assert.ok(again.files.every((f) => f.source === 'present'));
});

test('a transfer cut halfway resumes with a Range request and does not re-send the received bytes', async () => {
  const hub = freshHub();
  const file = 'model.safetensors';
  const total = await size(path.join(tiny, file));
  hub.cutAfter(file, Math.floor(total / 2));
  const out = dest();
  await downloadSnapshot({ repo: TINY_REPO }, out, hubOptions(hub));
  const transfers = hub.fileRequests(file);
  assert.equal(transfers.length, 2);
  assert.equal(transfers[0].range, null);
  const resumeAt = Number(/^bytes=(\d+)-$/.exec(transfers[1].range ?? '')?.[1]);
  assert.ok(resumeAt > 0 && resumeAt <= Math.floor(total / 2), `resumed at ${transfers[1].range}`);
  assert.equal(transfers[1].status, 206);
  assert.equal(transfers[1].bytesSent, total - resumeAt);
  await assertSameFiles(out, tiny, [file]);
});

/** A download folder holding only config.json, plus `bytes` of `file` as a leftover .part. */
async function folderWithPart(file: string, bytes: Buffer): Promise<string> {
  const out = dest();
  await downloadSnapshot({ repo: SHARDED_REPO, allow: ['config.json'] }, out, hubOptions(hub));
  await writeFile(path.join(out, `${file}.part`), bytes);
  hub.clearRequests();
  return out;
}

test('a .part left by an earlier run is resumed from its length', async () => {
  const hub = freshHub();
  const file = 'model-00001-of-00002.safetensors';
  const source = await readFile(path.join(sharded, file));
  const out = await folderWithPart(file, source.subarray(0, 123_456));
  await downloadSnapshot({ repo: SHARDED_REPO }, out, hubOptions(hub));
  const [transfer] = hub.fileRequests(file);
  assert.equal(transfer.range, 'bytes=123456-');
  assert.equal(transfer.bytesSent, source.length - 123_456);
  await assertSameFiles(out, sharded, [file]);
});

test('a 200 reply to a range request starts the file over; a 416 fetches it whole', async () => {
  const hub = freshHub();
  const file = 'model-00001-of-00002.safetensors';
  const source = await readFile(path.join(sharded, file));
  for (const mode of ['ignore', '416'] as const) {
    hub.rangeMode(mode);
    const out = await folderWithPart(file, source.subarray(0, 5000));
    await downloadSnapshot({ repo: SHARDED_REPO }, out, hubOptions(hub));
    const transfers = hub.fileRequests(file);
    assert.deepEqual(transfers.map((r) => [r.range, r.status]), mode === 'ignore' ? [['bytes=5000-', 200]] : [['bytes=5000-', 416], [null, 200]], mode);
    await assertSameFiles(out, sharded, [file]);
  }
});

test('a .part whose bytes are wrong fails verification and is fetched again whole', async () => {
  const hub = freshHub();
  const out = dest();
  const file = 'model-00002-of-00002.safetensors';
  await downloadSnapshot({ repo: SHARDED_REPO, allow: ['config.json'] }, out, hubOptions(hub));
  await writeFile(path.join(out, `${file}.part`), Buffer.alloc(1000, 0xaa)); // not the file's first bytes
  hub.clearRequests();
  await downloadSnapshot({ repo: SHARDED_REPO }, out, hubOptions(hub));
  assert.deepEqual(hub.fileRequests(file).map((r) => r.range), ['bytes=1000-', null]);
  await assertSameFiles(out, sharded, [file]);
});

test('a corrupted byte is detected, the file fetched again whole, and only the good copy installed', async () => {
  const hub = freshHub();
  const file = 'tokenizer.json'; // a git-blob (sha1) file
  hub.corrupt(file, 'once');
  const lfs = 'model-00001-of-00002.safetensors'; // an LFS (sha256) file
  hub.corrupt(lfs, 'once');
  const out = dest();
  await downloadSnapshot({ repo: SHARDED_REPO }, out, hubOptions(hub));
  for (const f of [file, lfs]) {
    assert.deepEqual(hub.fileRequests(f).map((r) => r.range), [null, null], f);
  }
  await assertSameFiles(out, sharded, [file, lfs]);
});

test('a file that arrives corrupt every time stops the pull with "corrupt" and is never left in the folder', async () => {
  const hub = freshHub();
  const file = 'model-00002-of-00002.safetensors';
  hub.corrupt(file, 'always');
  const out = dest();
  await rejectsWith(downloadSnapshot({ repo: SHARDED_REPO }, out, hubOptions(hub)), 'corrupt', new RegExp(file.replace(/\./g, '\\.')), /corrupt twice/);
  assert.equal(hub.fileRequests(file).length, 2);
  const left = await listFiles(out);
  assert.ok(!left.includes(file) && !left.includes(`${file}.part`), `left: ${left.join(', ')}`);
  assert.ok(!left.includes(DOWNLOAD_RECORD_FILE));
});

test('an unknown repo or revision is "not-found" with a message that says to check the name', async () => {
  const hub = freshHub();
  await rejectsWith(downloadSnapshot({ repo: 'Qwen/No-Such-Model' }, dest(), hubOptions(hub)), 'not-found', /Qwen\/No-Such-Model does not exist/, /check the repo name/);
  await rejectsWith(downloadSnapshot({ repo: TINY_REPO, revision: 'v9' }, dest(), hubOptions(hub)), 'not-found', /revision v9/);
  assert.equal(hub.fileRequests().length, 0);
});

test('a repo that needs a token is "unauthorized" without one, never echoes a wrong one, and works with HF_TOKEN', async () => {
  const hub = freshHub();
  hub.requireToken('hf_secret');
  await rejectsWith(downloadSnapshot({ repo: SHARDED_REPO }, dest(), hubOptions(hub)), 'unauthorized', /needs a Hugging Face token/, /HF_TOKEN/, /licence/);
  const wrong = await rejectsWith(downloadSnapshot({ repo: SHARDED_REPO }, dest(), hubOptions(hub, { env: { HF_TOKEN: 'hf_wrong_value' } })), 'unauthorized', /token was refused/);
  assert.ok(!wrong.message.includes('hf_wrong_value'));
  hub.clearRequests();
  const out = dest();
  await downloadSnapshot({ repo: SHARDED_REPO }, out, hubOptions(hub, { env: { HF_TOKEN: 'hf_secret' } }));
  assert.ok(hub.requests.filter((r) => r.kind !== 'cdn').every((r) => r.authorization === 'Bearer hf_secret'));
  await assertSameFiles(out, sharded, ['model-00001-of-00002.safetensors', 'tokenizer.json']);
  // The older variable name works too, and an explicit option wins over both.
  await downloadSnapshot({ repo: SHARDED_REPO }, dest(), hubOptions(hub, { env: { HUGGING_FACE_HUB_TOKEN: 'hf_secret' } }));
  await downloadSnapshot({ repo: SHARDED_REPO }, dest(), hubOptions(hub, { token: 'hf_secret', env: { HF_TOKEN: 'hf_wrong_value' } }));
});

test('503s are retried with back-off (Retry-After honoured) until the hub answers', async () => {
  const hub = freshHub();
  hub.failNext(2, { status: 503, retryAfter: '0' });
  const out = dest();
  await downloadSnapshot({ repo: SHARDED_REPO }, out, hubOptions(hub));
  assert.deepEqual(hub.requests.slice(0, 3).map((r) => r.status), [503, 503, 200]);
  await assertSameFiles(out, sharded, ['config.json', 'model-00002-of-00002.safetensors']);

  hub.clearRequests();
  hub.failNext(3, { status: 429, kind: 'cdn' }); // the CDN sheds load mid-download
  await downloadSnapshot({ repo: SHARDED_REPO }, dest(), hubOptions(hub));
  assert.equal(hub.requests.filter((r) => r.status === 429).length, 3);
});

test('a hub that keeps failing ends in "network" after the configured retries', async () => {
  const hub = freshHub();
  hub.failNext(100, { status: 502 });
  await rejectsWith(downloadSnapshot({ repo: SHARDED_REPO }, dest(), hubOptions(hub, { retry: { retries: 2, baseDelayMs: 1 } })), 'network', /HTTP 502/, /retry/);
  assert.equal(hub.requests.length, 3);
});

test('files are fetched in parallel up to the concurrency limit', async () => {
  for (const [concurrency, check] of [
    [1, (peak: number) => peak === 1],
    [4, (peak: number) => peak >= 3], // the three largest files are in flight together; the smallest may finish first
  ] as const) {
    const hub = freshHub();
    hub.slow('*', 16 * 1024, 5);
    await downloadSnapshot({ repo: SHARDED_REPO }, dest(), hubOptions(hub, { concurrency }));
    assert.ok(check(hub.peakTransfers()), `concurrency ${concurrency}: peak ${hub.peakTransfers()}`);
  }
});

test('the tree listing is followed across pages', async () => {
  const paged = await startFakeHub({ repos: { [SHARDED_REPO]: sharded }, treePageSize: 2 });
  try {
    const out = dest();
    const result = await downloadSnapshot({ repo: SHARDED_REPO }, out, hubOptions(paged));
    const pages = paged.requests.filter((r) => r.kind === 'tree');
    assert.equal(pages.length, 4); // 7 entries, 2 a page
    assert.ok(pages.slice(1).every((r) => /cursor=\d+/.test(r.url)));
    assert.deepEqual(result.files.map((f) => f.path).sort(), (await listFiles(sharded)).sort());
  } finally {
    await paged.close();
  }
});

test('cancel during a stalled transfer rejects with "cancelled", keeps the .part, and the next pull resumes it', { timeout: 30_000 }, async () => {
  const hub = freshHub();
  const file = 'model.safetensors';
  const stallAt = 1024 * 1024;
  hub.stall(file, stallAt);
  const out = dest();
  const controller = new AbortController();
  const pull = downloadSnapshot({ repo: TINY_REPO }, out, hubOptions(hub, { signal: controller.signal, stallTimeoutMs: 120_000 }));
  // Wait until the stalled bytes are on disk, then cancel. (A cancel that waited for the server
  // would hang here until the test's timeout.)
  for (;;) {
    if ((await size(path.join(out, `${file}.part`)).catch(() => 0)) >= stallAt) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  controller.abort();
  await rejectsWith(pull, 'cancelled', /cancelled/, /resumes/);
  assert.equal(await size(path.join(out, `${file}.part`)), stallAt);
  assert.equal(await readDownloadRecord(out), null);

  hub.unstall();
  hub.clearRequests();
  await downloadSnapshot({ repo: TINY_REPO }, out, hubOptions(hub));
  const [resumed] = hub.fileRequests(file);
  assert.equal(resumed.range, `bytes=${stallAt}-`);
  await assertSameFiles(out, tiny, TINY_SELECTED);
});

test('an already-aborted signal rejects at once without a request', async () => {
  const hub = freshHub();
  await rejectsWith(downloadSnapshot({ repo: TINY_REPO }, dest(), hubOptions(hub, { signal: AbortSignal.abort() })), 'cancelled');
  assert.equal(hub.requests.length, 0);
});

test('a connection that stalls past the stall timeout is dropped and resumed', async () => {
  const hub = freshHub();
  const file = 'model-00001-of-00002.safetensors';
  hub.stall(file, 100_000, { once: true });
  const out = dest();
  await downloadSnapshot({ repo: SHARDED_REPO }, out, hubOptions(hub, { stallTimeoutMs: 300 }));
  assert.deepEqual(hub.fileRequests(file).map((r) => r.range), [null, 'bytes=100000-']);
  await assertSameFiles(out, sharded, [file]);
});

test('not enough free disk is refused before any file byte is requested', async () => {
  const hub = freshHub();
  const out = dest();
  const asked: string[] = [];
  await rejectsWith(
    downloadSnapshot({ repo: TINY_REPO }, out, hubOptions(hub, { freeBytes: async (dir) => (asked.push(dir), 10 * 1024 * 1024) })),
    'disk-full',
    /needs 0\.03 GiB/,
    /free some space or choose another models folder/,
  );
  assert.deepEqual(asked, [out]);
  assert.equal(hub.fileRequests().length, 0);
  // With room to spare the same pull goes ahead.
  await downloadSnapshot({ repo: TINY_REPO }, out, hubOptions(hub, { freeBytes: async () => 1e12 }));
});

test('bad repo ids and unsafe paths are refused as "invalid"', async () => {
  const hub = freshHub();
  await rejectsWith(downloadSnapshot({ repo: '../etc' }, dest(), hubOptions(hub)), 'invalid', /owner\/name/);
  await rejectsWith(downloadSnapshot({ repo: TINY_REPO, revision: '../main' }, dest(), hubOptions(hub)), 'invalid', /not a revision/);
  assert.equal(hub.requests.length, 0);
});
