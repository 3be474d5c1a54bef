// Placeholder expansion as the Qwen3-VL processor does it (docs/qwen3-vl-model.md#placeholder-expansion): each image's
// `<|image_pad|>` becomes t·h·w/4 pads; each video's `<|vision_start|><|video_pad|><|vision_end|>`
// becomes, per temporal group, "<{ts} seconds>" + vision_start + (h·w/4) pads + vision_end.
// Only special parts are placeholders, so pad strings inside user text are never expanded.
import { SPATIAL_MERGE_SIZE } from '../../../../native-models/checkpoint/common/qwen3vl-constants.ts';
import type { GridThw } from '../../media/common/vision-types.ts';
import { SPECIAL, textPart, type Prompt, type PromptPart } from './prompt-segments.ts';

const MERGE_UNIT = SPATIAL_MERGE_SIZE * SPATIAL_MERGE_SIZE;

export interface VideoPlaceholderFill {
  readonly grid: GridThw;
  /** One formatted time per temporal group, e.g. "0.6" (Python `f"{x:.1f}"`, see formatFixed1). */
  readonly timestamps: readonly string[];
}

/** Throws unless the grid has positive integer sides and even h and w (2×2 merge blocks). */
export function assertVisionGrid(grid: GridThw, what: string): void {
  const [t, h, w] = grid;
  if (![t, h, w].every((v) => Number.isInteger(v) && v > 0)) {
    throw new RangeError(`${what}: grid [${grid.join(', ')}] must be three positive integers`);
  }
  if (h % SPATIAL_MERGE_SIZE !== 0 || w % SPATIAL_MERGE_SIZE !== 0) {
    throw new RangeError(`${what}: grid [${grid.join(', ')}] needs h and w divisible by ${SPATIAL_MERGE_SIZE} (merge blocks)`);
  }
}

/** LLM tokens of one temporal group: h·w/4. */
export function tokensPerGroup(grid: GridThw): number {
  return (grid[1] * grid[2]) / MERGE_UNIT;
}

/** LLM tokens of a whole image or video: t·h·w/4. */
export function visionTokenCount(grid: GridThw): number {
  return grid[0] * tokensPerGroup(grid);
}

function isSpecial(part: PromptPart | undefined, id: number): boolean {
  return part?.kind === 'special' && part.id === id;
}

/** `<|vision_start|>{pad}<|vision_end|>` starting at parts[i]. */
function isPlaceholder(parts: Prompt, i: number, padId: number): boolean {
  return isSpecial(parts[i], SPECIAL.visionStart.id) && isSpecial(parts[i + 1], padId) && isSpecial(parts[i + 2], SPECIAL.visionEnd.id);
}

/**
 * Expands every image and video placeholder, consuming `images` and `videos` in prompt order.
 * Throws when the counts differ, a grid is invalid, a video's timestamp count differs from its
 * grid_t, or a pad token appears outside a placeholder.
 */
export function expandVisionPlaceholders(
  parts: Prompt,
  images: readonly GridThw[],
  videos: readonly VideoPlaceholderFill[],
): PromptPart[] {
  const out: PromptPart[] = [];
  let imageIndex = 0;
  let videoIndex = 0;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (isPlaceholder(parts, i, SPECIAL.imagePad.id)) {
      const grid = images[imageIndex];
      if (grid === undefined) throw new RangeError(`the prompt has more image placeholders than the ${images.length} image grid(s) given`);
      assertVisionGrid(grid, `image ${imageIndex}`);
      out.push(SPECIAL.visionStart);
      for (let k = visionTokenCount(grid); k > 0; k--) out.push(SPECIAL.imagePad);
      out.push(SPECIAL.visionEnd);
      imageIndex++;
      i += 2;
    } else if (isPlaceholder(parts, i, SPECIAL.videoPad.id)) {
      const video = videos[videoIndex];
      if (video === undefined) throw new RangeError(`the prompt has more video placeholders than the ${videos.length} video(s) given`);
      assertVisionGrid(video.grid, `video ${videoIndex}`);
      if (video.timestamps.length !== video.grid[0]) {
        throw new RangeError(`video ${videoIndex}: ${video.timestamps.length} timestamps given for grid_t = ${video.grid[0]}; pass one per temporal group`);
      }
      const pads = tokensPerGroup(video.grid);
      for (const ts of video.timestamps) {
        out.push(textPart(`<${ts} seconds>`), SPECIAL.visionStart);
        for (let k = pads; k > 0; k--) out.push(SPECIAL.videoPad);
        out.push(SPECIAL.visionEnd);
      }
      videoIndex++;
      i += 2;
    } else if (part.kind === 'special' && (part.id === SPECIAL.imagePad.id || part.id === SPECIAL.videoPad.id)) {
      throw new RangeError(`${part.text} at part ${i} is not inside a <|vision_start|>…<|vision_end|> placeholder`);
    } else {
      out.push(part);
    }
  }
  if (imageIndex !== images.length) throw new RangeError(`${images.length} image grid(s) given but the prompt has ${imageIndex} image placeholder(s)`);
  if (videoIndex !== videos.length) throw new RangeError(`${videos.length} video(s) given but the prompt has ${videoIndex} video placeholder(s)`);
  return out;
}
