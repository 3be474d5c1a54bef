// `trove embed --model <package>` computes the embedding: the `--json` shape of docs/cli.md gains
// "embedding", equal to the runtime's; --dims is honoured or refused with its range; a checkpoint
// without --inputs-only is a usage error that says what to do.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Qwen3VLEmbedder } from '../../electron/engine/models/node/runtime/qwen3vl-embedder.ts';
import { buildTinyPackage } from '../support/tiny-package.ts';
import { seededPng } from '../support/runtime-compare.ts';

const run = promisify(execFile);
const TROVE = path.resolve('bin/trove.js');
const env = { ...process.env, TROVE_EP: 'cpu' };
let dir = '';
let packageDir = '';
let checkpointDir = '';
let image = '';

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'trove-embed-model-cli-'));
  ({ packageDir, checkpointDir } = await buildTinyPackage(dir, 'embedding'));
  image = await seededPng(dir, 64, 96, 31);
});
after(() => rm(dir, { recursive: true, force: true }));

const trove = (args: string[]) => run(process.execPath, [TROVE, ...args], { env });

test('--json carries the inputs and the runtime embedding', async () => {
  const { stdout } = await trove(['embed', '--model', packageDir, '--json', '--text', 'a cat', '--image', image, '--dims', '32']);
  const out = JSON.parse(stdout) as { prompt: string; input_ids: number[]; images: unknown[]; videos: unknown[]; embedding: number[] };
  assert.deepEqual(Object.keys(out), ['prompt', 'input_ids', 'images', 'videos', 'embedding']);
  assert.equal(out.images.length, 1);
  const embedder = await Qwen3VLEmbedder.open(packageDir, { environment: { platform: process.platform, arch: process.arch, override: 'cpu' } });
  try {
    const [expected] = await embedder.embed([{ texts: ['a cat'], images: [image] }]);
    assert.deepEqual(out.embedding, Array.from(expected!));
  } finally {
    await embedder.close();
  }
});

test('human output shows the embedding; --inputs-only leaves it out', async () => {
  const { stdout, stderr } = await trove(['embed', '--model', packageDir, '--text', 'hello']);
  assert.match(stdout, /embedding \(32 dims, L2-normalised\): \[-?0\.\d{4}, /);
  assert.match(stderr, /Running on CPU/);
  const inputsOnly = JSON.parse((await trove(['embed', '--model', packageDir, '--json', '--inputs-only', '--text', 'hello'])).stdout) as Record<string, unknown>;
  assert.equal('embedding' in inputsOnly, false);
});

test('errors: --dims outside [32, hidden]; a checkpoint without --inputs-only', async () => {
  await assert.rejects(trove(['embed', '--model', packageDir, '--text', 'x', '--dims', '16']), (e: { code: number; stderr: string }) => {
    assert.equal(e.code, 1);
    assert.match(e.stderr, /dims must be an integer from 32 to 32/);
    return true;
  });
  await assert.rejects(trove(['embed', '--model', checkpointDir, '--text', 'x']), (e: { code: number; stderr: string }) => {
    assert.equal(e.code, 2);
    assert.match(e.stderr, /not a model package \(no manifest\.json\).*trove model build.*--inputs-only/);
    return true;
  });
});
