// The recommendation for typical machines (pure: catalog + hardware in, choice and reason out) and
// fitsOn for the picker.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { recommendation, type Hardware } from '../../../electron/contract/common/model-setup.ts';
import { loadModelCatalog } from '../../../native-models/catalog/node/model-catalog.ts';
import { fitsOn, memoryBudget, pairMemoryBytes, recommendModels } from '../../../native-models/catalog/node/recommend-models.ts';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const catalog = loadModelCatalog({});
const byId = (id: string) => catalog.find((m) => m.id === id)!;

function machine(over: Partial<Hardware>): Hardware {
  return { gpus: [], ramBytes: 16 * GiB, freeDiskBytes: 500e9, executionProvider: 'cpu', ...over };
}
const nvidia = (name: string, mib: number, ram = 32 * GiB): Hardware => machine({ gpus: [{ name, memoryBytes: mib * MiB }], executionProvider: 'cuda', ramBytes: ram });

function recommend(hardware: Hardware) {
  const r = recommendModels(catalog, hardware);
  assert.deepEqual(recommendation.parse(r), r, 'valid against the contract');
  assert.ok(!r.reason.includes('\n') && r.reason.endsWith('.'), 'one sentence');
  return r;
}

describe('recommendModels', () => {
  test('no GPU, 16 GB RAM: 2B + 2B reranker at int8 on the CPU, saying why not fp32', () => {
    const r = recommend(machine({}));
    assert.deepEqual([r.embedding, r.reranker, r.precision], ['embedding-2b', 'reranker-2b', 'int8']);
    assert.match(r.reason, /^No usable GPU was found, so Trove runs on the CPU; the 2B embedding model and the 2B reranker at int8 fit in this computer's 16 GB of memory; .* at fp32 would need about 18 GB of memory, more than the 11 GB Trove allows itself/);
  });

  test('no GPU, 64 GB RAM: 2B pair at fp32 (fastest on CPU), never 8B on a CPU', () => {
    const r = recommend(machine({ ramBytes: 64 * GiB }));
    assert.deepEqual([r.embedding, r.reranker, r.precision], ['embedding-2b', 'reranker-2b', 'fp32']);
    assert.match(r.reason, /8B models would index about three times slower on a CPU/);
  });

  test('8 GB GPU: the 2B embedder alone (no room for the reranker too)', () => {
    const r = recommend(nvidia('NVIDIA GeForce RTX 4060', 8188));
    assert.equal(r.embedding, 'embedding-2b');
    assert.equal(r.reranker, null);
    assert.match(r.reason, /^Trove runs on NVIDIA GeForce RTX 4060; the 2B embedding model at \w+ fits in its 8 GB of GPU memory; the 2B embedding model and the 2B reranker at \w+ would need about [\d.]+ GB of GPU memory/);
  });

  test('24 GB GPU: 2B + 2B reranker at fp16; 8B is named as not fitting', () => {
    const r = recommend(nvidia('NVIDIA GeForce RTX 4090', 24564, 64 * GiB));
    assert.deepEqual([r.embedding, r.reranker, r.precision], ['embedding-2b', 'reranker-2b', 'fp16']);
    assert.match(r.reason, /the 8B embedding model and the 2B reranker at fp16 would need about \d+ GB of GPU memory, more than the 22 GB Trove allows itself of the GPU's 24 GB/);
  });

  test('80 GB GPU: 8B + 8B reranker at fp16', () => {
    const r = recommend(nvidia('NVIDIA H100 80GB HBM3', 81559, 128 * GiB));
    assert.deepEqual([r.embedding, r.reranker, r.precision], ['embedding-8b', 'reranker-8b', 'fp16']);
    assert.equal(r.reason, 'Trove runs on NVIDIA H100 80GB HBM3; the 8B embedding model and the 8B reranker at fp16 fit in its 80 GB of GPU memory.');
  });

  test('the first NVIDIA GPU is the one CUDA uses', () => {
    const hw = machine({ gpus: [{ name: 'small', memoryBytes: 8188 * MiB }, { name: 'big', memoryBytes: 81559 * MiB }], executionProvider: 'cuda' });
    assert.equal(memoryBudget(hw).totalBytes, 8188 * MiB);
    assert.equal(recommend(hw).embedding, 'embedding-2b');
  });

  test('tiny disk: never recommends what does not fit on disk, and says so', () => {
    const hw = { ...nvidia('NVIDIA GeForce RTX 4090', 24564), freeDiskBytes: 12e9 };
    const r = recommend(hw);
    assert.deepEqual([r.embedding, r.reranker], ['embedding-2b', null]);
    assert.match(r.reason, /the 2B embedding model and the 2B reranker at fp16 would need about 19 GB of free disk space .* but only 12 GB is free/);
    const none = recommend({ ...hw, freeDiskBytes: 3e9 });
    assert.equal(none.reranker, null);
    assert.match(none.reason, /but even the 2B embedding model at \w+ needs about \d+ GB of free disk space .*3 GB is free; free up space or use a remote server\.$/);
  });

  test('unknown free disk does not block the recommendation', () => {
    assert.equal(recommend(machine({ freeDiskBytes: null })).reranker, 'reranker-2b');
  });

  test('Apple silicon, 32 GB unified memory: 2B pair at fp16 on CoreML, budget capped by the GPU share', () => {
    const hw = machine({ gpus: [{ name: 'Apple M2 Pro', memoryBytes: Math.floor((32 * GiB * 2) / 3) }], executionProvider: 'coreml', ramBytes: 32 * GiB });
    const r = recommend(hw);
    assert.deepEqual([r.embedding, r.reranker, r.precision], ['embedding-2b', 'reranker-2b', 'fp16']);
    assert.equal(memoryBudget(hw).bytes, Math.floor((32 * GiB * 2) / 3));
    assert.match(r.reason, /^Trove runs on Apple M2 Pro; .* fit in this computer's 32 GB of memory/);
    const big = recommend({ ...hw, ramBytes: 128 * GiB, gpus: [{ name: 'Apple M3 Max', memoryBytes: 96 * GiB }] });
    assert.deepEqual([big.embedding, big.reranker], ['embedding-8b', 'reranker-8b']);
  });

  test('very tight memory: no reranker, and the reason says it does not really fit', () => {
    const r = recommend(machine({ ramBytes: 8 * GiB }));
    assert.deepEqual([r.embedding, r.reranker, r.precision], ['embedding-2b', null, 'int8']);
    assert.match(r.reason, /but even the 2B embedding model at int8 needs about [\d.]+ GB of memory, more than the 5.6 GB Trove allows itself/);
  });

  test('DirectML with unknown GPU memory (AdapterRAM capped): budget from RAM, no int8 step-down', () => {
    const hw = machine({ gpus: [{ name: 'AMD Radeon RX 7900 XTX', memoryBytes: null }], executionProvider: 'dml', ramBytes: 32 * GiB });
    assert.equal(memoryBudget(hw).where, 'memory');
    const r = recommend(hw);
    assert.equal(r.precision, 'fp16');
    assert.equal(recommend({ ...hw, ramBytes: 8 * GiB }).precision, 'fp16');
  });

  test('an embedder and a reranker share one working margin', () => {
    const e = byId('embedding-2b');
    const rr = byId('reranker-2b');
    assert.equal(pairMemoryBytes([e, rr], 'fp16'), e.memoryBytes.fp16 + rr.memoryBytes.fp16 - rr.workingBytes!);
  });
});

describe('fitsOn', () => {
  const gpu24 = nvidia('NVIDIA GeForce RTX 4090', 24564);

  test('fits: no reason', () => {
    assert.deepEqual(fitsOn(byId('embedding-2b'), gpu24, 'fp16'), { fits: true, reason: null });
  });

  test('too big for GPU memory: the reason gives both numbers', () => {
    const fit = fitsOn(byId('embedding-8b'), gpu24, 'fp16');
    assert.equal(fit.fits, false);
    assert.match(fit.reason!, /^Qwen3-VL-Embedding 8B at fp16 needs about 23 GB of GPU memory, more than the 22 GB Trove allows itself of the GPU's 24 GB\.$/);
    assert.equal(fitsOn(byId('embedding-8b'), gpu24, 'int8').fits, true);
  });

  test('too big for the disk', () => {
    const fit = fitsOn(byId('embedding-2b'), { ...gpu24, freeDiskBytes: 5e9 }, 'fp16');
    assert.equal(fit.fits, false);
    assert.match(fit.reason!, /needs about 11 GB of free disk space \(download, build and 2 GB to spare\); 5 GB is free/);
  });
});
