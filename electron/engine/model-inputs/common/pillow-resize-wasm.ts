// Driver for the WebAssembly SIMD resize kernel (text: pillow-resize-wasm.wat; binary, assembled
// by scripts/build-resize-kernel.ts: pillow-resize-wasm-bytes.ts): lays out the coefficient tables
// and pixel buffers in the kernel's memory and runs the passes. Same output bytes as the scalar
// passes in pillow-resize.ts (the .wat file explains why); tests compare the two on random images.
import type { AxisCoefficients } from './pillow-resize.ts';
import type { RgbImage } from '../../media/common/vision-types.ts';
import { PILLOW_RESIZE_WASM_BASE64 } from './pillow-resize-wasm-bytes.ts';

// The project's TypeScript libs (ES2023 + node) do not declare the WebAssembly global that every
// JavaScript runtime we target provides; this is the part used here.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
declare const WebAssembly: {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: object };
};

interface KernelExports {
  readonly memory: WasmMemory;
  horizontal(src: number, srcStride: number, rows: number, dst: number, outWidth: number, offsets: number, pairs: number, weights: number): void;
  vertical(src: number, stride: number, chunks: number, dst: number, outHeight: number, rowOffsets: number, pairs: number, weights: number): void;
}

const WASM_PAGE = 65536;
/** Source rows copied into the kernel's memory per horizontal call: keeps that buffer small and in cache. */
const STRIP_ROWS = 32;
/** Bytes after every buffer that the kernel may read or write past its end (see the kernel notes). */
const SLACK = 64;
/** 32 bytes of weights per tap pair: hi vector, lo vector. */
const PAIR_BYTES = 32;
const LO_MASK = 0x7fff;
const HI_SHIFT = 15;

const align16 = (n: number) => (n + 15) & ~15;

/** Runs Pillow-exact bicubic passes with WebAssembly SIMD. */
export interface SimdResizeKernel {
  /**
   * `horizontal` null: width unchanged; `vertical` null: height unchanged (not both). Returns the
   * resized pixels, `outWidth × outHeight` RGB, in a new array.
   */
  resize(image: RgbImage, outWidth: number, outHeight: number, horizontal: AxisCoefficients | null, vertical: AxisCoefficients | null): Uint8Array;
}

let cached: SimdResizeKernel | null | undefined;

/** The kernel's WebAssembly binary (atob: every JavaScript runtime we target has it, as it has WebAssembly). */
export function resizeKernelBytes(): Uint8Array {
  return Uint8Array.from(atob(PILLOW_RESIZE_WASM_BASE64), (c) => c.charCodeAt(0));
}

/** The kernel, or null where WebAssembly or its SIMD instructions are unavailable (callers then use the scalar path). */
export function loadSimdResizeKernel(): SimdResizeKernel | null {
  if (cached !== undefined) return cached;
  cached = null;
  try {
    if (typeof WebAssembly === 'object') {
      const bytes = resizeKernelBytes();
      if (WebAssembly.validate(bytes)) {
        const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
        cached = createKernel(instance.exports as unknown as KernelExports);
      }
    }
  } catch {
    cached = null; // e.g. compilation refused by a content-security policy: the scalar path still works
  }
  return cached;
}

/** Bump allocator over the kernel's memory for one call; everything 16-byte aligned. */
class Layout {
  size = 0;
  take(bytes: number): number {
    const at = this.size;
    this.size = align16(at + bytes);
    return at;
  }
}

