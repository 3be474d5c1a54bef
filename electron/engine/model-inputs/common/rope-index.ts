// M-RoPE position ids (docs/qwen3-vl-model.md#rope-index; transformers Qwen3-VL `get_rope_index`). Text advances all three
// axes together; a vision block of (gh × gw) merged tokens gets T = base, H = base + row,
// W = base + col, and the text after it restarts at (largest id so far) + 1. Videos are split
// into one [1, h, w] block per temporal group because every group has its own
// <|vision_start|> … <|vision_end|> (timestamps carry the time). Grids are consumed in order of
// appearance across the whole batch (row 0 first), as the reference's global cursors do.
import { SPATIAL_MERGE_SIZE, TOKEN } from '../../../../native-models/checkpoint/common/qwen3vl-constants.ts';
import type { GridThw } from '../../media/common/vision-types.ts';
import { assertVisionGrid } from './placeholder-expansion.ts';

/** Position ids `[3][batch][seq]` (axis 0 = T, H, W); padding positions are 1 on every axis. */
export type PositionIds = number[][][];

/** Each video grid [t, h, w] as t grids [1, h, w], in order. */
export function splitVideoGroups(videoGrids: readonly GridThw[]): GridThw[] {
  const out: GridThw[] = [];
  videoGrids.forEach((grid, i) => {
    assertVisionGrid(grid, `video ${i}`);
    for (let g = 0; g < grid[0]; g++) out.push([1, grid[1], grid[2]]);
  });
  return out;
}

function assertShapes(inputIds: readonly (readonly number[])[], attentionMask: readonly (readonly number[])[]): void {
  if (attentionMask.length !== inputIds.length) throw new RangeError(`attentionMask has ${attentionMask.length} rows, inputIds ${inputIds.length}`);
  const seq = inputIds[0]?.length ?? 0;
  inputIds.forEach((row, b) => {
    if (row.length !== seq) throw new RangeError(`inputIds row ${b} has length ${row.length}, row 0 has ${seq}; pad the batch first`);
    if (attentionMask[b]!.length !== seq) throw new RangeError(`attentionMask row ${b} has length ${attentionMask[b]!.length}, expected ${seq}`);
  });
}

/** Positions of one row's real tokens (`tokens` = the ids where the mask is 1). */
function rowPositions(
  tokens: readonly number[],
  row: number,
  nextGrid: (kind: 'image' | 'video') => GridThw,
): [number[], number[], number[]] {
  const t: number[] = [];
  const h: number[] = [];
  const w: number[] = [];
  let images = 0;
  let videos = 0;
  for (let p = 0; p + 1 < tokens.length; p++) {
    if (tokens[p] !== TOKEN.visionStart) continue;
    if (tokens[p + 1] === TOKEN.imagePad) images++;
    else if (tokens[p + 1] === TOKEN.videoPad) videos++;
  }
  let st = 0;
  let base = 0; // (largest position so far) + 1
  const pushText = (length: number): void => {
    for (let k = 0; k < length; k++) {
      t.push(base + k);
      h.push(base + k);
      w.push(base + k);
    }
    base += length;
  };
  for (let block = images + videos; block > 0; block--) {
    const edImage = images > 0 ? tokens.indexOf(TOKEN.imagePad, st) : -1;
    const edVideo = videos > 0 ? tokens.indexOf(TOKEN.videoPad, st) : -1;
    if (edImage < 0 && edVideo < 0) throw new RangeError(`row ${row}: a <|vision_start|> block has no pad tokens after position ${st}`);
    const isImage = edImage >= 0 && (edVideo < 0 || edImage < edVideo);
    const ed = isImage ? edImage : edVideo;
    const pad = isImage ? TOKEN.imagePad : TOKEN.videoPad;
    if (isImage) images--;
    else videos--;
    const [gt, gridH, gridW] = nextGrid(isImage ? 'image' : 'video');
    const gh = gridH / SPATIAL_MERGE_SIZE;
    const gw = gridW / SPATIAL_MERGE_SIZE;
    const count = gt * gh * gw;
    for (let k = ed; k < ed + count; k++) {
      if (tokens[k] !== pad) {
        throw new RangeError(`row ${row}: the ${isImage ? 'image' : 'video'} block at token ${ed} has fewer than the ${count} pads its grid [${gt}, ${gridH}, ${gridW}] needs; grids and prompt disagree`);
      }
    }
    pushText(ed - st);
    for (let ti = 0; ti < gt; ti++) {
      for (let hi = 0; hi < gh; hi++) {
        for (let wi = 0; wi < gw; wi++) {
          t.push(base + ti);
          h.push(base + hi);
          w.push(base + wi);
        }
      }
    }
    base += Math.max(gt, gh, gw);
    st = ed + count;
  }
  pushText(tokens.length - st);
  return [t, h, w];
}

/**
 * `position_ids` for a padded batch. `imageGrids` / `videoGrids`: every image / video of the
 * batch in order of appearance (row 0 first, left to right). Throws when the grids and the
 * vision blocks in `inputIds` disagree.
 */
export function getRopeIndex(
  inputIds: readonly (readonly number[])[],
  attentionMask: readonly (readonly number[])[],
  imageGrids: readonly GridThw[],
  videoGrids: readonly GridThw[],
): PositionIds {
  assertShapes(inputIds, attentionMask);
  imageGrids.forEach((grid, i) => assertVisionGrid(grid, `image ${i}`));
  const groups = splitVideoGroups(videoGrids);
  let imageCursor = 0;
  let groupCursor = 0;
  const out: PositionIds = [[], [], []];
  inputIds.forEach((ids, b) => {
    const mask = attentionMask[b]!;
    const tokens = ids.filter((_, s) => mask[s] === 1);
    const nextGrid = (kind: 'image' | 'video'): GridThw => {
      const grid = kind === 'image' ? imageGrids[imageCursor++] : groups[groupCursor++];
      if (grid === undefined) {
        throw new RangeError(`row ${b}: more ${kind} blocks in the tokens than ${kind} grids given (${kind === 'image' ? imageGrids.length : `${groups.length} temporal groups`})`);
      }
      return grid;
    };
    const positions = rowPositions(tokens, b, nextGrid);
    for (let axis = 0; axis < 3; axis++) {
      const row = new Array<number>(ids.length).fill(1);
      let k = 0;
      for (let s = 0; s < ids.length; s++) if (mask[s] === 1) row[s] = positions[axis]![k++]!;
      out[axis]!.push(row);
    }
  });
  if (imageCursor !== imageGrids.length) throw new RangeError(`${imageGrids.length} image grids given but the tokens hold ${imageCursor} image blocks`);
  if (groupCursor !== groups.length) throw new RangeError(`video grids give ${groups.length} temporal groups but the tokens hold ${groupCursor} video blocks`);
  return out;
}
