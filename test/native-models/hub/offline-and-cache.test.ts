// Offline mode never touches the network; files already at hand (a finished download, a Hugging
// Face cache, a local checkpoint folder) are verified and used instead of downloading.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, readlink, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { checkLocalCheckpointFolder, downloadSnapshot, findInHfCache } from '../../../native-models/hub/node/snapshot-download.ts';
import { readDownloadRecord } from '../../../native-models/hub/node/download-record.ts';
import { hfCacheDir } from '../../../native-models/hub/node/hf-cache.ts';
import { layoutHfCache, startFakeHub, type FakeHub } from '../../support/fake-hub-server.ts';
import { SHARDED_REPO, TINY_REPO, TINY_SELECTED, assertSameFiles, hubOptions, listFiles, rejectsWith, shardedRepoFolder, tinyRepoFolder } from './hub-fixtures.ts';

let root: string;
let tiny: string;
let sharded: string;
let hub: FakeHub;
let counter = 0;
const fresh = (name: string) => path.join(root, `${name}-${++counter}`);

before(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'trove-hub-offline-'));
  tiny = await tinyRepoFolder(root);
  sharded = await shardedRepoFolder(root);
  hub = await startFakeHub({ repos: { [TINY_REPO]: tiny, [SHARDED_REPO]: sharded } });
});

after(async () => {
  await hub.close();
  await rm(root, { recursive: true, force: true });
});

test('offline mode with nothing at hand refuses without a single request and says how to get out of it', async () => {
  hub.reset();
  for (const env of [{ HF_HUB_OFFLINE: '1' }, { TROVE_OFFLINE: 'true' }]) {
    await rejectsWith(
      downloadSnapshot({ repo: SHARDED_REPO }, fresh('dest'), hubOptions(hub, { env: { ...env, HF_HUB_CACHE: fresh('empty-cache') }, hfCache: undefined })),
      'offline',
      /offline mode is on \(HF_HUB_OFFLINE \/ TROVE_OFFLINE\)/,
      /use files you already have or turn it off/,
    );
  }
  await rejectsWith(downloadSnapshot({ repo: SHARDED_REPO }, fresh('dest'), hubOptions(hub, { offline: true })), 'offline');
  assert.equal(hub.requests.length, 0);
});

test('offline mode succeeds from a Hugging Face cache laid out like huggingface_hub’s, with 0 requests', async () => {
  hub.reset();
  const cache = fresh('hf-home');
  const { commit } = await layoutHfCache(path.join(cache, 'hub'), TINY_REPO, tiny);
  const out = fresh('dest');
  const result = await downloadSnapshot({ repo: TINY_REPO }, out, hubOptions(hub, { env: { HF_HUB_OFFLINE: '1', HF_HOME: cache }, hfCache: undefined }));
  assert.equal(hub.requests.length, 0);
  assert.equal(result.commit, commit);
  assert.equal(commit, hub.repo(TINY_REPO).commit);
  assert.deepEqual(result.files.map((f) => f.path).sort(), TINY_SELECTED);
  assert.ok(result.files.every((f) => f.source === 'hf-cache'));
  assert.ok(result.files.find((f) => f.path === 'model.safetensors')?.sha256, 'cached LFS files are verified by their sha256 blob name');
  await assertSameFiles(out, tiny, TINY_SELECTED);
  assert.equal((await readDownloadRecord(out))?.commit, commit);

  // Once finished, the folder itself is enough (even without the cache), by branch or by commit.
  await rm(cache, { recursive: true });
  await downloadSnapshot({ repo: TINY_REPO }, out, hubOptions(hub, { offline: true }));
  const byCommit = await downloadSnapshot({ repo: TINY_REPO, revision: commit }, out, hubOptions(hub, { offline: true }));
  assert.ok(byCommit.files.every((f) => f.source === 'present'));
  assert.equal(hub.requests.length, 0);
});

test('offline mode refuses a damaged cache file and a cache that lacks a shard', async () => {
  hub.reset();
  const cache = fresh('cache');
  const { repoDir, snapshotDir } = await layoutHfCache(cache, SHARDED_REPO, sharded);
  const shard = path.join(snapshotDir, 'model-00002-of-00002.safetensors');
  const blob = await readFile(shard);
  blob[10] ^= 1;
  await writeFile(path.join(repoDir, 'blobs', path.basename(await readlink(shard))), blob);
  const out = fresh('dest');
  await rejectsWith(downloadSnapshot({ repo: SHARDED_REPO }, out, hubOptions(hub, { offline: true, hfCache: cache })), 'corrupt', /model-00002-of-00002\.safetensors in the Hugging Face cache/, /damaged/);
  assert.ok(!(await listFiles(out).catch((): string[] => [])).includes('model-00002-of-00002.safetensors'));

  await unlink(shard);
  await rejectsWith(downloadSnapshot({ repo: SHARDED_REPO }, fresh('dest'), hubOptions(hub, { offline: true, hfCache: cache })), 'offline', /only partly in the Hugging Face cache/, /model-00002-of-00002/);
  assert.equal(hub.requests.length, 0);
});

