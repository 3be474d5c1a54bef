// The small pieces on their own: allow-list globs, Link and Retry-After parsing, back-off, hashes,
// settings precedence, tree parsing against a hostile server, and progress throttling.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Response } from 'undici';
import { QWEN3VL_CHECKPOINT_FILES, fileMatcher } from '../../../native-models/hub/common/file-filter.ts';
import { createContentHasher, expectedContent } from '../../../native-models/hub/node/file-verify.ts';
import { resolveHubSettings, resolveUrl } from '../../../native-models/hub/node/hub-endpoint.ts';
import { HubError } from '../../../native-models/hub/common/hub-errors.ts';
import { proxySettings, type HubHttp } from '../../../native-models/hub/node/hub-http.ts';
import { listRepoFiles, nextLink } from '../../../native-models/hub/node/hub-tree.ts';
import { DEFAULT_RETRY_POLICY, backoffDelay, parseRetryAfter } from '../../../native-models/hub/common/retry-policy.ts';
import { ProgressTracker, type DownloadProgress } from '../../../native-models/hub/common/transfer-progress.ts';

test('the default allow-list takes top-level checkpoint files only', () => {
  const match = fileMatcher(QWEN3VL_CHECKPOINT_FILES);
  for (const f of ['config.json', 'model.safetensors', 'model-00001-of-00002.safetensors', 'model.safetensors.index.json', 'tokenizer.json', 'tokenizer_config.json', 'chat_template.jinja', 'preprocessor_config.json']) {
    assert.ok(match(f), f);
  }
  for (const f of ['README.md', 'onnx/model.safetensors', '1_Pooling/config.json', 'model.safetensorsx', '.gitattributes']) assert.ok(!match(f), f);
  assert.ok(fileMatcher(['**/*.json'])('a/b/c.json'));
  assert.ok(fileMatcher(['**/*.json'])('c.json'));
  assert.ok(!fileMatcher(['model?.bin'])('model10.bin'));
});

test('git blob sha1 and SHA-256 hashers match git and sha256sum', () => {
  const empty = createContentHasher({ size: 0, algorithm: 'git-sha1' });
  assert.equal(empty.digest(), 'e69de29bb2d1d6434b8b29ae775ad8c2e48c5391'); // `git hash-object /dev/null`
  const hello = createContentHasher({ size: 6, algorithm: 'git-sha1' });
  hello.update(Buffer.from('hel'));
  hello.update(Buffer.from('lo\n'));
  assert.equal(hello.digest(), 'ce013625030ba8dba906f756967f9e9ca394464a'); // `echo hello | git hash-object --stdin`
  const sha = createContentHasher({ size: 6, algorithm: 'sha256' });
  sha.update(Buffer.from('hello\n'));
  assert.equal(sha.digest(), createHash('sha256').update('hello\n').digest('hex'));
  assert.deepEqual(expectedContent({ path: 'a', size: 130, oid: 'x'.repeat(40), lfs: { sha256: 'f'.repeat(64), size: 999 } }), { size: 999, algorithm: 'sha256', digest: 'f'.repeat(64) });
});

test('settings: options win over the environment; HF_TOKEN over HUGGING_FACE_HUB_TOKEN; offline spellings', () => {
  assert.deepEqual(resolveHubSettings({ env: {} }), { endpoint: 'https://huggingface.co', token: null, offline: false });
  assert.deepEqual(resolveHubSettings({ env: { HF_ENDPOINT: 'https://mirror.example/', HF_TOKEN: 'a', HUGGING_FACE_HUB_TOKEN: 'b', HF_HUB_OFFLINE: 'ON' } }), {
    endpoint: 'https://mirror.example',
    token: 'a',
    offline: true,
  });
  assert.equal(resolveHubSettings({ env: { HUGGING_FACE_HUB_TOKEN: 'b' } }).token, 'b');
  assert.deepEqual(resolveHubSettings({ endpoint: 'http://x', token: 't', offline: false, env: { HF_ENDPOINT: 'https://y', HF_TOKEN: 'u', TROVE_OFFLINE: '1' } }), { endpoint: 'http://x', token: 't', offline: false });
  assert.equal(resolveHubSettings({ env: { TROVE_OFFLINE: '0' } }).offline, false);
  assert.throws(() => resolveHubSettings({ env: { HF_ENDPOINT: 'ftp://x' } }), (e: HubError) => e.code === 'invalid' && /HF_ENDPOINT/.test(e.message));
  assert.equal(resolveUrl('https://h', 'Qwen/M', 'refs/pr/1', 'sub dir/a#b.json'), 'https://h/Qwen/M/resolve/refs%2Fpr%2F1/sub%20dir/a%23b.json');
});

