// The text decoder's causal self-attention computed in blocks of query rows, so that its scores
// never take more than a bounded amount of memory (docs/model-packages.md#decoder-attention-memory).
//
// The single product holds [batch, heads, S, S] float32 scores per layer: 4.3 GB for one
// 8,192-token row, the longest input the embedder accepts, and as much again for the softmax.
// Here a Loop computes softmax(q·kᵀ/√d + mask)·v for `rows` query rows at a time. Block i covers
// queries [i·rows, (i+1)·rows) and reads only the keys a causal mask can let them see,
// [0, min((i+1)·rows, S)): every later key is masked for every query of the block, and a masked
// score's exp is exactly 0 in float32, so dropping those keys changes no sum. Every other key of a
// query's row is still in its block, so each output is the same softmax-weighted sum as the single
// product (exact, not an online-softmax approximation). The mask is made per block from
// `attention_mask` and the positions (key ≤ query and key is a token), never as an [S, S] tensor,
// and applied as the single product's bias is: masked scores become float32's lowest finite value.
//
// The one difference is in rows that no output reads: a query whose keys are all masked (a left
// pad position of the reranker) averages v over its block's keys instead of all S keys. Pad
// positions are masked as keys for every token, so token rows never see them.
//
// GQA without copying k/v: query head h = kv·groups + g reads kv head kv (HF's repeat_kv order).
// The plain variant keeps q as [B, kv, groups, S, hd] and broadcasts k/v over `groups`; the fused
// variant runs com.microsoft.MultiHeadAttention per block with the block's bias (onnxruntime's CPU
// kernel materialises [B, heads, q_len, kv_len] scores whenever a bias or mask is given, so the
// blocks bound it the same way).
import type { GraphBuilder } from '../../onnx/node/graph-builder.ts';
import { int64s } from './text-decoder-blocks.ts';

/** Default bound on one block's fp32 scores, all rows and heads together. */
export const DECODER_ATTENTION_BLOCK_BYTES = 64 * 2 ** 20;
/** HF eager's finfo(float32).min: finite, so fully masked (left-pad) query rows stay finite, never NaN. */
export const MASKED_ATTENTION_BIAS = -3.4028234663852886e38;

const ONNX_BOOL = 9;
const MS_DOMAIN = 'com.microsoft';

/**
 * The single product's additive mask (graph revisions 1–2; the benchmark's baseline): [B, 1, 1, S, S]
 * for the plain variant, or [B, 1, S, S] (MultiHeadAttention's attention_bias) `forFusedAttention`:
 * 0 where key ≤ query and attention_mask[key] = 1, else the finite minimum.
 */
export function singleProductAttentionBias(g: GraphBuilder, inputIds: string, attentionMask: string, forFusedAttention: boolean): string {
  const seq = g.node('Shape', [inputIds], { start: 1, end: 2 });
  const ones = g.node('Expand', [g.constant([1], [1, 1], 'float32'), g.node('Concat', [seq, seq], { axis: 0 })]);
  const causal = g.node('Cast', [g.node('Trilu', [ones], { upper: 0 })], { to: ONNX_BOOL }); // [S, S], query-major
  const keyIsToken = g.node('Unsqueeze', [g.node('Cast', [attentionMask], { to: ONNX_BOOL }), int64s(g, [1])]); // [B, 1, S]
  const allowed = g.node('And', [causal, keyIsToken]);
  const bias = g.node('Where', [allowed, g.constant([0], [], 'float32'), g.constant([MASKED_ATTENTION_BIAS], [], 'float32')]);
  return g.node('Unsqueeze', [bias, int64s(g, forFusedAttention ? [1] : [1, 2])]);
}

/**
 * The plain single product of graph revisions 1–2 (the benchmark's baseline): softmax(q·kᵀ/√d +
 * bias)·v over whole rows, [B, kv, groups, S, S] scores at once → [B, S, heads·head_dim].
 */
export function singleProductDecoderAttention(g: GraphBuilder, input: { q: string; k: string; v: string; bias: string; heads: number; kvHeads: number; headDim: number }): string {
  const { heads, kvHeads, headDim } = input;
  const groups = heads / kvHeads;
  // q becomes [B, kv, groups, S, hd] and k/v get a broadcast axis of 1 in place of `groups`.
  const q5 = g.node('Transpose', [g.node('Reshape', [input.q, int64s(g, [0, 0, kvHeads, groups, headDim])])], { perm: [0, 2, 3, 1, 4] });
  const kT5 = g.node('Unsqueeze', [g.node('Transpose', [input.k], { perm: [0, 2, 3, 1] }), int64s(g, [2])]); // [B, kv, 1, hd, S]
  const v5 = g.node('Unsqueeze', [g.node('Transpose', [input.v], { perm: [0, 2, 1, 3] }), int64s(g, [2])]); // [B, kv, 1, S, hd]
  const scaled = g.node('Mul', [g.node('MatMul', [q5, kT5]), g.constant([1 / Math.sqrt(headDim)], [], 'float32')]);
  const probabilities = g.node('Softmax', [g.node('Add', [scaled, input.bias])], { axis: -1 });
  const attended = g.node('Transpose', [g.node('MatMul', [probabilities, v5])], { perm: [0, 3, 1, 2, 4] }); // [B, S, kv, groups, hd]
  return g.node('Reshape', [attended, int64s(g, [0, 0, heads * headDim])]);
}

