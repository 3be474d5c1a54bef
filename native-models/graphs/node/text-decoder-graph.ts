// Writes `text_decoder.onnx` (embedder) or `rerank_decoder.onnx` (reranker) straight from the
// safetensors weights (docs/qwen3-vl-model.md#text-decoder, docs/model-packages.md#graph-inputs-and-outputs): token embedding with the vision rows fused in,
// every decoder layer with DeepStack adds after the first layers, final RMSNorm at last_index,
// and for the reranker the yes−no logit. Dynamic batch / seq / num_visual. `precision` picks how the
// linear layers and the embedding table are stored (graph-precision.ts; inputs and outputs are
// float32 in every precision), `variant` plain ONNX ops or onnxruntime's fused contrib ops.
//
// Everything data-dependent (positions, scatter index, pooled index) comes in as inputs, so one
// graph serves every prompt, image layout and batch size.
import { open } from 'node:fs/promises';
import path from 'node:path';
import { bf16BitsToFloat32, f16BitsToFloat32 } from '../../checkpoint/common/half-float.ts';
import { parseQwen3VLConfig, type Qwen3VLTextConfig } from '../../checkpoint/common/qwen3vl-config.ts';
import type { Checkpoint } from '../../checkpoint/node/safetensors-reader.ts';
import { GraphBuilder, type SaveResult } from '../../onnx/node/graph-builder.ts';
import { int64s, rmsNorm } from './text-decoder-blocks.ts';
import { fusedRmsNorm } from './fused-ops.ts';
import { addDecoderLayer, readChecked, TEXT_PREFIX, type LayerAttention } from './text-decoder-layer.ts';
import { DECODER_ATTENTION_BLOCK_BYTES, decoderAttentionPlan, singleProductAttentionBias } from './decoder-attention.ts';
import { rotaryTables } from './text-decoder-rotary.ts';
import { PrecisionWriter, resolveNBits, resolvePrecision, type GraphPrecisionOptions, type GraphVariant, type Precision } from './graph-precision.ts';

export type TextDecoderHead = 'embedding' | 'rerank';

export interface TextDecoderBuildOptions extends GraphPrecisionOptions {
  readonly head: TextDecoderHead;
  /** Called after the embedding table, after each layer and after saving: done of total steps. */
  readonly onProgress?: (done: number, total: number) => void;
  /**
   * The bound on one block of attention scores (bytes, default 64 MiB; decoder-attention.ts), or
   * 'unblocked' for the single [batch, heads, seq, seq] product of graph revisions 1–2 (kept as
   * the benchmark's baseline). Tests use small bounds so that short prompts run in several blocks.
   */
  readonly attentionBlockBytes?: number | 'unblocked';
}

export interface TextDecoderBuildResult extends SaveResult {
  readonly head: TextDecoderHead;
  readonly precision: Precision;
  readonly variant: GraphVariant;
  readonly layers: number;
  readonly hidden: number;
  readonly buildSeconds: number;
}

/** Token ids of "yes" and "no" whose lm_head rows form the reranker's score direction (docs/qwen3-vl-model.md#reranker-score). */
export const RERANK_YES_TOKEN_ID = 9693;
export const RERANK_NO_TOKEN_ID = 2152;
/** Number of DeepStack taps the contract's `deepstack_embeds [3, num_visual, hidden]` carries. */
export const DEEPSTACK_TAPS = 3;

const BYTES_PER_ELEMENT: Readonly<Record<string, number>> = { F32: 4, F16: 2, BF16: 2 };

