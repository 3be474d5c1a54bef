// The hardware probe with every outside call replaced: nvidia-smi output (two GPUs, missing, hung
// past its timeout), Apple silicon, Windows' capped AdapterRAM, the Linux /sys/class/drm fallback,
// free disk at the nearest existing parent, and the execution provider from the provider plan.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { hardware } from '../../../electron/contract/common/model-setup.ts';
import {
  appleGpuShare,
  chooseExecutionProvider,
  defaultExec,
  freeDiskAt,
  parseNvidiaSmi,
  parseWindowsVideoControllers,
  probeHardware,
  type ExecCommand,
  type ProbeOptions,
} from '../../../electron/engine/model-setup/node/hardware-probe.ts';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const TWO_GPUS = 'NVIDIA GeForce RTX 4090, 24564\nNVIDIA RTX A6000, 49140\n';

function enoent(file: string): Error {
  return Object.assign(new Error(`spawn ${file} ENOENT`), { code: 'ENOENT' });
}

/** An exec that answers per command, recording what was run. */
function fakeExec(answers: Record<string, string | Error>, calls: string[] = []): ExecCommand {
  return async (file) => {
    calls.push(file);
    const a = answers[file];
    if (a === undefined) throw enoent(file);
    if (a instanceof Error) throw a;
    return a;
  };
}

function options(over: Partial<ProbeOptions>): ProbeOptions {
  return {
    modelsDir: '/models',
    platform: 'linux',
    arch: 'x64',
    totalMemory: () => 32 * GiB,
    freeDisk: async () => 100e9,
    readDir: async () => {
      throw enoent('/sys/class/drm');
    },
    readText: async (f) => {
      throw enoent(f);
    },
    plan: () => ({ tryOrder: ['cuda', 'webgpu', 'cpu'] }),
    environment: { platform: 'linux', arch: 'x64' },
    exec: fakeExec({}),
    ...over,
  };
}

