// How the graphs store and compute their big weights at each package precision (docs/qwen3-vl-model.md#numeric-precision):
// - fp32: MatMul by a float32 [in, out] initializer (the reference graph, unchanged);
// - fp16: float16 initializers. Where fp16 arithmetic is safe the linear runs in fp16
//   (Cast x → fp16, MatMul, Cast → fp32), so a GPU EP uses its fp16 kernels; where fp16 would
//   overflow (vision MLPs, the decoder's down_proj that writes the massive residual
//   activations, the mergers) only the storage is fp16 and the weight is Cast to fp32 (an
//   initializer Cast that onnxruntime folds at load). Norms, softmax, rotary and the residual
//   stream stay fp32 in every precision: activations between layers are always fp32;
// - int8 / int4: com.microsoft MatMulNBits over weights quantised here (weight-quantization.ts), at
//   the accuracy level and block size of NBitsSettings.
import type { GraphVariant, Precision } from '../../manifest/common/model-manifest.ts';
import type { GraphBuilder } from '../../onnx/node/graph-builder.ts';
import { float32ToF16Bits } from '../../checkpoint/common/half-float.ts';
import { transposeLinear } from './text-decoder-blocks.ts';
import { quantizeBlockwise, quantizeRowsInt8, type QuantBits } from '../common/weight-quantization.ts';

export type { GraphVariant, Precision } from '../../manifest/common/model-manifest.ts';

export const ONNX_FLOAT = 1;
export const ONNX_FLOAT16 = 10;
const MS_DOMAIN = 'com.microsoft';

/** How int8/int4 packages run their quantised linears (com.microsoft MatMulNBits). */
export interface NBitsSettings {
  /**
   * The kernel's compute type: 0 (unset) / 1 fp32 keep activations fp32; 4 quantises each
   * activation block to int8 and uses integer dot products (docs/model-precision.md#int8-and-int4-on-cpu).
   */
  readonly accuracyLevel: 0 | 1 | 2 | 3 | 4;
  /** Weights per quantisation block along K (a power of two ≥ 16). */
  readonly blockSize: number;
}

/** Options both graph builders accept; defaults give the fp32 plain-op reference graph. */
export interface GraphPrecisionOptions {
  readonly precision?: Precision;
  readonly variant?: GraphVariant;
  /** int8/int4 only; default NBITS_DEFAULTS (measuring other settings: bench/model-quantized.ts). */
  readonly nbits?: Partial<NBitsSettings>;
}

/** Block size of MatMulNBits: 32 keeps int4 error low (4.5 bits + zero point per weight) at a small size cost over 128. */
export const NBITS_BLOCK_SIZE = 32;
/**
 * MatMulNBits accuracy_level 4 (int8 activations, integer dot products), chosen by measurement
 * (docs/model-precision.md#int8-and-int4-on-cpu): on CPU int8 ran 1.3–1.4× fp32 instead of 0.25–0.65×
 * at level 0, whose 8-bit kernel dequantises the weights on every call; the second error source it
 * adds left top-k agreement on the official goldens unchanged.
 */
export const NBITS_ACCURACY_LEVEL = 4;

export const NBITS_DEFAULTS: NBitsSettings = { accuracyLevel: NBITS_ACCURACY_LEVEL, blockSize: NBITS_BLOCK_SIZE };

export function resolveNBits(options: GraphPrecisionOptions): NBitsSettings {
  const settings = { ...NBITS_DEFAULTS, ...options.nbits };
  if (![0, 1, 2, 3, 4].includes(settings.accuracyLevel)) throw new Error(`MatMulNBits accuracy level must be 0–4, got ${JSON.stringify(settings.accuracyLevel)}`);
  const b = settings.blockSize;
  if (!Number.isInteger(b) || b < 16 || (b & (b - 1)) !== 0) throw new Error(`MatMulNBits block size must be a power of two ≥ 16, got ${JSON.stringify(b)}`);
  return settings;
}

/**
 * Whether a linear layer may compute in fp16 (`'fp16-ok'`) or must compute in fp32 whatever the
 * storage (`'fp32-island'`, the fp16 overflow risks of docs/qwen3-vl-model.md#numeric-precision).
 */
export type LinearRange = 'fp16-ok' | 'fp32-island';

export function resolvePrecision(options: GraphPrecisionOptions): { precision: Precision; variant: GraphVariant } {
  const precision = options.precision ?? 'fp32';
  const variant = options.variant ?? 'plain';
  if (!['fp32', 'fp16', 'int8', 'int4'].includes(precision)) throw new Error(`precision must be 'fp32', 'fp16', 'int8' or 'int4', got ${JSON.stringify(precision)}`);
  if (variant !== 'plain' && variant !== 'fused') throw new Error(`variant must be 'plain' or 'fused', got ${JSON.stringify(variant)}`);
  return { precision, variant };
}

