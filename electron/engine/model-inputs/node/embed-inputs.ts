// The embedder's whole input chain for a batch (docs/runtime.md#flow, step 1): media → pixel values and
// grids, conversation → prompt parts → expanded placeholders → token ids → truncated, padded
// batch with position ids, visual_index and last_index.
import { embedderPrompt } from '../common/embedder-prompt.ts';
import { expandVisionPlaceholders } from '../common/placeholder-expansion.ts';
import { renderPrompt } from '../common/prompt-segments.ts';
import { buildEmbedderBatch, type SequenceBatch } from '../common/sequence-batch.ts';
import type { GridThw } from '../../media/common/vision-types.ts';
import { preprocessImage, type PreprocessedImage } from './image-preprocess.ts';
import type { QwenTokenizer } from './qwen-tokenizer.ts';
import { preprocessVideo, type PreprocessedVideo, type VideoInput } from './video-preprocess.ts';

export type { VideoClip, VideoInput } from './video-preprocess.ts';

/** One thing to embed: any mix of texts, images and videos (a query or a document). */
export interface EmbedInput {
  readonly texts?: readonly string[];
  /** Image files or encoded image bytes. */
  readonly images?: readonly (string | Buffer)[];
  /** Video files (a path: the whole file), or clips `{ path, start?, end?, maxFrames? }` (a moment, in seconds). */
  readonly videos?: readonly VideoInput[];
}

export interface PrepareEmbedOptions {
  /** Task instruction (the embedder's punctuation rule applies); default "Represent the user's input." */
  readonly instruction?: string;
  /** Shrink large photos on load before the exact resize (see docs/benchmarks.md). */
  readonly fastImages?: boolean;
  readonly signal?: AbortSignal;
}

/** A vision input in the order its merged rows fill `visual_embeds`. */
export interface OrderedVision {
  readonly kind: 'image' | 'video';
  readonly gridThw: GridThw;
  readonly pixelValues: Float32Array;
  /** First row in visual_embeds. */
  readonly firstVisualRow: number;
}

export interface PreparedEmbedBatch {
  /** The rendered prompt of each input after placeholder expansion (before truncation). */
  readonly prompts: string[];
  readonly batch: SequenceBatch;
  readonly images: PreprocessedImage[][];
  readonly videos: PreprocessedVideo[][];
  readonly vision: OrderedVision[];
}

export async function prepareEmbedBatch(
  tokenizer: QwenTokenizer,
  inputs: readonly EmbedInput[],
  options: PrepareEmbedOptions = {},
): Promise<PreparedEmbedBatch> {
  const prompts: string[] = [];
  const rows: { ids: number[]; images: GridThw[]; videos: GridThw[] }[] = [];
  const images: PreprocessedImage[][] = [];
  const videos: PreprocessedVideo[][] = [];
  for (const input of inputs) {
    const rowVideos: PreprocessedVideo[] = [];
    for (const video of input.videos ?? []) rowVideos.push(await preprocessVideo(video, { signal: options.signal }));
    const rowImages: PreprocessedImage[] = [];
    for (const source of input.images ?? []) rowImages.push(await preprocessImage(source, { fast: options.fastImages }));
    const parts = expandVisionPlaceholders(
      embedderPrompt({
        instruction: options.instruction,
        texts: input.texts ?? [],
        imageCount: rowImages.length,
        videoCount: rowVideos.length,
      }),
      rowImages.map((i) => i.gridThw),
      rowVideos.map((v) => ({ grid: v.gridThw, timestamps: v.timestamps })),
    );
    prompts.push(renderPrompt(parts));
    rows.push({ ids: tokenizer.encode(parts), images: rowImages.map((i) => i.gridThw), videos: rowVideos.map((v) => v.gridThw) });
    images.push(rowImages);
    videos.push(rowVideos);
  }
  const batch = buildEmbedderBatch(rows);
  const vision = batch.visionOrder.map((p): OrderedVision => {
    const source = p.kind === 'image' ? images[p.row]![p.index]! : videos[p.row]![p.index]!;
    return { kind: p.kind, gridThw: source.gridThw, pixelValues: source.pixelValues, firstVisualRow: p.firstVisualRow };
  });
  return { prompts, batch, images, videos, vision };
}
