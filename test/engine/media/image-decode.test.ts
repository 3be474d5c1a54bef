import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { decodeImage, ImageDecodeError } from '../../../electron/engine/media/node/image-decode.ts';
import { preprocessImage } from '../../../electron/engine/model-inputs/node/image-preprocess.ts';

const corpora = new URL('../../../../shared/corpora/', import.meta.url);
const pngsuite = fileURLToPath(new URL('pngsuite/', corpora));
const examples = fileURLToPath(new URL('qwen-examples/', corpora));
const pngs = readdirSync(pngsuite).filter((f) => f.endsWith('.png'));

test('every valid PngSuite file decodes to a plausible RGB image', async () => {
  const valid = pngs.filter((f) => !f.startsWith('x'));
  assert.ok(valid.length > 100);
  for (const name of valid) {
    const { image, original, pillowMode } = await decodeImage(pngsuite + name);
    assert.equal(image.data.length, image.width * image.height * 3, name);
    assert.deepEqual([image.width, image.height], [original.width, original.height], name);
    assert.ok(original.width >= 1 && original.width <= 64 && original.height <= 64, name);
    assert.ok(pillowMode.length > 0, name);
  }
});

test('PngSuite modes and colour rules (docs/qwen3-vl-model.md#image-decoding-and-colour)', async () => {
  assert.equal((await decodeImage(pngsuite + 'basn3p08.png')).pillowMode, 'P');
  assert.equal((await decodeImage(pngsuite + 'basn4a08.png')).pillowMode, 'LA');
  assert.equal((await decodeImage(pngsuite + 'basn4a16.png')).pillowMode, 'RGBA');
  assert.equal((await decodeImage(pngsuite + 'basn0g16.png')).pillowMode, 'I;16');
  // RGBA blends over white: basn6a08's first pixel is (255, 0, 8) with alpha 0 → white.
  const rgba = await decodeImage(pngsuite + 'basn6a08.png');
  assert.equal(rgba.pillowMode, 'RGBA');
  assert.deepEqual([...rgba.image.data.subarray(0, 3)], [255, 255, 255]);
  // I;16 clips: basn0g16 is a ramp of 16-bit values, almost all above 255 → almost all white.
  const grey16 = await decodeImage(pngsuite + 'basn0g16.png');
  const white = grey16.image.data.filter((v) => v === 255).length / grey16.image.data.length;
  assert.ok(white > 0.9, `I;16 clipped fraction ${white}`);
});

test('every x* (corrupt) PngSuite file is rejected with a readable error', async () => {
  const bad = pngs.filter((f) => f.startsWith('x'));
  assert.ok(bad.length >= 10);
  for (const name of bad) {
    await assert.rejects(decodeImage(pngsuite + name), (e: Error) => e instanceof ImageDecodeError && e.message.includes(name) && /re-export|corrupt|supported/.test(e.message), name);
  }
});

test('a text file named .png is rejected clearly; a missing file says so', async () => {
  await assert.rejects(decodeImage(Buffer.from('this is not a png, just text\n')), (e: Error) => /not a supported image/.test(e.message));
  await assert.rejects(decodeImage('/nonexistent/dir/photo.png'), (e: Error) => /Cannot read image .*photo\.png/.test(e.message));
});

test('decompression-bomb limit gives a clear message', async () => {
  const big = await sharp({ create: { width: 300, height: 300, channels: 3, background: '#808080' } }).png().toBuffer();
  await assert.rejects(decodeImage(big, { maxInputPixels: 10_000 }), (e: Error) => /limit|pixels/.test(e.message));
});

test('EXIF orientation is NOT applied', async () => {
  const jpeg = await sharp({ create: { width: 64, height: 32, channels: 3, background: '#ff0000' } }).jpeg().withMetadata({ orientation: 6 }).toBuffer();
  assert.equal((await sharp(jpeg).metadata()).orientation, 6);
  const { image } = await decodeImage(jpeg);
  assert.deepEqual([image.width, image.height], [64, 32]);
});

test('qwen-examples photos decode and smart_resize to plausible sizes', async () => {
  for (const name of readdirSync(examples).filter((f) => /\.jpe?g$/.test(f)).slice(0, 6)) {
    const out = await preprocessImage(examples + name);
    const [h, w] = out.resized;
    assert.ok(h % 32 === 0 && w % 32 === 0 && h * w <= 1843200 && h * w >= 4096, `${name}: ${h}×${w}`);
    assert.deepEqual(out.gridThw, [1, h / 16, w / 16]);
    assert.equal(out.pixelValues.length, (h / 16) * (w / 16) * 1536);
    const aspectIn = out.original[1] / out.original[0];
    assert.ok(Math.abs(w / h - aspectIn) / aspectIn < 0.1, name);
  }
});
