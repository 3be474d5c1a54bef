import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, truncate, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openCheckpoint, readSafetensorsHeader } from '../../../native-models/checkpoint/node/safetensors-reader.ts';
import { createSafetensorsStream, writeSafetensors } from '../../../native-models/checkpoint/node/safetensors-writer.ts';
import type { TensorToWrite } from '../../../native-models/checkpoint/node/safetensors-writer.ts';

async function tempDir(): Promise<string> {
  return mkdtemp(path.join(tmpdir(), 'trove-safetensors-'));
}

/** A safetensors file built by hand: header JSON exactly as given (unpadded), then `data`. */
function rawFile(header: string, data: Uint8Array): Buffer {
  const json = Buffer.from(header, 'utf8');
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([prefix, json, data]);
}

function u16le(values: number[]): number[] {
  return values.map((v) => [v & 0xff, v >> 8]).flat();
}

// Byte layouts the reference (Rust) safetensors serializer produces, from its own unit tests:
// a [1,2,3] F32 tensor "attn.0" holding 0..5, and an empty file with {"framework": "pt"} metadata.
test('writer reproduces the reference bytes for a single F32 tensor', async () => {
  const dir = await tempDir();
  const file = path.join(dir, 'a.safetensors');
  await writeSafetensors(file, [{ name: 'attn.0', dtype: 'F32', shape: [1, 2, 3], data: new Float32Array([0, 1, 2, 3, 4, 5]) }]);
  const expected = [
    64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100, 116, 121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44,
    34, 115, 104, 97, 112, 101, 34, 58, 91, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102, 115, 101, 116, 115, 34, 58,
    91, 48, 44, 50, 52, 93, 125, 125, 0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64,
  ];
  assert.deepEqual([...(await readFile(file))], expected);
  await rm(dir, { recursive: true });
});

test('writer pads the header with spaces to 8 bytes and puts __metadata__ first', async () => {
  const dir = await tempDir();
  const empty = path.join(dir, 'empty.safetensors');
  await writeSafetensors(empty, [], { framework: 'pt' });
  const bytes = await readFile(empty);
  assert.equal(bytes.readBigUInt64LE(0), 40n);
  assert.equal(bytes.subarray(8).toString('utf8'), '{"__metadata__":{"framework":"pt"}}     ');

  // Mixed dtypes: the data order is F32, then BF16, then F16 (descending dtype in the reference enum), names sorted within.
  const mixed = path.join(dir, 'mixed.safetensors');
  const t = (name: string, dtype: TensorToWrite['dtype'], n: number): TensorToWrite => ({ name, dtype, shape: [n], data: new Float32Array(n).fill(1) });
  await writeSafetensors(mixed, [t('z.half', 'F16', 3), t('b.brain', 'BF16', 1), t('a.half', 'F16', 1), t('y.single', 'F32', 1), t('0', 'F32', 2)], { b: '2', a: '1' });
  const raw = await readFile(mixed);
  const n = Number(raw.readBigUInt64LE(0));
  assert.equal(n % 8, 0);
  const headerText = raw.subarray(8, 8 + n).toString('utf8');
  assert.match(headerText, /^\{"__metadata__":\{"a":"1","b":"2"\},"0":/);
  assert.equal(headerText.trimEnd().length + (n - headerText.trimEnd().length), n);
  assert.ok(/^ *$/.test(headerText.slice(headerText.lastIndexOf('}') + 1)), 'padding is spaces');
  const infos = await readSafetensorsHeader(mixed);
  assert.deepEqual(infos.map((i) => i.name), ['0', 'y.single', 'b.brain', 'a.half', 'z.half']);
  assert.deepEqual(infos.map((i) => i.byteOffset - 8 - n), [0, 8, 12, 14, 16]);
  await rm(dir, { recursive: true });
});

// Hand-computed IEEE half-precision bit patterns (sign | 5-bit exponent, bias 15 | 10-bit mantissa).
const F16_CASES: [number, number, number][] = [
  // [float32 input, expected f16 bits, value read back]
  [1, 0x3c00, 1],
  [-2, 0xc000, -2],
  [0.333251953125, 0x3555, 0.333251953125],
  [65504, 0x7bff, 65504], // largest finite
  [65519.99, 0x7bff, 65504], // just below the rounding midpoint to inf
  [65520, 0x7c00, Infinity], // the midpoint rounds to even: inf
  [2 ** -14, 0x0400, 2 ** -14], // smallest normal
  [1023 * 2 ** -24, 0x03ff, 1023 * 2 ** -24], // largest subnormal
  [2 ** -24, 0x0001, 2 ** -24], // smallest subnormal
  [-(2 ** -24), 0x8001, -(2 ** -24)],
  [2 ** -25, 0x0000, 0], // exactly half the smallest subnormal: ties to even (0)
  [1.5 * 2 ** -24, 0x0002, 2 ** -23], // tie between 1 and 2 units: even (2)
  [1 + 2 ** -11, 0x3c00, 1], // tie between 1 and 1+2^-10: even mantissa
  [1 + 3 * 2 ** -11, 0x3c02, 1 + 2 ** -9], // tie between 1+2^-10 and 1+2^-9: even mantissa
  [-0, 0x8000, -0],
  [Infinity, 0x7c00, Infinity],
  [-Infinity, 0xfc00, -Infinity],
  [NaN, 0x7e00, NaN],
];

// bfloat16 is the top half of a float32: sign | 8-bit exponent | 7-bit mantissa.
const BF16_CASES: [number, number, number][] = [
  [1, 0x3f80, 1],
  [-2, 0xc000, -2],
  [1 + 2 ** -8, 0x3f80, 1], // tie: even mantissa
  [1 + 3 * 2 ** -8, 0x3f82, 1 + 2 ** -6], // tie: rounds up to the even mantissa
  [2 ** -133, 0x0001, 2 ** -133], // smallest bf16 subnormal (a float32 subnormal too)
  [3.4028234663852886e38, 0x7f80, Infinity], // float32 max rounds up to inf in bf16
  [-0, 0x8000, -0],
  [Infinity, 0x7f80, Infinity],
  [-Infinity, 0xff80, -Infinity],
  [NaN, 0x7fc0, NaN],
];

for (const [dtype, cases] of [['F16', F16_CASES], ['BF16', BF16_CASES]] as const) {
  test(`${dtype}: writer rounds to the hand-computed bit patterns and the reader decodes them exactly`, async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'config.json'), '{}');
    const file = path.join(dir, 'model.safetensors');
    await writeSafetensors(file, [{ name: 'x', dtype, shape: [cases.length], data: new Float32Array(cases.map((c) => c[0])) }]);
    const [info] = await readSafetensorsHeader(file);
    const bytes = (await readFile(file)).subarray(info.byteOffset, info.byteOffset + info.byteLength);
    assert.deepEqual([...bytes], u16le(cases.map((c) => c[1])));
    const checkpoint = await openCheckpoint(dir);
    const values = await checkpoint.readFloat32('x');
    cases.forEach(([input, , expected], i) => assert.ok(Object.is(values[i], expected), `${dtype} ${input}: got ${values[i]}, expected ${expected}`));
    await checkpoint.close();
    await rm(dir, { recursive: true });
  });
}

