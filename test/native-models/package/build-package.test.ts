// Model packages built from the tiny checkpoints: the manifest against config.json (read here as
// raw JSON, not through the builder's parser), every file's size and SHA-256 (hashed here), the
// graphs loading in onnxruntime-node, and the failure rules: clear messages, and never a folder
// under the target name or a `.partial-*` leftover after a failed or aborted build.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { parseModelManifest, PACKAGE_FORMAT_VERSION } from '../../../native-models/manifest/common/model-manifest.ts';
import { generateTinyCheckpoint } from '../../../native-models/tiny/node/generate-tiny-checkpoint.ts';
import { tinyConfigJson } from '../../../native-models/tiny/common/tiny-config.ts';
import { buildModelPackage, type PackageBuildProgress } from '../../../native-models/package/node/build-package.ts';
import { inspectModelPackage } from '../../../native-models/package/node/inspect-package.ts';
import { GRAPH_REVISION } from '../../../native-models/package/node/builder-version.ts';

let root = '';
let embeddingCheckpoint = '';
let rerankerCheckpoint = '';
let caseCounter = 0;

before(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'trove-build-package-'));
  embeddingCheckpoint = await generateTinyCheckpoint({ out: path.join(root, 'ckpt-embedding'), kind: 'embedding' });
  rerankerCheckpoint = await generateTinyCheckpoint({ out: path.join(root, 'ckpt-reranker'), kind: 'reranker' });
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A fresh, empty parent folder for one case's target, so leftovers are easy to see. */
async function freshParent(): Promise<string> {
  const dir = path.join(root, `case-${++caseCounter}`);
  await mkdir(dir);
  return dir;
}

async function sha256(file: string): Promise<string> {
  return createHash('sha256').update(await readFile(file)).digest('hex');
}

async function copyCheckpoint(from: string): Promise<string> {
  const to = path.join(root, `ckpt-copy-${++caseCounter}`);
  await cp(from, to, { recursive: true });
  return to;
}

/** Asserts the build failed cleanly: nothing at all was left in the target's parent folder. */
async function assertNothingLeft(parent: string): Promise<void> {
  assert.deepEqual(await readdir(parent), [], `leftovers in ${parent}`);
}

// --- safetensors surgery for the error cases (a minimal writer: dtypes the project's writer refuses) ---

interface RawTensor { name: string; dtype: string; shape: number[]; bytes: Buffer }

async function readRawTensors(file: string): Promise<RawTensor[]> {
  const buffer = await readFile(file);
  const n = Number(buffer.readBigUInt64LE(0));
  const header = JSON.parse(buffer.subarray(8, 8 + n).toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  return Object.entries(header)
    .filter(([name]) => name !== '__metadata__')
    .map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape, bytes: buffer.subarray(8 + n + t.data_offsets[0], 8 + n + t.data_offsets[1]) }))
    .sort((a, b) => a.bytes.byteOffset - b.bytes.byteOffset);
}

async function writeRawTensors(file: string, tensors: RawTensor[]): Promise<void> {
  let offset = 0;
  const entries: Record<string, unknown> = {};
  for (const t of tensors) {
    entries[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.bytes.length] };
    offset += t.bytes.length;
  }
  let json = Buffer.from(JSON.stringify(entries));
  json = Buffer.concat([json, Buffer.alloc((8 - (json.length % 8)) % 8, 0x20)]);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  await writeFile(file, Buffer.concat([length, json, ...tensors.map((t) => t.bytes)]));
}

