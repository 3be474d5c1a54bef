import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { pillowResizeUsesSimd, resizeBicubicPillow, resizeBicubicPillowScalar } from '../../../electron/engine/model-inputs/common/pillow-resize.ts';
import { resizeKernelBytes } from '../../../electron/engine/model-inputs/common/pillow-resize-wasm.ts';
import type { RgbImage } from '../../../electron/engine/media/common/vision-types.ts';

function randomImage(width: number, height: number, seed: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  let s = seed >>> 0;
  for (let i = 0; i < data.length; i++) data[i] = (s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 24;
  return { width, height, data };
}

function assertSameBytes(image: RgbImage, width: number, height: number, what: string): void {
  const simd = resizeBicubicPillow(image, width, height);
  const scalar = resizeBicubicPillowScalar(image, width, height);
  assert.equal(simd.width, width);
  assert.equal(simd.height, height);
  assert.ok(Buffer.from(simd.data).equals(Buffer.from(scalar.data)), what);
}

test('the kernel loads and runs here (Node has WebAssembly SIMD)', () => {
  const bytes = resizeKernelBytes();
  assert.deepEqual(Array.from(bytes.subarray(0, 8)), [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
  assert.ok(pillowResizeUsesSimd(), 'the kernel failed to validate or instantiate, so every resize falls back to the scalar path');
});

test('SIMD and scalar paths give identical bytes: random sizes up and down, 1-pixel sides included', () => {
  const side = fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 90 }));
  fc.assert(
    fc.property(side, side, side, side, fc.integer(), (w, h, W, H, seed) => {
      assertSameBytes(randomImage(w, h, seed), W, H, `${w}×${h} → ${W}×${H} seed ${seed}`);
    }),
    { numRuns: 400 },
  );
});

test('SIMD and scalar paths agree on one-axis resizes and on large scale factors', () => {
  const cases: Array<[number, number, number, number]> = [
    [37, 20, 11, 20], // horizontal only
    [20, 37, 20, 11], // vertical only
    [1, 300, 1, 7],
    [300, 1, 7, 1],
    [1, 1, 33, 17], // 1 pixel → upscale
    [400, 300, 3, 2], // scale > 100: hundreds of taps
    [3, 2, 400, 300],
    [1000, 9, 1, 1],
    [17, 16, 16, 17],
  ];
  cases.forEach(([w, h, W, H], i) => assertSameBytes(randomImage(w, h, 1000 + i), W, H, `${w}×${h} → ${W}×${H}`));
});

test('SIMD and scalar paths agree on extreme pixels (0/255 edges make clipping happen)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 2, max: 60 }), fc.integer({ min: 2, max: 60 }), fc.integer({ min: 1, max: 120 }), fc.integer({ min: 1, max: 120 }), fc.integer(), (w, h, W, H, seed) => {
      const image = randomImage(w, h, seed);
      for (let i = 0; i < image.data.length; i++) image.data[i] = image.data[i] & 128 ? 255 : 0; // hard edges overshoot
      assertSameBytes(image, W, H, `${w}×${h} → ${W}×${H} seed ${seed}`);
    }),
    { numRuns: 200 },
  );
});

test('a photo-sized downscale matches (strips, many rows) and repeated calls reuse the kernel correctly', () => {
  const image = randomImage(1201, 803, 7);
  assertSameBytes(image, 416, 288, '1201×803 → 416×288');
  assertSameBytes(image, 1536, 1152, '1201×803 → 1536×1152 (upscale after a downscale: memory grows)');
  assertSameBytes(randomImage(5, 3, 8), 2, 2, 'small after large');
});