test('online pulls take verified files from the Hugging Face cache instead of downloading them', async () => {
  hub.reset();
  const cache = fresh('cache');
  const { repoDir, snapshotDir } = await layoutHfCache(cache, SHARDED_REPO, sharded);
  // Damage one cached file: it must be downloaded instead, and the user's cache left as it was.
  const damaged = path.join(snapshotDir, 'tokenizer.json');
  const original = await readFile(damaged);
  await writeFile(damaged, Buffer.concat([original.subarray(0, 100), Buffer.from('x'), original.subarray(101)]));
  const out = fresh('dest');
  const result = await downloadSnapshot({ repo: SHARDED_REPO }, out, hubOptions(hub, { env: { HF_HUB_CACHE: cache }, hfCache: undefined }));
  assert.deepEqual(hub.fileRequests().map((r) => r.file), ['tokenizer.json']);
  assert.equal(result.files.find((f) => f.path === 'tokenizer.json')?.source, 'downloaded');
  assert.ok(result.files.filter((f) => f.path !== 'tokenizer.json').every((f) => f.source === 'hf-cache'));
  await assertSameFiles(out, sharded, await listFiles(sharded));
  assert.notDeepEqual(await readFile(damaged), original, 'the cache is only read');
  // Hard-linked where possible: no second copy of the weights on disk.
  const weights = 'model-00001-of-00002.safetensors';
  const [a, b] = await Promise.all([stat(path.join(out, weights)), stat(path.join(repoDir, 'blobs', hub.repo(SHARDED_REPO).files.find((f) => f.path === weights)!.sha256!))]);
  assert.equal(a.ino, b.ino);
});

test('findInHfCache reads refs and snapshots; hfCacheDir follows HF_HUB_CACHE, then HF_HOME', async () => {
  const cache = fresh('cache');
  const { commit, snapshotDir } = await layoutHfCache(cache, SHARDED_REPO, sharded, { revision: 'refs/pr/1' });
  const found = await findInHfCache({ repo: SHARDED_REPO, revision: 'refs/pr/1' }, { cacheDir: cache });
  assert.equal(found?.commit, commit);
  assert.equal(found?.dir, snapshotDir);
  assert.deepEqual(found?.files.map((f) => f.path), await listFiles(sharded));
  assert.ok(found?.files.every((f) => f.etag !== null));
  assert.equal(await findInHfCache({ repo: SHARDED_REPO }, { cacheDir: cache }), null, 'no refs/main');
  assert.equal((await findInHfCache({ repo: SHARDED_REPO, revision: commit }, { cacheDir: cache }))?.commit, commit);
  assert.equal(hfCacheDir({ HF_HUB_CACHE: '/a', HF_HOME: '/b' }), '/a');
  assert.equal(hfCacheDir({ HF_HOME: '/b' }), path.join('/b', 'hub'));
  assert.match(hfCacheDir({}), /\.cache[/\\]huggingface[/\\]hub$/);
});

test('checkLocalCheckpointFolder accepts a complete checkpoint and lists everything missing from an incomplete one', async () => {
  const ok = await checkLocalCheckpointFolder(sharded);
  assert.deepEqual(ok.weights, ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']);
  assert.ok(ok.files.every((f) => !f.verified), 'no hashes known for a plain folder');

  const broken = fresh('broken');
  await cp(sharded, broken, { recursive: true });
  await unlink(path.join(broken, 'model-00002-of-00002.safetensors'));
  await unlink(path.join(broken, 'tokenizer.json'));
  await rejectsWith(checkLocalCheckpointFolder(broken), 'invalid', /not a complete Qwen3-VL checkpoint/, /no model-00002-of-00002\.safetensors/, /no tokenizer\.json/);
  await rejectsWith(checkLocalCheckpointFolder(path.join(root, 'nowhere')), 'invalid', /is not a folder/);
});

test('checkLocalCheckpointFolder verifies hashes when it knows them (a finished download, a cache snapshot)', async () => {
  hub.reset();
  const out = fresh('dest');
  await downloadSnapshot({ repo: SHARDED_REPO }, out, hubOptions(hub));
  const checked = await checkLocalCheckpointFolder(out);
  assert.ok(checked.files.every((f) => f.verified));
  const shard = path.join(out, 'model-00001-of-00002.safetensors');
  const bytes = await readFile(shard);
  bytes[5] ^= 1;
  await writeFile(shard, bytes);
  await rejectsWith(checkLocalCheckpointFolder(out), 'corrupt', /model-00001-of-00002\.safetensors: sha256/);

  const { snapshotDir } = await layoutHfCache(fresh('cache'), SHARDED_REPO, sharded);
  assert.ok((await checkLocalCheckpointFolder(snapshotDir)).files.every((f) => f.verified));
});
