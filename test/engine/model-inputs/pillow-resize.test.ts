import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { axisCoefficients, resizeBicubicPillow } from '../../../electron/engine/model-inputs/common/pillow-resize.ts';
import type { RgbImage } from '../../../electron/engine/media/common/vision-types.ts';
import { pillowResizeFixtureInputs } from '../../../scripts/fixtures/pillow-resize-fixture-inputs.ts';

function image(width: number, height: number, f: (x: number, y: number, c: number) => number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) for (let c = 0; c < 3; c++) data[(y * width + x) * 3 + c] = f(x, y, c);
  return { width, height, data };
}
const at = (im: RgbImage, x: number, y: number, c: number) => im.data[(y * im.width + x) * 3 + c];
function mirrorX(im: RgbImage): RgbImage {
  return image(im.width, im.height, (x, y, c) => at(im, im.width - 1 - x, y, c));
}

test('same size returns the image unchanged', () => {
  const im = image(5, 4, (x, y, c) => x * 40 + y * 10 + c);
  assert.equal(resizeBicubicPillow(im, 5, 4), im);
});

test('constant images stay constant at every scale (weights are normalised to 1)', () => {
  const sizes = fc.tuple(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 }));
  fc.assert(
    fc.property(sizes, fc.integer({ min: 0, max: 255 }), ([w, h, W, H], v) => {
      const out = resizeBicubicPillow(image(w, h, () => v), W, H);
      assert.ok(out.data.every((x) => x === v), `${w}×${h} → ${W}×${H} value ${v}`);
    }),
    { numRuns: 150 },
  );
});

test('2×2 → 1×1 is the rounded average (hand-derived)', () => {
  // scale 2, support 4, center 1: xmin 0, xmax 2; taps at distance 0.5/2 = 0.25 each, equal
  // weights → 1/2 each = 2^21 in fixed point. Per pass: (a + b)·2^21 + 2^21 >> 22 = floor((a + b + 1) / 2).
  const im = image(2, 2, (x, y) => [[10, 21], [30, 40]][y][x]);
  const out = resizeBicubicPillow(im, 1, 1);
  // horizontal: row 0 → floor(32/2) = 16 (10+21+1 = 32), row 1 → floor(71/2) = 35; vertical: floor((16+35+1)/2) = 26.
  assert.equal(at(out, 0, 0, 0), 26);
  const w = axisCoefficients(2, 1);
  assert.deepEqual([w.start[0], w.count[0], w.weights[0], w.weights[1]], [0, 2, 1 << 21, 1 << 21]);
});

test('mirror symmetry: resize(mirror(im)) = mirror(resize(im))', () => {
  fc.assert(
    fc.property(fc.integer({ min: 2, max: 30 }), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 40 }), fc.integer(), (w, h, W, seed) => {
      let s = seed >>> 0;
      const im = image(w, h, () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 24);
      assert.deepEqual(resizeBicubicPillow(mirrorX(im), W, h).data, mirrorX(resizeBicubicPillow(im, W, h)).data);
    }),
    { numRuns: 100 },
  );
});

test('a linear ramp stays monotone when up- or downscaled', () => {
  const ramp = image(64, 3, (x) => x * 4);
  for (const W of [7, 16, 31, 64 + 1, 100, 256]) {
    const out = resizeBicubicPillow(ramp, W, 3);
    for (let x = 1; x < W; x++) assert.ok(at(out, x, 1, 0) >= at(out, x - 1, 1, 0), `width ${W} at ${x}`);
  }
});

test('downscaling is anti-aliased: a 1-pixel checkerboard halves to flat grey', () => {
  const board = image(64, 64, (x, y) => ((x + y) % 2 === 0 ? 0 : 255));
  const out = resizeBicubicPillow(board, 16, 16);
  for (let y = 2; y < 14; y++) for (let x = 2; x < 14; x++) assert.ok(Math.abs(at(out, x, y, 0) - 128) <= 2);
});

test('REGRESSION fixture (this implementation, not Pillow truth): outputs unchanged', () => {
  for (const { name, image: im, width, height } of pillowResizeFixtureInputs()) {
    const fixture = JSON.parse(readFileSync(new URL(`../../fixtures/pillow-resize/${name}.json`, import.meta.url), 'utf8'));
    assert.match(fixture.kind, /^regression/);
    const out = resizeBicubicPillow(im, width, height);
    assert.deepEqual(Array.from(out.data), fixture.output.data, name);
  }
});
