// `trove embed --model <package>` computes the embedding: the `--json` shape of docs/cli.md gains
// "embedding", equal to the runtime's; --dims is honoured or refused with its range; a checkpoint
// without --inputs-only is a usage error that says what to do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Qwen3VLEmbedder } from '../../electron/engine/inference/node/runtime/qwen3vl-embedder.ts';
import { runTrove, useTinyPackage } from '../support/cli-fixture.ts';
import { seededPng } from '../support/runtime-compare.ts';

let image = '';
const tiny = useTinyPackage('embed-model-cli', 'embedding', async ({ dir }) => {
  image = await seededPng(dir, 64, 96, 31);
});

test('--json carries the inputs and the runtime embedding', async () => {
  const { stdout } = await runTrove(['embed', '--model', tiny.packageDir, '--json', '--text', 'a cat', '--image', image, '--dims', '32']);
  const out = JSON.parse(stdout) as { prompt: string; input_ids: number[]; images: unknown[]; videos: unknown[]; embedding: number[] };
  assert.deepEqual(Object.keys(out), ['prompt', 'input_ids', 'images', 'videos', 'embedding']);
  assert.equal(out.images.length, 1);
  const embedder = await Qwen3VLEmbedder.open(tiny.packageDir, { environment: { platform: process.platform, arch: process.arch, override: 'cpu' } });
  try {
    const [expected] = await embedder.embed([{ texts: ['a cat'], images: [image] }]);
    assert.deepEqual(out.embedding, Array.from(expected!));
  } finally {
    await embedder.close();
  }
});

test('human output shows the embedding; --inputs-only leaves it out', async () => {
  const { stdout, stderr } = await runTrove(['embed', '--model', tiny.packageDir, '--text', 'hello']);
  assert.match(stdout, /embedding \(32 dims, L2-normalised\): \[-?0\.\d{4}, /);
  assert.match(stderr, /Running on CPU/);
  const inputsOnly = JSON.parse((await runTrove(['embed', '--model', tiny.packageDir, '--json', '--inputs-only', '--text', 'hello'])).stdout) as Record<string, unknown>;
  assert.equal('embedding' in inputsOnly, false);
});

test('errors: --dims outside [32, hidden]; a checkpoint without --inputs-only', async () => {
  await assert.rejects(runTrove(['embed', '--model', tiny.packageDir, '--text', 'x', '--dims', '16']), (e: { code: number; stderr: string }) => {
    assert.equal(e.code, 1);
    assert.match(e.stderr, /dims must be an integer from 32 to 32/);
    return true;
  });
  await assert.rejects(runTrove(['embed', '--model', tiny.checkpointDir, '--text', 'x']), (e: { code: number; stderr: string }) => {
    assert.equal(e.code, 2);
    assert.match(e.stderr, /not a model package \(no manifest\.json\).*trove model build.*--inputs-only/);
    return true;
  });
});