test('reader decodes hand-written f16 patterns: subnormals, inf and NaN payloads', async () => {
  const dir = await tempDir();
  await writeFile(path.join(dir, 'config.json'), '{"a": 1}');
  const patterns = [0x0001, 0x8001, 0x03ff, 0x0400, 0x7c00, 0xfc00, 0x7e00, 0x7c01, 0x3555, 0xbc00];
  const header = `{"h":{"dtype":"F16","shape":[${patterns.length}],"data_offsets":[0,${2 * patterns.length}]}}`;
  await writeFile(path.join(dir, 'model.safetensors'), rawFile(header, new Uint8Array(u16le(patterns))));
  const checkpoint = await openCheckpoint(dir);
  assert.deepEqual(checkpoint.config, { a: 1 });
  const v = await checkpoint.readFloat32('h');
  assert.deepEqual([...v.slice(0, 6)], [2 ** -24, -(2 ** -24), 1023 * 2 ** -24, 2 ** -14, Infinity, -Infinity]);
  assert.ok(Number.isNaN(v[6]) && Number.isNaN(v[7]));
  assert.equal(new Uint32Array(v.buffer)[7], 0x7f802000, 'signalling-NaN payload is kept');
  assert.equal(v[8], 0.333251953125);
  assert.equal(v[9], -1);
  await checkpoint.close();
  await rm(dir, { recursive: true });
});

