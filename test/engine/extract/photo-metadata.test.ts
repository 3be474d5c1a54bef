import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { formatGps, isHevcHeif, parseMetadataDate, prepareImageFile, readPhotoMetadata } from '../../../electron/engine/extract/node/photo-metadata.ts';
import { extractImage } from '../../../electron/engine/extract/node/image-extract.ts';
import { decodeImage } from '../../../electron/engine/media/node/image-decode.ts';

const CORPORA = path.resolve(import.meta.dirname, '../../../../shared/corpora');

async function withDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'trove-photo-'));
  try {
    await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const canvas = (width = 64, height = 48): Sharp => sharp({ create: { width, height, channels: 3, background: '#336699' } });

const CAMERA_EXIF = {
  IFD0: { Make: 'Canon', Model: 'Canon EOS R5' },
  IFD2: { DateTimeOriginal: '2024:05:01 12:34:56', OffsetTimeOriginal: '+02:00', DateTimeDigitized: '2024:05:02 00:00:00', LensModel: 'RF24-105mm F4 L IS USM' },
  IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '35/1 39/1 2940/100', GPSLongitudeRef: 'W', GPSLongitude: '139/1 44/1 4080/100' },
};

test('EXIF: date taken with its offset, camera, lens, GPS, orientation and size', async () => {
  await withDir(async (dir) => {
    const file = path.join(dir, 'camera.jpg');
    await canvas().jpeg().withMetadata({ orientation: 6 }).withExifMerge(CAMERA_EXIF).toFile(file);
    const meta = await readPhotoMetadata(file);
    assert.equal(meta.dateTaken, Date.UTC(2024, 4, 1, 10, 34, 56), '12:34:56 at +02:00 is 10:34:56 UTC');
    assert.equal(meta.camera, 'Canon EOS R5', 'the make is not repeated');
    assert.equal(meta.lens, 'RF24-105mm F4 L IS USM');
    assert.ok(meta.gps);
    assert.ok(Math.abs(meta.gps.lat - (35 + 39 / 60 + 29.4 / 3600)) < 1e-9);
    assert.ok(Math.abs(meta.gps.lon + (139 + 44 / 60 + 40.8 / 3600)) < 1e-9, 'W is negative');
    assert.equal(formatGps(meta.gps), '35.658167,-139.744667');
    assert.equal(meta.orientation, 6);
    assert.deepEqual([meta.width, meta.height, meta.frames], [64, 48, undefined]);
  });
});

test('EXIF without an offset is local wall-clock time; CreateDate is the fallback; zero dates are missing', async () => {
  await withDir(async (dir) => {
    const naive = path.join(dir, 'naive.jpg');
    await canvas().jpeg().withExif({ IFD0: { Make: 'NIKON CORPORATION', Model: 'NIKON D750' }, IFD2: { DateTimeOriginal: '2019:12:31 23:59:58' } }).toFile(naive);
    const meta = await readPhotoMetadata(naive);
    assert.equal(meta.dateTaken, new Date(2019, 11, 31, 23, 59, 58).getTime());
    assert.equal(meta.camera, 'NIKON D750');
    assert.deepEqual([meta.gps, meta.lens], [null, null]);
    assert.equal(meta.orientation, 1, 'sharp writes Orientation 1 with any EXIF block');

    const digitized = path.join(dir, 'digitized.jpg');
    await canvas().jpeg().withExif({ IFD0: { Make: 'Fujifilm', Model: 'X-T4' }, IFD2: { DateTimeOriginal: '0000:00:00 00:00:00', DateTimeDigitized: '2021:07:04 08:00:00' } }).toFile(digitized);
    const fallback = await readPhotoMetadata(digitized);
    assert.equal(fallback.dateTaken, new Date(2021, 6, 4, 8, 0, 0).getTime());
    assert.equal(fallback.camera, 'Fujifilm X-T4');
  });
});

