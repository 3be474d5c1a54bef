// torchvision's anti-aliased bicubic resize (video frames, docs/qwen3-vl-model.md#video-frame-size).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { interpolateBicubicAntialias, resizeBicubicTorchvision } from '../../../electron/engine/model-inputs/common/torchvision-resize.ts';
import { resizeBicubicPillow } from '../../../electron/engine/model-inputs/common/pillow-resize.ts';
import type { RgbImage } from '../../../electron/engine/media/common/vision-types.ts';

/** The synthetic patterns of scripts/fixtures/torchvision-resize-golden.py. */
function pattern(kind: string, h: number, w: number): RgbImage {
  const data = new Uint8Array(h * w * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 3; c++) {
        data[(y * w + x) * 3 + c] =
          kind === 'mix'
            ? (x * x * 7 + y * 13 + x * y * 3 + c * 71 + ((x * 31 + y * 17) % 7) * 29) % 256
            : (Math.floor(x / 3) + Math.floor(y / 2) + c) % 2 === 0 ? 255 : 0;
      }
    }
  }
  return { width: w, height: h, data };
}

function noise(w: number, h: number, seed: number): RgbImage {
  const data = new Uint8Array(w * h * 3);
  let s = seed;
  for (let i = 0; i < data.length; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    data[i] = (s >>> 16) & 255;
  }
  return { width: w, height: h, data };
}

function diff(a: Uint8Array, b: Uint8Array): { count: number; max: number } {
  assert.equal(a.length, b.length);
  let count = 0;
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (d) {
      count++;
      max = Math.max(max, d);
    }
  }
  return { count, max };
}

function mirror(im: RgbImage): RgbImage {
  const out = new Uint8Array(im.data.length);
  for (let y = 0; y < im.height; y++) {
    for (let x = 0; x < im.width; x++) {
      const to = (y * im.width + x) * 3;
      const from = (y * im.width + im.width - 1 - x) * 3;
      out.set(im.data.subarray(from, from + 3), to);
    }
  }
  return { width: im.width, height: im.height, data: out };
}

test('same size returns the input unchanged', () => {
  const im = noise(17, 9, 1);
  assert.equal(resizeBicubicTorchvision(im, 17, 9), im);
});

test('a constant image stays constant at any size', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 }),
      fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 60 }),
      fc.integer({ min: 0, max: 255 }),
      (w, h, ow, oh, v) => {
        const out = resizeBicubicTorchvision({ width: w, height: h, data: new Uint8Array(w * h * 3).fill(v) }, ow, oh);
        assert.ok(out.data.every((x) => x === v));
      },
    ),
    { numRuns: 200 },
  );
});

test('hand-derived: [0, 0, 255, 255] halved → [21, 234]', () => {
  // scale 2, support 4. Output 0 is centred at 1.0 and reads inputs 0..3 at distances
  // (j − 1 + 0.5)/2 = −0.25, 0.25, 0.75, 1.25 → Keys weights 0.8671875, 0.8671875, 0.2265625,
  // −0.0703125 (sum 1.890625) → 255·(0.2265625 − 0.0703125)/1.890625 = 21.07 → 21; output 1 mirrors it.
  const row = { width: 4, height: 1, data: new Uint8Array([0, 0, 0, 0, 0, 0, 255, 255, 255, 255, 255, 255]) };
  assert.deepEqual(Array.from(resizeBicubicTorchvision(row, 2, 1).data), [21, 21, 21, 234, 234, 234]);
  const float = interpolateBicubicAntialias([0, 0, 0, 0, 0, 0, 255, 255, 255, 255, 255, 255], 4, 1, 2, 1);
  assert.ok(Math.abs(float[0] - (255 * 0.15625) / 1.890625) < 1e-4);
});

