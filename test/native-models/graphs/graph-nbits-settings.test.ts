// The MatMulNBits settings of int8/int4 packages (graph-precision.ts NBitsSettings): the builder
// writes the accuracy level and block size it is given (default NBITS_DEFAULTS), the quantised
// weights' block layout follows the block size, and out-of-range settings are refused.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { openCheckpoint, type Checkpoint } from '../../../native-models/checkpoint/node/safetensors-reader.ts';
import { NBITS_DEFAULTS } from '../../../native-models/graphs/node/graph-precision.ts';
import { buildTextDecoder } from '../../../native-models/graphs/node/text-decoder-graph.ts';
import { generateTinyCheckpoint } from '../../../native-models/tiny/node/generate-tiny-checkpoint.ts';

let root: string;
let checkpoint: Checkpoint;

before(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'trove-nbits-'));
  checkpoint = await openCheckpoint(await generateTinyCheckpoint({ out: path.join(root, 'tiny'), kind: 'embedding' }));
});

after(async () => {
  await checkpoint?.close();
  await rm(root, { recursive: true, force: true });
});

/** accuracy_level and block_size of every MatMulNBits node, and the second dim of its B initializer (blocks per row). */
async function nbitsNodes(onnxFile: string): Promise<{ accuracy: number; block: number; blocksPerRow: number; k: number }[]> {
  const graph = onnxProto.onnx.ModelProto.decode(await readFile(onnxFile)).graph!;
  const dims = new Map(graph.initializer!.map((t) => [t.name!, t.dims!.map(Number)]));
  return graph.node!.filter((n) => n.opType === 'MatMulNBits').map((n) => {
    const attr = (name: string) => Number(n.attribute!.find((a) => a.name === name)!.i);
    return { accuracy: attr('accuracy_level'), block: attr('block_size'), blocksPerRow: dims.get(n.input![1]!)![1]!, k: attr('K') };
  });
}

test('int8 and int4 decoders carry the default settings, or the ones asked for', async () => {
  const cases = [
    { precision: 'int8' as const, nbits: undefined, expected: NBITS_DEFAULTS },
    { precision: 'int4' as const, nbits: { accuracyLevel: 4 as const, blockSize: 64 }, expected: { accuracyLevel: 4, blockSize: 64 } },
    { precision: 'int8' as const, nbits: { blockSize: 16 }, expected: { ...NBITS_DEFAULTS, blockSize: 16 } },
  ];
  for (const [i, c] of cases.entries()) {
    const file = path.join(root, `decoder-${i}.onnx`);
    await buildTextDecoder(checkpoint, file, { head: 'embedding', precision: c.precision, nbits: c.nbits });
    const nodes = await nbitsNodes(file);
    assert.equal(nodes.length, 4 * 7, 'q/k/v/o and gate/up/down in each of the 4 layers');
    for (const n of nodes) {
      assert.equal(n.accuracy, c.expected.accuracyLevel);
      assert.equal(n.block, c.expected.blockSize);
      assert.equal(n.blocksPerRow, Math.ceil(n.k / c.expected.blockSize));
    }
    const session = await ort.InferenceSession.create(file);
    await session.release();
  }
});

test('settings outside what MatMulNBits takes are refused before anything is written', async () => {
  await assert.rejects(buildTextDecoder(checkpoint, path.join(root, 'bad-1.onnx'), { head: 'embedding', precision: 'int8', nbits: { blockSize: 48 } }), /block size must be a power of two ≥ 16, got 48/);
  await assert.rejects(buildTextDecoder(checkpoint, path.join(root, 'bad-2.onnx'), { head: 'embedding', precision: 'int4', nbits: { accuracyLevel: 7 as 4 } }), /accuracy level must be 0–4, got 7/);
});
