// BMP files written here byte by byte (every header version and pixel format the reader claims),
// decoded back to the pixels they were made from; broken and unsupported ones fail with a reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { BmpDecodeError, decodeBmp } from '../../../electron/engine/media/node/bmp-decode.ts';
import { prepareImageFile } from '../../../electron/engine/extract/node/photo-metadata.ts';
import { preprocessImage } from '../../../electron/engine/model-inputs/node/image-preprocess.ts';

const W = 5; // odd: rows need padding to 4 bytes in every format
const H = 3;
/** The test image: every pixel a distinct colour. */
const rgbAt = (x: number, y: number): [number, number, number] => [x * 50 + 10, y * 100 + 5, (x + y) * 30 + 1];
const rgb = Buffer.from(Array.from({ length: W * H }, (_, i) => rgbAt(i % W, Math.floor(i / W))).flat());

interface BmpSpec {
  readonly bpp: number;
  readonly header?: 12 | 40 | 108 | 124;
  readonly compression?: number;
  readonly masks?: readonly number[];
  readonly palette?: ReadonlyArray<readonly [number, number, number]>;
  readonly topDown?: boolean;
  /** Encodes pixel (x, y) into the row (bits for ≤ 8 bpp: the palette index). */
  readonly pixel: (x: number, y: number) => number;
}

/** Writes a BMP: file header, info header (with masks for bit fields), palette, padded rows. */
function writeBmp(spec: BmpSpec, width = W, height = H): Buffer {
  const header = spec.header ?? 40;
  const core = header === 12;
  const masksAfter = !core && header === 40 && spec.masks ? spec.masks.length * 4 : 0;
  const paletteBytes = (spec.palette?.length ?? 0) * (core ? 3 : 4);
  const stride = Math.floor((width * spec.bpp + 31) / 32) * 4;
  const offset = 14 + header + masksAfter + paletteBytes;
  const out = Buffer.alloc(offset + stride * height);
  out.write('BM', 0, 'latin1');
  out.writeUInt32LE(out.length, 2);
  out.writeUInt32LE(offset, 10);
  out.writeUInt32LE(header, 14);
  if (core) {
    out.writeUInt16LE(width, 18);
    out.writeInt16LE(height, 20);
    out.writeUInt16LE(1, 22);
    out.writeUInt16LE(spec.bpp, 24);
  } else {
    out.writeInt32LE(width, 18);
    out.writeInt32LE(spec.topDown ? -height : height, 22);
    out.writeUInt16LE(1, 26);
    out.writeUInt16LE(spec.bpp, 28);
    out.writeUInt32LE(spec.compression ?? 0, 30);
    out.writeUInt32LE(spec.palette?.length ?? 0, 46);
    spec.masks?.forEach((m, i) => out.writeUInt32LE(m >>> 0, 54 + i * 4));
  }
  let at = 14 + header + masksAfter;
  for (const [r, g, b] of spec.palette ?? []) {
    out[at] = b;
    out[at + 1] = g;
    out[at + 2] = r;
    at += core ? 3 : 4;
  }
  for (let y = 0; y < height; y++) {
    const row = offset + (spec.topDown ? y : height - 1 - y) * stride;
    for (let x = 0; x < width; x++) {
      const v = spec.pixel(x, y);
      if (spec.bpp <= 8) {
        const bit = x * spec.bpp;
        out[row + (bit >> 3)] |= v << (8 - spec.bpp - (bit & 7));
      } else if (spec.bpp === 16) out.writeUInt16LE(v, row + x * 2);
      else if (spec.bpp === 24) out.writeUIntLE(v, row + x * 3, 3);
      else out.writeUInt32LE(v >>> 0, row + x * 4);
    }
  }
  return out;
}

const bgr = (x: number, y: number): number => {
  const [r, g, b] = rgbAt(x, y);
  return (r << 16) | (g << 8) | b;
};

test('24-bit, bottom-up and top-down, INFO/V4/V5 and OS/2 core headers: the exact pixels', () => {
  for (const spec of [{ header: 40 }, { header: 40, topDown: true }, { header: 108 }, { header: 124 }, { header: 12 }] as const) {
    const bmp = decodeBmp(writeBmp({ ...spec, bpp: 24, pixel: bgr }), 1e6);
    assert.deepEqual([bmp.width, bmp.height, bmp.channels], [W, H, 3], JSON.stringify(spec));
    assert.deepEqual(bmp.data, rgb, JSON.stringify(spec));
  }
});

test('32-bit: BI_RGB ignores the fourth byte; bit fields with an alpha mask give RGBA', () => {
  const noAlpha = decodeBmp(writeBmp({ bpp: 32, pixel: (x, y) => (0x7f << 24) | bgr(x, y) }), 1e6);
  assert.equal(noAlpha.channels, 3);
  assert.deepEqual(noAlpha.data, rgb);
  const alpha = decodeBmp(writeBmp({ bpp: 32, header: 124, compression: 3, masks: [0x00ff0000, 0x0000ff00, 0x000000ff, 0xff000000], pixel: (x, y) => ((x * 60) << 24) | bgr(x, y) }), 1e6);
  assert.equal(alpha.channels, 4);
  for (let i = 0; i < W * H; i++) {
    assert.deepEqual([...alpha.data.subarray(i * 4, i * 4 + 3)], [...rgb.subarray(i * 3, i * 3 + 3)]);
    assert.equal(alpha.data[i * 4 + 3], (i % W) * 60);
  }
  // Masks in another order (RGBA in memory, as some tools write): read through the masks.
  const swapped = decodeBmp(writeBmp({ bpp: 32, compression: 3, masks: [0x000000ff, 0x0000ff00, 0x00ff0000], pixel: (x, y) => { const [r, g, b] = rgbAt(x, y); return (b << 16) | (g << 8) | r; } }), 1e6);
  assert.deepEqual(swapped.data, rgb);
});

