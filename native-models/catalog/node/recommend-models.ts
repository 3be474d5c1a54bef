// What Trove recommends for this machine, and whether one choice fits (for the picker to grey out
// choices with a reason). Pure: everything comes from the catalog and the probed hardware.
//
// Rules (docs/model-catalog.md "How the recommendation is made"):
// - Memory budget: a dedicated GPU (CUDA, DirectML, WebGPU with a known memory size) gets 90 % of
//   its memory; otherwise (CPU, CoreML / Apple unified memory, GPU memory unknown) the models
//   share system RAM and get 70 % of it, capped on Apple silicon by the GPU's share of RAM.
// - Candidates, best first: 8B + 8B reranker, 8B + 2B reranker, 2B + 2B reranker, then 2B alone.
//   8B only at the execution provider's own precision and never on the CPU (it fits in a big
//   RAM but indexes about three times slower); the 2B pair and the 2B model alone may step down
//   to int8 on CPU and CUDA (where MatMulNBits has kernels). int4 is never chosen automatically.
// - Disk: downloaded checkpoint + built package per model, plus 2 GiB kept free; what doesn't
//   fit on disk is never recommended, and the reason says so.
import type { CatalogModel, Hardware, Recommendation } from '../../../electron/contract/common/model-setup.ts';
import { GIB, type CatalogPrecision } from '../common/model-memory.ts';
import type { CatalogEntry } from './model-catalog.ts';

/** The size class of an entry ('2b' / '8b' from its id or repo), for messages and the CPU rule. */
export function sizeClass(entry: Pick<CatalogModel, 'id' | 'repo'>): '2b' | '8b' | 'other' {
  const text = `${entry.id} ${entry.repo}`.toLowerCase();
  return /-8b\b/.test(text) ? '8b' : /-2b\b/.test(text) ? '2b' : 'other';
}

/** Share of a dedicated GPU's memory the models may use (drivers, display and other apps keep the rest). */
export const GPU_MEMORY_SHARE = 0.9;
/** Share of system RAM the models may use when they live there (CPU, unified memory). */
export const RAM_SHARE = 0.7;
/** Free disk left untouched after a download and build. */
export const DISK_RESERVE_BYTES = 2 * GIB;

const DEDICATED_GPU_EPS = new Set(['cuda', 'dml', 'webgpu']);
/** Providers where int8 (MatMulNBits) is known to have kernels; elsewhere the step-down is not offered. */
const INT8_EPS = new Set(['cpu', 'cuda']);

type Entry = CatalogModel & Partial<Pick<CatalogEntry, 'packageBytes' | 'workingBytes'>>;

export interface MemoryBudget {
  bytes: number;
  /** Where the models live, in words: "GPU memory" / "memory". */
  where: string;
  /** The figure the budget is taken from (for messages). */
  totalBytes: number;
}

/** Memory in binary units labelled GB, as operating systems and GPU makers do (a "16 GB" machine has 16 GiB). */
function memGb(bytes: number): string {
  const v = bytes / GIB;
  return `${v >= 10 ? Math.round(v) : Math.round(v * 10) / 10} GB`;
}

/** Disk space in decimal GB, as disk makers and file managers do. */
function diskGb(bytes: number): string {
  const v = bytes / 1e9;
  return `${v >= 10 ? Math.round(v) : Math.round(v * 10) / 10} GB`;
}

function owner(budget: MemoryBudget): string {
  return budget.where === 'GPU memory' ? "the GPU's" : "this computer's";
}

/** The memory the models may use on this machine. */
export function memoryBudget(hardware: Hardware): MemoryBudget {
  const ep = hardware.executionProvider;
  // CUDA runs on device 0, which nvidia-smi lists first; other EPs pick their own adapter: use the largest.
  const gpu = ep === 'cuda' ? hardware.gpus[0] : [...hardware.gpus].sort((a, b) => (b.memoryBytes ?? 0) - (a.memoryBytes ?? 0))[0];
  const gpuBytes = gpu?.memoryBytes ?? null;
  if (DEDICATED_GPU_EPS.has(ep) && gpuBytes !== null && gpuBytes > 0) {
    return { bytes: gpuBytes * GPU_MEMORY_SHARE, where: 'GPU memory', totalBytes: gpuBytes };
  }
  let bytes = hardware.ramBytes * RAM_SHARE;
  if (ep === 'coreml' && gpuBytes !== null && gpuBytes > 0) bytes = Math.min(bytes, gpuBytes);
  return { bytes, where: 'memory', totalBytes: hardware.ramBytes };
}