test('reader converts F64 and integer tensors to float32', async () => {
  const dir = await tempDir();
  await writeFile(path.join(dir, 'config.json'), '{}');
  const f64 = Buffer.alloc(16);
  f64.writeDoubleLE(0.1, 0);
  f64.writeDoubleLE(-3, 8);
  const i64 = Buffer.alloc(16);
  i64.writeBigInt64LE(-5n, 0);
  i64.writeBigInt64LE(151655n, 8);
  const header = '{"d":{"dtype":"F64","shape":[2],"data_offsets":[0,16]},"i":{"dtype":"I64","shape":[2],"data_offsets":[16,32]},"b":{"dtype":"BOOL","shape":[2],"data_offsets":[32,34]}}';
  await writeFile(path.join(dir, 'model.safetensors'), rawFile(header, Buffer.concat([f64, i64, Buffer.from([0, 7])])));
  const checkpoint = await openCheckpoint(dir);
  assert.deepEqual([...(await checkpoint.readFloat32('d'))], [Math.fround(0.1), -3]);
  assert.deepEqual([...(await checkpoint.readFloat32('i'))], [-5, 151655]);
  assert.deepEqual([...(await checkpoint.readFloat32('b'))], [0, 1]);
  await checkpoint.close();
  await rm(dir, { recursive: true });
});

test('F32 round trip is bit exact and info() describes the tensor', async () => {
  const dir = await tempDir();
  await writeFile(path.join(dir, 'config.json'), '{}');
  const data = new Float32Array([Math.fround(Math.PI), -0, 1e-45, -3.4028234663852886e38, Infinity]);
  await writeSafetensors(path.join(dir, 'model.safetensors'), [{ name: 'w', dtype: 'F32', shape: [5, 1], data }]);
  const checkpoint = await openCheckpoint(dir);
  assert.deepEqual(checkpoint.names(), ['w']);
  assert.ok(checkpoint.has('w') && !checkpoint.has('v'));
  const info = checkpoint.info('w');
  assert.deepEqual({ dtype: info.dtype, shape: info.shape, byteLength: info.byteLength, file: info.file }, {
    dtype: 'F32', shape: [5, 1], byteLength: 20, file: path.join(dir, 'model.safetensors'),
  });
  const back = await checkpoint.readFloat32('w');
  assert.deepEqual(new Uint32Array(back.buffer), new Uint32Array(data.buffer));
  assert.throws(() => checkpoint.info('missing.weight'), (e: Error) => e.message.includes('"missing.weight"') && e.message.includes(dir));
  await checkpoint.close();
  await rm(dir, { recursive: true });
});

test('streaming writer accepts tensors in any order and in pieces, with the same bytes', async () => {
  const dir = await tempDir();
  const a = new Float32Array(10).map((_, i) => i / 3);
  const b = new Float32Array(6).map((_, i) => -i);
  const whole = path.join(dir, 'whole.safetensors');
  await writeSafetensors(whole, [{ name: 'a', dtype: 'BF16', shape: [2, 5], data: a }, { name: 'b', dtype: 'F32', shape: [6], data: b }], { format: 'pt' });
  const streamed = path.join(dir, 'streamed.safetensors');
  const stream = await createSafetensorsStream(streamed, [{ name: 'b', dtype: 'F32', shape: [6] }, { name: 'a', dtype: 'BF16', shape: [2, 5] }], { format: 'pt' });
  await stream.append('a', a.subarray(0, 3));
  await stream.append('b', b);
  await stream.append('a', a.subarray(3));
  await stream.finish();
  assert.deepEqual(await readFile(streamed), await readFile(whole));

  const incomplete = path.join(dir, 'incomplete.safetensors');
  const partial = await createSafetensorsStream(incomplete, [{ name: 'a', dtype: 'F32', shape: [4] }]);
  await partial.append('a', new Float32Array(3));
  await assert.rejects(partial.finish(), /"a" \(3\/4\)/);
  await assert.rejects(
    writeSafetensors(path.join(dir, 'bad.safetensors'), [{ name: 'x', dtype: 'F32', shape: [2, 2], data: new Float32Array(3) }]),
    /"x" has 3 values but shape \[2,2\] needs 4/,
  );
  assert.deepEqual((await readdir(dir)).sort(), ['streamed.safetensors', 'whole.safetensors'], 'no temporary or partial files are left');
  await rm(dir, { recursive: true });
});

