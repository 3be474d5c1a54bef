// torchvision `resize(uint8 tensor, [H', W'], BICUBIC, antialias=True)` reproduced value for value
// (docs/qwen3-vl-model.md#video-frame-size). This is how qwen-vl-utils resizes every *video* frame; images go through
// Pillow instead (pillow-resize.ts), and the two differ by design (see the test file).
//
// What torchvision does on a uint8 tensor: cast to float32 → PyTorch's anti-aliased bicubic CPU
// kernel (`_upsample_bicubic2d_aa`) → clamp to [0, 255] → `torch.round` (ties to even) → uint8.
// The kernel is separable: the width pass runs first, then the height pass on its float32 output
// (no rounding or clamping in between, unlike Pillow); a pass whose size does not change is skipped.
// Its weights are computed in float32 with a few steps widened to double, exactly as the C++ mixes
// `float` and `double` literals; `Math.fround` reproduces every float32 rounding.
import { roundHalfEven } from '../../base/common/python-numerics.ts';
import { assertRgbImage, type RgbImage } from '../../media/common/vision-types.ts';

const f32 = Math.fround;
const CHANNELS = 3;

/** Per output index: first source index, tap count, and normalised float32 weights (stride `maxTaps`). */
interface AxisWeights {
  readonly start: Int32Array;
  readonly taps: Int32Array;
  readonly weights: Float32Array;
  readonly maxTaps: number;
}

/** Keys cubic kernel, a = −0.5, in float32 (PyTorch `aa_filter` with `cubic_convolution1/2`). */
function keysCubicFloat32(x: number): number {
  x = Math.abs(x);
  if (x < 1) {
    // ((a + 2)·x − (a + 3))·x·x + 1
    return f32(f32(f32(f32(f32(1.5 * x) - 2.5) * x) * x) + 1);
  }
  if (x < 2) {
    // ((a·x − 5a)·x + 8a)·x − 4a
    return f32(f32(f32(f32(f32(f32(-0.5 * x) + 2.5) * x) - 4) * x) + 2);
  }
  return 0;
}

/** `_compute_indices_min_size_weights_aa` for every output index of one axis (scalar_t = float). */
function computeAxisWeights(inSize: number, outSize: number): AxisWeights {
  const scale = f32(inSize / outSize); // float(in) / out
  const support = scale >= 1 ? f32(2 * scale) : 2; // (interp_size·0.5)·scale
  const invScale = scale >= 1 ? f32(1 / scale) : 1;
  const maxTaps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const taps = new Int32Array(outSize);
  const weights = new Float32Array(outSize * maxTaps);
  for (let i = 0; i < outSize; i++) {
    const center = f32(scale * (i + 0.5));
    const xmin = Math.max(Math.trunc(f32(center - support) + 0.5), 0);
    const xmaxExclusive = Math.min(Math.trunc(f32(center + support) + 0.5), inSize);
    const size = Math.min(Math.max(xmaxExclusive - xmin, 0), maxTaps);
    const base = i * maxTaps;
    let total = 0;
    for (let j = 0; j < size; j++) {
      // (j + xmin − center + 0.5)·invscale: int − float in float32, then widened to double.
      const w = keysCubicFloat32(f32((f32(j + xmin - center) + 0.5) * invScale));
      weights[base + j] = w;
      total = f32(total + w);
    }
    if (total !== 0) {
      for (let j = 0; j < size; j++) weights[base + j] = f32(weights[base + j] / total);
    }
    start[i] = xmin;
    taps[i] = size;
  }
  return { start, taps, weights, maxTaps };
}