describe('tiny packages', () => {
  for (const kind of ['embedding', 'reranker'] as const) {
    test(`${kind}: manifest matches config.json, every file listed with its size and hash, graphs load in ORT`, async () => {
      const checkpoint = kind === 'embedding' ? embeddingCheckpoint : rerankerCheckpoint;
      const parent = await freshParent();
      const out = path.join(parent, 'pkg');
      const stages = new Set<string>();
      const manifest = await buildModelPackage({ checkpointDir: checkpoint, outDir: out, kind, repo: 'Qwen/tiny', revision: 'abc123', onProgress: (e) => stages.add(e.stage) });
      assert.deepEqual(await readdir(parent), ['pkg'], 'only the package, no .partial-* folder');
      assert.deepEqual([...stages], ['check', 'hash-checkpoint', 'vision', 'decoder', 'tokenizer', 'hash-package', 'finish']);

      const onDisk = parseModelManifest(JSON.parse(await readFile(path.join(out, 'manifest.json'), 'utf8')), 'manifest.json');
      assert.deepEqual(onDisk, manifest);
      const config = tinyConfigJson(kind) as Record<string, unknown> & { text_config: Record<string, number>; vision_config: Record<string, number | number[]> };
      const pkg = JSON.parse(await readFile('package.json', 'utf8')) as { version: string };
      assert.equal(manifest.formatVersion, PACKAGE_FORMAT_VERSION);
      assert.deepEqual(manifest.builder, { name: 'trove', version: pkg.version, graphRevision: GRAPH_REVISION });
      assert.equal(manifest.kind, kind);
      assert.equal(manifest.precision, 'fp32');
      assert.equal(manifest.variant, 'plain');
      assert.deepEqual({ repo: manifest.source.repo, revision: manifest.source.revision }, { repo: 'Qwen/tiny', revision: 'abc123' });
      const tc = config.text_config;
      assert.deepEqual(manifest.text, { hidden: tc.hidden_size, layers: tc.num_hidden_layers, vocabSize: tc.vocab_size, heads: tc.num_attention_heads, kvHeads: tc.num_key_value_heads, headDim: tc.head_dim });
      const vc = config.vision_config;
      assert.deepEqual(manifest.vision, {
        hidden: vc.hidden_size, heads: vc.num_heads, headDim: (vc.hidden_size as number) / (vc.num_heads as number), outHidden: vc.out_hidden_size, depth: vc.depth, deepstackVisualIndexes: vc.deepstack_visual_indexes,
      });
      assert.deepEqual(manifest.tokens, {
        image: config.image_token_id, video: config.video_token_id, visionStart: config.vision_start_token_id, visionEnd: config.vision_end_token_id, pad: 151643,
        yes: kind === 'reranker' ? 9693 : null, no: kind === 'reranker' ? 2152 : null,
      });
      const decoder = kind === 'reranker' ? 'rerank_decoder.onnx' : 'text_decoder.onnx';
      assert.deepEqual(manifest.graphs, { vision: 'vision_encoder.onnx', decoder });

      // Every file but the manifest is listed, with the size and SHA-256 computed here.
      const names = (await readdir(out)).filter((n) => n !== 'manifest.json').sort();
      assert.deepEqual(manifest.files.map((f) => f.name).sort(), names);
      for (const required of ['vision_encoder.onnx', 'vision_encoder.onnx_data', decoder, `${decoder}_data`, 'tokenizer.json', 'tokenizer_config.json', 'chat_template.json', 'preprocessor_config.json']) {
        assert.ok(names.includes(required), `${required} missing from ${names.join(', ')}`);
      }
      for (const f of manifest.files) {
        assert.equal(f.bytes, (await stat(path.join(out, f.name))).size, `${f.name} size`);
        assert.equal(f.sha256, await sha256(path.join(out, f.name)), `${f.name} hash`);
      }
      for (const name of ['tokenizer.json', 'tokenizer_config.json']) {
        assert.equal(await sha256(path.join(out, name)), await sha256(path.join(checkpoint, name)), `${name} is copied verbatim`);
      }
      assert.deepEqual(manifest.source.files.map((f) => f.name), ['config.json', 'model.safetensors']);
      for (const f of manifest.source.files) assert.equal(f.sha256, await sha256(path.join(checkpoint, f.name)), `source ${f.name} hash`);

      for (const graph of ['vision_encoder.onnx', decoder]) {
        const session = await ort.InferenceSession.create(path.join(out, graph));
        assert.ok(session.inputNames.length > 0);
        if (graph === decoder) assert.deepEqual(session.outputNames, kind === 'reranker' ? ['pooled_hidden', 'yes_no_logit'] : ['pooled_hidden']);
        else assert.deepEqual(session.outputNames, ['merged_embeds', 'deepstack_embeds']);
        await session.release();
      }

      const inspection = await inspectModelPackage(out, { verify: true });
      assert.equal(inspection.ok, true, inspection.problems.join('\n'));
      assert.equal(inspection.hashesChecked, true);
      assert.deepEqual(inspection.unlistedFiles, []);
    });
  }
});