test('sharded checkpoint: tensors are found through model.safetensors.index.json', async () => {
  const dir = await tempDir();
  await writeFile(path.join(dir, 'config.json'), JSON.stringify({ model_type: 'qwen3_vl' }));
  await writeSafetensors(path.join(dir, 'model-00001-of-00002.safetensors'), [
    { name: 'model.a', dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) },
    { name: 'model.b', dtype: 'F16', shape: [1], data: new Float32Array([0.5]) },
  ]);
  await writeSafetensors(path.join(dir, 'model-00002-of-00002.safetensors'), [
    { name: 'lm_head.weight', dtype: 'BF16', shape: [3], data: new Float32Array([3, -4, 0.25]) },
  ]);
  const index = {
    metadata: { total_size: 16 },
    weight_map: { 'lm_head.weight': 'model-00002-of-00002.safetensors', 'model.a': 'model-00001-of-00002.safetensors', 'model.b': 'model-00001-of-00002.safetensors' },
  };
  await writeFile(path.join(dir, 'model.safetensors.index.json'), JSON.stringify(index));
  const checkpoint = await openCheckpoint(dir);
  assert.deepEqual(checkpoint.config, { model_type: 'qwen3_vl' });
  assert.deepEqual(checkpoint.names(), ['lm_head.weight', 'model.a', 'model.b']);
  assert.equal(path.basename(checkpoint.info('lm_head.weight').file), 'model-00002-of-00002.safetensors');
  assert.deepEqual([...(await checkpoint.readFloat32('model.a'))], [1, 2]);
  assert.deepEqual([...(await checkpoint.readFloat32('model.b'))], [0.5]);
  assert.deepEqual([...(await checkpoint.readFloat32('lm_head.weight'))], [3, -4, 0.25]);
  await checkpoint.close();

  // The index names a tensor its shard does not hold.
  await writeFile(path.join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { ...index.weight_map, 'model.c': 'model-00001-of-00002.safetensors' } }));
  await assert.rejects(openCheckpoint(dir), /"model\.c" in shard "model-00001-of-00002\.safetensors", but that shard has no such tensor/);

  // A shard file is missing.
  await writeFile(path.join(dir, 'model.safetensors.index.json'), JSON.stringify(index));
  await rm(path.join(dir, 'model-00002-of-00002.safetensors'));
  await assert.rejects(openCheckpoint(dir), /shard "model-00002-of-00002\.safetensors" .*is missing/);
  await rm(dir, { recursive: true });
});

test('corrupt files are refused with errors naming the file and the problem', async () => {
  const dir = await tempDir();
  const file = path.join(dir, 'x.safetensors');
  const good = () => writeSafetensors(file, [{ name: 'w', dtype: 'F32', shape: [4], data: new Float32Array(4) }, { name: 'v', dtype: 'F32', shape: [2], data: new Float32Array(2) }]);
  const header = (json: string, data: Uint8Array) => writeFile(file, rawFile(json, data));

  await good();
  const { size } = await import('node:fs').then((fs) => fs.statSync(file));
  await truncate(file, size - 3);
  await assert.rejects(readSafetensorsHeader(file), (e: Error) => e.message.includes(file) && /truncated/.test(e.message) && /"w"/.test(e.message));

  await good();
  const bytes = await readFile(file);
  bytes.writeBigUInt64LE(BigInt(bytes.length), 0);
  await writeFile(file, bytes);
  await assert.rejects(readSafetensorsHeader(file), /header length \d+ is beyond the file size/);

  await writeFile(file, Buffer.from([1, 2, 3]));
  await assert.rejects(readSafetensorsHeader(file), /too short/);

  await header('{"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}}', new Uint8Array(20));
  await assert.rejects(readSafetensorsHeader(file), /"w": byte length 20 ≠ 24/);

  await header('{"w":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}}', new Uint8Array(2));
  await assert.rejects(readSafetensorsHeader(file), /"w": unknown or unsupported dtype "F8_E4M3"/);

  await header('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', new Uint8Array(8));
  await assert.rejects(readSafetensorsHeader(file), /"b" data \[4, 8\] overlaps/);

  await header('{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}', new Uint8Array(4));
  await assert.rejects(readSafetensorsHeader(file), /end before they begin/);

  await header('{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', new Uint8Array(8));
  await assert.rejects(readSafetensorsHeader(file), /gap in the data section before tensor "a"/);

  await header('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', new Uint8Array(6));
  await assert.rejects(readSafetensorsHeader(file), /trailing bytes/);

  await header('{"a": not json', new Uint8Array(0));
  await assert.rejects(readSafetensorsHeader(file), /not valid UTF-8 JSON/);

  // Out-of-order header entries are fine as long as the data regions tile the data section.
  await header('{"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', new Uint8Array(8));
  assert.deepEqual((await readSafetensorsHeader(file)).map((t) => t.name), ['a', 'b']);

  await assert.rejects(openCheckpoint(dir), /config\.json: cannot read the model config/);
  await writeFile(path.join(dir, 'config.json'), '{}');
  await assert.rejects(openCheckpoint(dir), /no model\.safetensors and no model\.safetensors\.index\.json/);
  await rm(dir, { recursive: true });
});
