// Checks, before anything is written, that a checkpoint holds every tensor the graphs will read,
// with the shape its config.json implies and a float dtype the graph writers convert. All problems
// are reported at once, so one run tells the user everything that is wrong.
import type { Qwen3VLConfig } from '../../checkpoint/common/qwen3vl-config.ts';
import { qwen3VLParameterShapes } from '../../checkpoint/common/qwen3vl-parameters.ts';
import type { Checkpoint, SafetensorsDType } from '../../checkpoint/node/safetensors-reader.ts';
import type { PackageKind } from '../../manifest/common/model-manifest.ts';

/** The dtypes Hugging Face ships Qwen3-VL in; the graph writers convert each to float32 exactly. */
export const WEIGHT_DTYPES: readonly SafetensorsDType[] = ['F32', 'F16', 'BF16'];
/** Problems listed per category before the message says "… and N more". */
const LISTED_PER_CATEGORY = 8;

export interface ExpectedTensor {
  name: string;
  shape: number[];
}

/** Tensors a package of `kind` reads: the embedder drops an untied lm_head, the reranker needs it. */
export function expectedTensors(config: Qwen3VLConfig, kind: PackageKind): ExpectedTensor[] {
  return qwen3VLParameterShapes(config).filter((p) => kind === 'reranker' || p.name !== 'lm_head.weight');
}

function listed(lines: string[]): string[] {
  const shown = lines.slice(0, LISTED_PER_CATEGORY);
  if (lines.length > shown.length) shown.push(`… and ${lines.length - shown.length} more`);
  return shown.map((l) => `    ${l}`);
}

/** Throws one error listing every missing tensor, shape mismatch and non-float dtype. */
export function checkCheckpointTensors(checkpoint: Checkpoint, config: Qwen3VLConfig, kind: PackageKind): ExpectedTensor[] {
  const expected = expectedTensors(config, kind);
  const missing: string[] = [];
  const misshapen: string[] = [];
  const wrongDtype: string[] = [];
  for (const { name, shape } of expected) {
    if (!checkpoint.has(name)) {
      missing.push(`${name} [${shape.join(', ')}]`);
      continue;
    }
    const info = checkpoint.info(name);
    if (info.shape.length !== shape.length || info.shape.some((d, i) => d !== shape[i])) {
      misshapen.push(`${name}: [${info.shape.join(', ')}] in the checkpoint, config.json implies [${shape.join(', ')}]`);
    }
    if (!WEIGHT_DTYPES.includes(info.dtype)) wrongDtype.push(`${name}: ${info.dtype}`);
  }
  const sections: string[] = [];
  if (missing.length > 0) sections.push(`  ${missing.length} tensor(s) missing:`, ...listed(missing));
  if (misshapen.length > 0) sections.push(`  ${misshapen.length} tensor(s) whose shape disagrees with config.json:`, ...listed(misshapen));
  if (wrongDtype.length > 0) sections.push(`  ${wrongDtype.length} tensor(s) not stored as ${WEIGHT_DTYPES.join('/')}:`, ...listed(wrongDtype));
  if (sections.length > 0) {
    throw new Error(
      `${checkpoint.dir} cannot be built into a ${kind} package:\n${sections.join('\n')}\n` +
        'Use the checkpoint files and config.json of one published Qwen3-VL release (download them again if they were edited or mixed); nothing was written.',
    );
  }
  return expected;
}
