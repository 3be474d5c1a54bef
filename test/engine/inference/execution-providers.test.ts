// Execution-provider choice: the plan per platform, the fallback chain with its statement (with a
// stub session factory, so every branch runs on any machine), and on this machine for real: CPU
// runs, and forcing an unavailable EP falls back with a statement that says why.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type * as ort from 'onnxruntime-node';
import { createSessions, linuxGpuDevice, physicalCoreCount, providerPlan, sessionOptions } from '../../../electron/engine/inference/node/runtime/execution-providers.ts';
import { buildTinyPackage } from '../../support/tiny-package.ts';

const linux = { platform: 'linux' as const, arch: process.arch };

describe('execution providers', () => {
  let root = '';
  let graph = '';

  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'trove-ep-'));
    graph = path.join((await buildTinyPackage(root, 'embedding')).packageDir, 'vision_encoder.onnx');
  });
  after(() => rm(root, { recursive: true, force: true }));

  test('plan: DirectML only on Windows, CoreML only on macOS, CPU always last', () => {
    const plan = providerPlan(linux);
    assert.equal(plan.tryOrder.at(-1), 'cpu');
    assert.deepEqual(plan.skipped.filter((s) => s.ep === 'dml' || s.ep === 'coreml').map((s) => s.reason), ['Windows only', 'macOS only']);
    const mac = providerPlan({ platform: 'darwin', arch: 'arm64' });
    assert.ok(!mac.skipped.some((s) => s.ep === 'coreml' && s.reason === 'macOS only'));
    assert.ok(mac.skipped.some((s) => s.ep === 'dml' && s.reason === 'Windows only'));
  });

  test('TROVE_EP forces one EP then CPU; unknown values are refused with the list', () => {
    assert.deepEqual(providerPlan({ ...linux, override: 'cpu' }).tryOrder, ['cpu']);
    const forced = providerPlan({ ...linux, override: 'WebGPU' });
    assert.ok(!forced.tryOrder.includes('cuda') && !forced.skipped.some((s) => s.ep === 'cuda'));
    assert.throws(() => providerPlan({ ...linux, override: 'tpu' }), /TROVE_EP='tpu' is not an execution provider; use one of cuda, dml, coreml, webgpu, cpu/);
  });

  test('WebGPU is not tried on a Linux machine without a GPU device (Dawn would print Vulkan warnings and find only a software renderer); TROVE_EP=webgpu still tries it', async () => {
    const noGpu = providerPlan({ ...linux, gpuDevice: false });
    assert.ok(!noGpu.tryOrder.includes('webgpu'));
    assert.match(noGpu.skipped.find((s) => s.ep === 'webgpu')?.reason ?? '', /no GPU device on this machine/);
    assert.ok(!providerPlan({ ...linux, gpuDevice: true }).skipped.some((s) => s.ep === 'webgpu' && /no GPU device/.test(s.reason)));
    assert.ok(!providerPlan({ ...linux, gpuDevice: false, override: 'webgpu' }).skipped.some((s) => /no GPU device/.test(s.reason)));

    const dev = path.join(root, 'dev');
    await mkdir(path.join(dev, 'dri'), { recursive: true });
    await writeFile(path.join(dev, 'null'), '');
    assert.equal(linuxGpuDevice(dev), false);
    await writeFile(path.join(dev, 'dri', 'renderD128'), '');
    assert.equal(linuxGpuDevice(dev), true);
    await rm(path.join(dev, 'dri', 'renderD128'));
    await writeFile(path.join(dev, 'nvidia0'), '');
    assert.equal(linuxGpuDevice(dev), true);
  });

  test('fallback chain: a failing EP is recorded and the next one runs (stub sessions)', async () => {
    const created: string[] = [];
    const fake = async (file: string, options: ort.InferenceSession.SessionOptions): Promise<ort.InferenceSession> => {
      const ep = String(options.executionProviders![0]);
      if (ep === 'webgpu' && file.endsWith('b.onnx')) throw new Error('/onnxruntime_src/x.cc:1 f() adapter was false. Failed to get a WebGPU adapter: No supported adapters');
      created.push(`${ep}:${path.basename(file)}`);
      return { release: async () => void created.push(`released ${ep}:${path.basename(file)}`) } as unknown as ort.InferenceSession;
    };
    const { choice } = await createSessions(['a.onnx', 'b.onnx'], { ...linux, override: 'webgpu' }, fake);
    assert.equal(choice.ep, 'cpu');
    // The vision session made on WebGPU is released when the decoder fails there: both graphs share one EP.
    assert.deepEqual(created, ['webgpu:a.onnx', 'released webgpu:a.onnx', 'cpu:a.onnx', 'cpu:b.onnx']);
    assert.equal(choice.statement, 'Running on CPU: TROVE_EP=webgpu asked for WebGPU, which is unavailable here. WebGPU: failed: Failed to get a WebGPU adapter: No supported adapters.');
  });

  test('this machine: CPU runs; forcing CUDA falls back to CPU and says why', async () => {
    const auto = await createSessions([graph], { platform: process.platform, arch: process.arch });
    try {
      // A GPU machine may pick a GPU EP; a machine without one (this project's CI) must say why it runs on CPU.
      if (auto.choice.ep === 'cpu' && process.platform === 'linux') {
        assert.match(auto.choice.statement, /^Running on CPU\. CUDA: .+\. DirectML: Windows only\. CoreML: macOS only\. WebGPU: .+\.$/);
      } else {
        assert.match(auto.choice.statement, /^Running on (CPU|CUDA|DirectML|CoreML|WebGPU)\./);
      }
      console.log(`EP statement here: ${auto.choice.statement}`);
    } finally {
      await Promise.all(auto.sessions.map((s) => s.release()));
    }
    const forced = await createSessions([graph], { platform: process.platform, arch: process.arch, override: 'cuda' });
    try {
      assert.equal(forced.choice.ep, 'cpu');
      assert.match(forced.choice.statement, /^Running on CPU: TROVE_EP=cuda asked for CUDA, which is unavailable here\. CUDA: .*(installed without its CUDA provider|failed)/);
      console.log(`forced: ${forced.choice.statement}`);
    } finally {
      await Promise.all(forced.sessions.map((s) => s.release()));
    }
  });

  test('each graph gets its own memory settings: the vision graph (patterns off, arena on) and the decoder (patterns on, arena off)', async () => {
    const seen: Record<string, [boolean | undefined, boolean | undefined]> = {};
    const fake = async (file: string, options: ort.InferenceSession.SessionOptions): Promise<ort.InferenceSession> => {
      seen[path.basename(file)] = [options.enableMemPattern, options.enableCpuMemArena];
      return { release: async () => undefined } as unknown as ort.InferenceSession;
    };
    await createSessions([{ file: 'vision.onnx', memoryPattern: false, cpuArena: true }, 'decoder.onnx'], { ...linux, override: 'cpu' }, fake);
    assert.deepEqual(seen, { 'vision.onnx': [false, true], 'decoder.onnx': [true, false] });
  });

  test('session options: full graph optimisation, physical-core threads, no CPU arena unless asked, errors only unless TROVE_LOG asks for more', () => {
    const saved = process.env.TROVE_LOG;
    delete process.env.TROVE_LOG;
    const options = sessionOptions('cpu', 6);
    assert.deepEqual(
      { ...options },
      { executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: 6, interOpNumThreads: 1, executionMode: 'sequential', enableCpuMemArena: false, enableMemPattern: true, logSeverityLevel: 3 },
    );
    try {
      process.env.TROVE_LOG = 'info';
      assert.equal(sessionOptions('cpu', 6).logSeverityLevel, 1);
      process.env.TROVE_LOG = 'verbose';
      assert.equal(sessionOptions('cpu', 6).logSeverityLevel, 0);
      process.env.TROVE_LOG = 'nonsense';
      assert.equal(sessionOptions('cpu', 6).logSeverityLevel, 3);
    } finally {
      if (saved === undefined) delete process.env.TROVE_LOG;
      else process.env.TROVE_LOG = saved;
    }
    assert.equal(sessionOptions('dml', 6).enableMemPattern, false);
    assert.equal(sessionOptions('cpu', 6, false, true).enableCpuMemArena, true, 'the arena where a graph asks for it (vision)');
    if (process.platform === 'linux') assert.ok(physicalCoreCount() >= 1);
  });
});