/** Bytes of disk one model needs at a precision: its download plus its built package. */
export function diskNeed(model: Entry, precision: CatalogPrecision): number {
  return model.downloadBytes + (model.packageBytes?.[precision] ?? model.memoryBytes[precision]);
}

/** Memory of models loaded together: their weights plus one shared working margin (the worker runs one request at a time). */
export function pairMemoryBytes(models: readonly Entry[], precision: CatalogPrecision): number {
  const working = models.map((m) => m.workingBytes ?? 0);
  const weights = models.reduce((s, m, i) => s + m.memoryBytes[precision] - working[i], 0);
  return weights + Math.max(0, ...working);
}

function usableDisk(hardware: Hardware): number | null {
  return hardware.freeDiskBytes === null ? null : Math.max(0, hardware.freeDiskBytes - DISK_RESERVE_BYTES);
}

export interface Fit {
  fits: boolean;
  /** Why not (or null when it fits), in a sentence for the picker. */
  reason: string | null;
}

/** Whether one model fits this machine at a precision, with the reason when it doesn't. */
export function fitsOn(model: Entry, hardware: Hardware, precision: CatalogPrecision): Fit {
  const budget = memoryBudget(hardware);
  const need = model.memoryBytes[precision];
  if (need > budget.bytes) {
    return { fits: false, reason: `${model.title} at ${precision} needs about ${memGb(need)} of ${budget.where}, more than the ${memGb(budget.bytes)} Trove allows itself of ${owner(budget)} ${memGb(budget.totalBytes)}.` };
  }
  const disk = usableDisk(hardware);
  const diskBytes = diskNeed(model, precision);
  if (disk !== null && diskBytes > disk) {
    return { fits: false, reason: `${model.title} at ${precision} needs about ${diskGb(diskBytes + DISK_RESERVE_BYTES)} of free disk space (download, build and 2 GB to spare); ${diskGb(hardware.freeDiskBytes ?? 0)} is free where models are stored.` };
  }
  return { fits: true, reason: null };
}

interface Candidate {
  embedding: Entry;
  reranker: Entry | null;
  precision: CatalogPrecision;
}

function preferredPrecision(models: readonly Entry[], ep: string): CatalogPrecision {
  // One precision for the pair: the embedder's choice for this EP (the catalog gives each model one per EP).
  return (models[0]!.precisionByProvider[ep] ?? models[0]!.precisionByProvider.cpu ?? 'fp32') as CatalogPrecision;
}

function describeModels(c: Candidate): string {
  return c.reranker === null ? `the ${label(c.embedding)} embedding model` : `the ${label(c.embedding)} embedding model and the ${label(c.reranker)} reranker`;
}

function label(m: Entry): string {
  const size = sizeClass(m);
  return size === 'other' ? m.title : size.toUpperCase();
}

/** Where the models run, in words for the welcome screen: no execution-provider names (the UI's details have them). */
function epWords(hardware: Hardware): string {
  const gpu = hardware.gpus[0]?.name;
  switch (hardware.executionProvider) {
    case 'cpu':
      return hardware.gpus.length === 0 ? 'No usable GPU was found, so Trove runs on the CPU' : 'Trove runs on the CPU here, as it cannot use the graphics card';
    case 'coreml':
      return `Trove runs on ${gpu ?? 'this Mac'}`;
    default:
      return `Trove runs on ${gpu ?? 'the graphics card'}`;
  }
}

