// Repos the hub tests serve: the tiny embedding checkpoint (real files, one LFS weight file) plus
// files the default allow-list must skip, and a small sharded checkpoint (two LFS shards + index).
import { cp, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import assert from 'node:assert/strict';
import { generateTinyCheckpoint } from '../../../native-models/tiny/node/generate-tiny-checkpoint.ts';
import { HubError, type HubErrorCode } from '../../../native-models/hub/common/hub-errors.ts';
import type { DownloadOptions } from '../../../native-models/hub/node/snapshot-types.ts';
import type { FakeHub } from '../../support/fake-hub-server.ts';

export const TINY_REPO = 'Qwen/Qwen3-VL-Embedding-2B';
export const SHARDED_REPO = 'Qwen/Sharded-Test';

/** Files of the tiny checkpoint the default allow-list selects (all of them). */
export const TINY_SELECTED = [
  'chat_template.json',
  'config.json',
  'model.safetensors',
  'preprocessor_config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'video_preprocessor_config.json',
];

/** The tiny checkpoint, plus a README and a nested onnx/ weight file that the default filter must skip. */
export async function tinyRepoFolder(root: string): Promise<string> {
  const checkpoint = await generateTinyCheckpoint({ out: path.join(root, 'tiny-checkpoint'), kind: 'embedding' });
  const served = path.join(root, 'tiny-served');
  await cp(checkpoint, served, { recursive: true });
  await writeFile(path.join(served, 'README.md'), '# tiny\n');
  await mkdir(path.join(served, 'onnx'));
  await writeFile(path.join(served, 'onnx', 'model.safetensors'), Buffer.alloc(1000, 7));
  return served;
}

/** Deterministic pseudo-random bytes (the content only has to differ between files). */
function bytes(n: number, seed: number): Buffer {
  const out = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** A sharded checkpoint laid out as the hub has it; the weight files are filler, not real safetensors. */
export async function shardedRepoFolder(root: string): Promise<string> {
  const dir = path.join(root, 'sharded');
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'config.json'), `${JSON.stringify({ model_type: 'qwen3_vl' }, null, 2)}\n`);
  await writeFile(path.join(dir, 'model-00001-of-00002.safetensors'), bytes(700_000, 1));
  await writeFile(path.join(dir, 'model-00002-of-00002.safetensors'), bytes(300_001, 2));
  const weightMap = { 'a.weight': 'model-00001-of-00002.safetensors', 'b.weight': 'model-00002-of-00002.safetensors' };
  await writeFile(path.join(dir, 'model.safetensors.index.json'), `${JSON.stringify({ metadata: { total_size: 1000001 }, weight_map: weightMap }, null, 2)}\n`);
  await writeFile(path.join(dir, 'tokenizer.json'), bytes(50_000, 3));
  await writeFile(path.join(dir, 'tokenizer_config.json'), '{}\n');
  await writeFile(path.join(dir, 'chat_template.jinja'), '{{ messages }}\n');
  return dir;
}

/** Options for a pull from `hub` that ignore this machine's environment (tokens, proxies, caches). */
export function hubOptions(hub: FakeHub, extra: DownloadOptions = {}): DownloadOptions {
  return { endpoint: hub.url, env: {}, hfCache: false, retry: { baseDelayMs: 5, maxDelayMs: 50 }, ...extra };
}

/** Asserts `promise` rejects with a HubError of `code` whose message matches every pattern. */
export async function rejectsWith(promise: Promise<unknown>, code: HubErrorCode, ...patterns: RegExp[]): Promise<HubError> {
  let caught: unknown = null;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof HubError, `expected a HubError '${code}', got ${caught === null ? 'success' : String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  for (const p of patterns) assert.match(caught.message, p);
  return caught;
}

/** Every file under `dir` (repo paths), sorted. */
export async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await listFiles(path.join(dir, e.name), rel)));
    else out.push(rel);
  }
  return out.sort();
}

/** Asserts every `files` entry of `dest` holds the same bytes as in `source`. */
export async function assertSameFiles(dest: string, source: string, files: readonly string[]): Promise<void> {
  for (const f of files) {
    const [a, b] = await Promise.all([readFile(path.join(dest, f)), readFile(path.join(source, f))]);
    assert.ok(a.equals(b), `${f} differs from the source`);
  }
}
