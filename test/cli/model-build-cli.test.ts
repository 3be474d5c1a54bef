// `trove model build` and `trove model inspect` end to end as a user runs them, on the tiny
// checkpoint: build, inspect --json --verify, and the usage and refusal paths with their exit codes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

const run = promisify(execFile);
const TROVE = path.resolve('bin/trove.js');
let dir = '';
let checkpoint = '';

/** Runs the CLI and returns its exit code and output instead of throwing on a non-zero exit. */
async function trove(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [TROVE, ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'trove-model-build-cli-'));
  checkpoint = path.join(dir, 'tiny');
  assert.equal((await trove(['model', 'tiny', '--out', checkpoint, '--kind', 'reranker'])).code, 0);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('model build, then model inspect --json --verify', async () => {
  const out = path.join(dir, 'pkg');
  const built = await trove(['model', 'build', checkpoint, '--out', out, '--kind', 'reranker', '--repo', 'Qwen/Qwen3-VL-Reranker-2B', '--revision', 'deadbeef']);
  assert.equal(built.code, 0, built.stderr);
  assert.match(built.stdout, /^wrote reranker package \(fp32, plain\) to .*pkg: 10 files, [\d.]+ MiB, [\d.]+ s\n$/);
  // Not a terminal: plain progress lines, one per stage start and end, no carriage returns.
  assert.ok(!built.stderr.includes('\r'));
  for (const stage of ['check', 'hash-checkpoint', 'vision', 'decoder', 'tokenizer', 'hash-package', 'finish']) assert.match(built.stderr, new RegExp(`^${stage} `, 'm'));

  const inspected = await trove(['model', 'inspect', out, '--json', '--verify']);
  assert.equal(inspected.code, 0, inspected.stderr);
  const { manifest, check } = JSON.parse(inspected.stdout);
  assert.equal(manifest.kind, 'reranker');
  assert.deepEqual(manifest.source.repo, 'Qwen/Qwen3-VL-Reranker-2B');
  assert.deepEqual(manifest.source.revision, 'deadbeef');
  assert.deepEqual([manifest.tokens.yes, manifest.tokens.no], [9693, 2152]);
  assert.equal(manifest.graphs.decoder, 'rerank_decoder.onnx');
  assert.equal(check.ok, true);
  assert.equal(check.hashesChecked, true);
  assert.equal(check.files.length, 9);
  for (const f of check.files) assert.equal(f.actualSha256, f.sha256, f.name);

  const text = await trove(['model', 'inspect', out]);
  assert.equal(text.code, 0);
  assert.match(text.stdout, /reranker package, fp32, plain graphs, format 1, built by trove /);
  assert.match(text.stdout, /yes\/no 9693\/2152/);
});

test('refusals and usage errors have clear messages and exit codes', async () => {
  const out = path.join(dir, 'pkg2');
  assert.equal((await trove(['model', 'build', checkpoint, '--out', out])).code, 0);
  const again = await trove(['model', 'build', checkpoint, '--out', out]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already holds a model package; pass overwrite \(--overwrite\)/);
  assert.equal((await trove(['model', 'build', checkpoint, '--out', out, '--overwrite'])).code, 0);

  const missingOut = await trove(['model', 'build', checkpoint]);
  assert.equal(missingOut.code, 2);
  assert.match(missingOut.stderr, /needs --out <package-dir>/);
  const badPrecision = await trove(['model', 'build', checkpoint, '--out', path.join(dir, 'x'), '--precision', 'int3']);
  assert.equal(badPrecision.code, 2);
  assert.match(badPrecision.stderr, /--precision must be one of fp32, fp16, int8, int4/);

  const notPackage = await trove(['model', 'inspect', checkpoint]);
  assert.equal(notPackage.code, 1);
  assert.match(notPackage.stderr, /is not a Trove model package: it has no manifest\.json; build one with 'trove model build/);

  // A damaged package: inspect exits 1 and names the file.
  await writeFile(path.join(out, 'tokenizer_config.json'), '{}');
  const damaged = await trove(['model', 'inspect', out]);
  assert.equal(damaged.code, 1);
  assert.match(damaged.stdout, /tokenizer_config\.json .* 2 bytes on disk, the manifest says \d+/);
  assert.deepEqual((await readdir(dir)).sort(), ['pkg', 'pkg2', 'tiny']);
});

test('without --kind, a reranker checkpoint builds a reranker package, and a checkpoint that does not say is built as an embedder with a note', async () => {
  const out = path.join(dir, 'pkg3');
  const built = await trove(['model', 'build', checkpoint, '--out', out]);
  assert.equal(built.code, 0, built.stderr);
  assert.match(built.stderr, /^Building a reranker package: it stores lm_head\.weight, which only a reranker uses \(--kind chooses\)\.$/m);
  assert.match(built.stdout, /^wrote reranker package /);
  assert.equal(JSON.parse((await trove(['model', 'inspect', out, '--json'])).stdout).manifest.kind, 'reranker');

  // --kind wins, with a warning when the weights say otherwise.
  const forced = await trove(['model', 'build', checkpoint, '--out', path.join(dir, 'pkg4'), '--kind', 'embedding']);
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(forced.stderr, /warning: .* looks like a reranker checkpoint \(it stores lm_head\.weight, which only a reranker uses\); building an embedding package as --kind asks\./);

  const embedder = path.join(dir, 'plain');
  assert.equal((await trove(['model', 'tiny', '--out', embedder])).code, 0);
  const plain = await trove(['model', 'build', embedder, '--out', path.join(dir, 'pkg5')]);
  assert.equal(plain.code, 0, plain.stderr);
  assert.match(plain.stderr, /^Building an embedding package: .*plain does not say which kind it is: .*If it is a reranker, build it with --kind reranker\.$/m);
  await rm(path.join(dir, 'pkg4'), { recursive: true });
  await rm(path.join(dir, 'pkg5'), { recursive: true });
  await rm(embedder, { recursive: true });
});
