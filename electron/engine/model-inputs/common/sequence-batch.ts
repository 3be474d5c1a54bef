// Token-id rows → the decoder's batch inputs (docs/qwen3-vl-model.md#truncation-and-padding,
// docs/model-packages.md#graph-inputs-and-outputs): truncation as each
// official wrapper does it, padding, attention mask, M-RoPE positions, the pooled index, and the
// scatter index that places vision rows at pad positions.
//
// visual_index follows "order of appearance": walking the batch row-major, the k-th image/video
// pad token reads row k of visual_embeds. `visionOrder` lists the vision inputs in the order
// their merged rows (flattened segment-major) must be concatenated to build visual_embeds and
// each deepstack_embeds[ℓ]. This reproduces HF's per-modality masked_scatter and its joint
// DeepStack ordering, because inside a row videos precede images and each input's pads are
// contiguous per temporal group.
import { EMBEDDER_MAX_LENGTH, PAD_TOKEN_ID, RERANKER_MAX_LENGTH, TOKEN } from '../../../../native-models/checkpoint/common/qwen3vl-constants.ts';
import type { GridThw } from '../../media/common/vision-types.ts';
import { ALL_SPECIAL_IDS } from './prompt-segments.ts';
import { assertVisionGrid, visionTokenCount } from './placeholder-expansion.ts';
import { getRopeIndex, type PositionIds } from './rope-index.ts';

/** One prompt's token ids (placeholders already expanded) and its vision inputs, each list in prompt order. */
export interface SequenceRow {
  readonly ids: readonly number[];
  readonly images?: readonly GridThw[];
  readonly videos?: readonly GridThw[];
}

/** Where one image/video's merged rows go in visual_embeds. */
export interface VisionPlacement {
  readonly row: number;
  readonly kind: 'image' | 'video';
  /** Index into that row's `images` or `videos`. */
  readonly index: number;
  readonly grid: GridThw;
  /** Its first row in visual_embeds; rows firstVisualRow … firstVisualRow + tokenCount − 1. */
  readonly firstVisualRow: number;
  /** t·h·w/4 merged rows. */
  readonly tokenCount: number;
}

export interface SequenceBatch {
  /** `[batch][seq]`, padded with 151643. */
  readonly inputIds: number[][];
  /** `[batch][seq]`: 1 = token, 0 = pad. */
  readonly attentionMask: number[][];
  /** `[3][batch][seq]` (docs/qwen3-vl-model.md#rope-index). */
  readonly positionIds: PositionIds;
  /** `[batch][seq]`: −1 for non-pad tokens, else the row of visual_embeds for that pad. */
  readonly visualIndex: number[][];
  /** `[batch]`: last position with mask 1 (the pooled token). */
  readonly lastIndex: number[];
  /** Vision inputs in the order their merged rows must be concatenated. */
  readonly visionOrder: VisionPlacement[];
  /** Rows visual_embeds must have (sum of tokenCount). */
  readonly numVisual: number;
}

const isVisionPad = (id: number): boolean => id === TOKEN.imagePad || id === TOKEN.videoPad;

/**
 * The embedder's truncation: keep the first `maxLength` ids (tokenizer truncation, right side).
 * Text is cut silently, as in the reference (the pooled token is then whatever sits last);
 * cutting an image/video pad is an error there (token-count mismatch), and here too.
 */
export function truncateForEmbedder(ids: readonly number[], maxLength: number = EMBEDDER_MAX_LENGTH): number[] {
  if (ids.length <= maxLength) return [...ids];
  const cutPads = ids.slice(maxLength).filter(isVisionPad).length;
  if (cutPads > 0) {
    throw new RangeError(
      `the input is ${ids.length} tokens and the embedder keeps ${maxLength}; the cut would drop ${cutPads} image/video tokens. ` +
        'Use fewer or smaller images, fewer video frames, or shorter text before them.',
    );
  }
  return ids.slice(0, maxLength);
}

/** Ids the reranker always appends last: `<|im_end|>\n<|im_start|>assistant\n`. */
const RERANK_TAIL = 5;

/**
 * The reranker's truncation (`truncate_tokens_optimized`): split off the last 5 ids; if the rest
 * is longer than `maxLength`, keep every special id (all vision tokens included) and the first
 * `maxLength − #special` other ids, in order; re-append the 5.
 */
export function truncateForReranker(ids: readonly number[], maxLength: number = RERANKER_MAX_LENGTH): number[] {
  const body = ids.slice(0, Math.max(0, ids.length - RERANK_TAIL));
  const tail = ids.slice(body.length);
  if (body.length <= maxLength) return [...ids];
  const specialCount = body.filter((id) => ALL_SPECIAL_IDS.has(id)).length;
  let budget = maxLength - specialCount;
  const kept: number[] = [];
  for (const id of body) {
    if (ALL_SPECIAL_IDS.has(id)) kept.push(id);
    else if (budget > 0) {
      kept.push(id);
      budget--;
    }
  }
  return [...kept, ...tail];
}