describe('precision and variant', () => {
  for (const [precision, variant] of [['fp16', 'plain'], ['int4', 'fused']] as const) {
    test(`${precision} ${variant}: recorded in the manifest, graphs load in ORT, smaller than fp32`, async () => {
      const parent = await freshParent();
      const out = path.join(parent, 'pkg');
      const manifest = await buildModelPackage({ checkpointDir: rerankerCheckpoint, outDir: out, kind: 'reranker', precision, variant });
      assert.deepEqual({ precision: manifest.precision, variant: manifest.variant }, { precision, variant });
      for (const graph of [manifest.graphs.vision, manifest.graphs.decoder]) await (await ort.InferenceSession.create(path.join(out, graph))).release();
      // The fp32 reranker decoder's weights are 19.6 MB (151936×32 table + layers); every other precision stores less.
      const decoderData = manifest.files.find((f) => f.name === 'rerank_decoder.onnx_data')!;
      assert.ok(decoderData.bytes < 0.9 * 151936 * 32 * 4, `${precision} decoder data is ${decoderData.bytes} bytes`);
      assert.equal((await inspectModelPackage(out, { verify: true })).ok, true);
      assert.deepEqual(await readdir(parent), ['pkg']);
    });
  }
});

describe('replacing a package', () => {
  test('refuses an existing package without overwrite, and any non-package folder even with it', async () => {
    const parent = await freshParent();
    const out = path.join(parent, 'pkg');
    const first = await buildModelPackage({ checkpointDir: embeddingCheckpoint, outDir: out });
    await assert.rejects(buildModelPackage({ checkpointDir: embeddingCheckpoint, outDir: out }), /already holds a model package; pass overwrite/);
    assert.deepEqual(parseModelManifest(JSON.parse(await readFile(path.join(out, 'manifest.json'), 'utf8')), 'm'), first, 'the old package is untouched');

    const notPackage = path.join(parent, 'photos');
    await mkdir(notPackage);
    await writeFile(path.join(notPackage, 'keep.txt'), 'mine');
    await assert.rejects(buildModelPackage({ checkpointDir: embeddingCheckpoint, outDir: notPackage, overwrite: true }), /already exists and is not a Trove model package; refusing to replace it/);
    assert.deepEqual(await readdir(notPackage), ['keep.txt']);
    assert.deepEqual((await readdir(parent)).sort(), ['photos', 'pkg']);
  });

  test('overwrite swaps the whole folder: no file of the old package survives', async () => {
    const parent = await freshParent();
    const out = path.join(parent, 'pkg');
    await buildModelPackage({ checkpointDir: embeddingCheckpoint, outDir: out });
    const replaced = await buildModelPackage({ checkpointDir: rerankerCheckpoint, outDir: out, kind: 'reranker', overwrite: true });
    assert.equal(replaced.kind, 'reranker');
    const names = await readdir(out);
    assert.ok(!names.includes('text_decoder.onnx'), `the embedder's decoder is gone: ${names.join(', ')}`);
    assert.deepEqual(await readdir(parent), ['pkg'], 'no .old-* or .partial-* folder left');
    assert.equal((await inspectModelPackage(out, { verify: true })).ok, true);
  });
});