test('16-bit 5-5-5 and 5-6-5 bit fields scale each channel to 8 bits', () => {
  const five = decodeBmp(writeBmp({ bpp: 16, pixel: (x, y) => (31 << 10) | ((x * 7) << 5) | (y * 15) }), 1e6);
  const six = decodeBmp(writeBmp({ bpp: 16, compression: 3, masks: [0xf800, 0x07e0, 0x001f], pixel: (x, y) => (x << 11) | (63 << 5) | (y * 15) }), 1e6);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const at = (y * W + x) * 3;
      assert.deepEqual([...five.data.subarray(at, at + 3)], [255, Math.floor((x * 7 * 255) / 31), Math.floor((y * 15 * 255) / 31)]);
      assert.deepEqual([...six.data.subarray(at, at + 3)], [Math.floor((x * 255) / 31), 255, Math.floor((y * 15 * 255) / 31)]);
    }
  }
});

test('1-, 4- and 8-bit palettes (4-byte and OS/2 3-byte entries) map indices to colours', () => {
  const colours = Array.from({ length: W * H }, (_, i) => rgbAt(i % W, Math.floor(i / W)));
  for (const header of [40, 12] as const) {
    const eight = decodeBmp(writeBmp({ header, bpp: 8, palette: colours, pixel: (x, y) => y * W + x }), 1e6);
    assert.deepEqual(eight.data, rgb, `8-bit, ${header}-byte header`);
    const four = decodeBmp(writeBmp({ header, bpp: 4, palette: colours, pixel: (x, y) => y * W + x }), 1e6);
    assert.deepEqual(four.data, rgb, `4-bit, ${header}-byte header`);
  }
  const one = decodeBmp(writeBmp({ bpp: 1, palette: [[0, 0, 0], [255, 255, 255]], pixel: (x, y) => (x + y) & 1 }, 11, 2), 1e6);
  for (let i = 0; i < 22; i++) assert.equal(one.data[i * 3], ((i % 11) + Math.floor(i / 11)) & 1 ? 255 : 0, `pixel ${i}`);
});

test('truncated, compressed, oversized and non-BMP input fails with a reason', () => {
  const whole = writeBmp({ bpp: 24, pixel: bgr });
  assert.throws(() => decodeBmp(whole.subarray(0, whole.length - 20), 1e6), (e: Error) => e instanceof BmpDecodeError && /pixel data is cut off .* truncated/.test(e.message));
  assert.throws(() => decodeBmp(whole.subarray(0, 30), 1e6), /header is cut off/);
  assert.throws(() => decodeBmp(writeBmp({ bpp: 8, compression: 1, palette: [[0, 0, 0]], pixel: () => 0 }), 1e6), /RLE8-compressed, which Trove does not read; re-save it/);
  assert.throws(() => decodeBmp(writeBmp({ bpp: 24, pixel: () => 0 }, 4000, 3), 10_000), /4000×3 = 12000 pixels, above the limit of 10000 \(decompression-bomb guard\)/);
  assert.throws(() => decodeBmp(Buffer.from('BM but really just text, nothing more'), 1e6), /not a BMP file/);
});

test('a .bmp file (or a BMP named .jpg) is indexed: thumbnail, size, and a PNG of the same pixels for the model', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'trove-bmp-'));
  try {
    for (const name of ['scan.bmp', 'misnamed.jpg']) {
      const file = path.join(dir, name);
      await writeFile(file, writeBmp({ bpp: 24, pixel: bgr }));
      const prepared = await prepareImageFile({ path: file, mtimeMs: 5 });
      assert.equal(prepared.items.length, 1);
      const { item, embed } = prepared.items[0]!;
      assert.deepEqual([prepared.metadata.width, prepared.metadata.height, prepared.metadata.format], [W, H, 'bmp']);
      assert.equal(item.thumbnail?.mime, 'image/webp');
      assert.deepEqual([item.thumbnail?.width, item.thumbnail?.height], [W, H], 'small images are not enlarged');
      const png = embed?.images?.[0];
      assert.ok(Buffer.isBuffer(png));
      const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
      assert.deepEqual([info.width, info.height, info.channels], [W, H, 3]);
      assert.deepEqual(data, rgb, 'lossless');
      // The embedder's own chain reads it.
      const model = await preprocessImage(png);
      assert.ok(model.gridThw[1] > 0);
    }
    await writeFile(path.join(dir, 'cut.bmp'), writeBmp({ bpp: 24, pixel: bgr }).subarray(0, 40));
    await assert.rejects(prepareImageFile({ path: path.join(dir, 'cut.bmp'), mtimeMs: 5 }), /Cannot decode BMP image '.*cut\.bmp': .*truncated.*\. Re-save it as PNG to index it\./);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
