// Decodes an image file with sharp into what the reference pipeline sees after `to_rgb`
// (docs/qwen3-vl-model.md#image-decoding-and-colour): first frame only, no EXIF rotation, no ICC conversion (Pillow applies
// neither), Pillow's per-mode colour rules (pillow-rgb.ts).
import sharp, { type Metadata } from 'sharp';
import { readFile } from 'node:fs/promises';
import { fillTransparentPixels, gifTransparentColour } from '../common/gif-transparency.ts';
import { sniffPillowMode, toPillowRgb, type DecodedSamples, type PillowMode } from '../common/pillow-rgb.ts';
import type { RgbImage } from '../common/vision-types.ts';

/** Decompression-bomb guard: Pillow warns above 89.5 MP and refuses above twice that; we refuse above this. */
export const DEFAULT_MAX_INPUT_PIXELS = 178_956_970;

export interface DecodeImageOptions {
  /** Refuse images with more pixels than this (default 178,956,970, Pillow's error threshold). */
  readonly maxInputPixels?: number;
  /**
   * Fast path: given the encoded size, return a size for sharp to shrink to on load (JPEG DCT
   * scaling + its own resampling) before the exact resize, or undefined to decode at full size.
   * Not Pillow-exact; see image-preprocess.ts.
   */
  readonly preShrinkTo?: (width: number, height: number) => { readonly width: number; readonly height: number } | undefined;
}

export interface DecodedImage {
  /** Size of the encoded image (before any fast-path shrink). */
  readonly original: { readonly width: number; readonly height: number };
  readonly image: RgbImage;
  readonly pillowMode: PillowMode;
}

export class ImageDecodeError extends Error {
  override readonly name = 'ImageDecodeError';
}

function describe(source: string | Buffer): string {
  return typeof source === 'string' ? `'${source}'` : `in-memory image (${source.length} bytes)`;
}

/** Pillow mode when the container header does not say: from what the decoder reports. */
function modeFromMetadata(meta: Metadata): PillowMode {
  if (meta.space === 'cmyk') return 'CMYK';
  const grey = meta.space === 'b-w' || meta.space === 'grey16';
  if (meta.hasAlpha) return grey ? 'LA' : 'RGBA';
  if (grey) return meta.depth === 'ushort' ? 'I;16' : 'L';
  return 'RGB';
}

export async function decodeImage(source: string | Buffer, options: DecodeImageOptions = {}): Promise<DecodedImage> {
  const what = describe(source);
  let bytes: Buffer;
  try {
    bytes = typeof source === 'string' ? await readFile(source) : source;
  } catch (error) {
    throw new ImageDecodeError(`Cannot read image ${what}: ${(error as Error).message}. Check that the file exists and is readable.`);
  }
  const limit = options.maxInputPixels ?? DEFAULT_MAX_INPUT_PIXELS;
  // autoOrient stays off: the reference never applies EXIF orientation. ignoreIcc: Pillow ignores ICC profiles.
  const input = { limitInputPixels: limit, ignoreIcc: true, autoOrient: false, failOn: 'error' as const, pages: 1, page: 0 };
  let meta: Metadata;
  try {
    meta = await sharp(bytes, input).metadata();
  } catch (error) {
    throw new ImageDecodeError(`Cannot decode image ${what}: ${cleanReason(error)}. The file is not a supported image or is corrupt; re-export it as PNG or JPEG.`);
  }
  const width = meta.width;
  const height = meta.pageHeight ?? meta.height;
  if (!width || !height) throw new ImageDecodeError(`Cannot decode image ${what}: the decoder reports no size. Re-export it as PNG or JPEG.`);
  if (width * height > limit) {
    throw new ImageDecodeError(
      `Image ${what} is ${width}×${height} = ${width * height} pixels, above the limit of ${limit} (decompression-bomb guard). Downscale it first or raise maxInputPixels.`,
    );
  }
  const pillowMode = sniffPillowMode(bytes) ?? modeFromMetadata(meta);
  try {
    let pipeline = sharp(bytes, input);
    const shrinkTo = options.preShrinkTo?.(width, height);
    const sixteen = meta.depth === 'ushort' && !shrinkTo;
    if (shrinkTo) pipeline = pipeline.resize(shrinkTo.width, shrinkTo.height, { fit: 'fill', fastShrinkOnLoad: true });
    let samples: DecodedSamples;
    if (pillowMode === 'CMYK') {
      // Keep ink values: Pillow converts CMYK with its own formula, not through an ICC profile.
      pipeline = pipeline.pipelineColourspace('cmyk').toColourspace('cmyk');
      const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
      samples = { width: info.width, height: info.height, channels: info.channels as 4, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
    } else if (sixteen) {
      const grey = meta.channels !== undefined && meta.channels <= 2;
      const { data, info } = await pipeline.toColourspace(grey ? 'grey16' : 'rgb16').raw({ depth: 'ushort' }).toBuffer({ resolveWithObject: true });
      samples = { width: info.width, height: info.height, channels: info.channels as 1 | 2 | 3 | 4, data: new Uint16Array(data.buffer, data.byteOffset, data.length / 2) };
    } else {
      const { data, info } = await pipeline.toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
      samples = { width: info.width, height: info.height, channels: info.channels as 1 | 2 | 3 | 4, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
      // GIF: sharp zeroes transparent pixels; Pillow shows the transparent index's palette colour.
      const transparent = pillowMode === 'P' && samples.channels === 4 && !shrinkTo ? gifTransparentColour(bytes) : undefined;
      if (transparent) fillTransparentPixels(samples.data as Uint8Array, transparent);
    }
    // 16-bit grey is clipped by Pillow; an 8-bit fast-path decode of it cannot be, so treat it as L.
    const mode: PillowMode = pillowMode === 'I;16' && !(samples.data instanceof Uint16Array) ? 'L' : pillowMode;
    return { original: { width, height }, image: toPillowRgb(samples, mode), pillowMode };
  } catch (error) {
    if (error instanceof ImageDecodeError) throw error;
    throw new ImageDecodeError(`Cannot decode image ${what}: ${cleanReason(error)}. The file is corrupt or truncated; re-export it as PNG or JPEG.`);
  }
}

function cleanReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0].replace(/\.$/, '');
}