test('proxy variables: lower case first, then upper case', () => {
  assert.deepEqual(proxySettings({ http_proxy: 'http://a', HTTP_PROXY: 'http://b', HTTPS_PROXY: 'http://c', NO_PROXY: 'x' }), { httpProxy: 'http://a', httpsProxy: 'http://c', noProxy: 'x' });
  assert.deepEqual(proxySettings({}), { httpProxy: '', httpsProxy: '', noProxy: '' });
});

test('Link and Retry-After parsing, and back-off growth', () => {
  assert.equal(nextLink('<https://h/api/models/a/b/tree/main?cursor=x>; rel="next"'), 'https://h/api/models/a/b/tree/main?cursor=x');
  assert.equal(nextLink('<https://h/p1>; rel="prev", <https://h/p3>; rel="next"'), 'https://h/p3');
  assert.equal(nextLink('<https://h/p1>; rel="prev"'), null);
  assert.equal(nextLink(null), null);
  assert.equal(parseRetryAfter('3'), 3000);
  assert.equal(parseRetryAfter(new Date(10_000).toUTCString(), 4_000), 6000);
  assert.equal(parseRetryAfter('soon'), null);
  const policy = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 100, maxDelayMs: 1000 };
  assert.ok(backoffDelay(0, policy, null) <= 120 && backoffDelay(0, policy, null) >= 80);
  assert.ok(backoffDelay(2, policy, null) >= 320);
  assert.equal(backoffDelay(20, policy, null), 1000);
  assert.equal(backoffDelay(0, policy, 5000), 1000, 'Retry-After is capped too');
  assert.equal(backoffDelay(0, policy, 0), 0);
});

/** A HubHttp that answers from a table of URL → (body, headers). */
function stubHttp(pages: Record<string, { body: unknown; link?: string }>): HubHttp {
  return {
    hasToken: false,
    async get(url) {
      const page = pages[url];
      if (!page) return new Response('{}', { status: 404 });
      return new Response(JSON.stringify(page.body), { status: 200, headers: page.link ? { link: page.link } : {} });
    },
    async close() {},
  };
}

const ctxFor = (http: HubHttp) => ({ http, subject: { repo: 'o/r', revision: 'main', endpoint: 'https://h', hadToken: false }, retry: DEFAULT_RETRY_POLICY, signal: new AbortController().signal });

test('the tree listing refuses unsafe paths and pagination links to another host', async () => {
  const first = 'https://h/api/models/o/r/tree/c?recursive=true';
  const file = { type: 'file', path: 'config.json', size: 2, oid: 'a'.repeat(40) };
  const files = await listRepoFiles('o/r', 'c', ctxFor(stubHttp({ [first]: { body: [file, { type: 'directory', path: 'd', oid: '0', size: 0 }], link: '<https://h/next>; rel="next"' }, 'https://h/next': { body: [file, { ...file, path: 'd/x.json' }] } })));
  assert.deepEqual(files.map((f) => f.path), ['config.json', 'd/x.json'], 'directories skipped, duplicates dropped');

  for (const bad of ['../evil', '/etc/passwd', 'a/../../b', 'a\\b']) {
    await assert.rejects(listRepoFiles('o/r', 'c', ctxFor(stubHttp({ [first]: { body: [{ ...file, path: bad }] } }))), (e: HubError) => e.code === 'invalid' && /not a safe relative path/.test(e.message), bad);
  }
  await assert.rejects(
    listRepoFiles('o/r', 'c', ctxFor(stubHttp({ [first]: { body: [file], link: '<https://elsewhere.example/x>; rel="next"' } }))),
    (e: HubError) => e.code === 'invalid' && /another host/.test(e.message),
  );
});

test('progress is throttled within a phase, phase changes always go out, and the rate uses a sliding window', () => {
  let now = 0;
  const events: DownloadProgress[] = [];
  const tracker = new ProgressTracker((p) => events.push(p), { now: () => now, intervalMs: 250, windowMs: 2000 });
  tracker.phase('downloading', { totalBytes: 10_000, doneBytes: 0, files: { done: 0, total: 1 } });
  for (let i = 0; i < 100; i++) {
    now += 10; // 100 updates over one second
    tracker.bytes(10, 'a');
  }
  assert.equal(events.length, 1 + 4, 'one phase event and one report per 250 ms');
  const last = events.at(-1)!;
  assert.equal(last.currentFile, 'a');
  assert.ok(Math.abs(last.bytesPerSecond - 1000) < 100, `rate ${last.bytesPerSecond}`);
  assert.ok(last.etaSeconds !== null && Math.abs(last.etaSeconds - (10_000 - last.doneBytes) / last.bytesPerSecond) < 1e-9);
  now += 10_000; // nothing for a while: the window empties
  tracker.bytes(0);
  assert.equal(events.at(-1)!.bytesPerSecond, 0);
  assert.equal(events.at(-1)!.etaSeconds, null);
  tracker.phase('done');
  assert.equal(events.at(-1)!.phase, 'done');
  assert.equal(events.at(-1)!.etaSeconds, 0);
});
