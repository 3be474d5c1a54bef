// Pillow's colour rules for the reference `to_rgb` (docs/qwen3-vl-model.md#image-decoding-and-colour; qwen-vl-utils `to_rgb`):
// mode "RGBA" is pasted over white with its alpha as mask; every other mode goes through
// `convert("RGB")`, which drops alpha without blending. Which rule applies depends on the mode
// Pillow *opens* a file as, so the mode is read from the container (decoders such as sharp
// expand palettes and tRNS to RGBA and lose that distinction).
import type { RgbImage } from './vision-types.ts';

/** Pillow modes a supported file can open as (the subset this pipeline distinguishes). */
export type PillowMode = '1' | 'L' | 'LA' | 'P' | 'I;16' | 'RGB' | 'RGBA' | 'CMYK';

/** Pillow's DIV255: (v + 128 + ((v + 128) >> 8)) >> 8, exact v/255 rounding for v ≤ 255·255. */
export function div255(v: number): number {
  const t = v + 128;
  return ((t >> 8) + t) >> 8;
}

/** Pillow `paste(mask=alpha)` of one channel over white: DIV255(src·a + 255·(255 − a)). */
export function blendOverWhite(src: number, alpha: number): number {
  return div255(src * alpha + 255 * (255 - alpha));
}

/** Pillow `convert("RGB")` of one CMYK pixel channel (ink values, 0 = no ink). */
export function cmykChannelToRgb(ink: number, black: number): number {
  const nk = 255 - black;
  const v = nk - div255(ink * nk);
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/** PNG (bit depth, colour type) → Pillow mode, as PngImagePlugin maps IHDR. */
export function pngPillowMode(bitDepth: number, colourType: number): PillowMode | undefined {
  switch (colourType) {
    case 0:
      return bitDepth === 1 ? '1' : bitDepth === 16 ? 'I;16' : bitDepth <= 8 ? 'L' : undefined;
    case 2:
      return bitDepth === 8 || bitDepth === 16 ? 'RGB' : undefined;
    case 3:
      return bitDepth <= 8 ? 'P' : undefined;
    case 4:
      // 16-bit grey+alpha opens as RGBA in Pillow (no LA;16 unpacker), so it gets the white blend.
      return bitDepth === 8 ? 'LA' : bitDepth === 16 ? 'RGBA' : undefined;
    case 6:
      return bitDepth === 8 || bitDepth === 16 ? 'RGBA' : undefined;
    default:
      return undefined;
  }
}

function ascii(bytes: Uint8Array, at: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(at, at + length));
}

/**
 * The Pillow mode of an encoded file, from its header bytes; `undefined` when the container
 * does not say (callers then fall back to decoder metadata).
 */
export function sniffPillowMode(bytes: Uint8Array): PillowMode | undefined {
  // PNG: signature, then IHDR (bit depth at 24, colour type at 25).
  if (bytes.length >= 26 && bytes[0] === 0x89 && ascii(bytes, 1, 3) === 'PNG' && ascii(bytes, 12, 4) === 'IHDR') {
    return pngPillowMode(bytes[24], bytes[25]);
  }
  // GIF: Pillow opens the first frame as P (L for an all-grey palette, same RGB result).
  if (bytes.length >= 6 && ascii(bytes, 0, 4) === 'GIF8') return 'P';
  // WebP: RGBA when the file declares alpha, else RGB.
  if (bytes.length >= 30 && ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WEBP') {
    const chunk = ascii(bytes, 12, 4);
    if (chunk === 'VP8X') return (bytes[20] & 0x10) !== 0 ? 'RGBA' : 'RGB';
    if (chunk === 'VP8L') return (bytes[24] & 0x10) !== 0 ? 'RGBA' : 'RGB'; // alpha_is_used bit of the header word
    return 'RGB';
  }
  // JPEG: the frame header's component count (1 grey, 3 YCbCr/RGB, 4 CMYK/YCCK).
  if (bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8) return jpegPillowMode(bytes);
  return undefined;
}

function jpegPillowMode(bytes: Uint8Array): PillowMode | undefined {
  let i = 2;
  while (i + 9 < bytes.length) {
    if (bytes[i] !== 0xff) return undefined;
    const marker = bytes[i + 1];
    if (marker === 0xff) {
      i += 1; // fill byte
      continue;
    }
    const length = (bytes[i + 2] << 8) | bytes[i + 3];
    const isFrameHeader = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrameHeader) {
      const components = bytes[i + 9];
      return components === 1 ? 'L' : components === 3 ? 'RGB' : components === 4 ? 'CMYK' : undefined;
    }
    i += 2 + length;
  }
  return undefined;
}

/** Decoded samples as a decoder hands them over: interleaved, 1–4 channels, 8 or 16 bits. */
export interface DecodedSamples {
  readonly width: number;
  readonly height: number;
  /** 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA or CMYK (ink values). */
  readonly channels: 1 | 2 | 3 | 4;
  readonly data: Uint8Array | Uint16Array;
}

/**
 * Applies the reference `to_rgb` to decoded samples, given the Pillow mode the file opens as.
 * 16-bit samples follow Pillow's unpackers: colour and alpha keep the high byte; mode I;16
 * (16-bit grey) is clipped to 255 by `convert("RGB")`, as Pillow does.
 */
export function toPillowRgb(samples: DecodedSamples, mode: PillowMode): RgbImage {
  const { width, height, channels, data } = samples;
  const pixels = width * height;
  if (data.length !== pixels * channels) {
    throw new RangeError(`toPillowRgb: ${data.length} samples do not match ${width}×${height}×${channels}.`);
  }
  const sixteen = data instanceof Uint16Array;
  if (mode === 'CMYK' && channels !== 4) {
    throw new RangeError(`toPillowRgb: CMYK needs 4 channels of ink values, got ${channels}.`);
  }
  if (mode === 'I;16' && !sixteen) {
    throw new RangeError('toPillowRgb: mode I;16 needs the 16-bit samples (decode with 16-bit output) to clip them as Pillow does.');
  }
  if (!sixteen && channels === 3 && mode !== 'CMYK') {
    return { width, height, data: data as Uint8Array }; // already what convert("RGB") gives
  }
  // Per-sample byte as Pillow holds it in memory for this mode.
  const byteOf = sixteen ? (mode === 'I;16' ? (v: number) => (v > 255 ? 255 : v) : (v: number) => v >> 8) : (v: number) => v;
  const out = new Uint8Array(pixels * 3);
  const grey = channels <= 2;
  const hasAlpha = channels === 2 || (channels === 4 && mode !== 'CMYK');
  const blend = mode === 'RGBA' && hasAlpha;
  for (let p = 0, s = 0, o = 0; p < pixels; p++, s += channels, o += 3) {
    if (mode === 'CMYK') {
      const k = data[s + 3];
      out[o] = cmykChannelToRgb(data[s], k);
      out[o + 1] = cmykChannelToRgb(data[s + 1], k);
      out[o + 2] = cmykChannelToRgb(data[s + 2], k);
      continue;
    }
    const r = byteOf(data[s]);
    const g = grey ? r : byteOf(data[s + 1]);
    const b = grey ? r : byteOf(data[s + 2]);
    if (blend) {
      const a = byteOf(data[s + channels - 1]);
      out[o] = blendOverWhite(r, a);
      out[o + 1] = blendOverWhite(g, a);
      out[o + 2] = blendOverWhite(b, a);
    } else {
      out[o] = r;
      out[o + 1] = g;
      out[o + 2] = b;
    }
  }
  return { width, height, data: out };
}