/** Vision inputs of one row in order of appearance, checked against the row's tokens. */
function placeRow(ids: readonly number[], row: number, source: SequenceRow, firstVisualRow: number): VisionPlacement[] {
  const images = source.images ?? [];
  const videos = source.videos ?? [];
  images.forEach((grid, i) => assertVisionGrid(grid, `row ${row} image ${i}`));
  videos.forEach((grid, i) => assertVisionGrid(grid, `row ${row} video ${i}`));
  const out: VisionPlacement[] = [];
  let nextImage = 0;
  let nextVideo = 0;
  let groupsLeft = 0; // temporal groups of the current video still to come
  let visualRow = firstVisualRow;
  for (let s = 0; s + 1 < ids.length; s++) {
    if (ids[s] !== TOKEN.visionStart || !isVisionPad(ids[s + 1]!)) continue;
    const kind = ids[s + 1] === TOKEN.imagePad ? 'image' : 'video';
    if (kind === 'image' && groupsLeft > 0) {
      throw new RangeError(`row ${row}: an image block interrupts video ${nextVideo - 1}, which still has ${groupsLeft} temporal group(s)`);
    }
    if (kind === 'video' && groupsLeft > 0) {
      groupsLeft--;
      continue;
    }
    const list = kind === 'image' ? images : videos;
    const index = kind === 'image' ? nextImage++ : nextVideo++;
    const grid = list[index];
    if (grid === undefined) throw new RangeError(`row ${row}: the tokens hold more ${kind} blocks than the ${list.length} ${kind}(s) given`);
    if (kind === 'video') groupsLeft = grid[0] - 1;
    const tokenCount = visionTokenCount(grid);
    out.push({ row, kind, index, grid, firstVisualRow: visualRow, tokenCount });
    visualRow += tokenCount;
  }
  if (groupsLeft > 0) throw new RangeError(`row ${row}: video ${nextVideo - 1} is missing ${groupsLeft} temporal group(s) in the tokens`);
  if (nextImage !== images.length || nextVideo !== videos.length) {
    throw new RangeError(`row ${row}: ${images.length} image(s) and ${videos.length} video(s) given, but the tokens hold ${nextImage} and ${nextVideo}`);
  }
  return out;
}

function buildBatch(rows: readonly SequenceRow[], truncated: number[][], side: 'left' | 'right'): SequenceBatch {
  const seq = Math.max(0, ...truncated.map((ids) => ids.length));
  const inputIds: number[][] = [];
  const attentionMask: number[][] = [];
  const visualIndex: number[][] = [];
  const lastIndex: number[] = [];
  const visionOrder: VisionPlacement[] = [];
  let numVisual = 0;
  truncated.forEach((ids, b) => {
    if (ids.length === 0) throw new RangeError(`row ${b} has no tokens; every prompt has at least its chat-template tokens`);
    const padCount = seq - ids.length;
    const pads = new Array<number>(padCount).fill(PAD_TOKEN_ID);
    const zeros = new Array<number>(padCount).fill(0);
    const ones = new Array<number>(ids.length).fill(1);
    inputIds.push(side === 'right' ? [...ids, ...pads] : [...pads, ...ids]);
    attentionMask.push(side === 'right' ? [...ones, ...zeros] : [...zeros, ...ones]);
    lastIndex.push(side === 'right' ? ids.length - 1 : seq - 1);
    const rowStart = numVisual;
    const placements = placeRow(ids, b, rows[b]!, rowStart);
    visionOrder.push(...placements);
    const indexRow = new Array<number>(seq).fill(-1);
    const offset = side === 'right' ? 0 : padCount;
    ids.forEach((id, s) => {
      if (isVisionPad(id)) indexRow[offset + s] = numVisual++;
    });
    visualIndex.push(indexRow);
    const expected = placements.reduce((sum, p) => sum + p.tokenCount, 0);
    if (numVisual - rowStart !== expected) {
      throw new RangeError(`row ${b}: ${numVisual - rowStart} image/video pad tokens but its grids need ${expected}; expand placeholders with the same grids as the vision inputs`);
    }
  });
  const images = visionOrder.filter((p) => p.kind === 'image').map((p) => p.grid);
  const videos = visionOrder.filter((p) => p.kind === 'video').map((p) => p.grid);
  const positionIds = getRopeIndex(inputIds, attentionMask, images, videos);
  return { inputIds, attentionMask, positionIds, visualIndex, lastIndex, visionOrder, numVisual };
}

/** Embedder batch: keep the first 8192 ids per row (error if vision tokens would be cut), pad right. */
export function buildEmbedderBatch(rows: readonly SequenceRow[], maxLength: number = EMBEDDER_MAX_LENGTH): SequenceBatch {
  return buildBatch(rows, rows.map((row) => truncateForEmbedder(row.ids, maxLength)), 'right');
}

/** Reranker batch: special-preserving truncation to 10240 + the last 5 ids, pad left; pooled index = seq − 1. */
export function buildRerankerBatch(rows: readonly SequenceRow[], maxLength: number = RERANKER_MAX_LENGTH): SequenceBatch {
  return buildBatch(rows, rows.map((row) => truncateForReranker(row.ids, maxLength)), 'left');
}
