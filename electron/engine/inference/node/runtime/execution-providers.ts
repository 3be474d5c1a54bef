// Which onnxruntime execution provider (EP) runs the model graphs, and why. Preference: CUDA →
// DirectML → CoreML → WebGPU → CPU, filtered by platform; each is tried by creating the sessions
// on it, and the first that works wins. The outcome is kept as a plain statement for the user
// ("Running on CPU. CUDA: …; WebGPU: failed: …") because a silent CPU fallback on a GPU machine
// is the most common performance complaint. TROVE_EP forces one EP (CPU stays the last resort).
// WebGPU is not tried on a Linux machine with no GPU device: it would find only a software
// renderer, and its Vulkan/Dawn start-up writes warnings straight to stderr (TROVE_EP=webgpu
// still tries it). onnxruntime's own logging follows TROVE_LOG (runtime-logging.ts).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { ortLogSeverity, troveLogLevel } from './runtime-logging.ts';

export const EXECUTION_PROVIDERS = ['cuda', 'dml', 'coreml', 'webgpu', 'cpu'] as const;
export type ExecutionProviderName = (typeof EXECUTION_PROVIDERS)[number];

const LABEL: Record<ExecutionProviderName, string> = { cuda: 'CUDA', dml: 'DirectML', coreml: 'CoreML', webgpu: 'WebGPU', cpu: 'CPU' };
const ONLY_ON: Partial<Record<ExecutionProviderName, NodeJS.Platform>> = { dml: 'win32', coreml: 'darwin' };

export interface ProviderAttempt {
  readonly ep: ExecutionProviderName;
  readonly outcome: 'chosen' | 'skipped' | 'failed';
  /** Why it was skipped or how it failed; empty when chosen. */
  readonly reason: string;
}

export interface ProviderChoice {
  readonly ep: ExecutionProviderName;
  readonly attempts: readonly ProviderAttempt[];
  /** One paragraph for logs and `--verbose`: which EP runs and what happened to the others. */
  readonly statement: string;
}

export interface ProviderEnvironment {
  readonly platform: NodeJS.Platform;
  readonly arch: string;
  /** TROVE_EP: force this EP first (then CPU). */
  readonly override?: string;
  /** Linux: whether a GPU device node exists (/dev/dri/renderD*, /dev/nvidia*, WSL's /dev/dxg); undefined: unknown. */
  readonly gpuDevice?: boolean;
}

/** Whether this Linux machine has a GPU device node a GPU API could open. */
export function linuxGpuDevice(dev = '/dev'): boolean {
  const names = (folder: string): string[] => {
    try {
      return readdirSync(folder);
    } catch {
      return [];
    }
  };
  return names(path.join(dev, 'dri')).some((n) => n.startsWith('renderD')) || names(dev).some((n) => /^nvidia\d+$/.test(n) || n === 'dxg');
}

export function currentEnvironment(): ProviderEnvironment {
  return {
    platform: process.platform,
    arch: process.arch,
    override: process.env.TROVE_EP || undefined,
    gpuDevice: process.platform === 'linux' ? linuxGpuDevice() : undefined,
  };
}

/** Folder holding onnxruntime-node's native binding, where optional provider libraries are installed. */
function bindingFolder(platform: string, arch: string): string {
  const entry = createRequire(import.meta.url).resolve('onnxruntime-node');
  return path.join(path.dirname(entry), '..', 'bin', 'napi-v6', platform, arch);
}

/**
 * Why an EP cannot be tried here, or null when it can. The CUDA provider is a separate library
 * that onnxruntime-node's install script downloads (linux/x64) — check for the file instead of
 * letting the native loader print a stack of errors.
 */
