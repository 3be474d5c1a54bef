// What the picker says about a catalog model on this machine: the precision Trove builds it at,
// the memory it needs then, and whether it fits. Precision and fit are the engine's answer (models.state `fits`, computed by the same rules as the recommendation), so the
// picker can never disagree with the recommendation; this module only reads and words it. Also the
// plain line that says where the models run (no execution-provider names; those are in the details).
import type { CatalogModel, Hardware, ModelFit, ModelsState } from '#contract/common/model-setup.ts';
import { formatBytes } from './format.ts';

type Precision = keyof CatalogModel['memoryBytes'];

const PROVIDER_LABELS: Record<string, string> = {
  cuda: 'CUDA',
  dml: 'DirectML',
  coreml: 'Core ML',
  webgpu: 'WebGPU',
  cpu: 'CPU',
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

/** "about 20–30×": how much faster a GPU embeds a photo than a CPU, from the catalog's estimate; null without one. */
export function gpuSpeedup(model: CatalogModel | null): string | null {
  const seconds = model?.photoSeconds;
  if (!seconds) return null;
  const low = Math.round(seconds.cpuLow / seconds.gpu);
  const high = Math.round(seconds.cpuHigh / seconds.gpu);
  return low === high ? `about ${low}×` : `about ${low}–${high}×`;
}

/**
 * Where the models run, in one plain sentence (no execution-provider names): "Running on your
 * graphics card (NVIDIA GeForce RTX 4070, 12 GB).", or on a machine without a usable GPU "Running
 * on your CPU — indexing will be slow; a GPU makes it about 20–30× faster." The factor comes from
 * `model`'s catalog estimate (hardwareDetails names it as one); without an estimate, no number.
 */
export function hardwareLine(hardware: Hardware, model: CatalogModel | null = null): string {
  const gpu = gpuInUse(hardware);
  if (hardware.executionProvider === 'coreml') return `Running on your Mac's graphics and neural engine${gpu ? ` (${gpu.name})` : ''}.`;
  if (hardware.executionProvider !== 'cpu') {
    const size = gpu?.memoryBytes ? `, ${formatBytes(gpu.memoryBytes)}` : '';
    return `Running on your graphics card${gpu ? ` (${gpu.name}${size})` : ''}.`;
  }
  const unusable = hardware.gpus.length > 0 ? ' Trove cannot use the graphics card here, so' : '';
  const speedup = gpuSpeedup(model);
  const faster = speedup ? `a GPU makes it ${speedup} faster` : 'a GPU makes it much faster';
  return `Running on your CPU —${unusable} indexing will be slow; ${faster}.`;
}

/** What stands behind the line above, for a disclosure: the probe's findings and the estimate's basis. */
export function hardwareDetails(hardware: Hardware, model: CatalogModel | null = null): Array<[label: string, value: string]> {
  const rows: Array<[string, string]> = [
    ['Graphics cards found', hardware.gpus.length === 0 ? 'None' : hardware.gpus.map((g) => (g.memoryBytes ? `${g.name} (${formatBytes(g.memoryBytes)})` : g.name)).join(', ')],
    ['Memory', formatBytes(hardware.ramBytes)],
  ];
  if (hardware.freeDiskBytes !== null) rows.push(['Free disk space for models', formatBytes(hardware.freeDiskBytes)]);
  rows.push(['Execution provider (onnxruntime)', providerLabel(hardware.executionProvider)]);
  const seconds = model?.photoSeconds;
  if (model && seconds) {
    rows.push(['Speed estimate', `${model.title}: about ${seconds.gpu} s a photo on a mid-range GPU, ${seconds.cpuLow}–${seconds.cpuHigh} s on an 8-core CPU (estimated from compute, not measured)`]);
  }
  return rows;
}
