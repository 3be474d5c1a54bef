// Qwen3-VL-Reranker on onnxruntime-node (docs/qwen3-vl-model.md#reranker-score, docs/runtime.md#flow): one (query, document) prompt per
// document, left-padded batches under the size budget, vision once per distinct image/video (the
// query's media are shared by every row), score = sigmoid(yes_no_logit).
import { prepareRerankBatch, type RerankSide } from '../../../model-inputs/node/rerank-inputs.ts';
import { createSessions, currentEnvironment, type ProviderChoice } from './execution-providers.ts';
import { abortError, GraphRunner, packBatches, yieldToEventLoop, type ModelRow, type VisionOutput } from './graph-runner.ts';
import { openModelPackage, type ModelPackage } from './model-package.ts';
import type { RuntimeOpenOptions } from './qwen3vl-embedder.ts';

export type { RerankSide };

export interface RerankOptions {
  /** Used verbatim; default "Given a search query, retrieve relevant candidates that answer the query." */
  readonly instruction?: string;
  readonly signal?: AbortSignal;
}

/** Documents preprocessed per group, bounding pixel memory as the embedder does. */
export const RERANK_PREPARE_DOCUMENTS = 16;

export function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

export class Qwen3VLReranker {
  private constructor(
    readonly modelPackage: ModelPackage,
    readonly provider: ProviderChoice,
    private readonly runner: GraphRunner,
    private readonly fastImages: boolean,
  ) {}

  static async open(packageDir: string, options: RuntimeOpenOptions = {}): Promise<Qwen3VLReranker> {
    const pkg = await openModelPackage(packageDir, 'reranker');
    const { sessions, choice } = await createSessions([{ file: pkg.visionGraph, memoryPattern: false, cpuArena: true }, pkg.decoderGraph], options.environment ?? currentEnvironment());
    const runner = new GraphRunner(sessions[0]!, sessions[1]!, pkg.manifest.text.hidden, pkg.manifest.vision.headDim);
    return new Qwen3VLReranker(pkg, choice, runner, options.fastImages ?? false);
  }

  /** One score in [0, 1] per document, in document order. */
  async rerank(query: RerankSide, documents: readonly RerankSide[], options: RerankOptions = {}): Promise<number[]> {
    const { signal } = options;
    const scores = new Array<number>(documents.length);
    const visionCache = new Map<Float32Array, VisionOutput>();
    for (let start = 0; start < documents.length; start += RERANK_PREPARE_DOCUMENTS) {
      if (signal?.aborted) throw abortError(signal);
      const group = documents.slice(start, start + RERANK_PREPARE_DOCUMENTS);
      const prepared = await prepareRerankBatch(this.modelPackage.tokenizer, query, group, { instruction: options.instruction, fastImages: this.fastImages, signal });
      const { inputIds, attentionMask } = prepared.batch;
      const rows: ModelRow[] = inputIds.map((ids, b) => {
        const length = attentionMask[b]!.reduce((sum, m) => sum + m, 0);
        return { ids: ids.slice(ids.length - length), images: prepared.rowImages[b]!, videos: prepared.rowVideos[b]! };
      });
      for (const indices of packBatches(rows.map((r) => r.ids.length))) {
        await yieldToEventLoop();
        if (signal?.aborted) throw abortError(signal);
        const out = await this.runner.run(indices.map((i) => rows[i]!), 'left', { signal, visionCache });
        const logits = out.yes_no_logit!.data as Float32Array;
        indices.forEach((rowIndex, b) => {
          scores[start + rowIndex] = sigmoid(logits[b]!);
        });
      }
    }
    return scores;
  }

  async close(): Promise<void> {
    await this.runner.release();
  }
}