export function skipReason(ep: ExecutionProviderName, env: ProviderEnvironment): string | null {
  const only = ONLY_ON[ep];
  if (only !== undefined && env.platform !== only) return `${only === 'win32' ? 'Windows' : 'macOS'} only`;
  if (ep === 'cpu') return null;
  if (ep === 'webgpu' && env.platform === 'linux' && env.gpuDevice === false && env.override?.trim().toLowerCase() !== 'webgpu') {
    return 'no GPU device on this machine (no /dev/dri render node, /dev/nvidia* or /dev/dxg), so it would only find a software renderer';
  }
  const backends = ort.listSupportedBackends().map((b) => b.name as string);
  if (!backends.includes(ep)) return `this onnxruntime-node build (${env.platform}/${env.arch}) has no ${LABEL[ep]} provider`;
  if (ep === 'cuda') {
    const library = env.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
    if (!existsSync(path.join(bindingFolder(env.platform, env.arch), library))) {
      return 'onnxruntime-node was installed without its CUDA provider (ONNXRUNTIME_NODE_INSTALL=skip, or no network during npm install?); reinstall with ONNXRUNTIME_NODE_INSTALL=cuda12 on a machine with CUDA 12 and cuDNN 9';
    }
  }
  return null;
}

/** The EPs to try in order, with the ones skipped up front; throws on an unknown TROVE_EP. */
export function providerPlan(env: ProviderEnvironment): { tryOrder: ExecutionProviderName[]; skipped: ProviderAttempt[] } {
  let order: ExecutionProviderName[] = [...EXECUTION_PROVIDERS];
  if (env.override !== undefined) {
    const forced = env.override.trim().toLowerCase();
    if (!(EXECUTION_PROVIDERS as readonly string[]).includes(forced)) {
      throw new Error(`TROVE_EP='${env.override}' is not an execution provider; use one of ${EXECUTION_PROVIDERS.join(', ')} or unset it to choose automatically`);
    }
    order = forced === 'cpu' ? ['cpu'] : [forced as ExecutionProviderName, 'cpu'];
  }
  const tryOrder: ExecutionProviderName[] = [];
  const skipped: ProviderAttempt[] = [];
  for (const ep of order) {
    const reason = skipReason(ep, env);
    if (reason === null) tryOrder.push(ep);
    else skipped.push({ ep, outcome: 'skipped', reason });
  }
  return { tryOrder, skipped };
}

/** Physical cores: unique (package, core) pairs of /proc/cpuinfo on Linux; 0 (= onnxruntime's own physical-core count) elsewhere. */
export function physicalCoreCount(): number {
  if (process.platform !== 'linux') return 0;
  try {
    const cores = new Set<string>();
    let physical = '0';
    for (const line of readFileSync('/proc/cpuinfo', 'utf8').split('\n')) {
      const [key, value] = line.split(':').map((s) => s.trim());
      if (key === 'physical id') physical = value ?? '0';
      else if (key === 'core id') cores.add(`${physical}/${value}`);
    }
    return cores.size > 0 ? Math.min(cores.size, os.availableParallelism()) : os.availableParallelism();
  } catch {
    return 0;
  }
}

/** A graph to open, and whether its session should use memory patterns and the CPU memory arena. */
export interface GraphFile {
  readonly file: string;
  /** Default yes. */
  readonly memoryPattern?: boolean;
  /** Default no: see sessionOptions. */
  readonly cpuArena?: boolean;
}

/**
 * Session options for one EP. Graph optimisation 'all' (constant folding, fusions); intra-op
 * threads = physical cores (hyper-threads slow GEMMs down); one inter-op thread since the graphs
 * are sequential; the CPU memory arena only where `cpuArena` asks for it (the vision graph): an
 * arena keeps its session's high-water mark for the life of the worker, which cost the decoder
 * hundreds of MB at the 2B widths and no time, while the vision graph without it took 1.5× the CPU
 * time per image (docs/runtime.md#session-options); memory patterns on unless `memoryPattern` is
 * false (the vision graph: its shapes change with every image, and a pattern planned for one shape
 * took 300–550 MB more at 3,072 patches); errors only unless TROVE_LOG asks for more. DirectML
 * needs memory patterns off and sequential execution.
 */
