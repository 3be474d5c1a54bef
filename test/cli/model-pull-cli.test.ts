// `trove model list` and `trove model pull` as a user runs them: a child process whose only hub is
// a local server in the Hugging Face layout (HF_ENDPOINT), with the tiny catalog
// (TROVE_MODEL_CATALOG). Pull downloads, verifies, builds and activates, printing progress;
// list shows the catalog, the recommendation and what is installed; errors exit non-zero with
// a message that says what to do.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startFakeHub, type FakeHub } from '../support/fake-hub-server.ts';
import { makeTinyCatalog, type TinyCatalog } from '../support/tiny-catalog.ts';

const run = promisify(execFile);
const TROVE = path.resolve('bin/trove.js');
let dir = '';
let hub: FakeHub;
let catalog: TinyCatalog;

async function trove(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = {
    ...process.env,
    TROVE_EP: 'cpu',
    HF_ENDPOINT: hub.url,
    HF_HUB_CACHE: path.join(dir, 'no-hf-cache'),
    TROVE_MODEL_CATALOG: catalog.file,
    TROVE_DATA_DIR: path.join(dir, 'data'),
    ...extraEnv,
  };
  try {
    const { stdout, stderr } = await run(process.execPath, [TROVE, ...args], { env, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'trove-model-pull-cli-'));
  catalog = await makeTinyCatalog(path.join(dir, 'catalog'));
  hub = await startFakeHub({ repos: catalog.repos });
});
after(async () => {
  await hub?.close();
  await rm(dir, { recursive: true, force: true });
});

test('model list shows the catalog and the recommendation; pull installs with progress; list then shows it in use', async () => {
  const listed = await trove(['model', 'list']);
  assert.equal(listed.code, 0, listed.stderr);
  for (const id of ['tiny-embedding-a', 'tiny-embedding-b', 'tiny-reranker']) assert.match(listed.stdout, new RegExp(`^\\s+${id}\\s`, 'm'));
  assert.match(listed.stdout, /This machine: .*RAM; runs on cpu/);
  assert.match(listed.stdout, /Installed: none yet\./);

  // Progress is coalesced to a few events a second: the tiny weights (≈ 20 MB) are sent slowly
  // enough (64 KiB every 5 ms) that the download shows on a fast machine too.
  hub.slow('model.safetensors', 64 * 1024, 5);
  const pulled = await trove(['model', 'pull', 'tiny-embedding-a', 'tiny-reranker']);
  assert.equal(pulled.code, 0, pulled.stderr);
  // Not a terminal: one progress line per change, no carriage returns.
  assert.ok(!pulled.stderr.includes('\r'));
  assert.match(pulled.stderr, /Downloading .* — [\d.]+ (B|KB|MB) of [\d.]+ (KB|MB) \(\d+%/);
  // Progress events are coalesced (a few a second), so which build stages show depends on speed; some do.
  assert.match(pulled.stderr, /^Tiny Embedding A \(1 of 2\): (Checking the checkpoint|Fingerprinting the checkpoint|Writing the vision encoder|Writing the language model|Copying the tokenizer|Checking the package|Finishing) — \d+%$/m);
  assert.match(pulled.stdout, /^Ready: Tiny Embedding A \(fp32\), Tiny Reranker \(fp32\)\.$/m);
  assert.ok(hub.fileRequests().length > 0, 'the files came from the hub');
  hub.reset();

  const after = await trove(['model', 'list', '--json']);
  assert.equal(after.code, 0, after.stderr);
  const state = JSON.parse(after.stdout);
  assert.deepEqual(
    state.installed.map((p: { id: string; active: boolean }) => [p.id, p.active]),
    [
      ['tiny-embedding-a-fp32', true],
      ['tiny-reranker-fp32', true],
    ],
  );
  const status = await trove(['status', '--json']);
  assert.match(JSON.parse(status.stdout).model.statement, /Embedding with trove-test\/Tiny-Embedding-A/);
});

test('pull refuses unknown ids, and a hub that needs a token says to set HF_TOKEN', async () => {
  const unknown = await trove(['model', 'pull', 'embedding-3b']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /there is no model 'embedding-3b'; choose one of tiny-embedding-a, tiny-embedding-b, tiny-reranker/);

  hub.requireToken('hf_secret');
  try {
    const refused = await trove(['model', 'pull', 'tiny-embedding-b'], { TROVE_DATA_DIR: path.join(dir, 'data-token') });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /HF_TOKEN/);
    const allowed = await trove(['model', 'pull', 'tiny-embedding-b'], { TROVE_DATA_DIR: path.join(dir, 'data-token'), HF_TOKEN: 'hf_secret' });
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.doesNotMatch(allowed.stderr + allowed.stdout, /hf_secret/, 'the token is never printed');
  } finally {
    hub.requireToken(null);
  }
});