test('parseMetadataDate: EXIF and XMP forms, offsets, impossible dates', () => {
  assert.equal(parseMetadataDate('2024:05:01 12:34:56', '-05:00'), Date.UTC(2024, 4, 1, 17, 34, 56));
  assert.equal(parseMetadataDate('2024-05-01T12:34:56.250Z'), Date.UTC(2024, 4, 1, 12, 34, 56, 250));
  assert.equal(parseMetadataDate('2024-05-01T12:34+0530'), Date.UTC(2024, 4, 1, 7, 4));
  assert.equal(parseMetadataDate('2024-05-01'), new Date(2024, 4, 1).getTime());
  assert.equal(parseMetadataDate('2024:05:01 12:34:56\0'), new Date(2024, 4, 1, 12, 34, 56).getTime(), 'NUL padding');
  for (const bad of ['0000:00:00 00:00:00', '2024:13:01 00:00:00', '2023:02:30 10:00:00', '    :  :     :  :  ', 'yesterday', '', 42, null, undefined]) {
    assert.equal(parseMetadataDate(bad), null, String(bad));
  }
});

test('XMP only (PNG): date with offset, camera, lens, GPS and orientation', async () => {
  await withDir(async (dir) => {
    const xmp =
      '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">' +
      '<rdf:Description rdf:about="" xmlns:exif="http://ns.adobe.com/exif/1.0/" xmlns:tiff="http://ns.adobe.com/tiff/1.0/" xmlns:aux="http://ns.adobe.com/exif/1.0/aux/" ' +
      'exif:DateTimeOriginal="2023-08-09T10:11:12+05:30" exif:GPSLatitude="48,51.5N" exif:GPSLongitude="2,17.7W" tiff:Make="Nikon" tiff:Model="Z 6" tiff:Orientation="8" aux:Lens="NIKKOR Z 50mm f/1.8 S"/>' +
      '</rdf:RDF></x:xmpmeta>';
    const file = path.join(dir, 'edited.png');
    await canvas().png().withXmp(xmp).toFile(file);
    const meta = await readPhotoMetadata(file);
    assert.equal(meta.dateTaken, Date.UTC(2023, 7, 9, 4, 41, 12));
    assert.equal(meta.camera, 'Nikon Z 6');
    assert.equal(meta.lens, 'NIKKOR Z 50mm f/1.8 S');
    assert.deepEqual(meta.gps, { lat: 48 + 51.5 / 60, lon: -(2 + 17.7 / 60) });
    assert.equal(meta.orientation, 8);
  });
});

test('no metadata, not an image, missing file: all null, never a throw', async () => {
  await withDir(async (dir) => {
    const plain = path.join(dir, 'plain.png');
    await canvas(10, 20).png().toFile(plain);
    assert.deepEqual(await readPhotoMetadata(plain), { dateTaken: null, camera: null, lens: null, gps: null, orientation: null, width: 10, height: 20 });
    const text = path.join(dir, 'text.jpg');
    await writeFile(text, 'not an image');
    const none = { dateTaken: null, camera: null, lens: null, gps: null, orientation: null, width: undefined, height: undefined };
    assert.deepEqual(await readPhotoMetadata(text), none);
    assert.deepEqual(await readPhotoMetadata(path.join(dir, 'missing.jpg')), none);
    // GPS (0, 0) is the placeholder some phones write without a fix.
    const nowhere = path.join(dir, 'nowhere.jpg');
    await canvas().jpeg().withExif({ IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '0/1 0/1 0/1', GPSLongitudeRef: 'E', GPSLongitude: '0/1 0/1 0/1' } }).toFile(nowhere);
    assert.equal((await readPhotoMetadata(nowhere)).gps, null);
  });
});

test('real files: qwen-examples JPEGs carry no EXIF/XMP; PngSuite exif2c08.png has an eXIf chunk', { skip: !existsSync(CORPORA) && 'shared/corpora not present' }, async () => {
  const photos = path.join(CORPORA, 'qwen-examples');
  const names = readdirSync(photos).filter((name) => /\.jpe?g$/i.test(name));
  assert.equal(names.length, 22);
  for (const name of names) {
    const file = path.join(photos, name);
    const meta = await readPhotoMetadata(file);
    const header = await sharp(file).metadata();
    assert.deepEqual(
      { ...meta, width: undefined, height: undefined },
      { dateTaken: null, camera: null, lens: null, gps: null, orientation: null, width: undefined, height: undefined },
      `${name}: metadata stripped upstream`,
    );
    assert.deepEqual([meta.width, meta.height], [header.width, header.height], name);
  }
  // Big-endian EXIF in a PNG eXIf chunk: orientation 1, no date or camera.
  const exifPng = await readPhotoMetadata(path.join(CORPORA, 'pngsuite', 'exif2c08.png'));
  assert.deepEqual([exifPng.orientation, exifPng.dateTaken, exifPng.camera, exifPng.width], [1, null, null, 32]);
});

