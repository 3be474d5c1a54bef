// Runs the two graphs of a package for one batch of token rows (docs/runtime.md#flow, steps 2–3): the vision
// encoder once per image/video, its outputs laid out as visual_embeds / deepstack_embeds rows, then
// the decoder with int64 token tensors. Shared by the embedder and the reranker, which differ only
// in padding side and head output.
import * as ort from 'onnxruntime-node';
import { buildEmbedderBatch, buildRerankerBatch, type SequenceBatch } from '../../../model-inputs/common/sequence-batch.ts';
import { visionTables, type VisionTables } from '../../../model-inputs/common/vision-tables.ts';
import type { GridThw } from '../../../media/common/vision-types.ts';
import { PATCH_DIM } from '../../../../../native-models/checkpoint/common/qwen3vl-constants.ts';

/** Pixels of one image or video (patchify output: t·h·w rows × 1536, merge order, segment-major). */
export interface VisionSource {
  readonly gridThw: GridThw;
  readonly pixelValues: Float32Array;
}

/** One prompt's token ids (expanded, truncated, unpadded) and its vision inputs in prompt order. */
export interface ModelRow {
  readonly ids: readonly number[];
  readonly images: readonly VisionSource[];
  readonly videos: readonly VisionSource[];
}

/** One vision call's output, flattened segment-major: `rows` × hidden, and 3 taps of the same. */
export interface VisionOutput {
  readonly rows: number;
  readonly merged: Float32Array;
  readonly deepstack: Float32Array;
}

/**
 * Batching budget (docs/qwen3-vl-model.md#truncation-and-padding: rows are independent, so any grouping gives the
 * same results).
 * A decoder call holds at most MAX_BATCH_ROWS rows, MAX_BATCH_TOKENS padded tokens (B·S) and
 * MAX_BATCH_SCORES attention scores per head (B·S²; with plain-op attention that is
 * B·heads·S²·4 bytes per layer: 1 GiB for 16 heads). A single row over a limit runs alone.
 */
export const MAX_BATCH_ROWS = 32;
export const MAX_BATCH_TOKENS = 8192;
export const MAX_BATCH_SCORES = 1 << 24;

export function fitsBudget(rows: number, seq: number): boolean {
  return rows <= MAX_BATCH_ROWS && rows * seq <= MAX_BATCH_TOKENS && rows * seq * seq <= MAX_BATCH_SCORES;
}

/**
 * Splits row indices into decoder batches: rows sorted by length (less padding), packed greedily
 * under the budget. Callers put results back by index, so input order is kept.
 */
