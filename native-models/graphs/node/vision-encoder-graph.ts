// Writes vision_encoder.onnx (docs/qwen3-vl-model.md#vision-tower, docs/model-packages.md#graph-inputs-and-outputs) straight from the safetensors weights:
// patch embed, learned position embedding, ViT blocks with 2-D rotary, DeepStack taps, final
// merger. Everything grid-dependent (bilinear pos-embed taps, rotary tables) comes in as inputs,
// so one fp32 graph serves every image size and video length (num_segments, seg_patches,
// seg_tokens are symbolic). Attention is batched over segments: each segment attends only to
// itself, exactly HF's cu_seqlens, with no mask.
//
// Precision (graph-precision.ts): fp16 stores every linear weight as float16; the attention
// projections compute in fp16, while the patch embed, the block MLPs (whose fc1 output exceeds the
// fp16 max on the 2B, docs/qwen3-vl-model.md#numeric-precision) and the mergers compute in fp32 from fp16 storage. int8/int4
// packages keep this tower fp32: it is small next to the decoder. The fused variant uses
// MultiHeadAttention and FastGelu/Gelu (fused-ops.ts); the plain variant's attention runs in blocks
// of query rows (vision-attention.ts) so its scores never take more than a bounded amount of memory.
import path from 'node:path';
import { mkdir } from 'node:fs/promises';
import type { Checkpoint } from '../../checkpoint/node/safetensors-reader.ts';
import { parseQwen3VLConfig, type Qwen3VLVisionConfig } from '../../checkpoint/common/qwen3vl-config.ts';
import { GraphBuilder, type SaveResult } from '../../onnx/node/graph-builder.ts';
import { fusedAttention, fusedGeluErf, fusedGeluTanh } from './fused-ops.ts';
import { blockedVisionAttention, VISION_ATTENTION_BLOCK_BYTES } from './vision-attention.ts';
import { PrecisionWriter, resolvePrecision, type GraphPrecisionOptions, type GraphVariant, type LinearRange } from './graph-precision.ts';

export const VISION_ENCODER_FILE = 'vision_encoder.onnx';
/** HF LayerNorm eps of every vision norm (blocks and mergers). */
const LAYER_NORM_EPS = 1e-6;
const VISION = 'model.visual.';
/** DeepStack taps in every Qwen3-VL; the graph output stacks exactly this many. */
const DEEPSTACK_TAPS = 3;

export interface BuildVisionEncoderOptions extends GraphPrecisionOptions {
  /** Called after each checkpoint tensor is written: (tensors done, tensors in total). */
  onProgress?: (done: number, total: number) => void;
  /**
   * Plain variant: the bound on one block of attention scores (bytes, default 64 MiB), or
   * 'unblocked' for the single [S, heads, L, L] product of earlier builds (kept as the benchmark's
   * baseline). Tests use small bounds so that small images run in several ragged blocks.
   */
  attentionBlockBytes?: number | 'unblocked';
}

/** Tensors the vision graph reads, in the order it reads them (also the progress total). */
function visionTensorNames(v: Qwen3VLVisionConfig): string[] {
  const names = [`${VISION}patch_embed.proj.weight`, `${VISION}patch_embed.proj.bias`, `${VISION}pos_embed.weight`];
  const linear = (p: string) => [`${p}.weight`, `${p}.bias`];
  const merger = (p: string) => [`${p}norm.weight`, `${p}norm.bias`, ...linear(`${p}linear_fc1`), ...linear(`${p}linear_fc2`)];
  for (let i = 0; i < v.depth; i++) {
    const b = `${VISION}blocks.${i}.`;
    names.push(...linear(`${b}norm1`), ...linear(`${b}norm2`), ...linear(`${b}attn.qkv`), ...linear(`${b}attn.proj`), ...linear(`${b}mlp.linear_fc1`), ...linear(`${b}mlp.linear_fc2`));
    const tap = v.deepstackVisualIndexes.indexOf(i);
    if (tap >= 0) names.push(...merger(`${VISION}deepstack_merger_list.${tap}.`));
  }
  names.push(...merger(`${VISION}merger.`));
  return names;
}

/** Emits the graph while reading the checkpoint one tensor at a time. */
class VisionGraphWriter {
  private done = 0;

  constructor(
    private readonly g: GraphBuilder,
    private readonly writer: PrecisionWriter,
    readonly variant: GraphVariant,
    private readonly checkpoint: Checkpoint,
    private readonly total: number,
    private readonly onProgress?: (done: number, total: number) => void,
  ) {}

