// What this machine has for running the models: RAM, free disk where models are stored, GPUs
// (name and memory) and the execution provider the runtime will pick. Nothing here starts an
// onnxruntime session; every outside call (commands, files, the provider plan) is injectable so
// tests do not depend on the machine they run on.
//
// GPU sources, first that answers wins:
// - NVIDIA (Linux, Windows): `nvidia-smi --query-gpu=name,memory.total` (MiB), 3 s timeout.
// - macOS on Apple silicon: unified memory; the GPU is reported with a share of RAM (2/3 up to
//   36 GiB, 3/4 above — macOS's default limit on GPU-wired memory, approximately).
// - Windows without nvidia-smi: PowerShell `Get-CimInstance Win32_VideoController`; AdapterRAM is a
//   32-bit field that caps at 4 GiB, so a value at the cap is reported as unknown (null).
// - Linux without nvidia-smi: /sys/class/drm/card*/device/vendor (AMD 0x1002, Intel 0x8086,
//   NVIDIA 0x10de); AMD's amdgpu driver also exposes mem_info_vram_total.
import { execFile } from 'node:child_process';
import { readdir, readFile, statfs } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Hardware } from '../../../contract/common/model-setup.ts';
import { currentEnvironment, providerPlan, type ExecutionProviderName, type ProviderEnvironment } from '../../inference/node/runtime/execution-providers.ts';

export type Gpu = Hardware['gpus'][number];

/** Runs a command; resolves with stdout, rejects on a missing command, a non-zero exit or the timeout. */
export type ExecCommand = (file: string, args: readonly string[], options: { timeoutMs: number }) => Promise<string>;

export interface ProbeOptions {
  /** Where models are stored (need not exist yet: the nearest existing parent is measured). */
  modelsDir: string;
  exec?: ExecCommand;
  platform?: NodeJS.Platform;
  arch?: string;
  totalMemory?: () => number;
  /** Free bytes for unprivileged users on the filesystem holding `dir` (throws when `dir` is missing). */
  freeDisk?: (dir: string) => Promise<number>;
  readDir?: (dir: string) => Promise<string[]>;
  readText?: (file: string) => Promise<string>;
  /** The provider plan (defaults to execution-providers' `providerPlan` for this environment). */
  plan?: () => { tryOrder: readonly ExecutionProviderName[] };
  /** TROVE_EP, when set, forces the plan's first EP. */
  environment?: ProviderEnvironment;
  /** Milliseconds a command may run (default 3000). */
  timeoutMs?: number;
}

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;
/** Win32_VideoController.AdapterRAM is a uint32: anything at or near 4 GiB is the cap, not the size. */
const ADAPTER_RAM_CAP = 2 ** 32 - MIB;

export const defaultExec: ExecCommand = (file, args, { timeoutMs }) =>
  new Promise((resolve, reject) => {
    execFile(file, [...args], { timeout: timeoutMs, windowsHide: true, maxBuffer: 1024 * 1024 }, (error, stdout) => {
      if (error) reject(error);
      else resolve(String(stdout));
    });
  });

/** Parses `nvidia-smi --query-gpu=name,memory.total --format=csv,noheader,nounits` (memory in MiB). */
export function parseNvidiaSmi(stdout: string): Gpu[] {
  const gpus: Gpu[] = [];
  for (const line of stdout.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    const cut = line.lastIndexOf(',');
    if (cut < 0) continue;
    const name = line.slice(0, cut).trim();
    const mib = Number(line.slice(cut + 1).trim());
    if (name === '') continue;
    gpus.push({ name, memoryBytes: Number.isFinite(mib) && mib > 0 ? Math.round(mib * MIB) : null });
  }
  return gpus;
}

/** Parses `Get-CimInstance Win32_VideoController | Select-Object Name,AdapterRAM | ConvertTo-Json` (one object or an array). */
export function parseWindowsVideoControllers(stdout: string): Gpu[] {
  let json: unknown;
  try {
    json = JSON.parse(stdout.trim() === '' ? '[]' : stdout);
  } catch {
    return [];
  }
  const rows = (Array.isArray(json) ? json : [json]) as { Name?: unknown; AdapterRAM?: unknown }[];
  return rows
    .filter((r) => r !== null && typeof r === 'object' && typeof r.Name === 'string' && !/Microsoft (Basic|Remote)/i.test(r.Name))
    .map((r) => {
      const ram = typeof r.AdapterRAM === 'number' && r.AdapterRAM > 0 ? r.AdapterRAM : null;
      return { name: (r.Name as string).trim(), memoryBytes: ram === null || ram >= ADAPTER_RAM_CAP ? null : ram };
    });
}

/** The GPU memory share macOS gives Apple silicon's GPU by default (approximately): 2/3 of RAM up to 36 GiB, 3/4 above. */
export function appleGpuShare(ramBytes: number): number {
  return Math.floor(ramBytes <= 36 * GIB ? (ramBytes * 2) / 3 : (ramBytes * 3) / 4);
}

const DRM_VENDORS: Record<string, string> = { '0x1002': 'AMD', '0x8086': 'Intel', '0x10de': 'NVIDIA' };

