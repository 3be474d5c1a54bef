// The runtime runs a video's temporal groups through the vision encoder a few at a time
// (graph-runner.ts, VISION_CALL_PATCHES), so that its memory follows one call and not the video's
// length. Segments are independent all through the tower: the outputs must be the same as one call.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { patchify } from '../../../electron/engine/model-inputs/common/patchify.ts';
import { visionTables } from '../../../electron/engine/model-inputs/common/vision-tables.ts';
import { runVisionEncoder, VISION_CALL_PATCHES, visionCalls } from '../../../electron/engine/inference/node/runtime/graph-runner.ts';
import { parseQwen3VLConfig } from '../../../native-models/checkpoint/common/qwen3vl-config.ts';
import { openCheckpoint } from '../../../native-models/checkpoint/node/safetensors-reader.ts';
import { buildVisionEncoder } from '../../../native-models/graphs/node/vision-encoder-graph.ts';
import { generateTinyCheckpoint } from '../../../native-models/tiny/node/generate-tiny-checkpoint.ts';
import { seededImage } from '../../native-models/graphs/graph-variant-fixtures.ts';

let root: string;
let session: ort.InferenceSession;
let headDim: number;
let outHidden: number;

before(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'trove-vision-calls-'));
  const dir = await generateTinyCheckpoint({ out: path.join(root, 'tiny'), kind: 'embedding' });
  const checkpoint = await openCheckpoint(dir);
  try {
    const vision = parseQwen3VLConfig(checkpoint.config, dir).vision;
    headDim = vision.hidden / vision.heads;
    outHidden = vision.outHidden;
    session = await ort.InferenceSession.create((await buildVisionEncoder(checkpoint, path.join(root, 'onnx'))).onnxFile);
  } finally {
    await checkpoint.close();
  }
});

after(async () => {
  await session?.release();
  await rm(root, { recursive: true, force: true });
});

test('visionCalls groups whole segments under the patch limit, at least one per call', () => {
  assert.deepEqual(visionCalls(1, 7200), [[0, 1]]);
  assert.deepEqual(visionCalls(8, 2880), [[0, 2], [2, 4], [4, 6], [6, 8]]);
  assert.deepEqual(visionCalls(5, 2880), [[0, 2], [2, 4], [4, 5]]);
  assert.deepEqual(visionCalls(3, 100, 50), [[0, 1], [1, 2], [2, 3]], 'a segment over the limit still runs, alone');
  assert.deepEqual(visionCalls(32, 256), [[0, 32]]);
  assert.ok(VISION_CALL_PATCHES >= 7200, 'the largest image (1,800 tokens = 7,200 patches) is one call');
});

test('a five-group video run one, two or all groups per call gives the same rows', async () => {
  const frames = Array.from({ length: 10 }, (_, i) => seededImage(64, 96, 40 + i));
  const { pixelValues, gridThw } = patchify(frames);
  assert.deepEqual([...gridThw], [5, 6, 4]);
  const source = { gridThw, pixelValues };
  const tables = visionTables([1, gridThw[1], gridThw[2]], headDim);
  const patches = gridThw[1] * gridThw[2];
  const whole = await runVisionEncoder(session, source, tables, headDim, outHidden);
  assert.equal(whole.rows, 5 * (patches / 4));
  for (const limit of [patches, 2 * patches + 1]) {
    const split = await runVisionEncoder(session, source, tables, headDim, outHidden, limit);
    assert.equal(split.rows, whole.rows);
    for (const name of ['merged', 'deepstack'] as const) {
      assert.equal(split[name].length, whole[name].length);
      let maxAbs = 0;
      for (let i = 0; i < whole[name].length; i++) maxAbs = Math.max(maxAbs, Math.abs(split[name][i]! - whole[name][i]!));
      assert.ok(maxAbs <= 1e-6, `${name}, ≤ ${limit} patches per call: max |Δ| ${maxAbs} against one call`);
    }
  }
});
