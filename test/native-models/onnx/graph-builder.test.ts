import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { GraphBuilder } from '../../../native-models/onnx/node/graph-builder.ts';

const { onnx } = onnxProto;

let root: string;

before(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'trove-graph-builder-'));
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Abramowitz–Stegun 7.1.26 (|error| < 1.5e-7), enough to check a float32 Gelu. */
function erf(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return x >= 0 ? y : -y;
}

const IN = 3;
const OUT = 8;
const ROWS = 64;

test('a MatMul + Add + Gather graph with a symbolic batch and an external table runs in onnxruntime-node', async () => {
  const w = Float32Array.from({ length: IN * OUT }, (_, i) => Math.sin(i + 1));
  const table = Float32Array.from({ length: ROWS * OUT }, (_, i) => Math.cos(i) * 0.5);
  const bias = Array.from({ length: OUT }, (_, i) => i / 10);

  const g = new GraphBuilder('builder-test', { scratchDir: root });
  const x = g.input('x', 'float32', ['batch', IN]);
  const ids = g.input('ids', 'int64', ['batch']);
  const wName = g.weight('w', w, [IN, OUT]); // 96 bytes: inline
  const tableName = g.weight('table', table, [ROWS, OUT]); // 2048 bytes: external
  table.fill(0); // the builder already streamed it; the caller's array is no longer needed
  const projected = g.node('MatMul', [x, wName]);
  const gathered = g.node('Gather', [tableName, ids], { axis: 0 });
  const sum = g.node('Add', [g.node('Add', [projected, gathered]), g.constant(bias, [OUT], 'float32')]);
  g.output('y', 'float32', ['batch', OUT], sum);
  const gelu = g.node('Gelu', [sum], {}, { domain: 'com.microsoft' });
  g.output('gelu', 'float32', ['batch', OUT], gelu);
  const normed = g.node('LayerNormalization', [sum, g.constant(new Float32Array(OUT).fill(1), [OUT], 'float32'), g.constant(new Float32Array(OUT), [OUT], 'float32')], { axis: -1, epsilon: 1 });
  g.output('normed', 'float32', ['batch', OUT], normed);
  const result = await g.save(path.join(root, 'small.onnx'));

  assert.equal(result.onnxFile, path.join(root, 'small.onnx'));
  assert.equal(result.dataFile, path.join(root, 'small.onnx_data'));
  assert.equal((await stat(result.dataFile!)).size, result.dataBytes);
  assert.ok(result.dataBytes >= ROWS * OUT * 4);
  assert.equal((await stat(result.onnxFile)).size, result.onnxBytes);
  assert.ok(result.onnxBytes < 2048, `the .onnx alone should be small, got ${result.onnxBytes} bytes`);
  assert.deepEqual((await readdir(root)).filter((f) => f.includes('.tmp') || f.includes('partial')), [], 'no temp files left behind');

  const model = onnx.ModelProto.decode(await readFile(result.onnxFile));
  assert.deepEqual((model.opsetImport ?? []).map((o) => [o.domain, Number(o.version)]), [['', 17], ['com.microsoft', 1]]);
  const tableProto = (model.graph?.initializer ?? []).find((t) => t.name === 'table')!;
  assert.equal(tableProto.dataLocation, onnx.TensorProto.DataLocation.EXTERNAL);
  assert.deepEqual(Object.fromEntries((tableProto.externalData ?? []).map((e) => [e.key, e.value])), { location: 'small.onnx_data', offset: '0', length: String(ROWS * OUT * 4) });

  const session = await ort.InferenceSession.create(result.onnxFile);
  for (const batch of [1, 5]) {
    const xs = Float32Array.from({ length: batch * IN }, (_, i) => (i % 7) - 3 + 0.25);
    const idList = Array.from({ length: batch }, (_, b) => (b * 13 + 2) % ROWS);
    const out = await session.run({
      x: new ort.Tensor('float32', xs, [batch, IN]),
      ids: new ort.Tensor('int64', BigInt64Array.from(idList, BigInt), [batch]),
    });
    assert.deepEqual(out.y.dims, [batch, OUT]);
    const y = out.y.data as Float32Array;
    const geluOut = out.gelu.data as Float32Array;
    const normedOut = out.normed.data as Float32Array;
    for (let b = 0; b < batch; b++) {
      const row: number[] = [];
      for (let o = 0; o < OUT; o++) {
        let expected = bias[o] + Math.cos(idList[b] * OUT + o) * 0.5;
        for (let i = 0; i < IN; i++) expected += xs[b * IN + i] * Math.sin(i * OUT + o + 1);
        row.push(expected);
        assert.ok(Math.abs(y[b * OUT + o] - expected) < 1e-5, `y[${b},${o}] = ${y[b * OUT + o]}, expected ${expected}`);
        const expectedGelu = 0.5 * expected * (1 + erf(expected / Math.SQRT2));
        assert.ok(Math.abs(geluOut[b * OUT + o] - expectedGelu) < 1e-5, `gelu[${b},${o}]`);
      }
      // epsilon: 1 is integral but must still be written as a FLOAT attribute.
      const mean = row.reduce((a, v) => a + v, 0) / OUT;
      const variance = row.reduce((a, v) => a + (v - mean) ** 2, 0) / OUT;
      for (let o = 0; o < OUT; o++) {
        assert.ok(Math.abs(normedOut[b * OUT + o] - (row[o] - mean) / Math.sqrt(variance + 1)) < 1e-5, `normed[${b},${o}]`);
      }
    }
  }
});

