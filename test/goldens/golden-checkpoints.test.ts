// The golden checkpoints are transformers' own files: rebuilt here without Python (committed
// config.json + the seeded recipe's TypeScript twin), they must equal what save_pretrained wrote
// byte for byte; and the tensors Trove expects from a config must be exactly the ones transformers
// 5 saved (key prefixes model.language_model.* / model.visual.*, lm_head only when untied).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseQwen3VLConfig } from '../../native-models/checkpoint/common/qwen3vl-config.ts';
import { qwen3VLParameterShapes } from '../../native-models/checkpoint/common/qwen3vl-parameters.ts';
import { expectedTensors } from '../../native-models/package/node/checkpoint-check.ts';
import { GOLDEN_FIXTURES, readFixtureJson, writeGoldenCheckpoint, type GoldenCheckpointName, type RecordedCheckpoint } from './golden-checkpoint.ts';
import { drawTensor, fnv1a32, mix32 } from './seeded-uniform.ts';

const NAMES: GoldenCheckpointName[] = ['embedder', 'reranker', 'reranker-tied'];
let root = '';

before(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'trove-golden-checkpoints-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

test('the seeded draw matches values computed by the Python generator', () => {
  // Spot values from tools/reference-goldens/seeded_weights.py (numpy), so that a change on either
  // side shows here, before the checkpoint hashes fail.
  assert.equal(mix32(1), 0x688990c0);
  assert.equal(mix32(0xdeadbeef), 0xe628c683);
  assert.equal(fnv1a32('lm_head.weight'), 0xae5ab6ed);
  assert.equal(fnv1a32('é'), 0x1e9de8c1);
  const bits = new Uint32Array(drawTensor('model.visual.pos_embed.weight', 4, 1101, 0, 0.5).buffer);
  assert.deepEqual([...bits], [0xbf565b15, 0x3c55f243, 0xbe745444, 0xbf380516]);
});

for (const name of NAMES) {
  test(`${name}: rebuilt byte for byte as transformers saved it`, async () => {
    const { mismatched, fileSha256, recorded } = await writeGoldenCheckpoint(name, path.join(root, name));
    assert.deepEqual(mismatched, []);
    assert.equal(fileSha256, recorded.file_sha256);
  });

  test(`${name}: Trove's tensor list for the config is exactly the one transformers saved`, async () => {
    const recorded = await readFixtureJson<RecordedCheckpoint>(`${name}-tensors.json`);
    const config = parseQwen3VLConfig(JSON.parse(await readFile(path.join(GOLDEN_FIXTURES, `${name}-config.json`), 'utf8')), `${name}-config.json`);
    const sort = (list: { name: string; shape: number[] }[]) => list.map((t) => `${t.name} [${t.shape.join(', ')}]`).sort();
    assert.deepEqual(sort(qwen3VLParameterShapes(config)), sort(recorded.tensors));
    const kind = name === 'embedder' ? 'embedding' : 'reranker';
    const needed = new Set(expectedTensors(config, kind).map((t) => t.name));
    for (const t of recorded.tensors) assert.ok(needed.has(t.name) || t.name === 'lm_head.weight', `${t.name} is saved but the ${kind} build does not read it`);
    assert.equal(recorded.tensors.some((t) => t.name === 'lm_head.weight'), !config.text.tieWordEmbeddings, 'lm_head.weight is saved exactly when the head is untied');
  });
}

test("an untied config saved by Qwen3VLForEmbedding (no lm_head in the file) still has every tensor the embedder build reads", async () => {
  // Qwen3VLForEmbedding has no lm_head, so the 8B embedder (untied) ships none: the embedding
  // build must not ask for it, while the reranker build of the same config must.
  const untied = parseQwen3VLConfig(JSON.parse(await readFile(path.join(GOLDEN_FIXTURES, 'reranker-config.json'), 'utf8')), 'reranker-config.json');
  assert.equal(untied.text.tieWordEmbeddings, false);
  assert.ok(!expectedTensors(untied, 'embedding').some((t) => t.name === 'lm_head.weight'));
  assert.ok(expectedTensors(untied, 'reranker').some((t) => t.name === 'lm_head.weight'));
});
