// How many bytes a Trove model package takes, on disk and in memory while it runs, at each
// precision. These are *computed*, not measured: parameter shapes come from the architecture
// (`qwen3VLParameterShapes`, the same list the builder checks a checkpoint against) and each
// tensor is priced by what docs/model-precision.md says the graph builder does with it:
//
//   decoder q/k/v/o, gate/up   fp32 4 B · fp16 2 B · int8/int4 MatMulNBits (block 32, fp32 scale
//                              per block; int4 also a packed 4-bit zero point per block)
//   decoder down_proj          as above, except fp16: stored fp16 (2 B on disk) but cast to fp32 when
//                              onnxruntime loads the session (the "fp32 island"), so 4 B in memory
//   token embedding table      fp32 4 B · fp16 2 B · int8/int4 1 B + one fp32 scale per row
//   vision attention qkv/proj  fp16: 2 B; int8/int4 leave the vision tower fp32
//   other vision weights       fp16: stored fp16, computed fp32 (4 B in memory, 2 B on disk)
//   norms, biases, the rest    fp32
//   lm_head                    not in any graph (the reranker keeps only the yes−no direction)
//
// Working memory (activations, onnxruntime's arenas, the worker) is a stated margin, not a
// measurement: see WORKING_BYTES below and docs/model-catalog.md.
import type { Qwen3VLConfig } from '../../checkpoint/common/qwen3vl-config.ts';
import { qwen3VLParameterShapes } from '../../checkpoint/common/qwen3vl-parameters.ts';

export const PRECISIONS = ['fp32', 'fp16', 'int8', 'int4'] as const;
export type CatalogPrecision = (typeof PRECISIONS)[number];
export type PerPrecision = Record<CatalogPrecision, number>;

export const GIB = 1024 ** 3;

/** The architecture numbers the sizes depend on (docs/qwen3-vl-model.md#model-configuration, checked against published parameter counts). */
export interface ModelShape {
  text: { vocabSize: number; hidden: number; intermediate: number; layers: number; heads: number; kvHeads: number; headDim: number };
  vision: { depth: number; hidden: number; intermediate: number; heads: number; outHidden: number; deepstack: number };
  /** The checkpoint stores an untied `lm_head.weight` (Reranker-8B does; the embedders and Reranker-2B don't). */
  lmHead: boolean;
}

export const SHAPE_2B: Omit<ModelShape, 'lmHead'> = {
  text: { vocabSize: 151936, hidden: 2048, intermediate: 6144, layers: 28, heads: 16, kvHeads: 8, headDim: 128 },
  vision: { depth: 24, hidden: 1024, intermediate: 4096, heads: 16, outHidden: 2048, deepstack: 3 },
};
export const SHAPE_8B: Omit<ModelShape, 'lmHead'> = {
  text: { vocabSize: 151936, hidden: 4096, intermediate: 12288, layers: 36, heads: 32, kvHeads: 8, headDim: 128 },
  vision: { depth: 27, hidden: 1152, intermediate: 4304, heads: 16, outHidden: 4096, deepstack: 3 },
};

function toConfig(shape: ModelShape): Qwen3VLConfig {
  const { text: t, vision: v } = shape;
  return {
    text: { ...t, rmsNormEps: 1e-6, ropeTheta: 5e6, mropeSection: [24, 20, 20], tieWordEmbeddings: !shape.lmHead },
    vision: {
      depth: v.depth,
      hidden: v.hidden,
      intermediate: v.intermediate,
      heads: v.heads,
      patchSize: 16,
      temporalPatchSize: 2,
      spatialMergeSize: 2,
      outHidden: v.outHidden,
      numPositionEmbeddings: 2304,
      deepstackVisualIndexes: Array.from({ length: v.deepstack }, (_, i) => i),
    },
    tokens: { image: 151655, video: 151656, visionStart: 151652, visionEnd: 151653 },
  };
}

/** Parameters the checkpoint stores (what its bf16 safetensors hold, 2 bytes each, plus headers). */
export function parameterCount(shape: ModelShape): number {
  return qwen3VLParameterShapes(toConfig(shape)).reduce((sum, p) => sum + p.shape.reduce((a, b) => a * b, 1), 0);
}

type TensorClass = 'decoder-linear' | 'decoder-down' | 'embedding' | 'vision-attention' | 'vision-weight' | 'fp32' | 'none';

function classify(name: string, shape: number[]): TensorClass {
  if (name === 'lm_head.weight') return 'none';
  if (name.endsWith('embed_tokens.weight')) return 'embedding';
  if (name.includes('.language_model.layers.') && shape.length === 2) return name.includes('down_proj') ? 'decoder-down' : 'decoder-linear';
  if (name.startsWith('model.visual.') && name.endsWith('.weight') && shape.length >= 2) {
    return name.includes('.attn.qkv.') || name.includes('.attn.proj.') ? 'vision-attention' : 'vision-weight';
  }
  return 'fp32';
}

/** Bytes per weight of a MatMulNBits matrix with block 32: the codes, an fp32 scale per block, (int4) a 4-bit zero point per block. */
const NBITS_BYTES = { int8: 1 + 4 / 32, int4: 0.5 + 4 / 32 + 0.5 / 32 } as const;

function bytesPerWeight(cls: TensorClass, precision: CatalogPrecision, where: 'disk' | 'memory', rowLength: number): number {
  switch (cls) {
    case 'none':
      return 0;
    case 'fp32':
      return 4;
    case 'decoder-linear':
      return precision === 'fp32' ? 4 : precision === 'fp16' ? 2 : NBITS_BYTES[precision];
    case 'decoder-down':
      return precision === 'fp32' ? 4 : precision === 'fp16' ? (where === 'disk' ? 2 : 4) : NBITS_BYTES[precision];
    case 'embedding':
      return precision === 'fp32' ? 4 : precision === 'fp16' ? 2 : 1 + 4 / rowLength;
    case 'vision-attention':
      return precision === 'fp16' ? 2 : 4;
    case 'vision-weight':
      return precision === 'fp16' && where === 'disk' ? 2 : 4;
  }
}

/** Weight bytes of the package's graphs at each precision, on disk or resident while running. */
export function weightBytes(shape: ModelShape, where: 'disk' | 'memory'): PerPrecision {
  const out = { fp32: 0, fp16: 0, int8: 0, int4: 0 };
  for (const p of qwen3VLParameterShapes(toConfig(shape))) {
    const count = p.shape.reduce((a, b) => a * b, 1);
    const cls = classify(p.name, p.shape);
    for (const precision of PRECISIONS) out[precision] += count * bytesPerWeight(cls, precision, where, p.shape.at(-1)!);
  }
  for (const precision of PRECISIONS) out[precision] = Math.ceil(out[precision]);
  return out;
}

/**
 * Working memory on top of the weights while the model runs: onnxruntime itself and its arenas
 * (~1 GiB), plus the largest activations of one decoder batch under the runtime's limits
 * (docs/runtime.md "Batching": 2²⁴ attention scores per head → 4 B × heads × 2²⁴ = 1 GiB for 16
 * heads, 2 GiB for 32; 8192 padded tokens through the MLP ≈ 0.5 GiB for 2B, 1 GiB for 8B). A
 * stated margin, not a measurement; the model worker runs one request at a time, so an embedder
 * and a reranker loaded together share one margin (`pairMemoryBytes`).
 */
export const WORKING_BYTES = { '2b': 2.5 * GIB, '8b': 4 * GIB } as const;
