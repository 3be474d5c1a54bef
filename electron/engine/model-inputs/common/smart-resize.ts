// qwen-vl-utils `smart_resize` (docs/qwen3-vl-model.md#image-size): the target size of every image and video frame.
// Python semantics matter here: `round()` ties to even, and all arithmetic is in doubles in the
// same order as the reference, so JS reproduces the reference sizes bit for bit.
import { roundHalfEven } from '../../base/common/python-numerics.ts';
import { IMAGE_FACTOR, IMAGE_MAX_PIXELS, IMAGE_MIN_PIXELS, MAX_ASPECT_RATIO } from '../../../../native-models/checkpoint/common/qwen3vl-constants.ts';

export interface SmartResizeOptions {
  /** Output sides are multiples of this (patch size × merge size); default 32. */
  readonly factor?: number;
  /** Lower bound on output pixels; default 4096. */
  readonly minPixels?: number;
  /** Upper bound on output pixels; default 1,843,200 (1800 tokens). */
  readonly maxPixels?: number;
}

/** Target `[height, width]` for an image of `height × width` pixels, as qwen-vl-utils computes it. */
export function smartResize(height: number, width: number, options: SmartResizeOptions = {}): [number, number] {
  const factor = options.factor ?? IMAGE_FACTOR;
  const minPixels = options.minPixels ?? IMAGE_MIN_PIXELS;
  const maxPixels = options.maxPixels ?? IMAGE_MAX_PIXELS;
  if (!(Number.isInteger(height) && Number.isInteger(width) && height > 0 && width > 0)) {
    throw new RangeError(`smartResize needs positive integer sides, got ${height}×${width}; check the decoded image size.`);
  }
  if (!(Number.isInteger(factor) && factor > 0)) {
    throw new RangeError(`smartResize factor must be a positive integer, got ${factor}.`);
  }
  if (!(maxPixels >= minPixels)) {
    throw new RangeError(`smartResize maxPixels (${maxPixels}) must be ≥ minPixels (${minPixels}); raise maxPixels or lower minPixels.`);
  }
  const ratio = Math.max(height, width) / Math.min(height, width);
  if (ratio > MAX_ASPECT_RATIO) {
    throw new RangeError(
      `Image aspect ratio ${ratio} (${width}×${height}) exceeds the limit of ${MAX_ASPECT_RATIO}; crop the image or split it into tiles.`,
    );
  }
  let hBar = Math.max(factor, roundHalfEven(height / factor) * factor);
  let wBar = Math.max(factor, roundHalfEven(width / factor) * factor);
  if (hBar * wBar > maxPixels) {
    const beta = Math.sqrt((height * width) / maxPixels);
    hBar = Math.floor(height / beta / factor) * factor;
    wBar = Math.floor(width / beta / factor) * factor;
  } else if (hBar * wBar < minPixels) {
    const beta = Math.sqrt(minPixels / (height * width));
    hBar = Math.ceil((height * beta) / factor) * factor;
    wBar = Math.ceil((width * beta) / factor) * factor;
  }
  if (hBar === 0 || wBar === 0) {
    // The reference would hand a zero-sized target to Pillow; fail early and say why instead.
    throw new RangeError(
      `smartResize(${height}, ${width}) shrinks a side to 0 with maxPixels=${maxPixels}, factor=${factor}; raise maxPixels.`,
    );
  }
  return [hBar, wBar];
}