/** float16 bit patterns of a float32 array, converted once (the builder then writes them as-is). */
export function toF16Bits(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = float32ToF16Bits(values[i]);
  return out;
}

/** Emits linear layers and embedding lookups at one precision; fp16 casts of a shared input are reused. */
export class PrecisionWriter {
  private readonly halfInputs = new Map<string, string>();

  constructor(
    readonly g: GraphBuilder,
    readonly precision: Precision,
    /** Precision of weights this writer may quantise: the vision tower keeps fp32 in int8/int4 packages. */
    private readonly quantize: boolean,
    private readonly nbits: NBitsSettings = NBITS_DEFAULTS,
  ) {}

  /**
   * x·Wᵀ for an HF weight [out, in] (no bias). `name` is the initializer's name in the fp32 graph;
   * quantised forms add suffixes.
   */
  linear(x: string, name: string, weight: Float32Array, outFeatures: number, inFeatures: number, range: LinearRange): string {
    const g = this.g;
    if (weight.length !== outFeatures * inFeatures) {
      throw new RangeError(`linear weight ${name} has ${weight.length} values, expected ${outFeatures}×${inFeatures}; check the checkpoint against config.json`);
    }
    if ((this.precision === 'int8' || this.precision === 'int4') && this.quantize) {
      const bits: QuantBits = this.precision === 'int8' ? 8 : 4;
      // int8 is symmetric (256 levels leave little to gain from a zero point); int4 takes a zero point per block.
      const { accuracyLevel, blockSize } = this.nbits;
      const q = quantizeBlockwise(weight, outFeatures, inFeatures, { bits, blockSize, symmetric: bits === 8 });
      const inputs = [
        x,
        g.weight(`${name}.q${bits}`, q.packed, [q.n, q.blocksPerRow, q.blobSize], 'uint8'),
        g.weight(`${name}.scales`, q.scales, [q.n * q.blocksPerRow]),
      ];
      if (q.zeroPoints) inputs.push(g.weight(`${name}.zero_points`, q.zeroPoints, [q.zeroPoints.length], 'uint8'));
      return g.node('MatMulNBits', inputs, { K: inFeatures, N: outFeatures, bits, block_size: blockSize, accuracy_level: accuracyLevel }, { domain: MS_DOMAIN });
    }
    const transposed = transposeLinear(weight, outFeatures, inFeatures);
    if (this.precision !== 'fp16') return g.node('MatMul', [x, g.weight(name, transposed, [inFeatures, outFeatures])]);
    const half = g.weight(name, toF16Bits(transposed), [inFeatures, outFeatures], 'float16');
    if (range === 'fp32-island') return g.node('MatMul', [x, g.node('Cast', [half], { to: ONNX_FLOAT })]);
    return g.node('Cast', [g.node('MatMul', [this.half(x), half])], { to: ONNX_FLOAT });
  }

  /**
   * table[ids] as float32 [..ids, width]. fp16 stores the table as float16; int8/int4 store int8
   * codes with one float32 scale per row (the table is 1.24 GB of the 2B's fp32 decoder).
   */
  embedding(name: string, table: Float32Array, rows: number, width: number, ids: string): string {
    const g = this.g;
    if (this.precision === 'fp16') {
      return g.node('Cast', [g.node('Gather', [g.weight(name, toF16Bits(table), [rows, width], 'float16'), ids], { axis: 0 })], { to: ONNX_FLOAT });
    }
    if ((this.precision === 'int8' || this.precision === 'int4') && this.quantize) {
      const q = quantizeRowsInt8(table, rows, width);
      const codes = g.node('Gather', [g.weight(`${name}.q8`, q.codes, [rows, width], 'int8'), ids], { axis: 0 });
      const scales = g.node('Gather', [g.weight(`${name}.row_scales`, q.scales, [rows, 1]), ids], { axis: 0 });
      return g.node('Mul', [g.node('Cast', [codes], { to: ONNX_FLOAT }), scales]);
    }
    return g.node('Gather', [g.weight(name, table, [rows, width]), ids], { axis: 0 });
  }

  private half(x: string): string {
    let cast = this.halfInputs.get(x);
    if (cast === undefined) {
      cast = this.g.node('Cast', [x], { to: ONNX_FLOAT16 });
      this.halfInputs.set(x, cast);
    }
    return cast;
  }
}
