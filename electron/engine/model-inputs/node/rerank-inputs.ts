// The reranker's input chain for one query and its documents (docs/qwen3-vl-model.md#reranker-prompt,
// docs/runtime.md#flow step 1), the
// counterpart of embed-inputs.ts: media → pixel values and grids, reranker prompt → expanded
// placeholders → token ids → special-preserving truncation, left-padded batch. The query's images
// and videos are decoded once and shared by every row.
import { expandVisionPlaceholders } from '../common/placeholder-expansion.ts';
import { renderPrompt } from '../common/prompt-segments.ts';
import { rerankerPrompt } from '../common/reranker-prompt.ts';
import { buildRerankerBatch, type SequenceBatch } from '../common/sequence-batch.ts';
import type { EmbedInput, OrderedVision } from './embed-inputs.ts';
import { preprocessImage, type PreprocessedImage } from './image-preprocess.ts';
import type { QwenTokenizer } from './qwen-tokenizer.ts';
import { preprocessVideo, type PreprocessedVideo } from './video-preprocess.ts';

/** A query or a document: any mix of texts, images and videos; empty renders as "NULL". */
export type RerankSide = EmbedInput;

export interface PrepareRerankOptions {
  /** Used verbatim; missing or empty → "Given a search query, retrieve relevant candidates that answer the query." */
  readonly instruction?: string;
  readonly fastImages?: boolean;
  readonly signal?: AbortSignal;
}

export interface PreparedSideMedia {
  readonly images: PreprocessedImage[];
  readonly videos: PreprocessedVideo[];
}

export interface PreparedRerankBatch {
  /** Rendered prompt of each (query, document) pair after placeholder expansion, before truncation. */
  readonly prompts: string[];
  /** One row per document, left-padded; the pooled index is seq − 1. */
  readonly batch: SequenceBatch;
  readonly query: PreparedSideMedia;
  readonly documents: PreparedSideMedia[];
  /** Per row: its images / videos in prompt order (the query's first, then the document's). */
  readonly rowImages: PreprocessedImage[][];
  readonly rowVideos: PreprocessedVideo[][];
  readonly vision: OrderedVision[];
}

async function prepareSide(side: RerankSide, options: PrepareRerankOptions): Promise<PreparedSideMedia> {
  const videos: PreprocessedVideo[] = [];
  for (const file of side.videos ?? []) videos.push(await preprocessVideo(file, { signal: options.signal }));
  const images: PreprocessedImage[] = [];
  for (const source of side.images ?? []) images.push(await preprocessImage(source, { fast: options.fastImages }));
  return { images, videos };
}

const content = (side: RerankSide, media: PreparedSideMedia) => ({ texts: side.texts ?? [], imageCount: media.images.length, videoCount: media.videos.length });

export async function prepareRerankBatch(
  tokenizer: QwenTokenizer,
  query: RerankSide,
  documents: readonly RerankSide[],
  options: PrepareRerankOptions = {},
): Promise<PreparedRerankBatch> {
  if (documents.length === 0) throw new RangeError('rerank needs at least one document');
  const queryMedia = await prepareSide(query, options);
  const prompts: string[] = [];
  const rows: { ids: number[]; images: PreprocessedImage['gridThw'][]; videos: PreprocessedVideo['gridThw'][] }[] = [];
  const documentMedia: PreparedSideMedia[] = [];
  const rowImages: PreprocessedImage[][] = [];
  const rowVideos: PreprocessedVideo[][] = [];
  for (const document of documents) {
    if (options.signal?.aborted) options.signal.throwIfAborted();
    const media = await prepareSide(document, options);
    const images = [...queryMedia.images, ...media.images];
    const videos = [...queryMedia.videos, ...media.videos];
    const parts = expandVisionPlaceholders(
      rerankerPrompt({ instruction: options.instruction, query: content(query, queryMedia), document: content(document, media) }),
      images.map((i) => i.gridThw),
      videos.map((v) => ({ grid: v.gridThw, timestamps: v.timestamps })),
    );
    prompts.push(renderPrompt(parts));
    rows.push({ ids: tokenizer.encode(parts), images: images.map((i) => i.gridThw), videos: videos.map((v) => v.gridThw) });
    documentMedia.push(media);
    rowImages.push(images);
    rowVideos.push(videos);
  }
  const batch = buildRerankerBatch(rows);
  const vision = batch.visionOrder.map((p): OrderedVision => {
    const source = p.kind === 'image' ? rowImages[p.row]![p.index]! : rowVideos[p.row]![p.index]!;
    return { kind: p.kind, gridThw: source.gridThw, pixelValues: source.pixelValues, firstVisualRow: p.firstVisualRow };
  });
  return { prompts, batch, query: queryMedia, documents: documentMedia, rowImages, rowVideos, vision };
}
