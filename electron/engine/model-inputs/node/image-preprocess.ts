// One image → model inputs (docs/qwen3-vl-model.md#image-decoding-and-colour onwards): decode → Pillow RGB → smart_resize →
// Pillow-exact bicubic → normalise + patchify.
import { decodeImage } from '../../media/node/image-decode.ts';
import { patchify } from '../common/patchify.ts';
import { resizeBicubicPillow } from '../common/pillow-resize.ts';
import { smartResize } from '../common/smart-resize.ts';
import type { GridThw } from '../../media/common/vision-types.ts';

export interface PreprocessImageOptions {
  /**
   * Let sharp shrink large images on load to about twice the target before the exact resize.
   * Faster on big photos, but not Pillow-exact (see the measured cost in bench/preprocess-images.ts).
   * Default false: exact.
   */
  readonly fast?: boolean;
  readonly minPixels?: number;
  readonly maxPixels?: number;
  /** Decompression-bomb guard, see decodeImage. */
  readonly maxInputPixels?: number;
}

export interface PreprocessedImage {
  /** [height, width] of the encoded image. */
  readonly original: [number, number];
  /** [height, width] after smart_resize. */
  readonly resized: [number, number];
  readonly gridThw: GridThw;
  /** float32 [grid_h·grid_w, 1536]. */
  readonly pixelValues: Float32Array;
}

/** The fast path only pays off when the source is well above twice the target on both axes. */
const FAST_PATH_MARGIN = 2.5;

function fastPathSize(height: number, width: number, limits: { minPixels?: number; maxPixels?: number }) {
  const [targetH, targetW] = smartResize(height, width, limits);
  if (width < FAST_PATH_MARGIN * targetW || height < FAST_PATH_MARGIN * targetH) return undefined;
  return { width: 2 * targetW, height: 2 * targetH };
}

export async function preprocessImage(source: string | Buffer, options: PreprocessImageOptions = {}): Promise<PreprocessedImage> {
  const limits = { minPixels: options.minPixels, maxPixels: options.maxPixels };
  const decoded = await decodeImage(source, {
    maxInputPixels: options.maxInputPixels,
    preShrinkTo: options.fast ? (w, h) => fastPathSize(h, w, limits) : undefined,
  });
  const { width, height } = decoded.original;
  const [targetH, targetW] = smartResize(height, width, limits);
  const resized = resizeBicubicPillow(decoded.image, targetW, targetH);
  const { pixelValues, gridThw } = patchify([resized]);
  return { original: [height, width], resized: [targetH, targetW], gridThw, pixelValues };
}