/** Values every layer's attention shares: the block plan and the key mask, computed once per graph. */
export interface DecoderAttentionPlan {
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
  /** [1] int64: sequence length S. */
  readonly length: string;
  /** [1] int64: query rows per block. */
  readonly rows: string;
  /** [] int64: number of blocks (the Loop's trip count). */
  readonly blocks: string;
  /** [1] int64: zero query rows appended so that blocks·rows covers S. */
  readonly padRows: string;
  /** [B, S] bool: the key is a token (attention_mask = 1). */
  readonly keyIsToken: string;
}

/**
 * Works out the block height from the input's shape: rows = clamp(⌊blockBytes / 4 / heads / (B·S)⌋,
 * 1, S), so that one block's scores (B·heads·rows·keys, keys ≤ S) stay within `blockBytes`.
 */
export function decoderAttentionPlan(g: GraphBuilder, options: { heads: number; kvHeads: number; headDim: number; blockBytes: number; inputIds: string; attentionMask: string }): DecoderAttentionPlan {
  const { heads, kvHeads, headDim, blockBytes } = options;
  if (!(blockBytes >= 4)) throw new RangeError(`decoder attention block bound ${blockBytes} bytes is too small for one score.`);
  if (heads % kvHeads !== 0) throw new RangeError(`num_attention_heads ${heads} is not a multiple of num_key_value_heads ${kvHeads}; check config.json`);
  const shape = g.node('Shape', [options.inputIds]);
  const batch = g.node('Slice', [shape, int64s(g, [0]), int64s(g, [1])]);
  const length = g.node('Slice', [shape, int64s(g, [1]), int64s(g, [2])]);
  const perHead = int64s(g, [Math.floor(blockBytes / 4 / heads)]);
  const fitting = g.node('Div', [perHead, g.node('Mul', [batch, length])]);
  const rows = g.node('Min', [g.node('Max', [fitting, int64s(g, [1])]), length]);
  const blocks = g.node('Div', [g.node('Sub', [g.node('Add', [length, rows]), int64s(g, [1])]), rows]);
  const padRows = g.node('Sub', [g.node('Mul', [blocks, rows]), length]);
  const keyIsToken = g.node('Cast', [options.attentionMask], { to: ONNX_BOOL });
  return { heads, kvHeads, headDim, length, rows, blocks: g.node('Squeeze', [blocks, int64s(g, [0])]), padRows, keyIsToken };
}

export interface DecoderAttentionInput {
  /** [B, S, heads, head_dim] after q_norm and the rotary. */
  readonly q: string;
  /** [B, S, kvHeads, head_dim] after k_norm and the rotary. */
  readonly k: string;
  /** [B, S, kvHeads, head_dim]. */
  readonly v: string;
  readonly fused: boolean;
}