  /** A checkpoint tensor as float32 after checking its shape against the config. */
  async read(name: string, shape: number[]): Promise<Float32Array> {
    const info = this.checkpoint.info(name);
    if (info.shape.length !== shape.length || info.shape.some((d, i) => d !== shape[i])) {
      throw new Error(`${this.checkpoint.dir}: tensor "${name}" has shape [${info.shape.join(', ')}], the config implies [${shape.join(', ')}]; the checkpoint does not match its config.json.`);
    }
    const data = await this.checkpoint.readFloat32(name);
    this.onProgress?.(++this.done, this.total);
    return data;
  }

  /** A 1-D parameter (bias, norm weight) as an initializer named after the checkpoint tensor. */
  async vector(name: string, size: number): Promise<string> {
    return this.g.weight(name, await this.read(name, [size]), [size]);
  }

  /** A checkpoint tensor as-is (e.g. the position table). */
  async tensor(name: string, shape: number[]): Promise<string> {
    return this.g.weight(name, await this.read(name, shape), shape);
  }

  /** x·Wᵀ + b for an HF Linear `prefix` ([out, in] weight). */
  async linear(x: string, prefix: string, inFeatures: number, outFeatures: number, range: LinearRange): Promise<string> {
    const { product, bias } = await this.linearParts(x, prefix, inFeatures, outFeatures, range);
    return this.g.node('Add', [product, bias]);
  }

  /** x·Wᵀ and the bias initializer, apart (FastGelu adds the bias itself). */
  async linearParts(x: string, prefix: string, inFeatures: number, outFeatures: number, range: LinearRange): Promise<{ product: string; bias: string }> {
    const weight = await this.read(`${prefix}.weight`, [outFeatures, inFeatures]);
    const product = this.writer.linear(x, `${prefix}.weight_t`, weight, outFeatures, inFeatures, range);
    return { product, bias: await this.vector(`${prefix}.bias`, outFeatures) };
  }

  async layerNorm(x: string, prefix: string, size: number): Promise<string> {
    const scale = await this.vector(`${prefix}.weight`, size);
    const bias = await this.vector(`${prefix}.bias`, size);
    return this.g.node('LayerNormalization', [x, scale, bias], { axis: -1, epsilon: LAYER_NORM_EPS });
  }

  private scalar(value: number): string {
    return this.g.constant([value], [], 'float32');
  }

  /** gelu_pytorch_tanh from primitive ops: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
  geluTanh(x: string): string {
    const g = this.g;
    const cube = g.node('Mul', [g.node('Mul', [x, x]), x]);
    const inner = g.node('Mul', [g.node('Add', [x, g.node('Mul', [cube, this.scalar(0.044715)])]), this.scalar(Math.sqrt(2 / Math.PI))]);
    return g.node('Mul', [g.node('Mul', [x, this.scalar(0.5)]), g.node('Add', [g.node('Tanh', [inner]), this.scalar(1)])]);
  }

  /** Exact GELU of the mergers: the contrib Gelu kernel in the fused variant. */
  gelu(x: string): string {
    return this.variant === 'fused' ? fusedGeluErf(this.g, x) : this.geluErf(x);
  }

  /** Exact GELU: 0.5·x·(1 + erf(x/√2)). */
  geluErf(x: string): string {
    const g = this.g;
    const erf = g.node('Erf', [g.node('Mul', [x, this.scalar(Math.SQRT1_2)])]);
    return g.node('Mul', [g.node('Mul', [x, this.scalar(0.5)]), g.node('Add', [erf, this.scalar(1)])]);
  }

  /** q·cos + rotate_half(q)·sin with rotate_half([a, b]) = [−b, a] over the last axis. */
  rotary(x: string, cos: string, sin: string): string {
    const g = this.g;
    const [first, second] = g.nodeN('Split', [x], 2, { axis: -1 });
    const rotated = g.node('Concat', [g.node('Neg', [second]), first], { axis: -1 });
    return g.node('Add', [g.node('Mul', [x, cos]), g.node('Mul', [rotated, sin])]);
  }
}

/**
 * Builds `vision_encoder.onnx` (+ `vision_encoder.onnx_data`) in `outDir` from a Qwen3-VL
 * checkpoint, per docs/model-packages.md#graph-inputs-and-outputs. Weights stream into the data file as they are read, so
 * memory stays near the largest single tensor.
 */
