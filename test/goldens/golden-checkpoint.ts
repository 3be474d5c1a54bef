// Rebuilds the golden checkpoints of tools/reference-goldens without Python: config.json as
// transformers wrote it (committed), every tensor drawn by the TypeScript twin of the generator's
// seeded weights, the project's tokenizer and processor files. Each tensor's bytes, and the whole
// model.safetensors, are checked against the SHA-256 the generator recorded from the file
// transformers' save_pretrained wrote, so the rebuilt checkpoint is that checkpoint byte for byte.
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { createSafetensorsStream } from '../../native-models/checkpoint/node/safetensors-writer.ts';
import { writeTinyProcessorFiles } from '../../native-models/tiny/node/generate-tiny-checkpoint.ts';
import { drawTensor, ruleFor, type WeightRecipe } from './seeded-uniform.ts';

export const GOLDEN_FIXTURES = path.resolve(import.meta.dirname, '../fixtures/goldens');

export type GoldenCheckpointName = 'embedder' | 'reranker' | 'reranker-tied';

export interface RecordedTensor {
  readonly name: string;
  readonly dtype: 'F32';
  readonly shape: number[];
  readonly sha256: string;
}

/** What the generator recorded about the file transformers wrote. */
export interface RecordedCheckpoint {
  /** The transformers class that saved it (Qwen3VLForEmbedding or Qwen3VLForConditionalGeneration). */
  readonly class: string;
  readonly seed: number;
  readonly metadata: Record<string, string>;
  readonly file_sha256: string;
  readonly file_bytes: number;
  readonly tensors: RecordedTensor[];
}

export async function readFixtureJson<T>(name: string): Promise<T> {
  return JSON.parse(await readFile(path.join(GOLDEN_FIXTURES, name), 'utf8')) as T;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Writes the golden checkpoint `name` into `out` (created) and returns the tensors whose bytes
 * differ from the recording (empty when the rebuild is exact) and the file's SHA-256.
 */
export async function writeGoldenCheckpoint(name: GoldenCheckpointName, out: string): Promise<{ mismatched: string[]; fileSha256: string; recorded: RecordedCheckpoint }> {
  const recorded = await readFixtureJson<RecordedCheckpoint>(`${name}-tensors.json`);
  const recipe = await readFixtureJson<WeightRecipe>('weight-recipe.json');
  const seed = recipe.seeds[name];
  if (seed !== recorded.seed) throw new Error(`${name}: weight-recipe.json seed ${seed} differs from the recorded seed ${recorded.seed}; regenerate the goldens`);
  await mkdir(out, { recursive: true });
  await copyFile(path.join(GOLDEN_FIXTURES, `${name}-config.json`), path.join(out, 'config.json'));
  await writeTinyProcessorFiles(out);
  const file = path.join(out, 'model.safetensors');
  const stream = await createSafetensorsStream(
    file,
    recorded.tensors.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape })),
    recorded.metadata,
  );
  const mismatched: string[] = [];
  try {
    for (const t of recorded.tensors) {
      const rule = ruleFor(recipe, t.name);
      const values = drawTensor(t.name, t.shape.reduce((a, b) => a * b, 1), seed, rule.mean, rule.std);
      if (sha256(new Uint8Array(values.buffer, values.byteOffset, values.byteLength)) !== t.sha256) mismatched.push(t.name);
      await stream.append(t.name, values);
    }
  } catch (error) {
    await stream.abort();
    throw error;
  }
  await stream.finish();
  return { mismatched, fileSha256: sha256(await readFile(file)), recorded };
}
