// What the library keeps for an image besides its embedding: its size and EXIF orientation, and a
// small WebP thumbnail for result grids (stored once, never recomputed per search).
//
// The thumbnail is turned upright by EXIF orientation because people look at it. The model input is
// NOT: the reference pipeline ignores EXIF (docs/qwen3-vl-model.md#image-decoding-and-colour), so decodeImage stays unrotated and the two
// are deliberately separate. Errors read like decodeImage's: what failed, and what to do.
import { stat } from 'node:fs/promises';
import sharp, { type Metadata } from 'sharp';
import { DEFAULT_MAX_INPUT_PIXELS } from '../../media/node/image-decode.ts';

export const DEFAULT_THUMBNAIL_SIZE = 320;

export interface ImageThumbnail {
  readonly data: Buffer;
  readonly mime: 'image/webp';
  readonly width: number;
  readonly height: number;
}

export interface ExtractedImage {
  /** Size as encoded (what the model sees; EXIF orientation not applied). */
  readonly width: number;
  readonly height: number;
  /** EXIF orientation 1–8, or null when the file has none. */
  readonly orientation: number | null;
  /** Size as displayed (orientations 5–8 swap width and height). */
  readonly displayWidth: number;
  readonly displayHeight: number;
  /** Container format as sharp names it (jpeg, png, webp, heif, …). */
  readonly format: string;
  /** Longest side at most the requested size, upright. */
  readonly thumbnail: ImageThumbnail;
}

export interface ExtractImageOptions {
  /** Longest side of the thumbnail in pixels (default 320); smaller images are not enlarged. */
  readonly thumbnailSize?: number;
  /** WebP quality 1–100 (default 80: small files, no visible artefacts at grid size). */
  readonly quality?: number;
  /** Decompression-bomb guard, as in decodeImage. */
  readonly maxInputPixels?: number;
  /** The file's bytes when the caller has read them already (then the file is not opened again). */
  readonly bytes?: Buffer;
}

export class ImageExtractError extends Error {
  override readonly name = 'ImageExtractError';
}

function cleanReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  // libvips ends some messages with a colon and no detail ("Input file has corrupt header:"), and
  // says "Input buffer" of bytes read into memory: the user has a file either way.
  return message.split('\n')[0].replace(/[\s.:]+$/, '').replace(/^Input (?:file|buffer) /, 'the file ');
}

/** The error for an image file that cannot be read at all (missing, no permission, a folder). */
export function cannotReadImage(filePath: string, error: unknown): ImageExtractError {
  return new ImageExtractError(`Cannot read image '${filePath}': ${cleanReason(error)}. Check that the file exists and is readable.`);
}

export async function extractImage(filePath: string, options: ExtractImageOptions = {}): Promise<ExtractedImage> {
  const thumbnailSize = options.thumbnailSize ?? DEFAULT_THUMBNAIL_SIZE;
  const limit = options.maxInputPixels ?? DEFAULT_MAX_INPUT_PIXELS;
  const what = `'${filePath}'`;
  let size: number;
  try {
    size = options.bytes ? options.bytes.length : (await stat(filePath)).size;
  } catch (error) {
    throw cannotReadImage(filePath, error);
  }
  if (size === 0) throw new ImageExtractError(`Image ${what} is empty (0 bytes); it was not saved completely. Copy it again from its source.`);
  const source = options.bytes ?? filePath;
  // First frame only (animated GIF/WebP), same strictness as decodeImage so both agree on what is broken.
  const input = { limitInputPixels: limit, failOn: 'error' as const, pages: 1, page: 0 };
  let meta: Metadata;
  try {
    // Headers only, so no pixel limit here: the size check below names the guard in its message.
    meta = await sharp(source, { ...input, limitInputPixels: false, autoOrient: false }).metadata();
  } catch (error) {
    throw new ImageExtractError(`Cannot decode image ${what}: ${cleanReason(error)}. The file is not a supported image or is corrupt; re-export it as PNG or JPEG.`);
  }
  const width = meta.width;
  const height = meta.pageHeight ?? meta.height;
  if (!width || !height) throw new ImageExtractError(`Cannot decode image ${what}: the decoder reports no size. Re-export it as PNG or JPEG.`);
  if (width * height > limit) {
    throw new ImageExtractError(`Image ${what} is ${width}×${height} = ${width * height} pixels, above the limit of ${limit} (decompression-bomb guard). Downscale it first.`);
  }
  const orientation = meta.orientation ?? null;
  const swapped = orientation !== null && orientation >= 5 && orientation <= 8;
  try {
    const { data, info } = await sharp(source, { ...input, autoOrient: true })
      .resize(thumbnailSize, thumbnailSize, { fit: 'inside', withoutEnlargement: true })
      .webp({ quality: options.quality ?? 80 })
      .toBuffer({ resolveWithObject: true });
    return {
      width,
      height,
      orientation,
      displayWidth: swapped ? height : width,
      displayHeight: swapped ? width : height,
      format: meta.format ?? 'unknown',
      thumbnail: { data, mime: 'image/webp', width: info.width, height: info.height },
    };
  } catch (error) {
    throw new ImageExtractError(`Cannot make a thumbnail of ${what}: ${cleanReason(error)}. The file is corrupt or truncated; re-export it as PNG or JPEG.`);
  }
}