export async function buildVisionEncoder(checkpoint: Checkpoint, outDir: string, options: BuildVisionEncoderOptions = {}): Promise<SaveResult> {
  const { precision, variant } = resolvePrecision(options);
  const fused = variant === 'fused';
  const v = parseQwen3VLConfig(checkpoint.config, path.join(checkpoint.dir, 'config.json')).vision;
  const hid = v.hidden;
  const heads = v.heads;
  const headDim = hid / heads;
  if (!Number.isInteger(headDim) || headDim % 2 !== 0) throw new Error(`vision hidden_size ${hid} must split into ${heads} heads of an even head_dim.`);
  if (v.deepstackVisualIndexes.length !== DEEPSTACK_TAPS) throw new Error(`vision_config.deepstack_visual_indexes must list ${DEEPSTACK_TAPS} blocks (the graph's deepstack_embeds output has ${DEEPSTACK_TAPS}), got ${JSON.stringify(v.deepstackVisualIndexes)}.`);
  for (const index of v.deepstackVisualIndexes) {
    if (!Number.isInteger(index) || index < 0 || index >= v.depth) throw new Error(`DeepStack tap ${index} lies outside the ${v.depth} vision blocks.`);
  }
  const convShape = checkpoint.info(`${VISION}patch_embed.proj.weight`).shape;
  const patchDim = convShape.slice(1).reduce((a, b) => a * b, 1); // C·T·P·P = 1536
  if (convShape.length !== 5 || convShape[0] !== hid || convShape[2] !== v.temporalPatchSize || convShape[3] !== v.patchSize || convShape[4] !== v.patchSize) {
    throw new Error(`${checkpoint.dir}: patch_embed.proj.weight has shape [${convShape.join(', ')}], expected [${hid}, C, ${v.temporalPatchSize}, ${v.patchSize}, ${v.patchSize}].`);
  }
  const unit = v.spatialMergeSize ** 2; // patches per merged token
  const wide = hid * unit;

  await mkdir(outDir, { recursive: true });
  const g = new GraphBuilder('qwen3vl_vision_encoder', { opset: 17, scratchDir: outDir });
  try {
    const names = visionTensorNames(v);
    // Only fp16 changes this tower; int8/int4 packages keep it fp32 (no quantisation here).
    const w = new VisionGraphWriter(g, new PrecisionWriter(g, precision, false), variant, checkpoint, names.length, options.onProgress);

    const pixels = g.input('pixel_values', 'float32', ['num_segments', 'seg_patches', patchDim]);
    const posIdx = g.input('pos_embed_idx', 'int64', [4, 'seg_patches']);
    const posW = g.input('pos_embed_w', 'float32', [4, 'seg_patches']);
    const ropeCos = g.input('rope_cos', 'float32', ['seg_patches', headDim]);
    const ropeSin = g.input('rope_sin', 'float32', ['seg_patches', headDim]);

    // Patch embed: Conv3d with kernel = stride over (c, t, y, x) rows is a MatMul by the reshaped weight.
    // The conv weight [hid, C, T, P, P] read flat is the Linear weight [hid, patchDim].
    const patchWeight = await w.read(`${VISION}patch_embed.proj.weight`, convShape);
    const patchProduct = new PrecisionWriter(g, precision, false).linear(pixels, `${VISION}patch_embed.proj.weight_t`, patchWeight, hid, patchDim, 'fp32-island');
    let x = g.node('Add', [patchProduct, await w.vector(`${VISION}patch_embed.proj.bias`, hid)]);

    // Position embedding: Σₖ pos_embed[idx[k]]·w[k] over the 4 bilinear corners, same for every segment.
    const table = await w.tensor(`${VISION}pos_embed.weight`, [v.numPositionEmbeddings, hid]);
    const corners = g.node('Mul', [g.node('Gather', [table, posIdx], { axis: 0 }), g.node('Unsqueeze', [posW, g.constant([2], [1], 'int64')])]);
    x = g.node('Add', [x, g.node('ReduceSum', [corners, g.constant([0], [1], 'int64')], { keepdims: 0 })]);

    // Rotary tables [L, hd] → [L, 1, hd], broadcast over segments and heads of q/k [S, L, heads, hd].
    const cos = g.node('Unsqueeze', [ropeCos, g.constant([1], [1], 'int64')]);
    const sin = g.node('Unsqueeze', [ropeSin, g.constant([1], [1], 'int64')]);
    const qkvShape = g.constant([0, 0, 3, heads, headDim], [5], 'int64');
    const blockBytes = options.attentionBlockBytes ?? VISION_ATTENTION_BLOCK_BYTES;
    const unblocked = !fused && blockBytes === 'unblocked';
    // Only the unblocked attention reshapes and scales itself here (an unused initializer draws an ORT warning).
    const tokenShape = unblocked ? g.constant([0, 0, hid], [3], 'int64') : '';
    const mergedShape = g.constant([0, -1, wide], [3], 'int64');
    const qScale = unblocked ? g.constant([1 / Math.sqrt(headDim)], [], 'float32') : '';
    const pick = (index: number) => g.constant([index], [], 'int64');

    const deepstack: string[] = [];
    for (let i = 0; i < v.depth; i++) {
      const b = `${VISION}blocks.${i}.`;
      // Attention: qkv [S, L, 3, heads, hd] → rotary on q, k → softmax(q·kᵀ/√hd)·v per segment and head.
      const qkv = g.node('Reshape', [await w.linear(await w.layerNorm(x, `${b}norm1`, hid), `${b}attn.qkv`, hid, 3 * hid, 'fp16-ok'), qkvShape]);
      const q = w.rotary(g.node('Gather', [qkv, pick(0)], { axis: 2 }), cos, sin);
      const k = w.rotary(g.node('Gather', [qkv, pick(1)], { axis: 2 }), cos, sin);
      const value = g.node('Gather', [qkv, pick(2)], { axis: 2 });
      let context: string;
      if (fused) {
        context = fusedAttention(g, { q, k, v: value, heads, kvHeads: heads, headDim, bias: null }); // [S, L, hid]
      } else if (blockBytes !== 'unblocked') {
        context = blockedVisionAttention(g, { q, k, v: value, heads, headDim, blockBytes }); // [S, L, hid]
      } else {
        const qHeads = g.node('Transpose', [g.node('Mul', [q, qScale])], { perm: [0, 2, 1, 3] }); // [S, heads, L, hd]
        const kHeadsT = g.node('Transpose', [k], { perm: [0, 2, 3, 1] }); // [S, heads, hd, L]
        const vHeads = g.node('Transpose', [value], { perm: [0, 2, 1, 3] });
        const probs = g.node('Softmax', [g.node('MatMul', [qHeads, kHeadsT])], { axis: -1 });
        context = g.node('Reshape', [g.node('Transpose', [g.node('MatMul', [probs, vHeads])], { perm: [0, 2, 1, 3] }), tokenShape]);
      }
      x = g.node('Add', [x, await w.linear(context, `${b}attn.proj`, hid, hid, 'fp16-ok')]);
      // MLP with tanh GELU; fc1's output overflows fp16 on the 2B, so the MLP computes in fp32.
      const normed2 = await w.layerNorm(x, `${b}norm2`, hid);
      let up: string;
      if (fused) {
        const fc1 = await w.linearParts(normed2, `${b}mlp.linear_fc1`, hid, v.intermediate, 'fp32-island');
        up = fusedGeluTanh(g, fc1.product, fc1.bias);
      } else {
        up = w.geluTanh(await w.linear(normed2, `${b}mlp.linear_fc1`, hid, v.intermediate, 'fp32-island'));
      }
      x = g.node('Add', [x, await w.linear(up, `${b}mlp.linear_fc2`, v.intermediate, hid, 'fp32-island')]);

      const tap = v.deepstackVisualIndexes.indexOf(i);
      if (tap >= 0) {
        // DeepStack merger: 2×2 shuffle first, then LayerNorm over 4·hid.
        const m = `${VISION}deepstack_merger_list.${tap}.`;
        const shuffled = await w.layerNorm(g.node('Reshape', [x, mergedShape]), `${m}norm`, wide);
        const inner = w.gelu(await w.linear(shuffled, `${m}linear_fc1`, wide, wide, 'fp32-island'));
        deepstack[tap] = g.node('Unsqueeze', [await w.linear(inner, `${m}linear_fc2`, wide, v.outHidden, 'fp32-island'), g.constant([0], [1], 'int64')]);
      }
    }

    // Final merger: LayerNorm per token first, then the 2×2 shuffle.
    const m = `${VISION}merger.`;
    const shuffled = g.node('Reshape', [await w.layerNorm(x, `${m}norm`, hid), mergedShape]);
    const merged = await w.linear(w.gelu(await w.linear(shuffled, `${m}linear_fc1`, wide, wide, 'fp32-island')), `${m}linear_fc2`, wide, v.outHidden, 'fp32-island');

    g.output('merged_embeds', 'float32', ['num_segments', 'seg_tokens', v.outHidden], merged);
    g.output('deepstack_embeds', 'float32', [DEEPSTACK_TAPS, 'num_segments', 'seg_tokens', v.outHidden], g.node('Concat', deepstack, { axis: 0 }));
    return await g.save(path.join(outDir, VISION_ENCODER_FILE));
  } catch (error) {
    await g.discard();
    throw error;
  }
}
