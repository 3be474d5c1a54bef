// The vision tower's self-attention in plain ONNX ops, computed in blocks of query rows so that
// memory stays bounded for every input the reference accepts (docs/model-packages.md#vision-attention-memory).
//
// Each segment (an image, or one temporal group of a video) attends only to itself, so the
// attention is block-diagonal over segments and batched over them. Materialising the whole
// [segments, heads, L, L] score tensor costs 3.3 GB for one 7,200-patch image; a Loop over blocks
// of query rows computes softmax(q·kᵀ/√d)·v for `rows` queries at a time against all L keys of
// their segment. Every query row still sees its full key row, so each output is the same sum in
// the same order as the unblocked graph (exact, not an online-softmax approximation). The block
// height is chosen at run time from the input's shape so that one block's scores stay within
// `blockBytes`; small inputs run as one block.
import type { GraphBuilder } from '../../onnx/node/graph-builder.ts';

/** Default bound on one block's fp32 scores, all heads and segments together. */
export const VISION_ATTENTION_BLOCK_BYTES = 64 * 2 ** 20;

export interface BlockedAttentionInput {
  /** [S, L, heads, head_dim] after the rotary. */
  readonly q: string;
  readonly k: string;
  readonly v: string;
  readonly heads: number;
  readonly headDim: number;
  /** Upper bound on the fp32 scores of one block (default VISION_ATTENTION_BLOCK_BYTES); at least one query row per block. */
  readonly blockBytes?: number;
}

/** softmax(q·kᵀ/√hd)·v per segment and head, query rows in blocks → [S, L, heads·head_dim]. */
export function blockedVisionAttention(g: GraphBuilder, input: BlockedAttentionInput): string {
  const { heads, headDim } = input;
  const blockBytes = input.blockBytes ?? VISION_ATTENTION_BLOCK_BYTES;
  if (!(blockBytes >= 4)) throw new RangeError(`vision attention block bound ${blockBytes} bytes is too small for one score.`);
  const ints = (values: number[]) => g.constant(values, [values.length], 'int64');
  const scale = g.constant([1 / Math.sqrt(headDim)], [], 'float32');

  const qHeads = g.node('Transpose', [g.node('Mul', [input.q, scale])], { perm: [0, 2, 1, 3] }); // [S, heads, L, hd]
  const kHeadsT = g.node('Transpose', [input.k], { perm: [0, 2, 3, 1] }); // [S, heads, hd, L]
  const vHeads = g.node('Transpose', [input.v], { perm: [0, 2, 1, 3] }); // [S, heads, L, hd]

  // rows = clamp(⌊(blockBytes / 4 / heads) / (S·L)⌋, 1, L); blocks = ⌈L / rows⌉ (all [1] int64).
  const shape = g.node('Shape', [input.q]);
  const segments = g.node('Slice', [shape, ints([0]), ints([1])]);
  const length = g.node('Slice', [shape, ints([1]), ints([2])]);
  const perHead = ints([Math.floor(blockBytes / 4 / heads)]);
  const fitting = g.node('Div', [perHead, g.node('Mul', [segments, length])]);
  const rows = g.node('Min', [g.node('Max', [fitting, ints([1])]), length]);
  const blocks = g.node('Div', [g.node('Sub', [g.node('Add', [length, rows]), ints([1])]), rows]);
  // The last block is padded with zero queries (their rows are uniform softmaxes, cut off below).
  const padRows = g.node('Sub', [g.node('Mul', [blocks, rows]), length]);
  const pads = g.node('Concat', [ints([0, 0, 0, 0, 0, 0]), padRows, ints([0])], { axis: 0 });
  const qPadded = g.node('Pad', [qHeads, pads]);

  const body = g.subgraph('vision_attention_block');
  const iteration = body.input(g.fresh('block'), 'int64', []);
  const condition = body.input(g.fresh('cond'), 'bool', []);
  const start = body.node('Mul', [body.node('Unsqueeze', [iteration, ints([0])]), rows]);
  const queries = body.node('Slice', [qPadded, start, body.node('Add', [start, rows]), ints([2])]); // [S, heads, rows, hd]
  const probs = body.node('Softmax', [body.node('MatMul', [queries, kHeadsT])], { axis: -1 }); // [S, heads, rows, L]
  const context = body.node('MatMul', [probs, vHeads]); // [S, heads, rows, hd]
  body.output(g.fresh('cond_out'), 'bool', [], condition);
  body.output(g.fresh('block_context'), 'float32', null, context);

  const [stacked] = g.nodeN('Loop', [g.node('Squeeze', [blocks, ints([0])]), ''], 1, { body: { graph: body } }); // [blocks, S, heads, rows, hd]
  const padded = g.node('Reshape', [g.node('Transpose', [stacked], { perm: [1, 0, 3, 2, 4] }), ints([0, -1, heads * headDim])]); // [S, blocks·rows, hid]
  return g.node('Slice', [padded, ints([0]), length, ints([1])]);
}