describe('failed builds leave nothing behind', () => {
  test('truncated safetensors', async () => {
    const checkpoint = await copyCheckpoint(embeddingCheckpoint);
    const file = path.join(checkpoint, 'model.safetensors');
    await truncate(file, (await stat(file)).size - 1000);
    const parent = await freshParent();
    await assert.rejects(buildModelPackage({ checkpointDir: checkpoint, outDir: path.join(parent, 'pkg') }), /model\.safetensors.*truncated/s);
    await assertNothingLeft(parent);
  });

  test('a weight stored as I64', async () => {
    const checkpoint = await copyCheckpoint(embeddingCheckpoint);
    const file = path.join(checkpoint, 'model.safetensors');
    const tensors = await readRawTensors(file);
    const norm = tensors.find((t) => t.name === 'model.language_model.norm.weight')!;
    const floats = new Float32Array(norm.bytes.buffer.slice(norm.bytes.byteOffset, norm.bytes.byteOffset + norm.bytes.length));
    norm.dtype = 'I64';
    norm.bytes = Buffer.from(BigInt64Array.from(floats, (v) => BigInt(Math.round(v * 1000))).buffer);
    await writeRawTensors(file, tensors);
    const parent = await freshParent();
    await assert.rejects(buildModelPackage({ checkpointDir: checkpoint, outDir: path.join(parent, 'pkg') }), /1 tensor\(s\) not stored as F32\/F16\/BF16:\s+model\.language_model\.norm\.weight: I64/);
    await assertNothingLeft(parent);
  });

  test('a missing tensor', async () => {
    const checkpoint = await copyCheckpoint(rerankerCheckpoint);
    const file = path.join(checkpoint, 'model.safetensors');
    const tensors = await readRawTensors(file);
    await writeRawTensors(file, tensors.filter((t) => t.name !== 'model.visual.blocks.2.attn.qkv.weight' && t.name !== 'lm_head.weight'));
    const parent = await freshParent();
    const error = await buildModelPackage({ checkpointDir: checkpoint, outDir: path.join(parent, 'pkg'), kind: 'reranker' }).then(() => null, (e: Error) => e);
    assert.ok(error, 'the build must fail');
    // Both problems in one message, each with the shape config.json implies.
    assert.match(error.message, /2 tensor\(s\) missing:/);
    assert.match(error.message, /model\.visual\.blocks\.2\.attn\.qkv\.weight \[96, 32\]/);
    assert.match(error.message, /lm_head\.weight \[151936, 32\]/);
    assert.match(error.message, /nothing was written/);
    await assertNothingLeft(parent);
  });

  test('config.json that disagrees with the weights', async () => {
    const checkpoint = await copyCheckpoint(embeddingCheckpoint);
    const config = tinyConfigJson('embedding') as { text_config: Record<string, unknown>; vision_config: Record<string, unknown> };
    config.text_config.hidden_size = 48;
    config.vision_config.out_hidden_size = 48;
    await writeFile(path.join(checkpoint, 'config.json'), JSON.stringify(config));
    const parent = await freshParent();
    await assert.rejects(
      buildModelPackage({ checkpointDir: checkpoint, outDir: path.join(parent, 'pkg') }),
      /tensor\(s\) whose shape disagrees with config\.json:\s+model\.visual\.merger\.linear_fc2\.weight: \[32, 128\] in the checkpoint, config\.json implies \[48, 128\]/,
    );
    await assertNothingLeft(parent);
  });

  test('an invalid config.json names the field', async () => {
    const checkpoint = await copyCheckpoint(embeddingCheckpoint);
    const config = tinyConfigJson('embedding') as { text_config: Record<string, unknown> };
    delete config.text_config.num_hidden_layers;
    await writeFile(path.join(checkpoint, 'config.json'), JSON.stringify(config));
    const parent = await freshParent();
    await assert.rejects(buildModelPackage({ checkpointDir: checkpoint, outDir: path.join(parent, 'pkg') }), /text_config\.num_hidden_layers: expected a positive integer, got nothing/);
    await assertNothingLeft(parent);
  });

  test('a checkpoint without tokenizer.json', async () => {
    const checkpoint = await copyCheckpoint(embeddingCheckpoint);
    await rm(path.join(checkpoint, 'tokenizer.json'));
    const parent = await freshParent();
    await assert.rejects(buildModelPackage({ checkpointDir: checkpoint, outDir: path.join(parent, 'pkg') }), /has no tokenizer\.json.*download tokenizer\.json/);
    await assertNothingLeft(parent);
  });

  test('an unknown precision', async () => {
    const parent = await freshParent();
    await assert.rejects(buildModelPackage({ checkpointDir: embeddingCheckpoint, outDir: path.join(parent, 'pkg'), precision: 'int3' as never }), /precision must be one of fp32, fp16, int8, int4, got "int3"/);
    await assertNothingLeft(parent);
  });

  for (const stage of ['vision', 'decoder', 'hash-package'] as const) {
    test(`abort during the ${stage} stage`, async () => {
      const parent = await freshParent();
      const controller = new AbortController();
      const seen: PackageBuildProgress[] = [];
      const onProgress = (e: PackageBuildProgress) => {
        seen.push(e);
        // Abort in the middle of the stage, once its first files exist in the partial folder.
        if (e.stage === stage && e.done > 0 && e.done < e.total) controller.abort();
      };
      await assert.rejects(buildModelPackage({ checkpointDir: embeddingCheckpoint, outDir: path.join(parent, 'pkg'), onProgress, signal: controller.signal }), { name: 'AbortError' });
      assert.ok(seen.some((e) => e.stage === stage), `the build reached ${stage}`);
      assert.ok(!seen.some((e) => e.stage === 'finish'), 'the build stopped before finishing');
      await assertNothingLeft(parent);
    });
  }
});

