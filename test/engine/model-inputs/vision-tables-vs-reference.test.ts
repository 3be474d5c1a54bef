// The pipeline's vision tables (fed to the ONNX vision graph) against the naive reference
// forward's own computation of the same quantities. The two were written independently from
// docs/qwen3-vl-model.md#vision-tower; agreement here is what lets the graph tests trust the tables.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeOrderRowCol, posEmbedTables, rotaryTables } from '../../../electron/engine/model-inputs/common/vision-tables.ts';
import { bilinearTaps, mergeOrderPatches, visionRotary } from '../../../native-models/reference/node/naive-vision.ts';

const GRIDS: [number, number][] = [[2, 2], [4, 4], [4, 6], [12, 18], [62, 112], [2, 200], [96, 96]];

test('merge-block order agrees', () => {
  for (const [h, w] of GRIDS) {
    const { rows, cols } = mergeOrderRowCol(h, w);
    const naive = mergeOrderPatches(h, w, 2);
    assert.equal(naive.length, h * w);
    naive.forEach((p, i) => {
      assert.equal(rows[i], p.row, `${h}×${w} patch ${i} row`);
      assert.equal(cols[i], p.col, `${h}×${w} patch ${i} col`);
    });
  }
});

test('position-embedding gather indices are identical and weights bit-identical', () => {
  for (const [h, w] of GRIDS) {
    const n = h * w;
    const { idx, weight } = posEmbedTables(h, w);
    mergeOrderPatches(h, w, 2).forEach(({ row, col }, p) => {
      bilinearTaps(h, w, 48, row, col).forEach((tap, corner) => {
        assert.equal(idx[corner * n + p], tap.index, `${h}×${w} patch ${p} corner ${corner} index`);
        assert.equal(weight[corner * n + p], tap.weight, `${h}×${w} patch ${p} corner ${corner} weight`);
      });
    });
  }
});

test('2-D rotary cos/sin agree to float32 rounding', () => {
  for (const headDim of [16, 64, 72]) {
    for (const [h, w] of [[4, 6], [62, 112]] as const) {
      const { cos, sin } = rotaryTables(h, w, headDim);
      let worst = 0;
      mergeOrderPatches(h, w, 2).forEach(({ row, col }, p) => {
        const ref = visionRotary(row, col, headDim);
        for (let k = 0; k < headDim; k++) {
          worst = Math.max(worst, Math.abs(cos[p * headDim + k]! - ref.cos[k]!), Math.abs(sin[p * headDim + k]! - ref.sin[k]!));
        }
      });
      // The tables are float32; the reference forms angles in float64. Angles reach ~112 rad,
      // where a float32 angle is off by up to 112·2⁻²⁴ ≈ 7e-6.
      assert.ok(worst < 1e-5, `head dim ${headDim}, grid ${h}×${w}: max |Δ| ${worst}`);
    }
  }
});