/** Reads whole rows of a 2-D float tensor without loading the rest (an untied 8B lm_head is 2.5 GB in fp32). */
async function readRows(checkpoint: Checkpoint, name: string, rows: readonly number[]): Promise<Float32Array[]> {
  const info = checkpoint.info(name);
  const size = BYTES_PER_ELEMENT[info.dtype];
  if (size === undefined || info.shape.length !== 2) {
    throw new TypeError(`${checkpoint.dir}: ${name} is ${info.dtype} [${info.shape.join(', ')}]; the reranker head needs a 2-D F32/F16/BF16 matrix — convert the checkpoint`);
  }
  const [count, width] = info.shape;
  const handle = await open(info.file, 'r');
  try {
    return await Promise.all(rows.map(async (row) => {
      if (row >= count) throw new RangeError(`${checkpoint.dir}: ${name} has ${count} rows, row ${row} requested; the reranker needs the Qwen vocabulary`);
      const bytes = new Uint8Array(width * size);
      const { bytesRead } = await handle.read(bytes, 0, bytes.byteLength, info.byteOffset + row * width * size);
      if (bytesRead !== bytes.byteLength) throw new Error(`${info.file}: ${name} row ${row} is cut short (${bytesRead} of ${bytes.byteLength} bytes); the safetensors file is truncated — download it again`);
      const view = new DataView(bytes.buffer);
      return Float32Array.from({ length: width }, (_, i) => {
        if (info.dtype === 'F32') return view.getFloat32(i * 4, true);
        const bits = view.getUint16(i * 2, true);
        return info.dtype === 'F16' ? f16BitsToFloat32(bits) : bf16BitsToFloat32(bits);
      });
    }));
  } finally {
    await handle.close();
  }
}

/** lm_head[yes] − lm_head[no] in float32 (lm_head is embed_tokens when tie_word_embeddings). */
async function rerankDirection(checkpoint: Checkpoint, text: Qwen3VLTextConfig): Promise<Float32Array> {
  const name = text.tieWordEmbeddings ? `${TEXT_PREFIX}embed_tokens.weight` : 'lm_head.weight';
  if (!checkpoint.has(name)) throw new Error(`${checkpoint.dir}: ${name} is missing; an untied reranker checkpoint must ship lm_head.weight`);
  const [yes, no] = await readRows(checkpoint, name, [RERANK_YES_TOKEN_ID, RERANK_NO_TOKEN_ID]);
  if (yes.length !== text.hidden) throw new RangeError(`${checkpoint.dir}: ${name} rows have ${yes.length} values, hidden_size is ${text.hidden}`);
  return Float32Array.from(yes, (v, d) => v - no[d]);
}

/**
 * x = embed_tokens[input_ids], with rows where visual_index ≥ 0 replaced by visual_embeds rows.
 * Returns x and the gather index into a table padded with one zero row (index num_visual), which
 * keeps Gather in bounds for text tokens and when num_visual = 0.
 */
function fuseEmbeddings(g: GraphBuilder, tokens: string, hidden: number): { x: string; visualGather: string } {
  const isVisual = g.node('GreaterOrEqual', ['visual_index', g.constant([0], [], 'int64')]);
  const numVisual = g.node('Shape', ['visual_embeds'], { start: 0, end: 1 }); // [1]
  const visualGather = g.node('Where', [isVisual, 'visual_index', numVisual]);
  const paddedVisual = g.node('Concat', ['visual_embeds', g.constant(new Float32Array(hidden), [1, hidden], 'float32')], { axis: 0 });
  const visualRows = g.node('Gather', [paddedVisual, visualGather], { axis: 0 });
  const x = g.node('Where', [g.node('Unsqueeze', [isVisual, int64s(g, [-1])]), visualRows, tokens]);
  return { x, visualGather };
}

/** DeepStack rows per tap, gathered to [batch, seq, hidden] (exact zeros at text tokens). */
function deepstackAdds(g: GraphBuilder, visualGather: string, hidden: number): string[] {
  const taps = g.nodeN('Split', ['deepstack_embeds', int64s(g, new Array<number>(DEEPSTACK_TAPS).fill(1))], DEEPSTACK_TAPS, { axis: 0 });
  const zeroRow = g.constant(new Float32Array(hidden), [1, hidden], 'float32');
  return taps.map((tap) => {
    const padded = g.node('Concat', [g.node('Squeeze', [tap, int64s(g, [0])]), zeroRow], { axis: 0 });
    return g.node('Gather', [padded, visualGather], { axis: 0 });
  });
}

/**
 * Builds the decoder graph of `checkpoint` and saves it to `outFile` (+ `<name>.onnx_data` beside
 * it). Inputs/outputs: docs/model-packages.md#graph-inputs-and-outputs; the reranker graph adds `yes_no_logit`.
 */
