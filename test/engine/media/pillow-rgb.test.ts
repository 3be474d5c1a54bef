import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blendOverWhite, cmykChannelToRgb, div255, pngPillowMode, sniffPillowMode, toPillowRgb } from '../../../electron/engine/media/common/pillow-rgb.ts';

test('DIV255 on hand-computed values', () => {
  // (v + 128 + ((v + 128) >> 8)) >> 8
  assert.equal(div255(0), 0); // 128 + 0 = 128 → 0
  assert.equal(div255(255 * 255), 255); // 65153 + 254 = 65407 → 255
  assert.equal(div255(127), 0); // 255 + 0 → 0
  assert.equal(div255(128), 1); // 256 + 1 = 257 → 1
  assert.equal(div255(382), 1); // 510 + 1 = 511 → 1 (382/255 = 1.498)
  assert.equal(div255(383), 2); // 511... 383+128 = 511, +1 = 512 → 2 (383/255 = 1.502)
});

test('RGBA over white: hand-computed blends', () => {
  assert.equal(blendOverWhite(0, 0), 255); // fully transparent → white
  assert.equal(blendOverWhite(17, 255), 17); // opaque → source
  // src 0, a 128: 255·127 = 32385 → +128 = 32513, >>8 = 127 → 32640 >> 8 = 127
  assert.equal(blendOverWhite(0, 128), 127);
  // src 200, a 100: 20000 + 39525 = 59525 → +128 = 59653, >>8 = 233 → 59886 >> 8 = 233
  assert.equal(blendOverWhite(200, 100), 233);
});

test('CMYK → RGB uses Pillow’s formula nk − DIV255(ink·nk)', () => {
  assert.equal(cmykChannelToRgb(0, 0), 255);
  assert.equal(cmykChannelToRgb(255, 0), 0);
  assert.equal(cmykChannelToRgb(0, 255), 0);
  // ink 100, k 50: nk 205; 100·205 = 20500 → DIV255 = 80 (20628 + 80 = 20708 >> 8 = 80); 205 − 80 = 125
  assert.equal(cmykChannelToRgb(100, 50), 125);
});

test('PNG IHDR → Pillow mode table', () => {
  assert.equal(pngPillowMode(1, 0), '1');
  assert.equal(pngPillowMode(4, 0), 'L');
  assert.equal(pngPillowMode(16, 0), 'I;16');
  assert.equal(pngPillowMode(8, 2), 'RGB');
  assert.equal(pngPillowMode(16, 2), 'RGB');
  assert.equal(pngPillowMode(2, 3), 'P');
  assert.equal(pngPillowMode(8, 4), 'LA');
  assert.equal(pngPillowMode(16, 4), 'RGBA'); // Pillow has no LA;16 → opens as RGBA
  assert.equal(pngPillowMode(8, 6), 'RGBA');
});

test('sniffing: PNG header, GIF, WebP VP8X alpha flag, JPEG component count', () => {
  const png = new Uint8Array(33);
  png.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
  png[24] = 8;
  png[25] = 4;
  assert.equal(sniffPillowMode(png), 'LA');
  assert.equal(sniffPillowMode(new TextEncoder().encode('GIF89a......')), 'P');
  const webp = new Uint8Array(30);
  webp.set(new TextEncoder().encode('RIFF\0\0\0\0WEBPVP8X'));
  assert.equal(sniffPillowMode(webp), 'RGB');
  webp[20] = 0x10;
  assert.equal(sniffPillowMode(webp), 'RGBA');
  // JPEG: SOI, SOF0 with 4 components.
  const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xc0, 0, 20, 8, 0, 1, 0, 1, 4, 0, 0, 0, 0, 0, 0]);
  assert.equal(sniffPillowMode(jpeg), 'CMYK');
  assert.equal(sniffPillowMode(new TextEncoder().encode('hello, not an image')), undefined);
});

test('mode rules: RGBA blends, LA/P/RGB drop alpha, L replicates', () => {
  const px = (channels: 1 | 2 | 3 | 4, values: number[]) => ({ width: 1, height: 1, channels, data: new Uint8Array(values) });
  assert.deepEqual([...toPillowRgb(px(4, [200, 0, 10, 100]), 'RGBA').data], [233, 155, 159]);
  assert.deepEqual([...toPillowRgb(px(4, [200, 0, 10, 100]), 'P').data], [200, 0, 10]);
  assert.deepEqual([...toPillowRgb(px(4, [200, 0, 10, 0]), 'RGB').data], [200, 0, 10]);
  assert.deepEqual([...toPillowRgb(px(2, [90, 0]), 'LA').data], [90, 90, 90]);
  assert.deepEqual([...toPillowRgb(px(1, [42]), 'L').data], [42, 42, 42]);
});

test('16-bit rules: RGB keeps the high byte, I;16 clips to 255, 16-bit LA opens as RGBA and blends', () => {
  const px16 = (channels: 1 | 2 | 3 | 4, values: number[]) => ({ width: 1, height: 1, channels, data: new Uint16Array(values) });
  assert.deepEqual([...toPillowRgb(px16(3, [0xffff, 0x80ff, 0x00ff]), 'RGB').data], [255, 128, 0]);
  assert.deepEqual([...toPillowRgb(px16(1, [200]), 'I;16').data], [200, 200, 200]);
  assert.deepEqual([...toPillowRgb(px16(1, [256]), 'I;16').data], [255, 255, 255]);
  assert.deepEqual([...toPillowRgb(px16(2, [0xc800, 0x6400]), 'RGBA').data], [233, 233, 233]);
  assert.throws(() => toPillowRgb({ width: 1, height: 1, channels: 1, data: new Uint8Array([1]) }, 'I;16'), /16-bit/);
});
