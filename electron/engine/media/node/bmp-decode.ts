// A small BMP reader: the bundled image library (libvips in sharp) has no BMP loader, and BMP is
// still what Windows' Paint, old scanners and many screenshots write. It reads the uncompressed
// forms that cover nearly all real files: 1/4/8-bit palette, 16-bit (5-5-5 or bit fields), 24-bit,
// 32-bit (BI_RGB, or bit fields with an alpha mask), bottom-up or top-down, with the OS/2 core
// header or any BITMAPINFOHEADER version (40, 52, 56, 108, 124 bytes). Pixels come out as Pillow
// gives them after convert("RGB") (or RGBA when the bit fields carry alpha, as Pillow's "BGRA"
// raw mode), so the model reads a BMP as the reference would.
// RLE, JPEG- and PNG-in-BMP are refused with a reason (rare; any editor re-saves them).

export class BmpDecodeError extends Error {
  override readonly name = 'BmpDecodeError';
}

export interface DecodedBmp {
  readonly width: number;
  readonly height: number;
  readonly channels: 3 | 4;
  /** Top row first, `channels` bytes a pixel, no padding. */
  readonly data: Buffer;
}

const BI_RGB = 0;
const BI_BITFIELDS = 3;
const BI_ALPHABITFIELDS = 6;
const COMPRESSION_NAMES: Record<number, string> = { 1: 'RLE8', 2: 'RLE4', 4: 'JPEG', 5: 'PNG' };

/** True when the bytes start like a BMP file ("BM" and a plausible header size). */
export function isBmp(head: Uint8Array): boolean {
  if (head.length < 18 || head[0] !== 0x42 || head[1] !== 0x4d) return false;
  const headerSize = Buffer.from(head.buffer, head.byteOffset, head.length).readUInt32LE(14);
  return headerSize === 12 || (headerSize >= 40 && headerSize <= 124);
}

/** A channel from a bit-field mask, scaled to 8 bits; `[value, bits]` for each mask. */
function maskShift(mask: number): { shift: number; bits: number } {
  if (mask === 0) return { shift: 0, bits: 0 };
  let shift = 0;
  while (((mask >>> shift) & 1) === 0) shift += 1;
  let bits = 0;
  while (shift + bits < 32 && ((mask >>> (shift + bits)) & 1) === 1) bits += 1;
  return { shift, bits };
}

function scaleTo8(value: number, bits: number): number {
  if (bits === 8) return value;
  if (bits === 0) return 0;
  return Math.floor((value * 255) / ((1 << bits) - 1));
}

/**
 * Decodes a BMP file's bytes. `maxPixels` guards against a header that claims a huge image
 * (a decompression-bomb guard, checked before any pixel buffer is allocated).
 */
