// Commands that run a model say nothing on stderr that the user did not ask for: no onnxruntime,
// WebGPU, Vulkan or Dawn start-up noise (on a machine without a GPU it came from probing WebGPU).
// TROVE_EP is left unset here so the execution providers are probed as a user's run probes them.
// --verbose shows which execution provider runs and why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runTrove, useTinyPackage } from '../support/cli-fixture.ts';

const NOISE = /vulkan|dawn|XDG_RUNTIME_DIR|onnxruntime|\[W:|\[E:|adapter/i;
let folder = '';
const tiny = useTinyPackage('quiet-cli', 'embedding', async ({ dir }) => {
  folder = path.join(dir, 'notes');
  await mkdir(folder);
  await writeFile(path.join(folder, 'aardvark.md'), 'Aardvarks dig burrows.\n');
});

test('index, search and status with a model print no runtime noise; --verbose tells where the model runs', async () => {
  const env = { TROVE_EP: '', TROVE_LOG: '' };
  const data = path.join(tiny.dir, 'data');
  const indexed = await runTrove(['index', folder, '--once', '--data', data, '--model', tiny.packageDir], env);
  for (const line of indexed.stderr.split('\n')) assert.doesNotMatch(line, NOISE, `index stderr: ${indexed.stderr}`);
  const searched = await runTrove(['search', 'aardvark', '--data', data, '--model', tiny.packageDir], env);
  for (const line of searched.stderr.split('\n')) assert.doesNotMatch(line, NOISE, `search stderr: ${searched.stderr}`);
  const status = await runTrove(['status', '--data', data, '--model', tiny.packageDir], env);
  assert.equal(status.stderr, '', 'status: stderr is empty');

  const verbose = await runTrove(['search', 'aardvark', '--data', data, '--model', tiny.packageDir, '--verbose'], env);
  assert.match(verbose.stderr, /Running on (CPU|CUDA|DirectML|CoreML|WebGPU)\./);
});
