// Qwen3-VL-Embedding on onnxruntime-node (docs/runtime.md#flow): inputs → prompts and pixels
// (embed-inputs.ts) → batches under the size budget → vision encoder per image/video → decoder →
// pooled hidden → L2 → optional Matryoshka. Runs on the calling thread: the app and the CLI reach
// it through model-client.ts, which puts it in a worker.
import { assertMatryoshkaDims, l2Normalize, matryoshka } from '../../../store/common/embedding-codes.ts';
import { prepareEmbedBatch, type EmbedInput } from '../../../model-inputs/node/embed-inputs.ts';
import { createSessions, currentEnvironment, type ProviderChoice, type ProviderEnvironment } from './execution-providers.ts';
import { openModelPackage, type ModelPackage } from './model-package.ts';
import { abortError, GraphRunner, packBatches, yieldToEventLoop, type ModelRow } from './graph-runner.ts';

export type { EmbedInput };

export interface RuntimeOpenOptions {
  /** Execution-provider environment (platform, TROVE_EP); default: this process. */
  readonly environment?: ProviderEnvironment;
  /** Shrink large photos on load before the exact resize (see docs/benchmarks.md). */
  readonly fastImages?: boolean;
}

export interface EmbedOptions {
  /** Task instruction (the embedder's punctuation rule applies); default "Represent the user's input." */
  readonly instruction?: string;
  /** Matryoshka size in [32, hidden]; default the full embedding. */
  readonly dims?: number;
  readonly signal?: AbortSignal;
}

/**
 * Inputs are preprocessed in groups — at most PREPARE_INPUTS inputs or PREPARE_VISION images and
 * videos — so a long list never holds every image's pixels at once (one 1.8-megapixel image is
 * 44 MB of patches); each group is then split into decoder batches by packBatches.
 */
export const PREPARE_INPUTS = 64;
export const PREPARE_VISION = 8;

export function prepareGroups(inputs: readonly EmbedInput[]): [number, number][] {
  const groups: [number, number][] = [];
  let start = 0;
  let vision = 0;
  inputs.forEach((input, i) => {
    const count = (input.images?.length ?? 0) + (input.videos?.length ?? 0);
    if (i > start && (i - start >= PREPARE_INPUTS || vision + count > PREPARE_VISION)) {
      groups.push([start, i]);
      start = i;
      vision = 0;
    }
    vision += count;
  });
  if (start < inputs.length) groups.push([start, inputs.length]);
  return groups;
}

export class Qwen3VLEmbedder {
  private constructor(
    readonly modelPackage: ModelPackage,
    /** Which execution provider runs, and why (ProviderChoice.statement). */
    readonly provider: ProviderChoice,
    private readonly runner: GraphRunner,
    private readonly fastImages: boolean,
  ) {}

  static async open(packageDir: string, options: RuntimeOpenOptions = {}): Promise<Qwen3VLEmbedder> {
    const pkg = await openModelPackage(packageDir, 'embedding');
    const { sessions, choice } = await createSessions([{ file: pkg.visionGraph, memoryPattern: false, cpuArena: true }, pkg.decoderGraph], options.environment ?? currentEnvironment());
    const runner = new GraphRunner(sessions[0]!, sessions[1]!, pkg.manifest.text.hidden, pkg.manifest.vision.headDim);
    return new Qwen3VLEmbedder(pkg, choice, runner, options.fastImages ?? false);
  }

  /** Full embedding size (the text hidden size). */
  get dimensions(): number {
    return this.modelPackage.manifest.text.hidden;
  }

  /** One L2-normalised Float32Array per input, in input order (each owns its buffer). An empty input embeds "NULL", as the reference does. */
  async embed(inputs: readonly EmbedInput[], options: EmbedOptions = {}): Promise<Float32Array[]> {
    if (options.dims !== undefined) assertMatryoshkaDims(options.dims, this.dimensions);
    const { signal } = options;
    const results = new Array<Float32Array>(inputs.length);
    for (const [start, end] of prepareGroups(inputs)) {
      if (signal?.aborted) throw abortError(signal);
      const prepared = await prepareEmbedBatch(this.modelPackage.tokenizer, inputs.slice(start, end), {
        instruction: options.instruction,
        fastImages: this.fastImages,
        signal,
      });
      const rows: ModelRow[] = prepared.batch.inputIds.map((ids, b) => ({
        ids: ids.slice(0, prepared.batch.lastIndex[b]! + 1),
        images: prepared.images[b]!,
        videos: prepared.videos[b]!,
      }));
      for (const indices of packBatches(rows.map((r) => r.ids.length))) {
        await yieldToEventLoop();
        if (signal?.aborted) throw abortError(signal);
        const out = await this.runner.run(indices.map((i) => rows[i]!), 'right', { signal });
        const pooled = out.pooled_hidden!.data as Float32Array;
        const H = this.dimensions;
        indices.forEach((rowIndex, b) => {
          const normalised = l2Normalize(pooled.subarray(b * H, (b + 1) * H));
          results[start + rowIndex] = options.dims === undefined || options.dims === H ? normalised : matryoshka(normalised, options.dims);
        });
      }
    }
    return results;
  }

  async close(): Promise<void> {
    await this.runner.release();
  }
}