export function decodeBmp(bytes: Buffer, maxPixels: number): DecodedBmp {
  const fail = (why: string): never => {
    throw new BmpDecodeError(why);
  };
  if (!isBmp(bytes)) fail('it is not a BMP file (no "BM" signature or an unknown header)');
  const pixelOffset = bytes.readUInt32LE(10);
  const headerSize = bytes.readUInt32LE(14);
  if (bytes.length < 14 + headerSize) fail('the header is cut off (the file is truncated)');
  const core = headerSize === 12;
  const width = core ? bytes.readUInt16LE(18) : bytes.readInt32LE(18);
  const rawHeight = core ? bytes.readInt16LE(20) : bytes.readInt32LE(22);
  const bpp = core ? bytes.readUInt16LE(24) : bytes.readUInt16LE(28);
  const compression = core ? BI_RGB : bytes.readUInt32LE(30);
  const topDown = rawHeight < 0;
  const height = Math.abs(rawHeight);
  if (!(width > 0 && height > 0)) fail(`it has an impossible size (${width}×${rawHeight})`);
  if (width * height > maxPixels) fail(`it is ${width}×${height} = ${width * height} pixels, above the limit of ${maxPixels} (decompression-bomb guard). Downscale it first`);
  if (COMPRESSION_NAMES[compression]) fail(`it is ${COMPRESSION_NAMES[compression]}-compressed, which Trove does not read; re-save it as an uncompressed BMP or a PNG`);
  if (compression !== BI_RGB && compression !== BI_BITFIELDS && compression !== BI_ALPHABITFIELDS) fail(`it uses an unknown compression (${compression})`);
  if (![1, 4, 8, 16, 24, 32].includes(bpp)) fail(`it has ${bpp} bits per pixel, which is not a BMP format`);

  // Bit fields: in the header for V2+ (52+ bytes), else right after a 40-byte header.
  let masks: number[] | null = null;
  if (bpp === 16 || bpp === 32) {
    if (compression === BI_RGB) masks = bpp === 16 ? [0x7c00, 0x03e0, 0x001f, 0] : [0xff0000, 0x00ff00, 0x0000ff, 0];
    else {
      const at = 14 + 40;
      const count = compression === BI_ALPHABITFIELDS || headerSize >= 56 ? 4 : 3;
      if (bytes.length < at + count * 4) fail('its colour masks are cut off (the file is truncated)');
      masks = Array.from({ length: 4 }, (_, i) => (i < count ? bytes.readUInt32LE(at + i * 4) : 0));
    }
  } else if (compression !== BI_RGB) fail(`bit fields need 16 or 32 bits per pixel, not ${bpp}`);

  let palette: Buffer | null = null;
  if (bpp <= 8) {
    const entrySize = core ? 3 : 4;
    const used = core ? 0 : bytes.readUInt32LE(46);
    const colours = used > 0 && used <= 1 << bpp ? used : 1 << bpp;
    const at = 14 + headerSize;
    const available = Math.max(0, Math.min(colours, Math.floor((pixelOffset - at) / entrySize)));
    if (available === 0) fail('its colour palette is missing');
    // Indices past the palette read as black, as in Pillow (which pads the palette with zeros).
    palette = Buffer.alloc(256 * 3);
    for (let i = 0; i < available; i += 1) {
      palette[i * 3] = bytes[at + i * entrySize + 2]!;
      palette[i * 3 + 1] = bytes[at + i * entrySize + 1]!;
      palette[i * 3 + 2] = bytes[at + i * entrySize]!;
    }
  }

  const stride = Math.floor((width * bpp + 31) / 32) * 4;
  if (pixelOffset + stride * (height - 1) + Math.ceil((width * bpp) / 8) > bytes.length) {
    fail(`its pixel data is cut off (${bytes.length} bytes, ${pixelOffset + stride * height} needed); the file is truncated`);
  }
  const fields = masks?.map(maskShift) ?? null;
  const channels: 3 | 4 = fields && fields[3]!.bits > 0 ? 4 : 3;
  const out = Buffer.alloc(width * height * channels);
  for (let y = 0; y < height; y += 1) {
    const row = pixelOffset + (topDown ? y : height - 1 - y) * stride;
    let o = y * width * channels;
    for (let x = 0; x < width; x += 1, o += channels) {
      if (palette) {
        const bit = x * bpp;
        const byte = bytes[row + (bit >> 3)]!;
        const index = bpp === 8 ? byte : (byte >> (8 - bpp - (bit & 7))) & ((1 << bpp) - 1);
        out[o] = palette[index * 3]!;
        out[o + 1] = palette[index * 3 + 1]!;
        out[o + 2] = palette[index * 3 + 2]!;
      } else if (bpp === 24) {
        out[o] = bytes[row + x * 3 + 2]!;
        out[o + 1] = bytes[row + x * 3 + 1]!;
        out[o + 2] = bytes[row + x * 3]!;
      } else {
        const value = bpp === 16 ? bytes.readUInt16LE(row + x * 2) : bytes.readUInt32LE(row + x * 4);
        for (let c = 0; c < channels; c += 1) {
          const f = fields![c]!;
          out[o + c] = scaleTo8((value >>> f.shift) & (f.bits >= 32 ? 0xffffffff : (1 << f.bits) - 1), f.bits);
        }
      }
    }
  }
  return { width, height, channels, data: out };
}
