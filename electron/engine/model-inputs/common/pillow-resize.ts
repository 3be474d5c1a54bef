// Pillow-exact BICUBIC resize of 8-bit RGB (docs/qwen3-vl-model.md#pillow-resize; behaviour learned from Pillow's
// libImaging/Resample.c, re-implemented): separable convolution with the Keys a = −0.5 kernel,
// widened by the scale when downscaling (anti-aliasing), double-precision coefficients turned
// into 22-bit fixed point, horizontal pass then vertical pass, each rounding to uint8.
import { assertRgbImage, type RgbImage } from '../../media/common/vision-types.ts';
import { loadSimdResizeKernel } from './pillow-resize-wasm.ts';

const PRECISION_BITS = 22; // 32 − 8 − 2, as in Pillow's 8-bit path
const ONE = 1 << PRECISION_BITS;
const HALF = 1 << (PRECISION_BITS - 1);
const BICUBIC_SUPPORT = 2.0;

/** Keys cubic convolution kernel, a = −0.5; the operation order matches Pillow's so doubles agree bit for bit. */
function bicubic(x: number): number {
  if (x < 0) x = -x;
  if (x < 1) return ((1.5 * x - 2.5) * x) * x + 1; // ((a+2)·x − (a+3))·x·x + 1
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * -0.5;
  return 0;
}

/** Per-output-index taps for one axis: source start, tap count and fixed-point weights. */
export interface AxisCoefficients {
  /** Taps per output index (the stride of `weights`). */
  readonly taps: number;
  /** First source index used by output i. */
  readonly start: Int32Array;
  /** Number of source indices used by output i (≤ taps). */
  readonly count: Int32Array;
  /** Fixed-point weights, `taps` per output index, zero-padded. */
  readonly weights: Int32Array;
}

/** Pillow's `precompute_coeffs` + `normalize_coeffs_8bpc` for a full-length box (0, inSize). */
export function axisCoefficients(inSize: number, outSize: number): AxisCoefficients {
  // Pillow takes the box edges as C floats; integer sizes below 2^24 are exact in float32.
  const scale = Math.fround(inSize) / outSize;
  const filterScale = scale < 1 ? 1 : scale;
  const support = BICUBIC_SUPPORT * filterScale;
  const taps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * taps);
  const raw = new Float64Array(taps);
  const invFilterScale = 1.0 / filterScale; // Pillow multiplies by the reciprocal; dividing differs in the last bit
  for (let i = 0; i < outSize; i++) {
    const center = (i + 0.5) * scale;
    let xmin = Math.trunc(center - support + 0.5); // C (int) cast: toward zero
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    const n = xmax - xmin;
    let sum = 0;
    for (let x = 0; x < n; x++) {
      const w = bicubic((x + xmin - center + 0.5) * invFilterScale);
      raw[x] = w;
      sum += w;
    }
    const base = i * taps;
    for (let x = 0; x < n; x++) {
      const w = sum !== 0 ? raw[x] / sum : raw[x];
      // Round half away from zero, then truncate, as Pillow's normalize_coeffs_8bpc does.
      weights[base + x] = w < 0 ? Math.trunc(-0.5 + w * ONE) : Math.trunc(0.5 + w * ONE);
    }
    start[i] = xmin;
    count[i] = n;
  }
  return { taps, start, count, weights };
}

/** Clip of the accumulator after the arithmetic shift: Pillow's clip8 lookup covers the same range. */
function clip8(acc: number): number {
  const v = acc >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/**
 * Resizes `image` to `width × height` exactly as Pillow's `Image.resize(size, BICUBIC)` does for
 * mode RGB. Same size → the input is returned unchanged (Pillow returns a copy).
 * Runs the WebAssembly SIMD kernel where available, else the scalar passes; both give the same bytes.
 */
export function resizeBicubicPillow(image: RgbImage, width: number, height: number): RgbImage {
  return resize(image, width, height, true);
}

/** `resizeBicubicPillow` on the scalar (plain JavaScript) path only; the reference the SIMD path is tested against. */
export function resizeBicubicPillowScalar(image: RgbImage, width: number, height: number): RgbImage {
  return resize(image, width, height, false);
}

/** Whether `resizeBicubicPillow` runs the WebAssembly SIMD kernel in this runtime. */
export function pillowResizeUsesSimd(): boolean {
  return loadSimdResizeKernel() !== null;
}

function resize(image: RgbImage, width: number, height: number, allowSimd: boolean): RgbImage {
  assertRgbImage(image);
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new RangeError(`resizeBicubicPillow needs a positive integer target size, got ${width}×${height}.`);
  }
  if (width === image.width && height === image.height) return image;
  const vertical = height !== image.height ? axisCoefficients(image.height, height) : null;
  const kernel = allowSimd ? loadSimdResizeKernel() : null;
  if (kernel !== null) {
    const horizontal = width !== image.width ? axisCoefficients(image.width, width) : null;
    return { width, height, data: kernel.resize(image, width, height, horizontal, vertical) };
  }
  let source = image;
  let rowOffset = 0; // source row of `source`'s first row
  if (width !== image.width) {
    // Only the rows the vertical pass reads need the horizontal pass (Pillow does the same).
    const first = vertical ? vertical.start[0] : 0;
    const last = vertical ? vertical.start[height - 1] + vertical.count[height - 1] : image.height;
    source = horizontalPass(image, width, first, last);
    rowOffset = first;
  }
  if (vertical === null) return source;
  return verticalPass(source, height, vertical, rowOffset);
}

function horizontalPass(image: RgbImage, outWidth: number, firstRow: number, endRow: number): RgbImage {
  const { taps, start, count, weights } = axisCoefficients(image.width, outWidth);
  const rows = endRow - firstRow;
  const src = image.data;
  const out = new Uint8Array(outWidth * rows * 3);
  const inStride = image.width * 3;
  let dst = 0;
  for (let y = 0; y < rows; y++) {
    const rowBase = (y + firstRow) * inStride;
    for (let x = 0; x < outWidth; x++) {
      const n = count[x];
      const k = x * taps;
      let s = rowBase + start[x] * 3;
      let r = HALF;
      let g = HALF;
      let b = HALF;
      for (let j = 0; j < n; j++) {
        const w = weights[k + j];
        r += src[s] * w;
        g += src[s + 1] * w;
        b += src[s + 2] * w;
        s += 3;
      }
      out[dst] = clip8(r);
      out[dst + 1] = clip8(g);
      out[dst + 2] = clip8(b);
      dst += 3;
    }
  }
  return { width: outWidth, height: rows, data: out };
}

function verticalPass(image: RgbImage, outHeight: number, coeffs: AxisCoefficients, rowOffset: number): RgbImage {
  const { taps, start, count, weights } = coeffs;
  const src = image.data;
  const stride = image.width * 3;
  const out = new Uint8Array(stride * outHeight);
  // One accumulator row swept once per tap: each pass reads one source row sequentially.
  const acc = new Int32Array(stride);
  for (let y = 0; y < outHeight; y++) {
    acc.fill(HALF);
    const n = count[y];
    const k = y * taps;
    const firstRow = start[y] - rowOffset;
    for (let j = 0; j < n; j++) {
      const w = weights[k + j];
      const rowBase = (firstRow + j) * stride;
      for (let i = 0; i < stride; i++) acc[i] += src[rowBase + i] * w;
    }
    const outBase = y * stride;
    for (let i = 0; i < stride; i++) out[outBase + i] = clip8(acc[i]);
  }
  return { width: image.width, height: outHeight, data: out };
}