test('a graph without large weights has no data file', async () => {
  const g = new GraphBuilder('inline-only');
  const x = g.input('x', 'float32', [2]);
  g.output('y', 'float32', [2], g.node('Mul', [x, g.constant([2, 3], [2], 'float32')]));
  const result = await g.save(path.join(root, 'inline.onnx'));
  assert.equal(result.dataFile, null);
  assert.equal(result.dataBytes, 0);
  const session = await ort.InferenceSession.create(result.onnxFile);
  const out = await session.run({ x: new ort.Tensor('float32', Float32Array.of(1, 2), [2]) });
  assert.deepEqual(Array.from(out.y.data as Float32Array), [2, 6]);
});

test('save refuses an output that no node produces, and writes nothing', async () => {
  const g = new GraphBuilder('broken', { scratchDir: root });
  const x = g.input('x', 'float32', [4]);
  g.weight('big', new Float32Array(1024), [1024]);
  g.node('Relu', [x]);
  g.output('missing', 'float32', [4]);
  await assert.rejects(g.save(path.join(root, 'broken.onnx')), /output "missing" is not produced by any node/);
  await assert.rejects(stat(path.join(root, 'broken.onnx')), { code: 'ENOENT' });
  await g.discard();
  assert.deepEqual((await readdir(root)).filter((f) => f.includes('broken')), []);
});

test('undefined inputs, duplicate names and reuse after save are clear errors', async () => {
  const g = new GraphBuilder('errors');
  const x = g.input('x', 'float32', [4]);
  assert.throws(() => g.node('Add', [x, 'nowhere']), /uses "nowhere", which no earlier input, weight or node defines/);
  assert.throws(() => g.input('x', 'float32', [4]), /reuses the name "x"/);
  assert.throws(() => g.weight('w', new Float32Array(3), [2, 2]), /3 values do not fill dims \[2, 2\]/);
  assert.notEqual(g.fresh('v'), g.fresh('v'));
  assert.equal(g.constant([1, 2], [2], 'int64'), g.constant([1, 2], [2], 'int64'), 'small constants are shared');
  g.output('y', 'float32', [4], g.node('Neg', [x]));
  await g.save(path.join(root, 'errors.onnx'));
  assert.throws(() => g.node('Neg', [x]), /already saved/);
});

