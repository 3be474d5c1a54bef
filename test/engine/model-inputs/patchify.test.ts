import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { patchify, unpatchify } from '../../../electron/engine/model-inputs/common/patchify.ts';
import type { RgbImage } from '../../../electron/engine/media/common/vision-types.ts';

const norm = (x: number) => Math.fround((x - 127.5) / 127.5);

/** 32 rows × 64 columns; R = row, G = column, B = constant per frame (so values encode where they came from). */
function coordinateImage(width: number, height: number, blue: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      data[o] = y;
      data[o + 1] = x;
      data[o + 2] = blue;
    }
  }
  return { width, height, data };
}

test('a 64×32 image: grid [1, 2, 4], rows in merge-block order, columns (c, t, py, px)', () => {
  const { pixelValues, gridThw } = patchify([coordinateImage(64, 32, 7)]);
  assert.deepEqual(gridThw, [1, 2, 4]);
  assert.equal(pixelValues.length, 8 * 1536);
  // Merge-block order for gh = 2, gw = 4: block (0,0) = patches (0,0) (0,1) (1,0) (1,1), then block (0,1).
  const patchOfRow = [[0, 0], [0, 1], [1, 0], [1, 1], [0, 2], [0, 3], [1, 2], [1, 3]];
  for (let r = 0; r < 8; r++) {
    const [pr, pc] = patchOfRow[r];
    for (const [c, t, py, px] of [[0, 0, 0, 0], [0, 1, 5, 9], [1, 0, 15, 3], [1, 1, 2, 15], [2, 0, 7, 7], [2, 1, 15, 15]]) {
      const k = ((c * 2 + t) * 16 + py) * 16 + px;
      const expected = c === 0 ? 16 * pr + py : c === 1 ? 16 * pc + px : 7;
      assert.equal(pixelValues[r * 1536 + k], norm(expected), `row ${r} col ${k}`);
    }
  }
});

test('normalisation is fround((x − 127.5) / 127.5) at the ends and the middle', () => {
  for (const x of [0, 127, 128, 255]) {
    const data = new Uint8Array(32 * 32 * 3).fill(x);
    const { pixelValues } = patchify([{ width: 32, height: 32, data }]);
    assert.equal(pixelValues[0], Math.fround((x - 127.5) / 127.5));
  }
  const zero = patchify([{ width: 32, height: 32, data: new Uint8Array(32 * 32 * 3) }]).pixelValues;
  assert.equal(zero[0], -1);
});

test('video: grid_t = n/2, frame 2g+t lands in group g, temporal slot t', () => {
  const frames = [0, 1, 2, 3].map((i) => coordinateImage(32, 32, 10 * i));
  const { pixelValues, gridThw } = patchify(frames);
  assert.deepEqual(gridThw, [2, 2, 2]);
  const rowsPerGroup = 4;
  for (let g = 0; g < 2; g++) {
    for (let t = 0; t < 2; t++) {
      const k = ((2 * 2 + t) * 16 + 3) * 16 + 4; // blue channel, slot t
      assert.equal(pixelValues[g * rowsPerGroup * 1536 + k], norm(10 * (2 * g + t)));
    }
  }
});

test('rejects odd frame counts, mismatched sizes and sides that are not multiples of 32', () => {
  const a = coordinateImage(32, 32, 0);
  assert.throws(() => patchify([a, a, a]), /even number/);
  assert.throws(() => patchify([a, coordinateImage(64, 32, 0)]), /share one size/);
  assert.throws(() => patchify([coordinateImage(48, 32, 0)]), /multiples of 32/);
});

test('property: unpatchify(patchify(frames)) returns the frames', () => {
  const frameArb = fc.record({ gh: fc.integer({ min: 1, max: 3 }), gw: fc.integer({ min: 1, max: 3 }), n: fc.constantFrom(1, 2, 4), seed: fc.integer() });
  fc.assert(
    fc.property(frameArb, ({ gh, gw, n, seed }) => {
      const width = 32 * gw;
      const height = 32 * gh;
      let s = seed >>> 0;
      const frames = Array.from({ length: n }, () => {
        const data = new Uint8Array(width * height * 3);
        for (let i = 0; i < data.length; i++) data[i] = (s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 24;
        return { width, height, data };
      });
      const { pixelValues, gridThw } = patchify(frames);
      const back = unpatchify(pixelValues, gridThw);
      const expected = n === 1 ? [frames[0], frames[0]] : frames;
      assert.equal(back.length, expected.length);
      back.forEach((f, i) => assert.deepEqual(f.data, expected[i].data));
    }),
    { numRuns: 40 },
  );
});
