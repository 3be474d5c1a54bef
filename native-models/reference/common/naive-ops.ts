// Float64 building blocks of the naive reference forward (tests only). Plain loops on purpose:
// each function is the textbook formula, so a reader can check it line by line.

/** y = W·x + b for a row-major weight W [out, in] (PyTorch nn.Linear layout). */
export function linear(weight: Float64Array, bias: Float64Array | undefined, x: Float64Array, outSize: number): Float64Array {
  const inSize = x.length;
  if (weight.length !== outSize * inSize) {
    throw new RangeError(`linear: weight has ${weight.length} values, expected ${outSize}×${inSize}`);
  }
  const y = new Float64Array(outSize);
  for (let o = 0; o < outSize; o++) {
    let sum = bias ? bias[o] : 0;
    const row = o * inSize;
    for (let i = 0; i < inSize; i++) sum += weight[row + i] * x[i];
    y[o] = sum;
  }
  return y;
}

/** LayerNorm with affine weight and bias (biased variance, like torch). */
export function layerNorm(x: Float64Array, weight: Float64Array, bias: Float64Array, eps: number): Float64Array {
  const n = x.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += x[i];
  mean /= n;
  let variance = 0;
  for (let i = 0; i < n; i++) variance += (x[i] - mean) ** 2;
  variance /= n;
  const inv = 1 / Math.sqrt(variance + eps);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) y[i] = (x[i] - mean) * inv * weight[i] + bias[i];
  return y;
}

/** RMSNorm (Qwen3): x · rsqrt(mean(x²) + eps) · weight; no mean subtraction, no bias. */
export function rmsNorm(x: Float64Array, weight: Float64Array, eps: number): Float64Array {
  const n = x.length;
  let meanSquare = 0;
  for (let i = 0; i < n; i++) meanSquare += x[i] * x[i];
  meanSquare /= n;
  const inv = 1 / Math.sqrt(meanSquare + eps);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) y[i] = x[i] * inv * weight[i];
  return y;
}

/** Softmax of a score vector, shifted by its maximum so large finite negatives stay finite. */
export function softmax(scores: Float64Array): Float64Array {
  let max = -Infinity;
  for (const s of scores) if (s > max) max = s;
  const p = new Float64Array(scores.length);
  let sum = 0;
  for (let i = 0; i < scores.length; i++) {
    p[i] = Math.exp(scores[i] - max);
    sum += p[i];
  }
  for (let i = 0; i < p.length; i++) p[i] /= sum;
  return p;
}

/**
 * `rotate_half` followed by the rotary mix: x·cos + rotate_half(x)·sin, where
 * rotate_half([a, b]) = [−b, a] over the two halves of the head dimension.
 */
export function applyRotary(x: Float64Array, cos: Float64Array, sin: Float64Array): Float64Array {
  const n = x.length;
  const half = n / 2;
  const y = new Float64Array(n);
  for (let d = 0; d < n; d++) {
    const rotated = d < half ? -x[d + half] : x[d - half];
    y[d] = x[d] * cos[d] + rotated * sin[d];
  }
  return y;
}

/**
 * erf in float64. |x| < 6: the everywhere-positive series
 *   erf(x) = 2/√π · e^(−x²) · Σ_{n≥0} 2ⁿ x^(2n+1) / (1·3·5···(2n+1)),
 * whose terms never cancel, so the relative error stays within a few ulps (≈1e-15).
 * |x| ≥ 6: erfc(6) ≈ 2e-17, below float64 resolution of 1, so erf = ±1.
 */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax >= 6) return Math.sign(x);
  const x2 = ax * ax;
  let term = ax;
  let sum = ax;
  for (let n = 0; n < 500; n++) {
    term *= (2 * x2) / (2 * n + 3);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  const value = (2 / Math.sqrt(Math.PI)) * Math.exp(-x2) * sum;
  return x < 0 ? -value : value;
}

/** nn.GELU() default: exact x·Φ(x) with Φ from erf (used by the patch mergers). */
export function geluErf(x: number): number {
  return 0.5 * x * (1 + erf(x / Math.SQRT2));
}

/** ACT2FN['gelu_pytorch_tanh'] (vision block MLPs). */
export function geluTanh(x: number): number {
  return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
}

/** SiLU (text MLP gate). */
export function silu(x: number): number {
  return x / (1 + Math.exp(-x));
}

export function mapInPlace(values: Float64Array, fn: (v: number) => number): Float64Array {
  for (let i = 0; i < values.length; i++) values[i] = fn(values[i]);
  return values;
}

export function addInPlace(target: Float64Array, addend: Float64Array): Float64Array {
  if (target.length !== addend.length) throw new RangeError(`add: lengths ${target.length} and ${addend.length} differ`);
  for (let i = 0; i < target.length; i++) target[i] += addend[i];
  return target;
}

export function dot(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i];
  return sum;
}

/** Concatenates vectors (the 2×2 spatial-merge "shuffle" of four consecutive tokens). */
export function concat(parts: readonly Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
