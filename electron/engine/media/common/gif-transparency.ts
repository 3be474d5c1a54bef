// The colour Pillow gives a GIF's transparent pixels. Pillow opens the first frame as mode "P" and
// `convert("RGB")` drops the transparency, so a transparent pixel shows the palette colour of the
// transparent index (and so does the area outside a first frame smaller than the screen, which
// Pillow fills with that index). Decoders that expand GIFs to RGBA (sharp's) zero those pixels
// instead; the reference goldens showed the difference (docs/reference-goldens.md). This reads the
// index and the palette from the file so the decoder's alpha-0 pixels can be given that colour.

function skipSubBlocks(bytes: Uint8Array, at: number): number {
  let i = at;
  while (i < bytes.length && bytes[i] !== 0) i += bytes[i]! + 1;
  return i + 1;
}

/**
 * RGB of the first frame's transparent palette index, or undefined when the first frame has no
 * transparency (or the bytes are not a GIF this can read; the caller then keeps the decoder's
 * pixels). A GIF without any colour table opens as mode "L": the index is the grey level.
 */
export function gifTransparentColour(bytes: Uint8Array): [number, number, number] | undefined {
  if (bytes.length < 13 || String.fromCharCode(...bytes.subarray(0, 4)) !== 'GIF8') return undefined;
  const screenFlags = bytes[10]!;
  let i = 13;
  let palette: Uint8Array | undefined;
  if (screenFlags & 0x80) {
    const size = 3 * 2 ** ((screenFlags & 0x07) + 1);
    palette = bytes.subarray(i, i + size);
    i += size;
  }
  let transparentIndex: number | undefined;
  while (i < bytes.length) {
    const block = bytes[i]!;
    if (block === 0x21) {
      const label = bytes[i + 1];
      // Graphic control extension: block size 4, flags (bit 0: transparency), delay, index.
      if (label === 0xf9 && bytes[i + 2] === 4) transparentIndex = bytes[i + 3]! & 1 ? bytes[i + 6] : undefined;
      i = skipSubBlocks(bytes, i + 2);
    } else if (block === 0x2c) {
      if (transparentIndex === undefined || i + 10 > bytes.length) return undefined;
      const frameFlags = bytes[i + 9]!;
      if (frameFlags & 0x80) palette = bytes.subarray(i + 10, i + 10 + 3 * 2 ** ((frameFlags & 0x07) + 1));
      if (!palette) return [transparentIndex, transparentIndex, transparentIndex];
      const at = 3 * transparentIndex;
      return [palette[at] ?? 0, palette[at + 1] ?? 0, palette[at + 2] ?? 0];
    } else {
      return undefined;
    }
  }
  return undefined;
}

/** Gives every fully transparent pixel of 8-bit RGBA samples the colour `rgb` (in place). */
export function fillTransparentPixels(data: Uint8Array, rgb: readonly [number, number, number]): void {
  for (let s = 0; s + 3 < data.length; s += 4) {
    if (data[s + 3] === 0) {
      data[s] = rgb[0];
      data[s + 1] = rgb[1];
      data[s + 2] = rgb[2];
    }
  }
}