test('formats: which decode with the prebuilt sharp here (AVIF yes, HEIC/HEVC no) and AVIF EXIF is read', async () => {
  // libheif is built with AV1 (aom) only; HEVC is left out of sharp's prebuilt binaries for patent reasons.
  for (const format of ['jpeg', 'png', 'webp', 'gif', 'tiff', 'heif'] as const) assert.equal(sharp.format[format].input.file, true, `${format} input`);
  assert.ok(sharp.versions.aom, 'AV1 codec present');
  assert.equal((sharp.versions as Record<string, string | undefined>).de265, undefined, 'no HEVC decoder (libde265) in this build');
  await assert.rejects(canvas().heif({ compression: 'hevc' }).toBuffer(), /Unsupported compression|hevc/i);
  // BMP has no loader in the prebuilt libvips (it would come through ImageMagick, which is left out).
  assert.equal(sharp.format.magick.input.file, false);
  const bmp = Buffer.alloc(54 + 8 * 2);
  bmp.write('BM', 0, 'latin1');
  bmp.writeUInt32LE(bmp.length, 2);
  bmp.writeUInt32LE(54, 10);
  bmp.writeUInt32LE(40, 14);
  bmp.writeInt32LE(2, 18);
  bmp.writeInt32LE(2, 22);
  bmp.writeUInt16LE(1, 26);
  bmp.writeUInt16LE(24, 28);
  await assert.rejects(sharp(bmp).metadata(), /unsupported image format/);
  await withDir(async (dir) => {
    const avif = path.join(dir, 'photo.avif');
    await canvas().avif().withExif({ IFD0: { Make: 'Apple', Model: 'iPhone 15' }, IFD2: { DateTimeOriginal: '2024:01:02 03:04:05', OffsetTimeOriginal: '+00:00' } }).toFile(avif);
    const meta = await readPhotoMetadata(avif);
    assert.equal(meta.dateTaken, Date.UTC(2024, 0, 2, 3, 4, 5));
    assert.equal(meta.camera, 'Apple iPhone 15');
    const image = await extractImage(avif);
    assert.equal(image.format, 'heif');
    assert.deepEqual([image.width, image.height], [64, 48]);
    assert.equal(isHevcHeif(await readFile(avif)), false, 'AVIF is AV1-coded');

    // A HEIC stand-in: the AVIF relabelled as HEVC (brands and codec boxes renamed), which no decoder here accepts.
    const relabelled = await readFile(avif);
    for (const [from, to] of [['avif', 'heic'], ['av01', 'hvc1'], ['av1C', 'hvcC']]) {
      for (let at = relabelled.indexOf(from); at >= 0; at = relabelled.indexOf(from, at + 4)) relabelled.write(to, at, 'latin1');
    }
    const heic = path.join(dir, 'IMG_0001.HEIC');
    await writeFile(heic, relabelled);
    assert.equal(isHevcHeif(relabelled), true);
    await assert.rejects(prepareImageFile({ path: heic, mtimeMs: 0 }), /HEIC photo \(HEVC-coded HEIF\).*patent reasons.*Convert it to JPEG/);
    const headerOnly = await readPhotoMetadata(heic);
    assert.equal(headerOnly.camera, null, 'never throws on an undecodable container');
  });
});