export function sessionOptions(ep: ExecutionProviderName, threads = physicalCoreCount(), memoryPattern = true, cpuArena = false): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: [ep],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    enableCpuMemArena: cpuArena,
    enableMemPattern: memoryPattern && ep !== 'dml',
    logSeverityLevel: ortLogSeverity(troveLogLevel()),
  };
}

/** The first line of an ORT error without its C++ source location ("/onnxruntime_src/….cc:136 fn … was false."). */
function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const line = (text.split('\n').find((l) => l.trim() !== '') ?? text).trim();
  return line.replace(/^\/\S+:\d+ .*? was false\.\s*/, '').replace(/\.$/, '').slice(0, 300);
}

/** "Running on X[ (forced by TROVE_EP=x)]. Y: why. Z: failed: how." */
export function describeChoice(ep: ExecutionProviderName, attempts: readonly ProviderAttempt[], env: ProviderEnvironment): string {
  const others = attempts
    .filter((a) => a.outcome !== 'chosen')
    .map((a) => ` ${LABEL[a.ep]}: ${a.outcome === 'failed' ? `failed: ${a.reason}` : a.reason}.`);
  let head = `Running on ${LABEL[ep]}.`;
  if (env.override !== undefined) {
    const wanted = env.override.trim().toLowerCase() as ExecutionProviderName;
    head = wanted === ep ? `Running on ${LABEL[ep]} (forced by TROVE_EP=${env.override}).` : `Running on ${LABEL[ep]}: TROVE_EP=${env.override} asked for ${LABEL[wanted]}, which is unavailable here.`;
  }
  return head + others.join('');
}

export interface OpenedSessions {
  readonly sessions: ort.InferenceSession[];
  readonly choice: ProviderChoice;
}

/**
 * Creates one session per graph file on the first EP that takes all of them (a model needs its
 * vision and decoder graphs on the same device), trying the plan in order.
 */
export async function createSessions(
  graphs: readonly (string | GraphFile)[],
  env: ProviderEnvironment = currentEnvironment(),
  create: (file: string, options: ort.InferenceSession.SessionOptions) => Promise<ort.InferenceSession> = (file, options) => ort.InferenceSession.create(file, options),
): Promise<OpenedSessions> {
  const graphFiles = graphs.map((g) => (typeof g === 'string' ? { file: g } : g));
  const { tryOrder, skipped } = providerPlan(env);
  // onnxruntime reads its environment's level once, when the first session of the thread starts.
  ort.env.logLevel = troveLogLevel();
  const attempts: ProviderAttempt[] = [...skipped];
  for (const ep of tryOrder) {
    const sessions: ort.InferenceSession[] = [];
    try {
      for (const graph of graphFiles) sessions.push(await create(graph.file, sessionOptions(ep, undefined, graph.memoryPattern ?? true, graph.cpuArena ?? false)));
      attempts.push({ ep, outcome: 'chosen', reason: '' });
      const ordered = EXECUTION_PROVIDERS.flatMap((name) => attempts.filter((a) => a.ep === name));
      return { sessions, choice: { ep, attempts: ordered, statement: describeChoice(ep, ordered, env) } };
    } catch (error) {
      await Promise.all(sessions.map((s) => s.release()));
      attempts.push({ ep, outcome: 'failed', reason: firstLine(error) });
      if (ep === 'cpu') {
        const tried = attempts.map((a) => `${LABEL[a.ep]}: ${a.outcome === 'failed' ? `failed: ${a.reason}` : a.reason}`).join('; ');
        throw new Error(`cannot load ${graphFiles.map((f) => path.basename(f.file)).join(' and ')} on any execution provider (${tried}). If CPU failed, the package is damaged or from another builder: rebuild it with 'trove model build'.`, { cause: error });
      }
    }
  }
  throw new Error(`no execution provider can be tried here: ${attempts.map((a) => `${LABEL[a.ep]}: ${a.reason}`).join('; ')}`);
}
