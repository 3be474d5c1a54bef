// The built-in catalog (valid against the contract, ids unique, sizes consistent with the files
// and with the architecture) and the TROVE_MODEL_CATALOG override (valid, invalid, missing).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { catalogModel } from '../../../electron/contract/common/model-setup.ts';
import { BUILT_IN_CATALOG, allowList, loadModelCatalog, toCatalogModel } from '../../../native-models/catalog/node/model-catalog.ts';
import { SHAPE_2B, SHAPE_8B, parameterCount, weightBytes } from '../../../native-models/catalog/common/model-memory.ts';

describe('built-in model catalog', () => {
  const catalog = loadModelCatalog({});

  test('lists the four official checkpoints, each valid against the contract schema', () => {
    assert.deepEqual(catalog.map((m) => m.id), ['embedding-2b', 'embedding-8b', 'reranker-2b', 'reranker-8b']);
    assert.deepEqual(catalog.map((m) => m.repo), ['Qwen/Qwen3-VL-Embedding-2B', 'Qwen/Qwen3-VL-Embedding-8B', 'Qwen/Qwen3-VL-Reranker-2B', 'Qwen/Qwen3-VL-Reranker-8B']);
    for (const m of catalog) {
      const api = toCatalogModel(m);
      assert.deepEqual(catalogModel.parse(api), api);
      // The API view keeps each file's SHA-256 (pull --from checks a folder against it) and drops the downloader's own fields.
      assert.ok(!('packageBytes' in api) && api.files.every((f) => !('sizeBasis' in f)), 'the API view drops the downloader fields');
      assert.deepEqual(api.files.map((f) => f.sha256 ?? null), m.files!.map((f) => f.sha256), 'the API view keeps the published hashes');
      assert.match(m.revision, /^[0-9a-f]{40}$/, `${m.id} is pinned to a commit`);
      for (const ep of ['cpu', 'cuda', 'dml', 'coreml', 'webgpu']) assert.ok(m.precisionByProvider[ep], `${m.id} has a precision for ${ep}`);
    }
  });

  test('ids are unique', () => {
    assert.equal(new Set(catalog.map((m) => m.id)).size, catalog.length);
  });

  test('the listed files add up to downloadBytes, with unique names and build inputs present', () => {
    for (const m of catalog) {
      const files = m.files!;
      assert.equal(files.reduce((s, f) => s + f.bytes, 0), m.downloadBytes, m.id);
      assert.equal(new Set(files.map((f) => f.path)).size, files.length, m.id);
      for (const required of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) assert.ok(allowList(m).includes(required), `${m.id} pulls ${required}`);
      const weights = files.filter((f) => f.path.endsWith('.safetensors'));
      assert.ok(weights.length > 0 && weights.every((f) => f.sha256 !== null && f.sizeBasis === 'published'), `${m.id}: weights have published sizes and hashes`);
      if (weights.length > 1) assert.ok(allowList(m).includes('model.safetensors.index.json'), `${m.id}: a sharded checkpoint pulls its index`);
    }
  });

  test('dims: 2048 for 2B, 4096 for 8B embedders, none for rerankers', () => {
    assert.deepEqual(catalog.map((m) => m.dims), [2048, 4096, null, null]);
  });

  test('weight files match the architecture: bf16 parameters plus safetensors headers (< 1 MB)', () => {
    const bf16 = { 'embedding-2b': parameterCount({ ...SHAPE_2B, lmHead: false }), 'reranker-2b': parameterCount({ ...SHAPE_2B, lmHead: false }), 'embedding-8b': parameterCount({ ...SHAPE_8B, lmHead: false }), 'reranker-8b': parameterCount({ ...SHAPE_8B, lmHead: true }) } as Record<string, number>;
    // The published exact count of Qwen3-VL-Embedding-2B (625 tensors, all BF16).
    assert.equal(bf16['embedding-2b'], 2_127_532_032);
    for (const m of catalog) {
      const weights = m.files!.filter((f) => f.path.endsWith('.safetensors')).reduce((s, f) => s + f.bytes, 0);
      const headers = weights - 2 * bf16[m.id]!;
      assert.ok(headers > 0 && headers < 1_000_000, `${m.id}: ${headers} header bytes`);
    }
  });

  test('memory per precision: weights at that precision plus the working margin, ordered fp32 > fp16 > int8 > int4', () => {
    for (const m of catalog) {
      const mem = m.memoryBytes;
      assert.ok(mem.fp32 > mem.fp16 && mem.fp16 > mem.int8 && mem.int8 > mem.int4, m.id);
      assert.ok(m.workingBytes! > 0 && mem.int4 > m.workingBytes!, m.id);
      const shape = { ...(m.id.endsWith('8b') ? SHAPE_8B : SHAPE_2B), lmHead: m.id === 'reranker-8b' };
      assert.equal(mem.fp16, weightBytes(shape, 'memory').fp16 + m.workingBytes!, m.id);
      // fp32 memory is 4 bytes per stored parameter, lm_head aside (no graph holds it).
      const lmHead = m.id === 'reranker-8b' ? 151936 * 4096 : 0;
      assert.equal(weightBytes(shape, 'memory').fp32, 4 * (parameterCount(shape) - lmHead), m.id);
      // fp16 packages are half the fp32 size on disk even where the runtime computes in fp32.
      assert.ok(Math.abs(m.packageBytes!.fp16 * 2 - m.packageBytes!.fp32) < 0.01 * m.packageBytes!.fp32, m.id);
    }
  });

  test('the built-in list is frozen and loadModelCatalog returns a copy', () => {
    assert.ok(Object.isFrozen(BUILT_IN_CATALOG));
    const a = loadModelCatalog({});
    a.pop();
    assert.equal(loadModelCatalog({}).length, 4);
  });
});