describe('hardware probe', () => {
  test('nvidia-smi with two GPUs: names and memory (MiB → bytes), CUDA chosen', async () => {
    const calls: string[] = [];
    const hw = await probeHardware(options({ exec: fakeExec({ 'nvidia-smi': TWO_GPUS }, calls) }));
    assert.deepEqual(hardware.parse(hw), hw);
    assert.deepEqual(hw.gpus, [
      { name: 'NVIDIA GeForce RTX 4090', memoryBytes: 24564 * MiB },
      { name: 'NVIDIA RTX A6000', memoryBytes: 49140 * MiB },
    ]);
    assert.equal(hw.executionProvider, 'cuda');
    assert.equal(hw.ramBytes, 32 * GiB);
    assert.equal(hw.freeDiskBytes, 100e9);
    assert.deepEqual(calls, ['nvidia-smi']);
  });

  test('parseNvidiaSmi: CRLF, names with commas, [N/A] memory, blank lines', () => {
    assert.deepEqual(parseNvidiaSmi('Tesla T4, 15360\r\nNVIDIA A100-SXM4-80GB, [N/A]\r\n\r\nWeird, Name, 1024\n'), [
      { name: 'Tesla T4', memoryBytes: 15360 * MiB },
      { name: 'NVIDIA A100-SXM4-80GB', memoryBytes: null },
      { name: 'Weird, Name', memoryBytes: 1024 * MiB },
    ]);
  });

  test('missing nvidia-smi: no GPU, and WebGPU is not chosen without a GPU', async () => {
    const hw = await probeHardware(options({}));
    assert.deepEqual(hw.gpus, []);
    assert.equal(hw.executionProvider, 'cpu');
  });

  test('nvidia-smi past its timeout counts as no GPU; the real exec kills a hung command', async () => {
    const hung: ExecCommand = (_file, _args, { timeoutMs }) => new Promise((_, reject) => setTimeout(() => reject(Object.assign(new Error('timed out'), { killed: true, signal: 'SIGTERM' })), timeoutMs));
    const started = Date.now();
    const hw = await probeHardware(options({ exec: hung, timeoutMs: 50 }));
    assert.deepEqual(hw.gpus, []);
    assert.ok(Date.now() - started < 2000);
    const t0 = Date.now();
    await assert.rejects(defaultExec(process.execPath, ['-e', 'setTimeout(() => {}, 10000)'], { timeoutMs: 200 }));
    assert.ok(Date.now() - t0 < 5000, 'defaultExec stops at its timeout');
  });

  test('Linux without nvidia-smi: AMD from /sys/class/drm with amdgpu VRAM, Intel by name; WebGPU chosen', async () => {
    const files: Record<string, string> = {
      '/sys/class/drm/card0/device/vendor': '0x8086\n',
      '/sys/class/drm/card0/device/device': '0x46a6\n',
      '/sys/class/drm/card1/device/vendor': '0x1002\n',
      '/sys/class/drm/card1/device/device': '0x744c\n',
      '/sys/class/drm/card1/device/mem_info_vram_total': String(24 * GiB),
      '/sys/class/drm/card2/device/vendor': '0x1234\n',
    };
    const hw = await probeHardware(
      options({
        readDir: async () => ['card0', 'card0-eDP-1', 'card1', 'card1-DP-2', 'card2', 'renderD128', 'version'],
        readText: async (f) => {
          if (f in files) return files[f]!;
          throw enoent(f);
        },
      }),
    );
    assert.deepEqual(hw.gpus, [
      { name: 'Intel GPU (device 0x46a6)', memoryBytes: null },
      { name: 'AMD GPU (device 0x744c)', memoryBytes: 24 * GiB },
    ]);
    assert.equal(hw.executionProvider, 'webgpu');
  });

  test('macOS on Apple silicon: the chip as the GPU with its share of unified memory, CoreML', async () => {
    const hw = await probeHardware(
      options({
        platform: 'darwin',
        arch: 'arm64',
        totalMemory: () => 32 * GiB,
        exec: fakeExec({ sysctl: 'Apple M2 Pro\n' }),
        plan: () => ({ tryOrder: ['coreml', 'webgpu', 'cpu'] }),
        environment: { platform: 'darwin', arch: 'arm64' },
      }),
    );
    assert.deepEqual(hw.gpus, [{ name: 'Apple M2 Pro', memoryBytes: Math.floor((32 * GiB * 2) / 3) }]);
    assert.equal(hw.executionProvider, 'coreml');
    assert.equal(appleGpuShare(128 * GiB), 96 * GiB);
    const intel = await probeHardware(options({ platform: 'darwin', arch: 'x64', exec: fakeExec({ sysctl: 'Intel' }) }));
    assert.deepEqual(intel.gpus, []);
  });

  test('Windows without nvidia-smi: PowerShell video controllers; AdapterRAM at the 4 GB cap is unknown', async () => {
    const json = JSON.stringify([
      { Name: 'AMD Radeon RX 7900 XTX', AdapterRAM: 4293918720 },
      { Name: 'Intel(R) UHD Graphics 770', AdapterRAM: 2147483648 },
      { Name: 'Microsoft Basic Display Adapter', AdapterRAM: 0 },
    ]);
    const hw = await probeHardware(options({ platform: 'win32', exec: fakeExec({ 'powershell.exe': json }), plan: () => ({ tryOrder: ['dml', 'webgpu', 'cpu'] }) }));
    assert.deepEqual(hw.gpus, [
      { name: 'AMD Radeon RX 7900 XTX', memoryBytes: null },
      { name: 'Intel(R) UHD Graphics 770', memoryBytes: 2 * GiB },
    ]);
    assert.equal(hw.executionProvider, 'dml');
    assert.deepEqual(parseWindowsVideoControllers('{"Name":"Radeon","AdapterRAM":1073741824}'), [{ name: 'Radeon', memoryBytes: GiB }]);
    assert.deepEqual(parseWindowsVideoControllers('garbage'), []);
    const withSmi = await probeHardware(options({ platform: 'win32', exec: fakeExec({ 'nvidia-smi': TWO_GPUS, 'powershell.exe': json }) }));
    assert.equal(withSmi.gpus.length, 2, 'nvidia-smi wins on Windows too');
  });

  test('execution provider: TROVE_EP forces the plan head; CUDA needs an NVIDIA GPU', () => {
    assert.equal(chooseExecutionProvider(['cuda', 'webgpu', 'cpu'], [{ name: 'AMD GPU', memoryBytes: null }], false), 'webgpu');
    assert.equal(chooseExecutionProvider(['cuda', 'cpu'], [], false), 'cpu');
    assert.equal(chooseExecutionProvider(['webgpu', 'cpu'], [], true), 'webgpu');
  });

  test('an invalid TROVE_EP does not break the probe', async () => {
    const hw = await probeHardware(options({ plan: () => { throw new Error("TROVE_EP='tpu' is not an execution provider"); } }));
    assert.equal(hw.executionProvider, 'cpu');
  });

  test('free disk is measured at the nearest existing parent of the models folder', async () => {
    const asked: string[] = [];
    const free = await freeDiskAt('/data/trove/models', async (dir) => {
      asked.push(dir);
      if (dir !== '/data') throw enoent(dir);
      return 42e9;
    });
    assert.equal(free, 42e9);
    assert.deepEqual(asked, ['/data/trove/models', '/data/trove', '/data']);
    assert.equal(await freeDiskAt('/x', async () => { throw Object.assign(new Error('EACCES'), { code: 'EACCES' }); }), null);
    const dir = await mkdtemp(path.join(tmpdir(), 'trove-probe-'));
    try {
      const real = await freeDiskAt(path.join(dir, 'not', 'yet', 'models'));
      assert.ok(real !== null && real > 0, 'real statfs of this machine');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