describe('inspecting packages', () => {
  let pkg = '';
  before(async () => {
    pkg = path.join(await freshParent(), 'pkg');
    await buildModelPackage({ checkpointDir: embeddingCheckpoint, outDir: pkg });
  });

  test('a package from another format version is refused with what to do', async () => {
    const copy = path.join(await freshParent(), 'old');
    await cp(pkg, copy, { recursive: true });
    const manifest = JSON.parse(await readFile(path.join(copy, 'manifest.json'), 'utf8')) as Record<string, unknown>;
    manifest.formatVersion = PACKAGE_FORMAT_VERSION + 1;
    manifest.builder = { name: 'trove', version: '9.9.9' };
    await writeFile(path.join(copy, 'manifest.json'), JSON.stringify(manifest));
    await assert.rejects(inspectModelPackage(copy), new RegExp(`built by trove 9\\.9\\.9 for package format ${PACKAGE_FORMAT_VERSION + 1}; this Trove reads format ${PACKAGE_FORMAT_VERSION}\\. Rebuild it with 'trove model build'`));
    // The builder still recognises it as a package it may replace.
    const rebuilt = await buildModelPackage({ checkpointDir: embeddingCheckpoint, outDir: copy, overwrite: true });
    assert.equal(rebuilt.formatVersion, PACKAGE_FORMAT_VERSION);
  });

  test('a folder without manifest.json is not a package, and a leftover partial folder says so', async () => {
    await assert.rejects(inspectModelPackage(embeddingCheckpoint), /is not a Trove model package: it has no manifest\.json; build one with 'trove model build/);
    const partial = path.join(await freshParent(), 'pkg.partial-0123456789ab');
    await mkdir(partial);
    await assert.rejects(inspectModelPackage(partial), /leftover of an interrupted build/);
  });

  test('a damaged file: size caught without verify, hash only with verify', async () => {
    const copy = path.join(await freshParent(), 'damaged');
    await cp(pkg, copy, { recursive: true });
    const data = path.join(copy, 'text_decoder.onnx_data');
    const bytes = await readFile(data);
    bytes[bytes.length >> 1] ^= 0xff; // same size, other content
    await writeFile(data, bytes);
    assert.equal((await inspectModelPackage(copy)).ok, true, 'sizes alone cannot see a flipped byte');
    const verified = await inspectModelPackage(copy, { verify: true });
    assert.equal(verified.ok, false);
    assert.deepEqual(verified.files.filter((f) => f.problem).map((f) => f.name), ['text_decoder.onnx_data']);
    assert.match(verified.problems[0], /text_decoder\.onnx_data: SHA-256 [0-9a-f]{64} on disk, the manifest says [0-9a-f]{64}/);

    await rm(path.join(copy, 'tokenizer.json'));
    await truncate(path.join(copy, 'vision_encoder.onnx_data'), 10);
    const sized = await inspectModelPackage(copy);
    assert.deepEqual(sized.problems.sort(), [
      'tokenizer.json: missing',
      `vision_encoder.onnx_data: 10 bytes on disk, the manifest says ${sized.manifest.files.find((f) => f.name === 'vision_encoder.onnx_data')!.bytes}`,
    ]);
  });
});