export function packBatches(lengths: readonly number[]): number[][] {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[a]! - lengths[b]! || a - b);
  const batches: number[][] = [];
  let current: number[] = [];
  for (const index of order) {
    const seq = lengths[index]!; // sorted ascending: the new row is the longest
    if (current.length > 0 && !fitsBudget(current.length + 1, seq)) {
      batches.push(current);
      current = [];
    }
    current.push(index);
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/**
 * Lets queued messages (a worker's cancel) run between batches: onnxruntime's run and the image
 * decoders resolve through promises, which alone never give message events a turn.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted.', 'AbortError');
}

const int64 = (rows: readonly (readonly number[])[], dims: number[]): ort.Tensor => {
  const data = new BigInt64Array(dims.reduce((a, b) => a * b, 1));
  let k = 0;
  for (const row of rows) for (const v of row) data[k++] = BigInt(v);
  return new ort.Tensor('int64', data, dims);
};

/**
 * At most this many patches go through the vision encoder in one call. Segments (an image, or a
 * video's temporal groups) are independent all through the tower, so a video is run a few groups
 * at a time with the same result; its activation memory then follows one call, not the video's
 * length (docs/model-packages.md#vision-attention-memory). An image (≤ 7,200 patches) is one call.
 */
export const VISION_CALL_PATCHES = 8192;

/** Segment ranges [first, end) of `segments` segments of `patches` each, ≤ VISION_CALL_PATCHES per call (at least one segment). */
export function visionCalls(segments: number, patches: number, limit = VISION_CALL_PATCHES): [number, number][] {
  const perCall = Math.max(1, Math.floor(limit / patches));
  const calls: [number, number][] = [];
  for (let first = 0; first < segments; first += perCall) calls.push([first, Math.min(segments, first + perCall)]);
  return calls;
}

/**
 * Runs the vision encoder on all segments of one image or video, in calls of at most `limit`
 * patches, and puts the outputs together segment-major (merged [S·T, out]; deepstack per tap).
 */
export async function runVisionEncoder(
  session: ort.InferenceSession,
  source: VisionSource,
  tables: VisionTables,
  headDim: number,
  hidden: number,
  limit = VISION_CALL_PATCHES,
): Promise<VisionOutput> {
  const [t, h, w] = source.gridThw;
  const patches = h * w;
  if (source.pixelValues.length !== t * patches * PATCH_DIM) {
    throw new RangeError(`pixel values hold ${source.pixelValues.length} floats, grid [${source.gridThw.join(', ')}] needs ${t * patches * PATCH_DIM}`);
  }
  const tokens = patches / 4;
  const rows = t * tokens;
  const tableFeeds = {
    pos_embed_idx: new ort.Tensor('int64', BigInt64Array.from(tables.posEmbedIdx, (v) => BigInt(v)), [4, patches]),
    pos_embed_w: new ort.Tensor('float32', tables.posEmbedWeight, [4, patches]),
    rope_cos: new ort.Tensor('float32', tables.ropeCos, [patches, headDim]),
    rope_sin: new ort.Tensor('float32', tables.ropeSin, [patches, headDim]),
  };
  const calls = visionCalls(t, patches, limit);
  const merged = calls.length === 1 ? null : new Float32Array(rows * hidden);
  const deepstack = calls.length === 1 ? null : new Float32Array(3 * rows * hidden);
  for (const [first, end] of calls) {
    const count = end - first;
    const outputs = await session.run({
      pixel_values: new ort.Tensor('float32', source.pixelValues.subarray(first * patches * PATCH_DIM, end * patches * PATCH_DIM), [count, patches, PATCH_DIM]),
      ...tableFeeds,
    });
    const callMerged = outputs.merged_embeds!;
    if (callMerged.dims.join() !== [count, tokens, hidden].join()) {
      throw new Error(`vision_encoder.onnx returned merged_embeds [${callMerged.dims.join(', ')}], expected [${count}, ${tokens}, ${hidden}]; the package does not match its manifest — rebuild it`);
    }
    const callDeepstack = outputs.deepstack_embeds!.data as Float32Array;
    // [S, seg_tokens, out] row-major is already segment-major; [3, S, seg_tokens, out] likewise per tap.
    if (merged === null || deepstack === null) return { rows, merged: callMerged.data as Float32Array, deepstack: callDeepstack };
    const block = count * tokens * hidden;
    merged.set(callMerged.data as Float32Array, first * tokens * hidden);
    for (let tap = 0; tap < 3; tap++) deepstack.set(callDeepstack.subarray(tap * block, (tap + 1) * block), (tap * rows + first * tokens) * hidden);
  }
  return { rows, merged: merged!, deepstack: deepstack! };
}

/** Small per-grid cache: video frames and same-size images share their tables. */
const TABLE_CACHE_SIZE = 16;

export class GraphRunner {
  private readonly tables = new Map<string, VisionTables>();

  constructor(
    private readonly visionSession: ort.InferenceSession,
    private readonly decoderSession: ort.InferenceSession,
    /** Text hidden size = vision out_hidden_size. */
    readonly hidden: number,
    private readonly visionHeadDim: number,
  ) {}

  private tablesFor(grid: GridThw): VisionTables {
    const key = `${grid[1]}x${grid[2]}`;
    let found = this.tables.get(key);
    if (found === undefined) {
      found = visionTables([1, grid[1], grid[2]], this.visionHeadDim);
      if (this.tables.size >= TABLE_CACHE_SIZE) this.tables.delete(this.tables.keys().next().value!);
      this.tables.set(key, found);
    }
    return found;
  }

  /** One image or video through the vision encoder: its segments in calls of at most VISION_CALL_PATCHES patches. */
  async runVision(source: VisionSource): Promise<VisionOutput> {
    return runVisionEncoder(this.visionSession, source, this.tablesFor(source.gridThw), this.visionHeadDim, this.hidden);
  }

  /**
   * Pads `rows` (right for the embedder, left for the reranker), runs vision and decoder, and
   * returns the decoder outputs. `visionCache` (keyed by pixel buffer) lets one image shared by
   * several rows — the reranker's query — run through the vision encoder once.
   */
  async run(
    rows: readonly ModelRow[],
    side: 'right' | 'left',
    options: { signal?: AbortSignal; visionCache?: Map<Float32Array, VisionOutput> } = {},
  ): Promise<ort.InferenceSession.OnnxValueMapType> {
    const sequences = rows.map((r) => ({ ids: r.ids, images: r.images.map((i) => i.gridThw), videos: r.videos.map((v) => v.gridThw) }));
    const batch: SequenceBatch = side === 'right' ? buildEmbedderBatch(sequences) : buildRerankerBatch(sequences);
    const H = this.hidden;
    const N = batch.numVisual;
    const visual = new Float32Array(N * H);
    const deepstack = new Float32Array(3 * N * H);
    for (const placement of batch.visionOrder) {
      if (options.signal?.aborted) throw abortError(options.signal);
      const row = rows[placement.row]!;
      const source = (placement.kind === 'image' ? row.images : row.videos)[placement.index]!;
      let out = options.visionCache?.get(source.pixelValues);
      if (out === undefined) {
        out = await this.runVision(source);
        options.visionCache?.set(source.pixelValues, out);
      }
      visual.set(out.merged, placement.firstVisualRow * H);
      for (let tap = 0; tap < 3; tap++) {
        deepstack.set(out.deepstack.subarray(tap * out.rows * H, (tap + 1) * out.rows * H), (tap * N + placement.firstVisualRow) * H);
      }
    }
    if (options.signal?.aborted) throw abortError(options.signal);
    const B = batch.inputIds.length;
    const S = batch.inputIds[0]!.length;
    return this.decoderSession.run({
      input_ids: int64(batch.inputIds, [B, S]),
      attention_mask: int64(batch.attentionMask, [B, S]),
      position_ids: int64(batch.positionIds.flat(), [3, B, S]),
      visual_embeds: new ort.Tensor('float32', visual, [N, H]),
      deepstack_embeds: new ort.Tensor('float32', deepstack, [3, N, H]),
      visual_index: int64(batch.visualIndex, [B, S]),
      last_index: int64([batch.lastIndex], [B]),
    });
  }

  async release(): Promise<void> {
    await Promise.all([this.visionSession.release(), this.decoderSession.release()]);
  }
}
