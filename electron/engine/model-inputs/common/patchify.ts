// Rescale + normalise + patchify (docs/qwen3-vl-model.md#normalisation-and-patch-order,
// docs/qwen3-vl-model.md#video-patches): uint8 RGB frames → the
// float32 `pixel_values` rows the vision tower reads, in HF's merge-block row order.
import { NORM_CENTER, NORM_SCALE, PATCH_DIM, PATCH_SIZE, SPATIAL_MERGE_SIZE, TEMPORAL_PATCH_SIZE } from '../../../../native-models/checkpoint/common/qwen3vl-constants.ts';
import { assertRgbImage, type GridThw, type RgbImage } from '../../media/common/vision-types.ts';

// Module-local copies: hot loops must not read imported bindings (loaders may turn them into getters).
const PATCH = PATCH_SIZE; // 16
const MERGE = SPATIAL_MERGE_SIZE; // 2
const TEMPORAL = TEMPORAL_PATCH_SIZE; // 2
const ROW_DIM = PATCH_DIM; // 1536
const SIDE_MULTIPLE = PATCH * MERGE; // 32
const PATCH_AREA = PATCH * PATCH; // 256: one (channel, time) plane of a patch row

/** uint8 → fround((x − 127.5) / 127.5), HF's fused rescale+normalise, computed once. */
const NORMALISED = (() => {
  const table = new Float32Array(256);
  for (let x = 0; x < 256; x++) table[x] = (x - NORM_CENTER) / NORM_SCALE;
  return table;
})();

export interface PatchifyResult {
  /** float32 [gridT·gridH·gridW, 1536], row-major. */
  readonly pixelValues: Float32Array;
  readonly gridThw: GridThw;
}

/**
 * One frame → a still image (duplicated into both temporal slots, grid_t = 1); otherwise an
 * even number of equally sized frames, paired in order (grid_t = n / 2).
 */
export function patchify(frames: readonly RgbImage[]): PatchifyResult {
  if (frames.length === 0) throw new RangeError('patchify needs at least one frame.');
  const { width, height } = frames[0];
  if (width % SIDE_MULTIPLE !== 0 || height % SIDE_MULTIPLE !== 0 || width === 0 || height === 0) {
    throw new RangeError(`patchify needs sides that are positive multiples of ${SIDE_MULTIPLE}, got ${width}×${height}; resize with smartResize first.`);
  }
  if (frames.length > 1 && frames.length % TEMPORAL !== 0) {
    throw new RangeError(`patchify needs 1 frame (image) or an even number of frames (video), got ${frames.length}; repeat the last frame to pad.`);
  }
  for (const [i, frame] of frames.entries()) {
    assertRgbImage(frame);
    if (frame.width !== width || frame.height !== height) {
      throw new RangeError(`patchify frame ${i} is ${frame.width}×${frame.height}, frame 0 is ${width}×${height}; all frames must share one size.`);
    }
  }
  const gridT = frames.length === 1 ? 1 : frames.length / TEMPORAL;
  const gridH = height / PATCH;
  const gridW = width / PATCH;
  const out = new Float32Array(gridT * gridH * gridW * ROW_DIM);
  // Output is written strictly in order (row after row); the source is read a 16-pixel run at a time.
  const rowStride = width * 3;
  let o = 0;
  for (let g = 0; g < gridT; g++) {
    const first = frames.length === 1 ? frames[0].data : frames[2 * g].data;
    const second = frames.length === 1 ? null : frames[2 * g + 1].data;
    for (let bh = 0; bh < gridH / MERGE; bh++) {
      for (let bw = 0; bw < gridW / MERGE; bw++) {
        for (let mh = 0; mh < MERGE; mh++) {
          for (let mw = 0; mw < MERGE; mw++) {
            const patchOrigin = (2 * bh + mh) * PATCH * rowStride + (2 * bw + mw) * PATCH * 3;
            for (let c = 0; c < 3; c++) {
              o = writePlane(out, o, first, patchOrigin + c, rowStride);
              if (second === null) {
                out.copyWithin(o, o - PATCH_AREA, o); // still image: temporal slot 1 = slot 0
                o += PATCH_AREA;
              } else {
                o = writePlane(out, o, second, patchOrigin + c, rowStride);
              }
            }
          }
        }
      }
    }
  }
  return { pixelValues: out, gridThw: [gridT, gridH, gridW] };
}

/** Writes one 16×16 (channel, time) plane of a patch starting at `o`; returns the next offset. */
function writePlane(out: Float32Array, o: number, data: Uint8Array, origin: number, rowStride: number): number {
  const lut = NORMALISED;
  for (let py = 0; py < PATCH; py++) {
    let s = origin + py * rowStride;
    for (let px = 0; px < PATCH; px++) {
      out[o++] = lut[data[s]];
      s += 3;
    }
  }
  return o;
}

/** Offset of the first value of patch (pr, pc) inside its temporal group (merge-block order). */
function patchRowOffset(pr: number, pc: number, gridW: number): number {
  const blocksPerRow = gridW / MERGE;
  const block = (pr >> 1) * blocksPerRow + (pc >> 1);
  const row = block * 4 + (pr & 1) * 2 + (pc & 1);
  return row * ROW_DIM;
}

/**
 * Inverse of `patchify`: returns 2·grid_t frames (a still image comes back as two identical
 * frames). Values are mapped back with x = round(v·127.5 + 127.5), which is exact for patchify output.
 */
export function unpatchify(pixelValues: Float32Array, gridThw: GridThw): RgbImage[] {
  const [gridT, gridH, gridW] = gridThw;
  if (gridH % MERGE !== 0 || gridW % MERGE !== 0) {
    throw new RangeError(`unpatchify needs even grid sides, got ${gridH}×${gridW}.`);
  }
  if (pixelValues.length !== gridT * gridH * gridW * ROW_DIM) {
    throw new RangeError(`unpatchify: ${pixelValues.length} values do not match grid ${gridT}×${gridH}×${gridW} × ${ROW_DIM}.`);
  }
  const width = gridW * PATCH;
  const height = gridH * PATCH;
  const frames: RgbImage[] = [];
  for (let g = 0; g < gridT; g++) {
    const groupBase = g * gridH * gridW * ROW_DIM;
    for (let t = 0; t < TEMPORAL; t++) {
      const data = new Uint8Array(width * height * 3);
      let dst = 0;
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const base = groupBase + patchRowOffset(y >> 4, x >> 4, gridW) + (y & 15) * PATCH + (x & 15);
          for (let c = 0; c < 3; c++) {
            const v = pixelValues[base + (c * TEMPORAL + t) * PATCH_AREA];
            data[dst++] = Math.min(255, Math.max(0, Math.round(v * NORM_SCALE + NORM_CENTER)));
          }
        }
      }
      frames.push({ width, height, data });
    }
  }
  return frames;
}