test('tensors of 1 MiB or more start on a page boundary; save can move kept weights external', async () => {
  const g = new GraphBuilder('aligned', { scratchDir: root, externalThreshold: 4096 });
  const x = g.input('x', 'float32', [1]);
  const small = g.weight('small', Float32Array.from({ length: 512 }, (_, i) => i), [512]); // 2 KiB: kept until save
  const bigValues = Float32Array.from({ length: 300_000 }, (_, i) => (i % 10) / 10);
  const big = g.weight('big', bigValues, [300_000]); // streamed at once
  const total = g.node('Add', [g.node('ReduceSum', [small], { keepdims: 0 }), g.node('ReduceSum', [big], { keepdims: 0 })]);
  g.output('y', 'float32', [1], g.node('Add', [x, total]));
  const result = await g.save(path.join(root, 'aligned.onnx'), { externalThreshold: 1024 });
  const model = onnx.ModelProto.decode(await readFile(result.onnxFile));
  const where = (name: string) => {
    const init = (model.graph?.initializer ?? []).find((t) => t.name === name)!;
    assert.equal(init.dataLocation, onnx.TensorProto.DataLocation.EXTERNAL, `${name} is external`);
    return Object.fromEntries((init.externalData ?? []).map((e) => [e.key, Number(e.value)]));
  };
  assert.equal(where('big').offset % 4096, 0);
  assert.ok(where('small').offset >= where('big').offset + 1_200_000, 'the kept weight is appended at save');
  const session = await ort.InferenceSession.create(result.onnxFile);
  const out = await session.run({ x: new ort.Tensor('float32', Float32Array.of(1), [1]) });
  const expected = 1 + (511 * 512) / 2 + 30_000 * 4.5;
  assert.ok(Math.abs((out.y.data as Float32Array)[0] - expected) / expected < 1e-5);
});

test('a Loop body made with subgraph() reads outer values and its constants, and runs', async () => {
  const g = new GraphBuilder('loop-test', { scratchDir: root });
  const x = g.input('x', 'float32', [4]);
  const scale = g.weight('scale', Float32Array.from({ length: 2048 }, (_, i) => i), [2048]); // streamed to the data file
  const body = g.subgraph('body');
  const i = body.input('i', 'int64', []);
  const cond = body.input('cond', 'bool', []);
  const index = body.node('Unsqueeze', [i, body.constant([0], [1], 'int64')]);
  // Row i of the output: x · scale[i] + 1 (a constant made inside the body lands in the model's graph).
  const row = body.node('Add', [body.node('Mul', [x, body.node('Gather', [scale, index])]), body.constant([1], [], 'float32')]);
  body.output('cond_out', 'bool', [], cond);
  body.output('row', 'float32', null, row);
  assert.throws(() => body.input('x', 'float32', [4]), /reuses the name "x"/, 'a body cannot shadow an outer name');
  await assert.rejects(body.save(path.join(root, 'body.onnx')), /is a subgraph/);
  const [rows] = g.nodeN('Loop', [g.constant([3], [], 'int64'), ''], 1, { body: { graph: body } });
  g.output('rows', 'float32', [3, 4], rows);
  assert.throws(() => g.node('Loop', [g.constant([1], [], 'int64'), ''], { body: { graph: body } }), /already saved or discarded/, 'a body is used once');
  const saved = await g.save(path.join(root, 'loop.onnx'));
  const model = onnx.ModelProto.decode(await readFile(saved.onnxFile));
  const loop = model.graph!.node!.find((n) => n.opType === 'Loop')!;
  assert.equal(loop.attribute![0]!.g!.initializer?.length ?? 0, 0, 'the body holds no initializers');
  const session = await ort.InferenceSession.create(saved.onnxFile);
  try {
    const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from([1, 2, 3, 4]), [4]) });
    assert.deepEqual(out.rows!.dims, [3, 4]);
    assert.deepEqual([...(out.rows!.data as Float32Array)], [1, 1, 1, 1, 2, 3, 4, 5, 3, 5, 7, 9]);
  } finally {
    await session.release();
  }
});