/** Width pass: `src` (rows × inW × 3) → float32 (rows × outW × 3). */
function resampleWidth(src: ArrayLike<number>, rows: number, inW: number, axis: AxisWeights, outW: number): Float32Array {
  const out = new Float32Array(rows * outW * CHANNELS);
  const { start, taps, weights, maxTaps } = axis;
  for (let y = 0; y < rows; y++) {
    const rowIn = y * inW * CHANNELS;
    let o = y * outW * CHANNELS;
    for (let x = 0; x < outW; x++) {
      const n = taps[x];
      const wBase = x * maxTaps;
      let p = rowIn + start[x] * CHANNELS;
      const w0 = weights[wBase];
      let r = f32(src[p] * w0);
      let g = f32(src[p + 1] * w0);
      let b = f32(src[p + 2] * w0);
      for (let j = 1; j < n; j++) {
        p += CHANNELS;
        const w = weights[wBase + j];
        r = f32(r + f32(src[p] * w));
        g = f32(g + f32(src[p + 1] * w));
        b = f32(b + f32(src[p + 2] * w));
      }
      out[o] = r;
      out[o + 1] = g;
      out[o + 2] = b;
      o += CHANNELS;
    }
  }
  return out;
}

/** Height pass: `src` (inH × cols × 3) → float32 (outH × cols × 3). */
function resampleHeight(src: ArrayLike<number>, cols: number, axis: AxisWeights, outH: number): Float32Array {
  const rowLen = cols * CHANNELS;
  const out = new Float32Array(outH * rowLen);
  const { start, taps, weights, maxTaps } = axis;
  for (let y = 0; y < outH; y++) {
    const n = taps[y];
    const wBase = y * maxTaps;
    const first = start[y] * rowLen;
    const o = y * rowLen;
    const w0 = weights[wBase];
    for (let k = 0; k < rowLen; k++) out[o + k] = f32(src[first + k] * w0);
    for (let j = 1; j < n; j++) {
      const w = weights[wBase + j];
      const p = first + j * rowLen;
      for (let k = 0; k < rowLen; k++) out[o + k] = f32(out[o + k] + f32(src[p + k] * w));
    }
  }
  return out;
}

/** clamp(0, 255) → torch.round (half to even) → uint8. */
function toUint8(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    out[i] = v <= 0 ? 0 : v >= 255 ? 255 : roundHalfEven(v);
  }
  return out;
}

const weightCache = new Map<string, AxisWeights>();

/** Weights depend only on (in, out); every frame of a video shares them. */
function axisWeights(inSize: number, outSize: number): AxisWeights {
  const key = `${inSize}>${outSize}`;
  let cached = weightCache.get(key);
  if (!cached) {
    if (weightCache.size > 64) weightCache.clear();
    cached = computeAxisWeights(inSize, outSize);
    weightCache.set(key, cached);
  }
  return cached;
}

/**
 * Resizes an 8-bit RGB image to `width × height` exactly as torchvision's tensor `resize` with
 * BICUBIC and antialias=True does on CPU. Returns the input unchanged when the size is unchanged.
 */
export function resizeBicubicTorchvision(image: RgbImage, width: number, height: number): RgbImage {
  assertRgbImage(image);
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new RangeError(`resizeBicubicTorchvision needs a positive integer target size, got ${width}×${height}.`);
  }
  const inW = image.width;
  const inH = image.height;
  if (inW === width && inH === height) return image;
  return { width, height, data: toUint8(interpolateBicubicAntialias(image.data, inW, inH, width, height)) };
}

/**
 * The float32 stage alone (`interpolate(mode='bicubic', antialias=True)` on an interleaved RGB
 * buffer), before clamping and rounding. Exposed so tests can compare it with PyTorch directly.
 */
export function interpolateBicubicAntialias(
  src: ArrayLike<number>,
  inW: number,
  inH: number,
  width: number,
  height: number,
): Float32Array {
  if (src.length !== inW * inH * CHANNELS) {
    throw new RangeError(`interpolateBicubicAntialias: ${src.length} values do not match ${inW}×${inH}×${CHANNELS}.`);
  }
  let values: ArrayLike<number> = src;
  if (inW !== width) values = resampleWidth(values, inH, inW, axisWeights(inW, width), width);
  if (inH !== height) values = resampleHeight(values, width, axisWeights(inH, height), height);
  return values instanceof Float32Array ? values : Float32Array.from(values);
}
