// `trove index --once`, `trove status --json` and `trove search --json` as a user runs them, on the
// tiny embedding package and a temp data folder: the JSON shapes docs/cli.md promises.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runTrove, useTinyPackage } from '../support/cli-fixture.ts';
import { seededPng } from '../support/runtime-compare.ts';

let folder = '';
let data = '';
const tiny = useTinyPackage('index-cli', 'embedding', async ({ dir }) => {
  folder = path.join(dir, 'library');
  data = path.join(dir, 'data');
  await mkdir(folder);
  await seededPng(folder, 64, 48, 5);
  await writeFile(path.join(folder, 'aardvark-facts.md'), 'Aardvarks dig burrows and eat termites at night.\n');
});

test('index --once, then status --json and search --json', async () => {
  const indexed = await runTrove(['index', folder, '--once', '--data', data, '--model', tiny.packageDir]);
  assert.match(indexed.stdout, /indexed 2 of 2 files/);

  const status = JSON.parse((await runTrove(['status', '--json', '--data', data, '--model', tiny.packageDir])).stdout) as {
    files: { total: number; indexed: number; failed: number; pending: number };
    items: number;
    vectors: number;
    ann: { count: number };
  };
  assert.deepEqual(status.files, { total: 2, indexed: 2, failed: 0, pending: 0 });
  assert.equal(status.items, 2);
  assert.equal(status.vectors, 2);
  assert.equal(status.ann.count, 2);

  const search = JSON.parse((await runTrove(['search', 'aardvark', '--json', '--data', data, '--model', tiny.packageDir])).stdout) as {
    results: { path: string; kind: string; score: number; locator: { type: string } }[];
  };
  assert.equal(search.results[0]!.path, path.join(folder, 'aardvark-facts.md'));
  assert.equal(search.results[0]!.kind, 'text');
  assert.equal(search.results[0]!.locator.type, 'text');
  assert.ok(search.results[0]!.score > 0 && search.results[0]!.score <= 1);

  const human = await runTrove(['status', '--data', data]);
  assert.match(human.stdout, /files\s+2 \(2 indexed, 0 failed, 0 pending\)/);
});
