import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { smartResize } from '../../../electron/engine/model-inputs/common/smart-resize.ts';

test('worked values of docs/qwen3-vl-model.md#image-size (Python round-half-even, qwen-vl-utils order of operations)', () => {
  const cases: Array<[[number, number], [number, number]]> = [
    [[224, 224], [224, 224]],
    [[480, 640], [480, 640]],
    [[1080, 1920], [992, 1792]],
    [[720, 1280], [704, 1280]], // 720/32 = 22.5 → 22 (Math.round would give 23 → 736)
    [[45, 70], [64, 96]],
    [[200, 300], [192, 288]],
    [[2000, 3000], [1088, 1632]],
    [[48, 80], [64, 64]], // 48/32 = 1.5 → 2, 80/32 = 2.5 → 2
    [[1280, 1440], [1280, 1440]],
  ];
  for (const [[h, w], expected] of cases) assert.deepEqual(smartResize(h, w), expected, `${h}×${w}`);
});

test('1080p uses 1736 tokens; 1280×1440 hits the 1800-token cap', () => {
  const [h, w] = smartResize(1080, 1920);
  assert.equal((h / 32) * (w / 32), 1736);
  const [h2, w2] = smartResize(1280, 1440);
  assert.equal((h2 / 32) * (w2 / 32), 1800);
});

test('aspect ratio above 200 throws and names the ratio and the limit', () => {
  assert.throws(() => smartResize(10, 2010), (e: Error) => /201/.test(e.message) && /200/.test(e.message));
  assert.doesNotThrow(() => smartResize(10, 2000));
});

test('custom factor and limits', () => {
  assert.deepEqual(smartResize(720, 1280, { factor: 28 }), [728, 1288]); // 720/28 = 25.71 → 26; 1280/28 = 45.71 → 46
  const [h, w] = smartResize(3000, 4000, { maxPixels: 256 * 32 * 32 });
  assert.ok(h * w <= 256 * 32 * 32);
  assert.throws(() => smartResize(10, 10, { minPixels: 100, maxPixels: 50 }), /maxPixels/);
});

const side = fc.integer({ min: 1, max: 20000 });
const aspectOk = ([h, w]: [number, number]) => Math.max(h, w) / Math.min(h, w) <= 200;

test('property: outputs are positive multiples of 32 and deterministic', () => {
  fc.assert(
    fc.property(fc.tuple(side, side).filter(aspectOk), ([h, w]) => {
      const a = smartResize(h, w);
      assert.deepEqual(smartResize(h, w), a);
      assert.ok(a[0] > 0 && a[1] > 0 && a[0] % 32 === 0 && a[1] % 32 === 0);
    }),
  );
});

test('property: pixel count ≤ max_pixels whenever the downscale branch runs, ≥ min_pixels when the upscale branch runs', () => {
  fc.assert(
    fc.property(fc.tuple(side, side).filter(aspectOk), ([h, w]) => {
      const [H, W] = smartResize(h, w);
      // floor(x/β) keeps the product under the cap; ceil(x·β) keeps it above the floor. Images
      // clearly inside one branch (pixel count far from the bounds) must obey that bound.
      if (h * w > 4 * 1843200) assert.ok(H * W <= 1843200, `${h}×${w} → ${H}×${W}`);
      if (h * w < 4096 / 4) assert.ok(H * W >= 4096, `${h}×${w} → ${H}×${W}`);
    }),
  );
});
