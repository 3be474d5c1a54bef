import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linspaceFloat32 } from '../../../electron/engine/base/common/torch-linspace.ts';
import {
  mergeOrderRowCol,
  posEmbedTables,
  rotaryTables,
  visionInverseFrequencies,
  visionTables,
} from '../../../electron/engine/model-inputs/common/vision-tables.ts';

const f32 = Math.fround;
const EPS32 = 2 ** -23;

test('h = w = 4: float32 linspace and first-corner indices in merge order (docs/qwen3-vl-model.md#position-embedding-interpolation)', () => {
  assert.deepEqual([...linspaceFloat32(0, 47, 4)], [0, f32(15.666667), f32(31.333332), 47]);
  const { idx } = posEmbedTables(4, 4);
  assert.deepEqual([...idx.subarray(0, 8)], [0, 15, 720, 735, 31, 47, 751, 767]);
  // Corner 3 (ceil, ceil) of the first patch is grid cell (1, 1); of the last patch (47, 47).
  assert.equal(idx[3 * 16], 49);
  assert.equal(idx[3 * 16 + 15], 47 * 48 + 47);
});

test('bilinear weights are float32 products of float32 fractions', () => {
  const { weight } = posEmbedTables(4, 4);
  const n = 16;
  const dw = f32(f32(15.666667) - 15);
  // Patch 1 in merge order is raster cell (0, 1): dh = 0.
  assert.equal(weight[1], f32(1 - dw));
  assert.equal(weight[n + 1], dw);
  assert.equal(weight[2 * n + 1], 0);
  assert.equal(weight[3 * n + 1], 0);
});

test('weights of each patch sum to 1 within float32 eps, and reproduce the sample point', () => {
  for (const [h, w] of [[4, 4], [12, 18], [62, 112], [2, 200]] as const) {
    const { idx, weight } = posEmbedTables(h, w);
    const { rows, cols } = mergeOrderRowCol(h, w);
    const hs = linspaceFloat32(0, 47, h);
    const ws = linspaceFloat32(0, 47, w);
    const n = h * w;
    for (let p = 0; p < n; p++) {
      let sum = 0;
      let y = 0;
      let x = 0;
      for (let k = 0; k < 4; k++) {
        const wk = weight[k * n + p]!;
        const cell = idx[k * n + p]!;
        assert.ok(cell >= 0 && cell < 48 * 48);
        sum += wk;
        y += wk * Math.floor(cell / 48);
        x += wk * (cell % 48);
      }
      assert.ok(Math.abs(sum - 1) <= 4 * EPS32, `${h}×${w} patch ${p}: weights sum to ${sum}`);
      assert.ok(Math.abs(y - hs[rows[p]!]!) < 1e-4, `${h}×${w} patch ${p}: row ${y} vs ${hs[rows[p]!]}`);
      assert.ok(Math.abs(x - ws[cols[p]!]!) < 1e-4, `${h}×${w} patch ${p}: col ${x} vs ${ws[cols[p]!]}`);
    }
  }
});

test('merge order walks 2×2 blocks row-major', () => {
  const { rows, cols } = mergeOrderRowCol(4, 4);
  assert.deepEqual([...rows], [0, 0, 1, 1, 0, 0, 1, 1, 2, 2, 3, 3, 2, 2, 3, 3]);
  assert.deepEqual([...cols], [0, 1, 0, 1, 2, 3, 2, 3, 0, 1, 0, 1, 2, 3, 2, 3]);
  const wide = mergeOrderRowCol(2, 6);
  assert.deepEqual([...wide.cols], [0, 1, 0, 1, 2, 3, 2, 3, 4, 5, 4, 5]);
});

test('vision rotary frequencies: 1/10000^(2j/(hd/2)) in float32, hd/4 of them', () => {
  const f64 = visionInverseFrequencies(64);
  assert.equal(f64.length, 16);
  assert.equal(f64[0], 1);
  assert.equal(f64[1], f32(1 / f32(10000 ** f32(2 / 32))));
  assert.equal(f64[15], f32(1 / f32(10000 ** f32(30 / 32))));
  const f72 = visionInverseFrequencies(72);
  assert.equal(f72.length, 18);
  assert.equal(f72[1], f32(1 / f32(10000 ** f32(2 / 36))));
  assert.throws(() => visionInverseFrequencies(66), /multiple of 4/);
});

test('rope cos/sin: [row angles, col angles] twice, cos² + sin² = 1', () => {
  const hd = 64;
  const [h, w] = [6, 8];
  const { cos, sin } = rotaryTables(h, w, hd);
  const freqs = visionInverseFrequencies(hd);
  const { rows, cols } = mergeOrderRowCol(h, w);
  assert.equal(cos.length, h * w * hd);
  for (let p = 0; p < h * w; p++) {
    for (let j = 0; j < hd; j++) {
      const c = cos[p * hd + j]!;
      const s = sin[p * hd + j]!;
      assert.ok(Math.abs(c * c + s * s - 1) < 1e-6);
      const slot = j % (hd / 2);
      const coordinate = slot < 16 ? rows[p]! : cols[p]!;
      const angle = f32(coordinate * freqs[slot % 16]!);
      assert.equal(c, f32(Math.cos(angle)), `patch ${p} slot ${j}`);
      assert.equal(s, f32(Math.sin(angle)));
    }
  }
  // Patch 5 in merge order is (row 0, col 3): first quarter is cos(0) = 1, second quarter cos(3·f).
  assert.equal(cos[5 * hd], 1);
  assert.equal(cos[5 * hd + 16], f32(Math.cos(3)));
});

test('visionTables: one segment of tables plus segment count and cu_seqlens', () => {
  const tables = visionTables([3, 4, 6], 72);
  assert.equal(tables.segmentCount, 3);
  assert.equal(tables.segmentPatches, 24);
  assert.equal(tables.posEmbedIdx.length, 4 * 24);
  assert.equal(tables.posEmbedWeight.length, 4 * 24);
  assert.equal(tables.ropeCos.length, 24 * 72);
  assert.deepEqual([...tables.cuSeqlens], [0, 24, 48, 72]);
  assert.throws(() => visionTables([1, 5, 4], 64), /divisible by 2/);
});
