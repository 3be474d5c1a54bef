// Small graph pieces of the Qwen3 text decoder that every layer repeats: RMSNorm from ONNX
// primitives (opset 17 has no RMSNormalization) and bias-free linear layers from HF [out, in]
// weights.
import type { GraphBuilder } from '../../onnx/node/graph-builder.ts';

/**
 * RMSNorm over the last axis, in float32: x · 1/sqrt(mean(x²) + eps) · w (HF's Qwen3RMSNorm with
 * an fp32 model; rsqrt is written as Reciprocal(Sqrt) because opset 17 has no Rsqrt).
 */
export function rmsNorm(g: GraphBuilder, x: string, weight: string, eps: number): string {
  const meanSquare = g.node('ReduceMean', [g.node('Mul', [x, x])], { axes: [-1], keepdims: 1 });
  const inverseRms = g.node('Reciprocal', [g.node('Sqrt', [g.node('Add', [meanSquare, g.constant([eps], [], 'float32')])])]);
  return g.node('Mul', [g.node('Mul', [x, inverseRms]), weight]);
}

/** A HF linear weight [out, in] (row-major) as the [in, out] matrix MatMul wants. */
export function transposeLinear(weight: Float32Array, outFeatures: number, inFeatures: number): Float32Array {
  if (weight.length !== outFeatures * inFeatures) {
    throw new RangeError(`linear weight has ${weight.length} values, expected ${outFeatures}×${inFeatures}; check the checkpoint against config.json`);
  }
  const out = new Float32Array(weight.length);
  for (let o = 0; o < outFeatures; o++) {
    const row = o * inFeatures;
    for (let i = 0; i < inFeatures; i++) out[i * outFeatures + o] = weight[row + i];
  }
  return out;
}

/** A 1-D int64 constant (axes, shapes, split sizes). */
export function int64s(g: GraphBuilder, values: number[]): string {
  return g.constant(values, [values.length], 'int64');
}