/** The recommended embedding model, reranker and precision for this machine, with the reason in one sentence. */
export function recommendModels(catalog: readonly Entry[], hardware: Hardware): Recommendation {
  const ep = hardware.executionProvider;
  const embedders = catalog.filter((m) => m.kind === 'embedding');
  const rerankers = catalog.filter((m) => m.kind === 'reranker');
  if (embedders.length === 0) throw new Error('the model catalog has no embedding model');
  const bySize = (list: Entry[], size: '2b' | '8b'): Entry | undefined => list.find((m) => sizeClass(m) === size);
  // The small models: the 2B ones, else the catalog's smallest.
  const smallest = (list: Entry[]): Entry | undefined => bySize(list, '2b') ?? [...list].sort((a, b) => a.downloadBytes - b.downloadBytes)[0];
  const small = smallest(embedders)!;
  const smallRr = smallest(rerankers) ?? null;
  const bigEmb = bySize(embedders, '8b');
  const bigRr = bySize(rerankers, '8b') ?? null;

  const budget = memoryBudget(hardware);
  const disk = usableDisk(hardware);
  const candidates: Candidate[] = [];
  const add = (embedding: Entry | undefined, reranker: Entry | null, precision: CatalogPrecision): void => {
    if (embedding !== undefined) candidates.push({ embedding, reranker, precision });
  };
  const first = preferredPrecision([small], ep);
  if (ep !== 'cpu' && bigEmb !== undefined && bigEmb !== small) {
    const p = preferredPrecision([bigEmb], ep);
    if (bigRr !== null && bigRr !== smallRr) add(bigEmb, bigRr, p);
    if (smallRr !== null) add(bigEmb, smallRr, p);
  }
  const ladder: CatalogPrecision[] = [first];
  if (INT8_EPS.has(ep) && first !== 'int8') ladder.push('int8');
  for (const p of ladder) if (smallRr !== null) add(small, smallRr, p);
  for (const p of ladder) add(small, null, p);

  const memoryOf = (c: Candidate): number => pairMemoryBytes(c.reranker === null ? [c.embedding] : [c.embedding, c.reranker], c.precision);
  const diskOf = (c: Candidate): number => diskNeed(c.embedding, c.precision) + (c.reranker === null ? 0 : diskNeed(c.reranker, c.precision)) + DISK_RESERVE_BYTES;
  const fitsMemory = (c: Candidate): boolean => memoryOf(c) <= budget.bytes;
  const fitsDisk = (c: Candidate): boolean => disk === null || diskOf(c) - DISK_RESERVE_BYTES <= disk;
  const shortOf = (c: Candidate): string =>
    fitsMemory(c)
      ? `about ${diskGb(diskOf(c))} of free disk space (download, build and 2 GB to spare) but only ${diskGb(hardware.freeDiskBytes ?? 0)} is free`
      : `about ${memGb(memoryOf(c))} of ${budget.where}, more than the ${memGb(budget.bytes)} Trove allows itself of ${owner(budget)} ${memGb(budget.totalBytes)}`;

  const chosen = candidates.find((c) => fitsMemory(c) && fitsDisk(c));
  const head = epWords(hardware);
  if (chosen === undefined) {
    // Nothing fits: still name the smallest model (the API needs one) and say plainly what is missing.
    const last = candidates.at(-1)!;
    const what = fitsMemory(last) ? shortOf(last) : `${shortOf(last)}${fitsDisk(last) ? '' : `, and ${diskGb(diskOf(last))} of free disk space (${diskGb(hardware.freeDiskBytes ?? 0)} is free)`}`;
    return {
      embedding: last.embedding.id,
      reranker: null,
      precision: last.precision,
      reason: `${head}, but even ${describeModels(last)} at ${last.precision} needs ${what}; free up ${fitsDisk(last) ? 'memory' : 'space'} or use a remote server.`,
    };
  }

  // Why not more: the nearest better candidate passed over, preferring one at the chosen precision.
  const passed = candidates.slice(0, candidates.indexOf(chosen));
  const better = [...passed].reverse().find((c) => c.precision === chosen.precision) ?? passed.at(-1);
  let why = '';
  if (better !== undefined) why = `; ${describeModels(better)} at ${better.precision} would need ${shortOf(better)}`;
  else if (ep === 'cpu' && bigEmb !== undefined) why = '; the 8B models would index about three times slower on a CPU';
  const verb = chosen.reranker === null ? 'fits' : 'fit';
  const room = budget.where === 'GPU memory' ? `its ${memGb(budget.totalBytes)} of GPU memory` : `this computer's ${memGb(budget.totalBytes)} of memory`;
  return {
    embedding: chosen.embedding.id,
    reranker: chosen.reranker?.id ?? null,
    precision: chosen.precision,
    reason: `${head}; ${describeModels(chosen)} at ${chosen.precision} ${verb} in ${room}${why}.`,
  };
}