test('animated GIF and WebP: the first frame for the thumbnail and the model input, frames counted', async () => {
  await withDir(async (dir) => {
    const frames = await Promise.all(['#ff0000', '#00ff00', '#0000ff'].map((colour) => sharp({ create: { width: 40, height: 30, channels: 3, background: colour } }).png().toBuffer()));
    for (const format of ['gif', 'webp'] as const) {
      const file = path.join(dir, `animated.${format}`);
      await sharp(frames, { join: { animated: true } })
        .toFormat(format, { delay: [100, 100, 100], loop: 0 })
        .toFile(file);
      const header = await sharp(file, { pages: -1 }).metadata();
      assert.equal(header.pages, 3, `${format} really is animated`);

      const model = await decodeImage(file);
      assert.deepEqual([model.image.width, model.image.height], [40, 30], `${format}: one frame, not a strip`);
      const [r, g, b] = model.image.data.subarray(0, 3);
      assert.ok(r > 200 && g < 60 && b < 60, `${format}: the model sees the first (red) frame, got ${r},${g},${b}`);

      const image = await extractImage(file);
      const { data } = await sharp(image.thumbnail.data).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      assert.ok(data[0] > 200 && data[1] < 60 && data[2] < 60, `${format}: thumbnail is the first frame`);
      assert.deepEqual([image.thumbnail.width, image.thumbnail.height], [40, 30]);

      const prepared = await prepareImageFile({ path: file, mtimeMs: 1_600_000_000_000 });
      assert.equal(prepared.metadata.frames, 3);
      assert.match(String(prepared.metadata.note), /animated \(3 frames\); the first frame is indexed/);
    }
  });
});

test('prepareImageFile: thumbnail item embedded as the file, dated by the date taken, metadata for the record', async () => {
  await withDir(async (dir) => {
    const file = path.join(dir, 'camera.jpg');
    await canvas(80, 40).jpeg().withMetadata({ orientation: 6 }).withExifMerge(CAMERA_EXIF).toFile(file);
    const prepared = await prepareImageFile({ path: file, mtimeMs: 1_600_000_000_000 });
    const taken = Date.UTC(2024, 4, 1, 10, 34, 56);
    assert.equal(prepared.dateTaken, taken);
    assert.equal(prepared.items.length, 1);
    const [{ item, embed }] = prepared.items;
    assert.equal(item.kind, 'image');
    assert.deepEqual(item.locator, { type: 'whole' });
    assert.equal(item.date, taken);
    assert.deepEqual(embed, { images: [file] });
    assert.equal(item.thumbnail?.mime, 'image/webp');
    assert.deepEqual([item.thumbnail?.width, item.thumbnail?.height], [40, 80], 'thumbnail upright');
    assert.deepEqual(prepared.metadata, { width: 40, height: 80, format: 'jpeg', camera: 'Canon EOS R5', lens: 'RF24-105mm F4 L IS USM', gps: '35.658167,-139.744667', orientation: 6 });

    const plain = path.join(dir, 'plain.png');
    await canvas().png().toFile(plain);
    const undated = await prepareImageFile({ path: plain, mtimeMs: 1_600_000_000_000 });
    assert.equal(undated.dateTaken, null);
    assert.equal(undated.items[0].item.date, 1_600_000_000_000, 'no date taken: the mtime');
    assert.deepEqual(undated.metadata, { width: 64, height: 48, format: 'png', camera: null, lens: null, gps: null, orientation: null });
  });
});

test('an image is read from disk once: a named pipe, which gives its bytes to one reader only, is enough for the thumbnail, the size and the photo metadata', { skip: process.platform === 'win32' && 'mkfifo is POSIX', timeout: 60_000 }, async () => {
  await withDir(async (dir) => {
    const jpeg = await canvas(80, 40).jpeg().withMetadata({ orientation: 6 }).withExifMerge(CAMERA_EXIF).toBuffer();
    const once = path.join(dir, 'once.jpg');
    execFileSync('mkfifo', [once]);
    // Opening a pipe for writing waits for its reader; a second open for reading would wait forever.
    const writing = writeFile(once, jpeg);
    const prepared = await prepareImageFile({ path: once, mtimeMs: 0 });
    await writing;
    assert.equal(prepared.metadata.camera, 'Canon EOS R5');
    assert.deepEqual([prepared.metadata.width, prepared.metadata.height, prepared.metadata.orientation], [40, 80, 6], 'displayed upright: orientation 6 swaps the sides');
    const thumbnail = prepared.items[0]!.item.thumbnail!;
    assert.deepEqual([thumbnail.width, thumbnail.height], [40, 80], 'the thumbnail is turned upright');
    assert.equal(prepared.dateTaken, Date.UTC(2024, 4, 1, 10, 34, 56));
  });
});