async function linuxDrmGpus(readDir: (d: string) => Promise<string[]>, readText: (f: string) => Promise<string>): Promise<Gpu[]> {
  const root = '/sys/class/drm';
  let cards: string[];
  try {
    cards = (await readDir(root)).filter((n) => /^card\d+$/.test(n)).sort();
  } catch {
    return [];
  }
  const gpus: Gpu[] = [];
  for (const card of cards) {
    const device = path.posix.join(root, card, 'device');
    const vendor = (await readText(path.posix.join(device, 'vendor')).catch(() => '')).trim().toLowerCase();
    const maker = DRM_VENDORS[vendor];
    if (maker === undefined) continue;
    const id = (await readText(path.posix.join(device, 'device')).catch(() => '')).trim();
    const vram = Number((await readText(path.posix.join(device, 'mem_info_vram_total')).catch(() => '')).trim());
    gpus.push({ name: `${maker} GPU${id ? ` (device ${id})` : ''}`, memoryBytes: Number.isFinite(vram) && vram > 0 ? vram : null });
  }
  return gpus;
}

async function nvidiaGpus(exec: ExecCommand, timeoutMs: number): Promise<Gpu[]> {
  try {
    return parseNvidiaSmi(await exec('nvidia-smi', ['--query-gpu=name,memory.total', '--format=csv,noheader,nounits'], { timeoutMs }));
  } catch {
    return []; // not installed, no driver, or hung past the timeout: no NVIDIA GPU we can use
  }
}

/** The GPUs found, by the platform's sources (see the file comment). */
export async function probeGpus(options: Omit<ProbeOptions, 'modelsDir' | 'freeDisk' | 'plan' | 'environment'> & { ramBytes: number }): Promise<Gpu[]> {
  const exec = options.exec ?? defaultExec;
  const platform = options.platform ?? process.platform;
  const arch = options.arch ?? process.arch;
  const timeoutMs = options.timeoutMs ?? 3000;
  if (platform === 'darwin') {
    if (arch !== 'arm64') return [];
    let name = 'Apple silicon GPU';
    try {
      const brand = (await exec('sysctl', ['-n', 'machdep.cpu.brand_string'], { timeoutMs })).trim();
      if (brand !== '') name = brand;
    } catch {
      // keep the generic name
    }
    return [{ name, memoryBytes: appleGpuShare(options.ramBytes) }];
  }
  const nvidia = await nvidiaGpus(exec, timeoutMs);
  if (nvidia.length > 0) return nvidia;
  if (platform === 'win32') {
    try {
      const out = await exec('powershell.exe', ['-NoProfile', '-NonInteractive', '-Command', 'Get-CimInstance Win32_VideoController | Select-Object Name,AdapterRAM | ConvertTo-Json -Compress'], { timeoutMs: timeoutMs * 2 });
      return parseWindowsVideoControllers(out);
    } catch {
      return [];
    }
  }
  if (platform === 'linux') return linuxDrmGpus(options.readDir ?? ((d) => readdir(d)), options.readText ?? ((f) => readFile(f, 'utf8')));
  return [];
}

/** Free bytes at `dir`, measured at its nearest existing parent; null when nothing can be measured. */
export async function freeDiskAt(dir: string, freeDisk: (d: string) => Promise<number> = defaultFreeDisk): Promise<number | null> {
  let current = path.resolve(dir);
  for (;;) {
    try {
      return await freeDisk(current);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const parent = path.dirname(current);
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || parent === current) return null;
      current = parent;
    }
  }
}

async function defaultFreeDisk(dir: string): Promise<number> {
  const s = await statfs(dir);
  return Number(s.bavail) * Number(s.bsize);
}

/**
 * The execution provider the runtime will pick, from execution-providers' plan without starting
 * a session: TROVE_EP wins; otherwise the first EP of the plan whose hardware is here (CUDA needs
 * an NVIDIA GPU, DirectML and WebGPU need a GPU, CoreML needs a Mac), else CPU.
 */
export function chooseExecutionProvider(tryOrder: readonly ExecutionProviderName[], gpus: readonly Gpu[], forced: boolean): ExecutionProviderName {
  if (forced) return tryOrder[0] ?? 'cpu';
  for (const ep of tryOrder) {
    if (ep === 'cuda' && gpus.some((g) => /nvidia/i.test(g.name))) return ep;
    if ((ep === 'dml' || ep === 'webgpu') && gpus.length > 0) return ep;
    if (ep === 'coreml' || ep === 'cpu') return ep;
  }
  return 'cpu';
}

/** RAM, free disk where models go, GPUs and the execution provider: what the recommendation needs. */
export async function probeHardware(options: ProbeOptions): Promise<Hardware> {
  const ramBytes = (options.totalMemory ?? os.totalmem)();
  const [gpus, freeDiskBytes] = await Promise.all([probeGpus({ ...options, ramBytes }), freeDiskAt(options.modelsDir, options.freeDisk)]);
  const environment = options.environment ?? { ...currentEnvironment(), platform: options.platform ?? process.platform, arch: options.arch ?? process.arch };
  let executionProvider: ExecutionProviderName = 'cpu';
  try {
    const { tryOrder } = (options.plan ?? (() => providerPlan(environment)))();
    executionProvider = chooseExecutionProvider(tryOrder, gpus, environment.override !== undefined);
  } catch {
    executionProvider = 'cpu'; // an invalid TROVE_EP is reported where sessions start; the probe stays usable
  }
  return { gpus, ramBytes, freeDiskBytes, executionProvider };
}
