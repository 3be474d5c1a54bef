// "Use the checkpoint I already have" must hold the model it is installed as: a folder with another
// checkpoint (a tiny one for "Qwen3-VL-Embedding 2B", a reranker for an embedding model, a
// same-size file with other bytes where the catalog knows the hash) is refused with what differs.
// And which kind a checkpoint is comes from its weights (lm_head), then from names.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { checkLocalCheckpointFolder, type ExpectedModel } from '../../../native-models/hub/node/local-checkpoint.ts';
import { detectCheckpointKind } from '../../../native-models/checkpoint/node/checkpoint-kind.ts';
import { BUILT_IN_CATALOG } from '../../../native-models/catalog/node/model-catalog.ts';
import { generateTinyCheckpoint } from '../../../native-models/tiny/node/generate-tiny-checkpoint.ts';
import { rejectsWith } from './hub-fixtures.ts';

let root = '';
let embedding = '';
let reranker = '';

async function modelOf(dir: string, kind: ExpectedModel['kind'], extra: Partial<ExpectedModel> = {}): Promise<ExpectedModel> {
  const weights = await readFile(path.join(dir, 'model.safetensors'));
  return {
    id: `tiny-${kind}`,
    title: `Tiny ${kind}`,
    repo: `trove-test/Tiny-${kind}`,
    kind,
    dims: kind === 'embedding' ? 32 : null,
    files: [{ path: 'model.safetensors', bytes: weights.length, sha256: createHash('sha256').update(weights).digest('hex') }],
    ...extra,
  };
}

before(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'trove-local-match-'));
  embedding = await generateTinyCheckpoint({ out: path.join(root, 'plain-a'), kind: 'embedding' });
  reranker = await generateTinyCheckpoint({ out: path.join(root, 'plain-b'), kind: 'reranker' });
});
after(() => rm(root, { recursive: true, force: true }));

test('the folder of the expected model passes, hashes included', async () => {
  const checked = await checkLocalCheckpointFolder(embedding, { model: await modelOf(embedding, 'embedding') });
  assert.ok(checked.files.find((f) => f.path === 'model.safetensors')?.verified, 'the catalog hash was checked');
});

test('a tiny checkpoint is not Qwen3-VL-Embedding 2B: its size and weight file are named', async () => {
  const entry = BUILT_IN_CATALOG.find((m) => m.id === 'embedding-2b')!;
  await rejectsWith(
    checkLocalCheckpointFolder(embedding, { model: entry }),
    'invalid',
    /does not hold Qwen3-VL-Embedding 2B \(Qwen\/Qwen3-VL-Embedding-2B\)/,
    /its embedding size \(text_config\.hidden_size\) is 32; Qwen3-VL-Embedding 2B has 2048/,
    /its model\.safetensors is [\d.]+ MB \(\d+ bytes\); Qwen3-VL-Embedding 2B's is 3\.96 GB \(4255140312 bytes\)/,
    /download the model instead/,
  );
});

test('a reranker checkpoint is not an embedding model, and the other way round', async () => {
  const forEmbedding = await modelOf(embedding, 'embedding');
  await rejectsWith(
    checkLocalCheckpointFolder(reranker, { model: { ...forEmbedding, files: [] } }),
    'invalid',
    /it holds a reranker \(it stores lm_head\.weight, which only a reranker uses\); Tiny embedding is an embedding model/,
  );
  // A reranker needs lm_head: an untied checkpoint without one is an embedder (the tiny embedder is tied, so untie its config).
  const untied = path.join(root, 'untied');
  await cp(embedding, untied, { recursive: true });
  const config = JSON.parse(await readFile(path.join(untied, 'config.json'), 'utf8'));
  config.tie_word_embeddings = false;
  config.text_config.tie_word_embeddings = false;
  await writeFile(path.join(untied, 'config.json'), JSON.stringify(config));
  await rejectsWith(
    checkLocalCheckpointFolder(untied, { model: { ...(await modelOf(reranker, 'reranker')), files: [] } }),
    'invalid',
    /it holds an embedding model \(it has untied word embeddings but no lm_head\.weight, which a reranker needs\)/,
  );
});

test('same size, other bytes: refused as damaged when the catalog knows the hash', async () => {
  const other = await generateTinyCheckpoint({ out: path.join(root, 'other-seed'), kind: 'embedding', seed: 4242 });
  assert.equal((await stat(path.join(other, 'model.safetensors'))).size, (await stat(path.join(embedding, 'model.safetensors'))).size);
  await rejectsWith(checkLocalCheckpointFolder(other, { model: await modelOf(embedding, 'embedding') }), 'corrupt', /model\.safetensors: sha256/);
});

test('kind detection: lm_head says reranker; tied weights say nothing unless a name on the path does', async () => {
  assert.deepEqual(await detectCheckpointKind(reranker), { kind: 'reranker', reason: 'it stores lm_head.weight, which only a reranker uses', fromWeights: true });
  const tied = await detectCheckpointKind(embedding);
  assert.equal(tied.kind, null);
  assert.match(tied.reason, /look the same for both kinds/);
  const named = path.join(root, 'models--Qwen--Qwen3-VL-Reranker-2B', 'snapshots', 'abc');
  await cp(embedding, named, { recursive: true });
  assert.deepEqual(await detectCheckpointKind(named), { kind: 'reranker', reason: 'its path names it (models--Qwen--Qwen3-VL-Reranker-2B)', fromWeights: false });
  await writeFile(path.join(named, '.trove-download.json'), JSON.stringify({ repo: 'Qwen/Qwen3-VL-Embedding-2B' }));
  assert.equal((await detectCheckpointKind(named)).kind, 'embedding', "the download record's repo comes before the path");
});
