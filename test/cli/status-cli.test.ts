// `trove status` and the read-only commands as a user meets them:
// - a data folder that holds no library (a typo) is reported, never created (status, search,
//   model list), with how to make one;
// - the files that are not indexed are listed with their reason (the first few, --failed for all,
//   in --json too), and `trove index --retry-failed` indexes them again;
// - without --model, status names the model whose vectors the library holds instead of "no model",
//   and an idle library reads 'idle', not 'scanning'.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, open, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runTrove, troveOutcome, useTinyPackage } from '../support/cli-fixture.ts';
import { seededPng } from '../support/runtime-compare.ts';

const BROKEN = 7;
let folder = '';
let brokenFiles: string[] = [];
const tiny = useTinyPackage('status-cli', 'embedding', async ({ dir }) => {
  folder = path.join(dir, 'library');
  await mkdir(folder);
  await writeFile(path.join(folder, 'aardvark.md'), 'Aardvarks dig burrows and eat termites at night.\n');
  // PNGs whose signature is zeroed: sharp cannot decode them, so they fail with a reason.
  for (let i = 0; i < BROKEN; i++) {
    const png = await seededPng(dir, 40 + i, 30, 100 + i);
    const named = path.join(folder, `broken-${i}.png`);
    await writeFile(named, await readFile(png));
    const handle = await open(named, 'r+');
    await handle.write(Buffer.alloc(8), 0, 8, 0);
    await handle.close();
    brokenFiles.push(named);
  }
  brokenFiles = brokenFiles.sort();
});

test('read-only commands do not create a library where there is none; they say so and how to make one', async () => {
  const typo = path.join(tiny.dir, 'typo');
  for (const args of [['status'], ['search', 'aardvark'], ['status', '--json']]) {
    const result = await troveOutcome([...args, '--data', typo]);
    assert.equal(result.code, 1, `${args.join(' ')}: ${result.stderr}`);
    assert.equal(result.stderr.trim(), `trove: there is no Trove library at ${typo} (--data). Check the path, or create a library there by adding a folder: trove index FOLDER --data ${typo}`);
    assert.equal(result.stdout, '');
  }
  const fromEnv = await troveOutcome(['status'], { TROVE_DATA_DIR: typo });
  assert.equal(fromEnv.code, 1);
  assert.match(fromEnv.stderr, /there is no Trove library at .*typo \(TROVE_DATA_DIR\)/);

  // model list still shows the catalog and this machine, and says nothing is installed there.
  const listed = await troveOutcome(['model', 'list', '--data', typo]);
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /^This machine: /m);
  assert.match(listed.stdout, /There is no Trove library at .*typo yet, so nothing is installed there\./);
  assert.equal(JSON.parse((await runTrove(['model', 'list', '--json', '--data', typo])).stdout).installed.length, 0);

  assert.ok(!existsSync(typo), 'nothing was created at the typo');
  assert.deepEqual(
    readdirSync(tiny.dir).filter((n) => n.startsWith('.trove-model-list-')),
    [],
    "model list's stand-in folder is removed",
  );
});

test('status lists what is not indexed and why; --failed lists all, --json too; --retry-failed indexes them again', async () => {
  const data = path.join(tiny.dir, 'data-failures');
  const indexed = await runTrove(['index', folder, '--once', '--data', data]);
  assert.match(indexed.stdout, new RegExp(`^indexed 1 of ${BROKEN + 1} files \\(${BROKEN} failed: 'trove status --failed' lists them with the reason\\)$`, 'm'));

  const human = await runTrove(['status', '--data', data]);
  assert.match(human.stdout, new RegExp(`^files {4}${BROKEN + 1} \\(1 indexed, ${BROKEN} failed, 0 pending\\)$`, 'm'));
  assert.match(human.stdout, new RegExp(`^Not indexed \\(${BROKEN}\\):$`, 'm'));
  const shown = brokenFiles.filter((f) => human.stdout.includes(`  ${f}\n`));
  assert.equal(shown.length, 5, 'the first five, each with its path');
  assert.match(human.stdout, /^ {6}.*(decode|image).*$/im, 'and its reason below it');
  assert.match(human.stdout, new RegExp(`^  … and ${BROKEN - 5} more: 'trove status --failed' lists them all\\.$`, 'm'));

  const all = await runTrove(['status', '--failed', '--data', data]);
  for (const file of brokenFiles) assert.ok(all.stdout.includes(`  ${file}\n`), file);
  assert.doesNotMatch(all.stdout, /… and \d+ more/);

  const json = JSON.parse((await runTrove(['status', '--json', '--data', data])).stdout) as {
    files: { failed: number };
    indexing: { state: string };
    failures: { total: number; failures: { path: string; reason: string; fileId: number }[] };
  };
  assert.equal(json.files.failed, BROKEN);
  assert.equal(json.indexing.state, 'idle', 'an idle library is not "scanning"');
  assert.equal(json.failures.total, BROKEN);
  assert.deepEqual(json.failures.failures.map((f) => f.path).sort(), brokenFiles);
  for (const f of json.failures.failures) assert.ok(f.reason.length > 10, f.reason);

  // Repair two files without changing their size or mtime: the scan sees no change, so they stay
  // failed until asked; --retry-failed (folder-wide) indexes them.
  for (const file of brokenFiles.slice(0, 2)) {
    const before = await stat(file);
    const index = brokenFiles.indexOf(file);
    const good = await readFile(path.join(tiny.dir, `noise-${40 + index}x30-${100 + index}.png`));
    await writeFile(file, good);
    await utimes(file, before.atime, before.mtime);
  }
  const plain = await runTrove(['index', folder, '--once', '--data', data]);
  assert.match(plain.stdout, /^indexed 1 of 8 files/m, 'an unchanged failed file is not retried by itself');
  const retried = await runTrove(['index', folder, '--once', '--retry-failed', '--data', data]);
  assert.match(retried.stderr, new RegExp(`^Retrying ${BROKEN} failed files\\.$`, 'm'));
  assert.match(retried.stdout, new RegExp(`^indexed 3 of 8 files \\(${BROKEN - 2} failed`, 'm'));

  // Without a folder: every folder's failures, once.
  const again = await runTrove(['index', '--retry-failed', '--data', data]);
  assert.match(again.stderr, new RegExp(`^Retrying ${BROKEN - 2} failed files\\.$`, 'm'));
  assert.match(again.stdout, /^indexed 3 of 8 files/m);
});

test('status without --model names the model whose vectors the library holds, not "no model"', async () => {
  const data = path.join(tiny.dir, 'data-model');
  await runTrove(['index', folder, '--once', '--data', data, '--model', tiny.packageDir]);
  const human = await runTrove(['status', '--data', data]);
  assert.doesNotMatch(human.stdout, /No embedding model yet/);
  assert.match(human.stdout, new RegExp(`vectors from .* \\(${tiny.packageDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\), which is not in use`));
  const withModel = JSON.parse((await runTrove(['status', '--json', '--data', data, '--model', tiny.packageDir])).stdout) as { model: { embedding: { name: string } | null }; vectors: number };
  assert.ok(withModel.model.embedding !== null);
  assert.ok(withModel.vectors > 0);
});