/** Causal + padding-masked GQA attention in blocks of query rows → [B, S, heads·head_dim]. */
export function blockedDecoderAttention(g: GraphBuilder, plan: DecoderAttentionPlan, input: DecoderAttentionInput): string {
  const { heads, kvHeads, headDim } = plan;
  const groups = heads / kvHeads;
  const zero = int64s(g, [0]);
  const hidden = heads * headDim;

  // Per block: start = i·rows, stop = start + rows, keys [0, end) with end = min(stop, S).
  const body = g.subgraph('decoder_attention_block');
  const iteration = body.input(g.fresh('block'), 'int64', []);
  const condition = body.input(g.fresh('cond'), 'bool', []);
  const start = body.node('Mul', [body.node('Unsqueeze', [iteration, zero]), plan.rows]);
  const stop = body.node('Add', [start, plan.rows]);
  const end = body.node('Min', [stop, plan.length]);
  // allowed[b, r, key] = key ≤ start + r and attention_mask[b, key] = 1  → [B, rows, end]
  const scalar = (x: string) => body.node('Squeeze', [x, zero]);
  const queryPos = body.node('Unsqueeze', [body.node('Range', [scalar(start), scalar(stop), body.constant([1], [], 'int64')]), int64s(g, [1])]); // [rows, 1]
  const keyPos = body.node('Range', [body.constant([0], [], 'int64'), scalar(end), body.constant([1], [], 'int64')]); // [end]
  const keyIsToken = body.node('Unsqueeze', [body.node('Slice', [plan.keyIsToken, zero, end, int64s(g, [1])]), int64s(g, [1])]); // [B, 1, end]
  const allowed = body.node('And', [body.node('LessOrEqual', [keyPos, queryPos]), keyIsToken]); // [B, rows, end]
  const lowest = g.constant([MASKED_ATTENTION_BIAS], [], 'float32');

  let context: string;
  let outputPerm: number[];
  if (input.fused) {
    // MultiHeadAttention wants as many k/v heads as query heads: repeat them once per layer, in
    // BNSH so the kernel takes them as they are ([B, heads, S, hd]); q stays [B, S, heads·hd].
    const repeatHeads = (x: string) => {
      const bnsh = g.node('Transpose', [x], { perm: [0, 2, 1, 3] }); // [B, kv, S, hd]
      if (groups === 1) return bnsh;
      const shape = g.node('Concat', [g.node('Shape', [bnsh], { start: 0, end: 2 }), int64s(g, [groups]), g.node('Shape', [bnsh], { start: 2, end: 4 })], { axis: 0 });
      return g.node('Reshape', [g.node('Expand', [g.node('Unsqueeze', [bnsh, int64s(g, [2])]), shape]), int64s(g, [0, heads, -1, headDim])]);
    };
    const keys = repeatHeads(input.k);
    const values = repeatHeads(input.v);
    const queries = g.node('Pad', [g.node('Reshape', [input.q, int64s(g, [0, 0, hidden])]), g.node('Concat', [int64s(g, [0, 0, 0, 0]), plan.padRows, zero], { axis: 0 })]); // [B, blocks·rows, hid]
    const bias = body.node('Unsqueeze', [body.node('Where', [allowed, body.constant([0], [], 'float32'), lowest]), int64s(g, [1])]); // [B, 1, rows, end]
    const blockQueries = body.node('Slice', [queries, start, stop, int64s(g, [1])]);
    const blockKeys = body.node('Slice', [keys, zero, end, int64s(g, [2])]);
    const blockValues = body.node('Slice', [values, zero, end, int64s(g, [2])]);
    context = body.node('MultiHeadAttention', [blockQueries, blockKeys, blockValues, '', '', bias], { num_heads: heads, scale: { float: 1 / Math.sqrt(headDim) } }, { domain: MS_DOMAIN }); // [B, rows, hid]
    outputPerm = [1, 0, 2, 3]; // [blocks, B, rows, hid] → [B, blocks, rows, hid]
  } else {
    const q5 = g.node('Transpose', [g.node('Reshape', [input.q, int64s(g, [0, 0, kvHeads, groups, headDim])])], { perm: [0, 2, 3, 1, 4] }); // [B, kv, groups, S, hd]
    const queries = g.node('Pad', [q5, g.node('Concat', [int64s(g, [0, 0, 0, 0, 0, 0, 0, 0]), plan.padRows, zero], { axis: 0 })]);
    const keysT = g.node('Unsqueeze', [g.node('Transpose', [input.k], { perm: [0, 2, 3, 1] }), int64s(g, [2])]); // [B, kv, 1, hd, S]
    const values = g.node('Unsqueeze', [g.node('Transpose', [input.v], { perm: [0, 2, 1, 3] }), int64s(g, [2])]); // [B, kv, 1, S, hd]
    const blockQueries = body.node('Slice', [queries, start, stop, int64s(g, [3])]); // [B, kv, groups, rows, hd]
    const blockKeysT = body.node('Slice', [keysT, zero, end, int64s(g, [4])]);
    const blockValues = body.node('Slice', [values, zero, end, int64s(g, [3])]);
    const scores = body.node('Mul', [body.node('MatMul', [blockQueries, blockKeysT]), g.constant([1 / Math.sqrt(headDim)], [], 'float32')]); // [B, kv, groups, rows, end]
    const bias = body.node('Unsqueeze', [body.node('Where', [allowed, body.constant([0], [], 'float32'), lowest]), int64s(g, [1, 2])]); // [B, 1, 1, rows, end]
    const probabilities = body.node('Softmax', [body.node('Add', [scores, bias])], { axis: -1 });
    context = body.node('MatMul', [probabilities, blockValues]); // [B, kv, groups, rows, hd]
    outputPerm = [1, 0, 4, 2, 3, 5]; // [blocks, B, kv, groups, rows, hd] → [B, blocks, rows, kv, groups, hd]
  }
  body.output(g.fresh('cond_out'), 'bool', [], condition);
  body.output(g.fresh('block_context'), 'float32', null, context);

  const [stacked] = g.nodeN('Loop', [plan.blocks, ''], 1, { body: { graph: body } });
  const padded = g.node('Reshape', [g.node('Transpose', [stacked], { perm: outputPerm }), int64s(g, [0, -1, hidden])]); // [B, blocks·rows, hid]
  return g.node('Slice', [padded, zero, plan.length, int64s(g, [1])]);
}
