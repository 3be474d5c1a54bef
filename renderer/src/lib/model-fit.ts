// What the picker says about a catalog model on this machine: the precision Trove builds it at,
// the memory it needs then, and whether it fits. Precision and fit are the engine's answer (models.state `fits`, computed by the same rules as the recommendation), so the
// picker can never disagree with the recommendation; this module only reads and words it.
import type { CatalogModel, Hardware, ModelFit, ModelsState } from '../../../electron/contract/common/model-setup.ts';
import { formatBytes } from './format.ts';

type Precision = keyof CatalogModel['memoryBytes'];

const DEDICATED_GPU_PROVIDERS = new Set(['cuda', 'dml', 'webgpu']);

const PROVIDER_LABELS: Record<string, string> = {
  cuda: 'CUDA',
  dml: 'DirectML',
  coreml: 'Core ML',
  webgpu: 'WebGPU',
  cpu: 'the CPU',
};

export function providerLabel(provider: string): string {
  return PROVIDER_LABELS[provider] ?? provider;
}

export interface PickerFit extends ModelFit {
  precision: Precision;
  /** Memory while running at that precision. */
  memoryBytes: number;
}

/**
 * The engine's verdict for `model`, with the figures the picker shows. A catalog id the engine
 * gave no verdict for is offered: the install itself checks again and says why if it cannot.
 */
export function modelFit(models: ModelsState, model: CatalogModel): PickerFit {
  // Without a verdict (an engine that sent none for this id) the catalog's precision for the EP is the best guess.
  const fallback = model.precisionByProvider[models.hardware.executionProvider] ?? model.precisionByProvider.cpu ?? 'fp32';
  const verdict = models.fits[model.id] ?? { precision: fallback, fits: true, reason: null };
  const precision = verdict.precision;
  return { fits: verdict.fits, reason: verdict.fits ? null : (verdict.reason ?? 'Does not fit this computer.'), precision, memoryBytes: model.memoryBytes[precision] };
}

/** CUDA runs on device 0 (listed first); other providers pick their own adapter: the largest. */
function gpuInUse(hardware: Hardware): Hardware['gpus'][number] | undefined {
  if (hardware.executionProvider === 'cuda') return hardware.gpus[0];
  return [...hardware.gpus].sort((a, b) => (b.memoryBytes ?? 0) - (a.memoryBytes ?? 0))[0];
}

/** "NVIDIA GeForce RTX 4070, 12 GB · runs on CUDA", or "No GPU found · 16 GB of memory · runs on the CPU". */
export function hardwareLine(hardware: Hardware): string {
  const runsOn = `runs on ${providerLabel(hardware.executionProvider)}`;
  const gpu = gpuInUse(hardware);
  if (gpu && gpu.memoryBytes !== null && DEDICATED_GPU_PROVIDERS.has(hardware.executionProvider)) {
    return `${gpu.name}, ${formatBytes(gpu.memoryBytes)} · ${runsOn}`;
  }
  return `${gpu ? gpu.name : 'No GPU found'} · ${formatBytes(hardware.ramBytes)} of memory · ${runsOn}`;
}