test('model list names unfinished downloads and what to do with them', async () => {
  const dataDir = path.join(dir, 'data-unfinished');
  // What a cancelled pull leaves: a partly written file in the repo's download folder.
  const partial = path.join(dataDir, 'models', 'downloads', 'trove-test--Tiny-Embedding-B', 'abc123');
  await mkdir(partial, { recursive: true });
  await writeFile(path.join(partial, 'model.safetensors.part'), Buffer.alloc(1536 * 1024));
  const listed = await trove(['model', 'list'], { TROVE_DATA_DIR: dataDir });
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /^Unfinished downloads: 1\.5 MB \(trove-test\/Tiny-Embedding-B\); 'trove model pull' of the same model continues them, Settings → Models deletes them\.$/m);
});

test('pull --from refuses a folder that holds another model: a tiny checkpoint is not Qwen3-VL-Embedding 2B, a reranker is not an embedder', async () => {
  const dataDir = path.join(dir, 'data-from');
  // The built-in catalog: the case, a 31 MB tiny checkpoint offered as the 2B model.
  const tiny = await trove(['model', 'pull', 'embedding-2b', '--from', catalog.repos['trove-test/Tiny-Embedding-A']!], { TROVE_DATA_DIR: dataDir, TROVE_MODEL_CATALOG: '' });
  assert.equal(tiny.code, 1, tiny.stderr);
  assert.match(tiny.stderr, /does not hold Qwen3-VL-Embedding 2B \(Qwen\/Qwen3-VL-Embedding-2B\):/);
  assert.match(tiny.stderr, /its embedding size \(text_config\.hidden_size\) is 32; Qwen3-VL-Embedding 2B has 2048/);
  assert.match(tiny.stderr, /its model\.safetensors is [\d.]+ MB \(\d+ bytes\); Qwen3-VL-Embedding 2B's is 3\.96 GB/);
  assert.doesNotMatch(tiny.stdout, /Ready/);

  const swapped = await trove(['model', 'pull', 'tiny-embedding-a', '--from', catalog.repos['trove-test/Tiny-Reranker']!], { TROVE_DATA_DIR: dataDir });
  assert.equal(swapped.code, 1, swapped.stderr);
  assert.match(swapped.stderr, /does not hold Tiny Embedding A .*\n.*it holds a reranker \(it stores lm_head\.weight, which only a reranker uses\); Tiny Embedding A is an embedding model/);

  const list = JSON.parse((await trove(['model', 'list', '--json'], { TROVE_DATA_DIR: dataDir })).stdout);
  assert.deepEqual(list.installed, [], 'nothing was installed under the catalog names');

  // The right folder is accepted.
  const right = await trove(['model', 'pull', 'tiny-embedding-a', '--from', catalog.repos['trove-test/Tiny-Embedding-A']!], { TROVE_DATA_DIR: dataDir });
  assert.equal(right.code, 0, right.stderr);
  assert.match(right.stdout, /^Ready: Tiny Embedding A \(fp32\)\.$/m);
});
