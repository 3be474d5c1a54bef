// Streaming build: a ~200 MB checkpoint (ten times the tiny one) is built into a package in a
// child process, and that process's peak RSS must stay within a bound set by the largest single
// tensor, not by the checkpoint or package size. A builder that held the weights (or the graph's
// initializers) in memory would exceed the bound by the whole checkpoint.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseQwen3VLConfig } from '../../../native-models/checkpoint/common/qwen3vl-config.ts';
import { qwen3VLParameterShapes } from '../../../native-models/checkpoint/common/qwen3vl-parameters.ts';
import { createSafetensorsStream } from '../../../native-models/checkpoint/node/safetensors-writer.ts';
import { copyQwenTokenizer, midSizeConfigJson } from '../../../scripts/fixtures/mid-size-checkpoint.ts';

const run = promisify(execFile);
const MIB = 2 ** 20;

/**
 * A mid-size Qwen3-VL: the real structure (GQA, explicit head_dim, interleaved M-RoPE with a T
 * tail, 3 DeepStack taps, 48×48 position grid) with weight spread over many medium tensors, so the
 * largest tensor (the 16384×256 embedding table, 16 MiB) is ~1/12 of the checkpoint. The
 * vocabulary is cut to 16384 (token ids moved inside it): with the real 151936 rows the embedding
 * table alone would be most of the checkpoint and the test could not tell streaming from loading.
 *   text:   embed 16384·256 = 4.19 M; per layer q/o 2·256·256 + k/v 2·128·256 + MLP 3·1024·256
 *           + norms = 0.98 M; × 20 layers = 19.7 M
 *   vision: patch 256·1536 + pos 2304·256 = 0.98 M; per block qkv 768·256 + proj 256·256
 *           + fc1/fc2 2·1024·256 = 0.79 M; × 24 = 18.9 M; 4 mergers × (1024² + 256·1024) = 5.2 M
 *   total ≈ 49 M parameters ≈ 197 MB of fp32 (the exact figure is computed below).
 */
function midSizeMemoryConfig(): Record<string, unknown> {
  return midSizeConfigJson(
    { hidden_size: 256, intermediate_size: 1024, num_hidden_layers: 20, num_attention_heads: 4, num_key_value_heads: 2 },
    { hidden_size: 256, intermediate_size: 1024, num_heads: 4, depth: 24, out_hidden_size: 256, deepstack_visual_indexes: [5, 11, 17] },
  );
}

/** Cheap deterministic filler: values don't matter here, only bytes and shapes. */
function fillerBlock(elements: number): Float32Array {
  const block = new Float32Array(elements);
  let state = 12345;
  for (let i = 0; i < elements; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    block[i] = (state / 2 ** 32 - 0.5) * 0.2;
  }
  return block;
}

test('building a ~200 MB checkpoint keeps peak RSS near the largest tensor, not the checkpoint', { timeout: 120_000 }, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'trove-package-memory-'));
  try {
    const checkpoint = path.join(dir, 'checkpoint');
    await mkdir(checkpoint);
    const configJson = midSizeMemoryConfig();
    await writeFile(path.join(checkpoint, 'config.json'), JSON.stringify(configJson, null, 2));
    const parameters = qwen3VLParameterShapes(parseQwen3VLConfig(configJson, 'mid-size config'));
    const sizes = parameters.map((p) => p.shape.reduce((a, b) => a * b, 1) * 4);
    const checkpointBytes = sizes.reduce((a, b) => a + b, 0);
    const largestTensorBytes = Math.max(...sizes);

    // Streamed: each tensor is appended in slices of one 1 Mi-element block.
    const block = fillerBlock(MIB);
    const stream = await createSafetensorsStream(path.join(checkpoint, 'model.safetensors'), parameters.map((p) => ({ name: p.name, dtype: 'F32' as const, shape: p.shape })), { format: 'pt' });
    for (const p of parameters) {
      const elements = p.shape.reduce((a, b) => a * b, 1);
      for (let first = 0; first < elements; first += block.length) await stream.append(p.name, block.subarray(0, Math.min(block.length, elements - first)));
    }
    await stream.finish();
    await copyQwenTokenizer(checkpoint);
    assert.ok(checkpointBytes > 190e6 && checkpointBytes < 210e6, `the checkpoint should be ~200 MB, is ${checkpointBytes}`);
    assert.equal((await stat(path.join(checkpoint, 'model.safetensors'))).size > checkpointBytes, true);

    const out = path.join(dir, 'package');
    const child = path.resolve('test/native-models/package/build-package-memory-child.ts');
    const { stdout } = await run(process.execPath, ['--import', 'tsx', child, checkpoint, out], { maxBuffer: 16 * MIB });
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as { baselineMaxRssKiB: number; peakMaxRssKiB: number; seconds: number; packageBytes: number };
    const growth = (result.peakMaxRssKiB - result.baselineMaxRssKiB) * 1024;

    // Bound on the growth over the idle process (modules loaded): while one tensor is converted,
    // the builder holds its float32 copy from the reader, the transposed [in, out] copy for MatMul,
    // and at most one or two earlier tensors the GC has not yet collected: 4 × the largest tensor.
    // Plus 64 MiB fixed: the graph protobuf and node list, V8 heap growth and JIT, the 4 MiB hash
    // buffer, and libuv/ORT-free native allocations. For this checkpoint that is 128 MiB, while
    // holding the weights would need ≥ 197 MB (and holding graph initializers as well, twice that).
    const bound = 4 * largestTensorBytes + 64 * MIB;
    const report = `checkpoint ${(checkpointBytes / MIB).toFixed(1)} MiB, package ${(result.packageBytes / MIB).toFixed(1)} MiB, largest tensor ${(largestTensorBytes / MIB).toFixed(1)} MiB; ` +
      `RSS baseline ${(result.baselineMaxRssKiB / 1024).toFixed(0)} MiB, peak ${(result.peakMaxRssKiB / 1024).toFixed(0)} MiB, growth ${(growth / MIB).toFixed(1)} MiB, bound ${(bound / MIB).toFixed(1)} MiB; build ${result.seconds.toFixed(1)} s`;
    console.log(`# ${report}`);
    assert.ok(bound < checkpointBytes * 0.75, `the bound must be well below the checkpoint size to mean anything (${report})`);
    assert.ok(growth < bound, `peak RSS grew more than the streaming bound: ${report}`);
    assert.ok(result.packageBytes > checkpointBytes * 0.9, `the package should hold about the checkpoint's weights: ${report}`);
    assert.deepEqual((await readdir(dir)).sort(), ['checkpoint', 'package']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
