// `trove rerank` end to end as a user runs it, on the tiny reranker package: scores equal the
// in-process runtime for the documents the command-line rule forms, `--json` is `{"scores": […]}`,
// and mistakes give usage errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Qwen3VLReranker } from '../../electron/engine/inference/node/runtime/qwen3vl-reranker.ts';
import { runTrove, useTinyPackage } from '../support/cli-fixture.ts';
import { seededPng } from '../support/runtime-compare.ts';

let image = '';
const tiny = useTinyPackage('rerank-cli', 'reranker', async ({ dir }) => {
  image = await seededPng(dir, 64, 96, 21);
});

test('--json scores equal the runtime; each --doc-* starts a document, --with-* adds to it', async () => {
  const { stdout } = await runTrove([
    'rerank', '--model', tiny.packageDir, '--json', '--instruction', 'Match it.',
    '--query-text', 'a noisy picture',
    '--doc-text', 'first document',
    '--doc-image', image, '--with-text', 'its caption',
    '--doc-text', 'third',
  ]);
  const out = JSON.parse(stdout) as { scores: number[] };
  assert.deepEqual(Object.keys(out), ['scores']);
  const reranker = await Qwen3VLReranker.open(tiny.packageDir, { environment: { platform: process.platform, arch: process.arch, override: 'cpu' } });
  try {
    const expected = await reranker.rerank({ texts: ['a noisy picture'] }, [{ texts: ['first document'] }, { images: [image], texts: ['its caption'] }, { texts: ['third'] }], { instruction: 'Match it.' });
    assert.deepEqual(out.scores, expected);
  } finally {
    await reranker.close();
  }
  assert.ok(out.scores.every((s) => s > 0 && s < 1));
});

test('human output: one line per document, the EP statement on stderr', async () => {
  const { stdout, stderr } = await runTrove(['rerank', '--model', tiny.packageDir, '--query-text', 'q', '--doc-text', 'a', '--doc-text', 'b']);
  assert.match(stdout, /^0\.\d{4} {2}1: a\n0\.\d{4} {2}2: b\n$/);
  assert.match(stderr, /Running on CPU \(forced by TROVE_EP=cpu\)\./);
});

test('usage errors: no documents, --with-* before a document, a checkpoint instead of a package', async () => {
  const fails = async (args: string[], code: number, pattern: RegExp) =>
    assert.rejects(runTrove(args), (e: { code: number; stderr: string }) => {
      assert.equal(e.code, code);
      assert.match(e.stderr, pattern);
      return true;
    });
  await fails(['rerank', '--model', tiny.packageDir, '--query-text', 'q'], 2, /at least one document/);
  await fails(['rerank', '--model', tiny.packageDir, '--query-text', 'q', '--with-text', 'x', '--doc-text', 'd'], 2, /--with-text adds to the previous document/);
  await fails(['rerank', '--model', tiny.packageDir, '--doc-text', 'd'], 2, /needs a query/);
  await fails(['rerank', '--model', tiny.checkpointDir, '--query-text', 'q', '--doc-text', 'd'], 2, /a Hugging Face checkpoint, not a model package\. Build one from it first \(trove model build .* --kind reranker\)/);
});