function createKernel(kernel: KernelExports): SimdResizeKernel {
  const { memory } = kernel;

  function reserve(bytes: number): void {
    const missing = Math.ceil(bytes / WASM_PAGE) - memory.buffer.byteLength / WASM_PAGE;
    if (missing > 0) memory.grow(missing);
  }

  /** Horizontal tables: per output pixel its first tap's byte offset and pair count, then the weight vectors. */
  function writeHorizontalTables(c: AxisCoefficients, offsetsAt: number, pairsAt: number, weightsAt: number): void {
    const offsets = new Int32Array(memory.buffer, offsetsAt, c.start.length);
    const pairs = new Int32Array(memory.buffer, pairsAt, c.start.length);
    const weights = new Int16Array(memory.buffer, weightsAt);
    let w = 0;
    for (let x = 0; x < c.start.length; x++) {
      const n = c.count[x];
      const base = x * c.taps;
      offsets[x] = c.start[x] * 3;
      pairs[x] = Math.max(1, (n + 1) >> 1);
      for (let j = 0; j < pairs[x] * 2; j += 2) {
        const w0 = j < n ? c.weights[base + j] : 0;
        const w1 = j + 1 < n ? c.weights[base + j + 1] : 0;
        // hi: [h0 h1 h0 h1 h0 h1 0 0], lo: the same with the low 15 bits.
        for (let lane = 0; lane < 6; lane += 2) {
          weights[w + lane] = w0 >> HI_SHIFT;
          weights[w + lane + 1] = w1 >> HI_SHIFT;
          weights[w + 8 + lane] = w0 & LO_MASK;
          weights[w + 8 + lane + 1] = w1 & LO_MASK;
        }
        weights[w + 6] = weights[w + 7] = weights[w + 14] = weights[w + 15] = 0;
        w += PAIR_BYTES / 2;
      }
    }
  }

  /** Vertical tables: per output row its first source row's byte offset and pair count, then the weight vectors. */
  function writeVerticalTables(c: AxisCoefficients, firstRow: number, stride: number, offsetsAt: number, pairsAt: number, weightsAt: number): void {
    const offsets = new Int32Array(memory.buffer, offsetsAt, c.start.length);
    const pairs = new Int32Array(memory.buffer, pairsAt, c.start.length);
    const weights = new Int16Array(memory.buffer, weightsAt);
    let w = 0;
    for (let y = 0; y < c.start.length; y++) {
      const n = c.count[y];
      const base = y * c.taps;
      offsets[y] = (c.start[y] - firstRow) * stride;
      pairs[y] = Math.max(1, (n + 1) >> 1);
      for (let j = 0; j < pairs[y] * 2; j += 2) {
        const wa = j < n ? c.weights[base + j] : 0;
        const wb = j + 1 < n ? c.weights[base + j + 1] : 0;
        for (let lane = 0; lane < 8; lane += 2) {
          weights[w + lane] = wa >> HI_SHIFT;
          weights[w + lane + 1] = wb >> HI_SHIFT;
          weights[w + 8 + lane] = wa & LO_MASK;
          weights[w + 8 + lane + 1] = wb & LO_MASK;
        }
        w += PAIR_BYTES / 2;
      }
    }
  }

  const pairTotal = (c: AxisCoefficients) => {
    let total = 0;
    for (let i = 0; i < c.count.length; i++) total += Math.max(1, (c.count[i] + 1) >> 1);
    return total;
  };

  return {
    resize(image, outWidth, outHeight, horizontal, vertical) {
      const inStride = image.width * 3;
      const outStride = outWidth * 3;
      // Only the rows the vertical pass reads need the horizontal pass (as in Pillow).
      const firstRow = vertical ? vertical.start[0] : 0;
      const endRow = vertical ? vertical.start[outHeight - 1] + vertical.count[outHeight - 1] : image.height;
      const midRows = endRow - firstRow;

      const layout = new Layout();
      const hOffsets = horizontal ? layout.take(outWidth * 4) : 0;
      const hPairs = horizontal ? layout.take(outWidth * 4) : 0;
      const hWeights = horizontal ? layout.take(pairTotal(horizontal) * PAIR_BYTES) : 0;
      const vOffsets = vertical ? layout.take(outHeight * 4) : 0;
      const vPairs = vertical ? layout.take(outHeight * 4) : 0;
      const vWeights = vertical ? layout.take(pairTotal(vertical) * PAIR_BYTES) : 0;
      const strip = horizontal ? layout.take(STRIP_ROWS * inStride + SLACK) : 0;
      // One spare row: a padded odd tap pair reads the row after the last one it uses.
      const mid = layout.take((midRows + 1) * outStride + SLACK);
      const out = vertical ? layout.take(outHeight * outStride + SLACK) : mid;
      reserve(layout.size);

      const heap = new Uint8Array(memory.buffer);
      if (horizontal) {
        writeHorizontalTables(horizontal, hOffsets, hPairs, hWeights);
        for (let row = firstRow; row < endRow; row += STRIP_ROWS) {
          const rows = Math.min(STRIP_ROWS, endRow - row);
          heap.set(image.data.subarray(row * inStride, (row + rows) * inStride), strip);
          kernel.horizontal(strip, inStride, rows, mid + (row - firstRow) * outStride, outWidth, hOffsets, hPairs, hWeights);
        }
      } else {
        heap.set(image.data.subarray(firstRow * inStride, endRow * inStride), mid);
      }
      if (vertical) {
        writeVerticalTables(vertical, firstRow, outStride, vOffsets, vPairs, vWeights);
        kernel.vertical(mid, outStride, Math.ceil(outStride / 16), out, outHeight, vOffsets, vPairs, vWeights);
      }
      return heap.slice(out, out + outHeight * outStride);
    },
  };
}