describe('TROVE_MODEL_CATALOG override', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'trove-catalog-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const mirror = {
    id: 'embedding-tiny',
    kind: 'embedding',
    repo: 'mirror/tiny-embedding',
    revision: 'main',
    title: 'Tiny test embedder',
    downloadBytes: 300,
    dims: 32,
    precisionByProvider: { cpu: 'fp32' },
    memoryBytes: { fp32: 4000, fp16: 3000, int8: 2000, int4: 1000 },
    speed: 'instant',
    summary: 'for tests',
    files: [
      { path: 'config.json', bytes: 100 },
      { path: 'model.safetensors', bytes: 200 },
    ],
  };

  test('a valid file replaces the built-in list', async () => {
    const file = path.join(dir, 'valid.json');
    await writeFile(file, JSON.stringify([mirror]));
    const catalog = loadModelCatalog({ TROVE_MODEL_CATALOG: file });
    assert.deepEqual(catalog.map((m) => m.id), ['embedding-tiny']);
    assert.deepEqual(allowList(catalog[0]!), ['config.json', 'model.safetensors']);
    assert.equal(catalog[0]!.files![0]!.sizeBasis, 'published');
  });

  test('an invalid file is refused with a message naming the file and the field', async () => {
    const file = path.join(dir, 'invalid.json');
    await writeFile(file, JSON.stringify([{ ...mirror, memoryBytes: { ...mirror.memoryBytes, int8: 'big' } }]));
    assert.throws(() => loadModelCatalog({ TROVE_MODEL_CATALOG: file }), (e: Error) => e.message.includes(file) && /\[0\]\.memoryBytes\.int8/.test(e.message));
    await writeFile(file, JSON.stringify([{ ...mirror, downloadBytes: 301 }]));
    assert.throws(() => loadModelCatalog({ TROVE_MODEL_CATALOG: file }), /\[0\]\.downloadBytes: is 301 but the listed files add up to 300/);
    await writeFile(file, JSON.stringify([{ ...mirror, files: [mirror.files[0], mirror.files[0]], downloadBytes: 200 }]));
    assert.throws(() => loadModelCatalog({ TROVE_MODEL_CATALOG: file }), /\[0\]\.files\[1\]\.path: 'config\.json' is listed twice/);
    await writeFile(file, JSON.stringify([mirror, mirror]));
    assert.throws(() => loadModelCatalog({ TROVE_MODEL_CATALOG: file }), /\[1\]\.id: 'embedding-tiny' is listed twice/);
    await writeFile(file, '{ not json');
    assert.throws(() => loadModelCatalog({ TROVE_MODEL_CATALOG: file }), (e: Error) => e.message.startsWith(`${file}: not valid JSON`));
    await writeFile(file, JSON.stringify({ models: [] }));
    assert.throws(() => loadModelCatalog({ TROVE_MODEL_CATALOG: file }), /the top level/);
  });

  test('a missing file is refused, naming the variable and the path', () => {
    const file = path.join(dir, 'nope.json');
    assert.throws(() => loadModelCatalog({ TROVE_MODEL_CATALOG: file }), new RegExp(`TROVE_MODEL_CATALOG=${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: cannot read the catalog file \\(no such file\\)`));
  });

  test('an empty TROVE_MODEL_CATALOG means the built-in list', () => {
    assert.equal(loadModelCatalog({ TROVE_MODEL_CATALOG: '  ' }).length, 4);
  });
});