export async function buildTextDecoder(checkpoint: Checkpoint, outFile: string, options: TextDecoderBuildOptions): Promise<TextDecoderBuildResult> {
  const started = performance.now();
  const { head } = options;
  const { precision, variant } = resolvePrecision(options);
  if (head !== 'embedding' && head !== 'rerank') throw new Error(`head must be 'embedding' or 'rerank', got ${JSON.stringify(head)}`);
  const config = parseQwen3VLConfig(checkpoint.config, path.join(checkpoint.dir, 'config.json'));
  const text = config.text;
  const { hidden, layers } = text;
  if (config.vision.deepstackVisualIndexes.length !== DEEPSTACK_TAPS) {
    throw new RangeError(`${checkpoint.dir}: ${config.vision.deepstackVisualIndexes.length} DeepStack taps in config.json; the decoder contract carries ${DEEPSTACK_TAPS}`);
  }
  if (layers < DEEPSTACK_TAPS) throw new RangeError(`${checkpoint.dir}: ${layers} decoder layers cannot take ${DEEPSTACK_TAPS} DeepStack adds`);
  const total = layers + 2;
  const progress = (done: number) => options.onProgress?.(done, total);

  const absoluteOut = path.resolve(outFile);
  const g = new GraphBuilder(path.basename(absoluteOut, '.onnx'), { scratchDir: path.dirname(absoluteOut) });
  try {
    g.input('input_ids', 'int64', ['batch', 'seq']);
    g.input('attention_mask', 'int64', ['batch', 'seq']);
    g.input('position_ids', 'int64', [3, 'batch', 'seq']);
    g.input('visual_embeds', 'float32', ['num_visual', hidden]);
    g.input('deepstack_embeds', 'float32', [DEEPSTACK_TAPS, 'num_visual', hidden]);
    g.input('visual_index', 'int64', ['batch', 'seq']);
    g.input('last_index', 'int64', ['batch']);

    const embedName = `${TEXT_PREFIX}embed_tokens.weight`;
    const writer = new PrecisionWriter(g, precision, true, resolveNBits(options));
    const tokens = writer.embedding(embedName, await readChecked(checkpoint, embedName, [text.vocabSize, hidden]), text.vocabSize, hidden, 'input_ids');
    const fused = fuseEmbeddings(g, tokens, hidden);
    const deepstack = deepstackAdds(g, fused.visualGather, hidden);
    const blockBytes = options.attentionBlockBytes ?? DECODER_ATTENTION_BLOCK_BYTES;
    const attention: LayerAttention = blockBytes === 'unblocked'
      ? { bias: singleProductAttentionBias(g, 'input_ids', 'attention_mask', variant === 'fused') }
      : { blocked: decoderAttentionPlan(g, { heads: text.heads, kvHeads: text.kvHeads, headDim: text.headDim, blockBytes, inputIds: 'input_ids', attentionMask: 'attention_mask' }) };
    const context = {
      rotary: rotaryTables(g, 'position_ids', text.ropeTheta, text.headDim, text.mropeSection),
      attention,
      writer,
      variant,
    };
    progress(1);

    let x = fused.x;
    for (let layer = 0; layer < layers; layer++) {
      x = await addDecoderLayer(g, checkpoint, text, layer, x, context);
      if (layer < DEEPSTACK_TAPS) x = g.node('Add', [x, deepstack[layer]]);
      progress(layer + 2);
    }

    // The final RMSNorm is per token, so norming only the pooled rows gives the same values.
    const lastRows = g.node('GatherND', [x, g.node('Unsqueeze', ['last_index', int64s(g, [1])])], { batch_dims: 1 }); // [B, hidden]
    const normName = `${TEXT_PREFIX}norm.weight`;
    const pooled = (variant === 'fused' ? fusedRmsNorm : rmsNorm)(g, lastRows, g.weight(normName, await readChecked(checkpoint, normName, [hidden]), [hidden]), text.rmsNormEps);
    g.output('pooled_hidden', 'float32', ['batch', hidden], pooled);
    if (head === 'rerank') {
      const direction = g.weight('rerank.yes_minus_no', await rerankDirection(checkpoint, text), [hidden, 1]);
      g.output('yes_no_logit', 'float32', ['batch'], g.node('Reshape', [g.node('MatMul', [pooled, direction]), int64s(g, [-1])]));
    }
    const saved = await g.save(absoluteOut);
    progress(total);
    return { ...saved, head, precision, variant, layers, hidden, buildSeconds: (performance.now() - started) / 1000 };
  } catch (error) {
    await g.discard();
    throw error;
  }
}
