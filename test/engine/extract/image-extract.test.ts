import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { extractImage, ImageExtractError } from '../../../electron/engine/extract/node/image-extract.ts';
import { decodeImage } from '../../../electron/engine/media/node/image-decode.ts';

/** 800×400, left half red, right half blue. */
function halves(): Buffer {
  const data = Buffer.alloc(800 * 400 * 3);
  for (let y = 0; y < 400; y += 1) for (let x = 0; x < 800; x += 1) data.set(x < 400 ? [255, 0, 0] : [0, 0, 255], (y * 800 + x) * 3);
  return data;
}

const isRed = ([r, g, b]: number[]): boolean => r > 180 && g < 80 && b < 80;
const isBlue = ([r, g, b]: number[]): boolean => b > 180 && r < 80 && g < 80;

async function pixel(webp: Buffer, x: number, y: number): Promise<number[]> {
  const { data, info } = await sharp(webp).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const at = (y * info.width + x) * info.channels;
  return [data[at], data[at + 1], data[at + 2]];
}

test('thumbnail: WebP, longest side 320, EXIF orientation applied for display only', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'trove-img-'));
  try {
    const file = path.join(dir, 'rotated.jpg');
    // Orientation 6: display rotated 90° clockwise, so the stored left (red) half shows on top.
    await sharp(halves(), { raw: { width: 800, height: 400, channels: 3 } }).jpeg({ quality: 90 }).withMetadata({ orientation: 6 }).toFile(file);
    const result = await extractImage(file);
    assert.deepEqual([result.width, result.height, result.orientation], [800, 400, 6]);
    assert.deepEqual([result.displayWidth, result.displayHeight], [400, 800]);
    assert.equal(result.format, 'jpeg');
    assert.equal(result.thumbnail.mime, 'image/webp');
    assert.deepEqual([result.thumbnail.width, result.thumbnail.height], [160, 320]);
    const meta = await sharp(result.thumbnail.data).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['webp', 160, 320]);
    assert.ok(isRed(await pixel(result.thumbnail.data, 80, 20)), 'top is the stored left half');
    assert.ok(isBlue(await pixel(result.thumbnail.data, 80, 300)));
    // The model input stays as stored (docs/qwen3-vl-model.md#image-decoding-and-colour): 800 wide, red on the left.
    const model = await decodeImage(file);
    assert.deepEqual([model.image.width, model.image.height], [800, 400]);

    const small = path.join(dir, 'small.png');
    await sharp({ create: { width: 40, height: 30, channels: 3, background: '#00ff00' } }).png().toFile(small);
    const smallResult = await extractImage(small);
    assert.deepEqual([smallResult.thumbnail.width, smallResult.thumbnail.height, smallResult.orientation], [40, 30, null], 'never enlarged');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('bad images fail with a reason that says what to do', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'trove-img-'));
  try {
    const cases: [string, Buffer | string, RegExp][] = [
      ['empty.jpg', Buffer.alloc(0), /empty \(0 bytes\).*Copy it again/],
      ['text.jpg', 'this is not an image at all', /Cannot decode image .*re-export it/],
    ];
    const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#123456' } }).png().toBuffer();
    cases.push(['truncated.png', png.subarray(0, png.length - 30), /corrupt|truncated|decode/i]);
    for (const [name, bytes, reason] of cases) {
      await writeFile(path.join(dir, name), bytes);
      await assert.rejects(extractImage(path.join(dir, name)), (error: unknown) => {
        assert.ok(error instanceof ImageExtractError, `${name}: ${String(error)}`);
        assert.match(error.message, reason, name);
        return true;
      });
    }
    await assert.rejects(extractImage(path.join(dir, 'missing.png')), /Cannot read image .*exists and is readable/);
    const big = path.join(dir, 'big.png');
    await sharp({ create: { width: 300, height: 300, channels: 3, background: '#000' } }).png().toFile(big);
    await assert.rejects(extractImage(big, { maxInputPixels: 10_000 }), /decompression-bomb guard/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
