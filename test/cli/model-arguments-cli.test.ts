// A model named for a run (--model, TROVE_MODEL, --reranker) that cannot be used stops the command
// with the reason and the fix, instead of exiting 0 on keyword search: a path that does not exist,
// a checkpoint folder, the other kind of package (exit 2: the argument is wrong), a truncated
// weight file, a broken manifest or a graph the runtime cannot load (exit 1: the package is
// damaged). Nothing is created in the data folder by a refused command.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { cp, mkdir, open, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runTrove, troveOutcome as outcome, useTinyPackage } from '../support/cli-fixture.ts';

let folder = '';
let reranker = '';
const tiny = useTinyPackage('model-args-cli', 'embedding', async ({ dir, packageDir }) => {
  folder = path.join(dir, 'library');
  await mkdir(folder);
  await writeFile(path.join(folder, 'note.md'), 'Aardvarks dig burrows.\n');
  // A reranker package for the wrong-kind cases: the embedding package with its manifest's kind
  // changed is enough, since the kind is refused before anything else is read.
  reranker = path.join(dir, 'reranker-pkg');
  await cp(packageDir, reranker, { recursive: true });
  const manifest = path.join(reranker, 'manifest.json');
  await writeFile(manifest, (await readFile(manifest, 'utf8')).replace('"kind": "embedding"', '"kind": "reranker"').replace('"kind":"embedding"', '"kind":"reranker"'));
});

test('a model argument that is not a usable package of its kind is a usage error for index, search, status and serve', async () => {
  const data = path.join(tiny.dir, 'never-created');
  const missing = path.join(tiny.dir, 'no-such-package');
  const cases: { args: string[]; env?: NodeJS.ProcessEnv; message: RegExp }[] = [
    { args: ['index', folder, '--once', '--model', missing], message: /^trove index: --model .*no-such-package: no such folder\. Give an embedding model package \('trove model list' shows the installed ones; 'trove model build CHECKPOINT --out PKG' makes one\)\.$/m },
    { args: ['search', 'aardvark', '--model', tiny.checkpointDir], message: /^trove search: --model .*: a Hugging Face checkpoint, not a model package\. Build one from it first \(trove model build .* --out PKG\), then give PKG\.$/m },
    { args: ['status', '--model', reranker], message: /^trove status: --model .*reranker-pkg: a reranker package, but --model takes an embedding package\. Give it with --reranker instead\.$/m },
    { args: ['serve', '--reranker', tiny.packageDir], message: /^trove serve: --reranker .*: an embedding package, but --reranker takes a reranker package\. Give it with --model instead\.$/m },
    { args: ['index', folder, '--once'], env: { TROVE_MODEL: missing }, message: /^trove index: TROVE_MODEL .*no-such-package: no such folder\./m },
    { args: ['search', 'x'], env: { TROVE_RERANKER: tiny.dir }, message: /^trove search: TROVE_RERANKER .*: not a model package \(it has no manifest\.json\)\./m },
  ];
  for (const { args, env, message } of cases) {
    const result = await outcome([...args, '--data', data], env);
    assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, message, args.join(' '));
    assert.match(result.stderr, /^Usage: trove /m);
    assert.equal(result.stdout, '', args.join(' '));
  }
  assert.ok(!existsSync(data), 'no library was created by a refused command');
});

test('a damaged package is a failure (exit 1) that names the file and the fix', async () => {
  const data = path.join(tiny.dir, 'damaged-data');
  const truncated = path.join(tiny.dir, 'truncated-pkg');
  await cp(tiny.packageDir, truncated, { recursive: true });
  const weights = path.join(truncated, 'text_decoder.onnx_data');
  await truncate(weights, Math.floor((await stat(weights)).size / 2));
  const broken = path.join(tiny.dir, 'broken-manifest-pkg');
  await cp(tiny.packageDir, broken, { recursive: true });
  await writeFile(path.join(broken, 'manifest.json'), '{"format": "trove-model-package", ');
  // Same size, other bytes: only the runtime notices (hashes are checked by 'model inspect --verify').
  const garbled = path.join(tiny.dir, 'garbled-pkg');
  await cp(tiny.packageDir, garbled, { recursive: true });
  const graph = await open(path.join(garbled, 'text_decoder.onnx'), 'r+');
  await graph.write(Buffer.alloc(4096, 0xab), 0, 4096, 0);
  await graph.close();

  const cases: { args: string[]; message: RegExp }[] = [
    { args: ['index', folder, '--once', '--model', truncated], message: /^trove: --model .*truncated-pkg: .*text_decoder\.onnx_data is \d+ bytes but the manifest says \d+; the copy is incomplete — copy it again or rebuild the package\.$/m },
    { args: ['search', 'aardvark', '--model', broken], message: /^trove: --model .*broken-manifest-pkg: manifest\.json is not valid JSON \(.*\); the package is damaged\. Rebuild it with 'trove model build CHECKPOINT --out PKG'\.$/m },
    { args: ['index', folder, '--once', '--model', garbled], message: /^trove: --model .*garbled-pkg: the embedding model could not be loaded: cannot load .* on any execution provider .*rebuild it with 'trove model build'/m },
  ];
  for (const { args, message } of cases) {
    const result = await outcome([...args, '--data', data]);
    assert.equal(result.code, 1, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, message, args.join(' '));
    assert.doesNotMatch(result.stdout, /indexed|results|%/, 'nothing ran on keyword search instead');
  }
});

test('a good package runs as before', async () => {
  const data = path.join(tiny.dir, 'good-data');
  const indexed = await runTrove(['index', folder, '--once', '--data', data, '--model', tiny.packageDir]);
  assert.match(indexed.stdout, /^indexed 1 of 1 files \(0 failed\)$/m);
  const found = JSON.parse((await runTrove(['search', 'aardvark', '--json', '--data', data, '--model', tiny.packageDir])).stdout) as { mode: string };
  assert.match(found.mode, /semantic/);
});