test('symmetry: mirroring commutes with resizing (exactly for downscales, ±1 from float32 rounding otherwise)', () => {
  const im = noise(97, 13, 7);
  for (const [w, h] of [[40, 13], [41, 7], [33, 29], [150, 13]]) {
    const d = diff(mirror(resizeBicubicTorchvision(im, w, h)).data, resizeBicubicTorchvision(mirror(im), w, h).data);
    assert.ok(d.max <= 1, `${w}×${h}: max ${d.max}`);
    if (w < im.width) assert.equal(d.count, 0, `${w}×${h}`);
  }
});

test('clamps bicubic overshoot to [0, 255] and rounds half to even', () => {
  const edges = pattern('edges', 9, 7);
  const out = resizeBicubicTorchvision(edges, 25, 30);
  const float = interpolateBicubicAntialias(edges.data, 7, 9, 25, 30);
  assert.ok(float.some((v) => v < 0) && float.some((v) => v > 255)); // the kernel overshoots…
  for (let i = 0; i < out.data.length; i++) {
    const expected = float[i] <= 0 ? 0 : float[i] >= 255 ? 255 : Math.round(float[i]) - (float[i] % 1 === 0.5 && Math.round(float[i]) % 2 === 1 ? 1 : 0);
    assert.equal(out.data[i], expected); // …and the output is clamped + half-even rounded
  }
});

test('agrees with PyTorch (golden from scripts/fixtures/torchvision-resize-golden.py) to ±1 LSB', () => {
  const golden = JSON.parse(readFileSync(new URL('../../fixtures/torchvision-resize/golden.json', import.meta.url), 'utf8')) as {
    torch: string;
    cases: { kind: string; in: [number, number]; out: [number, number]; sha256: string; hex?: string }[];
  };
  for (const c of golden.cases) {
    if (!c.hex) continue; // the 720p case is compared by digest only when bytes are not stored
    const ours = resizeBicubicTorchvision(pattern(c.kind, c.in[0], c.in[1]), c.out[1], c.out[0]);
    const d = diff(ours.data, Buffer.from(c.hex, 'hex'));
    // The golden's torch (a Debian build) contracts float32 multiply-adds into FMAs, which moves
    // a few weights by 1 ulp; the formula itself is the same, so outputs may differ by 1 in rare values.
    assert.ok(d.max <= 1, `${c.kind} ${c.in}→${c.out}: max diff ${d.max}`);
    assert.ok(d.count <= ours.data.length * 0.15, `${c.kind} ${c.in}→${c.out}: ${d.count} values differ`);
    if (c.kind === 'mix') assert.equal(createHash('sha256').update(ours.data).digest('hex'), c.sha256, `${c.in}→${c.out}`);
  }
});

test('vs Pillow: one-axis resizes agree to ±1; two-axis resizes of sharp detail differ more, by design', () => {
  const im = noise(97, 13, 3);
  // One pass each: same kernel and bounds; Pillow's 22-bit fixed point vs float32 moves ties by 1.
  for (const [w, h] of [[40, 13], [97, 5], [150, 13], [97, 31]]) {
    const d = diff(resizeBicubicTorchvision(im, w, h).data, resizeBicubicPillow(im, w, h).data);
    assert.ok(d.max <= 1, `${w}×${h}: max ${d.max}`);
  }
  // Two passes: Pillow rounds and clips the intermediate image to uint8 after the width pass,
  // torchvision keeps it in float32 (negative and > 255 values included), so overshooting edges
  // come out differently. That is why video frames must not use the image resizer.
  const mix = pattern('mix', 720, 1280);
  const d = diff(resizeBicubicTorchvision(mix, 1152, 640).data, resizeBicubicPillow(mix, 1152, 640).data);
  assert.ok(d.max > 1, `expected real differences, got max ${d.max}`);
});

test('rejects bad sizes with a clear message', () => {
  assert.throws(() => resizeBicubicTorchvision(noise(4, 4, 1), 0, 4), /positive integer target size/);
  assert.throws(() => resizeBicubicTorchvision({ width: 4, height: 4, data: new Uint8Array(5) }, 2, 2), /needs 48 bytes/);
});
