// Photo metadata from EXIF and XMP: when it was taken, with what, where, and how it is oriented.
// The date taken drives "sort by date" and date filters (NewItem.date), so it is read carefully:
//
// - Sources, in order: EXIF DateTimeOriginal, EXIF CreateDate (DateTimeDigitized), XMP
//   exif:DateTimeOriginal, XMP photoshop:DateCreated, XMP xmp:CreateDate. ModifyDate is the last
//   edit, not the moment taken, and is ignored.
// - EXIF dates are naive wall-clock times ("2024:05:01 12:34:56"). With an OffsetTime* tag (EXIF
//   2.31) or an offset in XMP the instant is exact. Without one the time is read as local time of
//   the machine that indexes, so the shown time equals what the camera wrote when the viewer is in
//   the same zone as when indexed; photos from another zone may be off by that zone difference
//   (hours), which never matters for sorting by day or filtering by date.
// - Zero or impossible dates ("0000:00:00 00:00:00", month 13) are treated as missing.
//
// The container is read by sharp (headers only; the same decoder that makes thumbnails, so HEIF,
// AVIF, PNG, WebP and TIFF are all covered) and its raw EXIF and XMP blocks are parsed with exifr.
// When sharp cannot open the file (HEIC where libvips has no HEVC decoder), exifr reads the file
// itself. Orientation is reported, never applied: the model input is not rotated (docs/qwen3-vl-model.md#image-decoding-and-colour).
// Nothing here throws: a photo without metadata is normal.
import { open, readFile, stat } from 'node:fs/promises';
import exifr from 'exifr';
import sharp from 'sharp';
import { DEFAULT_MAX_INPUT_PIXELS } from '../../media/node/image-decode.ts';
import { decodeBmp, isBmp } from '../../media/node/bmp-decode.ts';
import { cannotReadImage, DEFAULT_THUMBNAIL_SIZE, extractImage, ImageExtractError, type ExtractedImage } from './image-extract.ts';
import type { PreparedFile } from './prepared-file.ts';

export interface PhotoMetadata {
  /** Epoch ms the photo was taken; null when the file does not say. */
  readonly dateTaken: number | null;
  /** Make and model, e.g. "Canon EOS R5" (the make is not repeated when the model starts with it). */
  readonly camera: string | null;
  readonly lens: string | null;
  /** Decimal degrees, WGS84; null when absent or (0, 0), the placeholder some devices write. */
  readonly gps: { readonly lat: number; readonly lon: number } | null;
  /** EXIF orientation 1–8. */
  readonly orientation: number | null;
  /** Stored size (the first frame's, for animations), when known. */
  readonly width?: number;
  readonly height?: number;
  /** Frames in an animated GIF/WebP (or pages in a multi-page TIFF) when more than one. */
  readonly frames?: number;
}

type Tags = Record<string, unknown>;

interface Sources {
  ifd0: Tags;
  exif: Tags;
  gps: Tags;
  /** XMP by namespace prefix: exif, tiff, xmp, photoshop, aux, exifEX. */
  xmp: Record<string, Tags>;
}

const EXIF_OPTIONS = { tiff: true, ifd0: {}, exif: true, gps: true, ifd1: false, interop: false, xmp: false, icc: false, iptc: false, jfif: false, ihdr: false, makerNote: false, userComment: false, mergeOutput: false, reviveValues: false, translateValues: false, silentErrors: true } as const;
const XMP_OPTIONS = { tiff: false, xmp: true, icc: false, iptc: false, jfif: false, ihdr: false, mergeOutput: false, reviveValues: false, translateValues: false, silentErrors: true } as const;

function asTags(value: unknown): Tags {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Tags) : {};
}

function text(value: unknown): string | null {
  if (typeof value === 'number') return String(value);
  if (typeof value !== 'string') return null;
  // EXIF strings are NUL-padded fixed-length fields in some cameras.
  const clean = value.replace(/\0+$/g, '').replace(/\s+/g, ' ').trim();
  return clean === '' ? null : clean;
}

/** Parses "2024:05:01 12:34:56", "2024-05-01T12:34:56.5+02:00", "2024-05-01" with an optional separate offset. */
export function parseMetadataDate(value: unknown, offset?: unknown): number | null {
  const raw = text(value);
  if (raw === null) return null;
  const match = /^(\d{4})[:-](\d{2})(?:[:-](\d{2}))?(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/.exec(raw);
  if (!match) return null;
  const [year, month, day = 1, hour = 0, minute = 0, second = 0] = match.slice(1, 7).map((part) => (part === undefined ? undefined : Number(part))) as number[];
  const millis = match[7] ? Math.round(Number(`0.${match[7]}`) * 1000) : 0;
  if (year < 1800 || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return null;
  const zone = match[8] ?? text(offset);
  let time: number;
  const zoneMatch = zone === null ? null : /^(?:(Z)|([+-])(\d{2}):?(\d{2}))$/.exec(zone);
  if (zoneMatch) {
    const offsetMinutes = zoneMatch[1] ? 0 : (zoneMatch[2] === '-' ? -1 : 1) * (Number(zoneMatch[3]) * 60 + Number(zoneMatch[4]));
    time = Date.UTC(year, month - 1, day, hour, minute, second, millis) - offsetMinutes * 60_000;
  } else time = new Date(year, month - 1, day, hour, minute, second, millis).getTime();
  // Day 31 of a 30-day month rolls over; such a date was not written by a working clock.
  const check = new Date(Date.UTC(year, month - 1, day));
  if (check.getUTCDate() !== day || !Number.isFinite(time)) return null;
  return time;
}

function dateTaken(sources: Sources): number | null {
  const { exif, xmp } = sources;
  return (
    parseMetadataDate(exif.DateTimeOriginal, exif.OffsetTimeOriginal ?? exif.OffsetTime) ??
    parseMetadataDate(exif.CreateDate, exif.OffsetTimeDigitized ?? exif.OffsetTime) ??
    parseMetadataDate(xmp.exif?.DateTimeOriginal) ??
    parseMetadataDate(xmp.photoshop?.DateCreated) ??
    parseMetadataDate(xmp.xmp?.CreateDate)
  );
}

function camera(sources: Sources): string | null {
  const make = text(sources.ifd0.Make) ?? text(sources.xmp.tiff?.Make);
  const model = text(sources.ifd0.Model) ?? text(sources.xmp.tiff?.Model);
  if (!make || !model) return model ?? make;
  // "NIKON CORPORATION" + "NIKON D750" → "NIKON D750"; "Canon" + "Canon EOS R5" → "Canon EOS R5".
  const brand = make.split(' ')[0].toLowerCase();
  return model.toLowerCase().startsWith(brand) ? model : `${make} ${model}`;
}

function lens(sources: Sources): string | null {
  return text(sources.exif.LensModel) ?? text(sources.xmp.aux?.Lens) ?? text(sources.xmp.exifEX?.LensModel) ?? text(sources.xmp.aux?.LensInfo);
}

/** XMP GPS coordinates: "48,51.5N" or "48,51,30N" (degrees, minutes[, seconds], reference). */
function xmpCoordinate(value: unknown): number | null {
  const raw = text(value);
  const match = raw === null ? null : /^(\d+(?:\.\d+)?)(?:,(\d+(?:\.\d+)?))?(?:,(\d+(?:\.\d+)?))?\s*([NSEW])$/i.exec(raw);
  if (!match) return null;
  const degrees = Number(match[1]) + Number(match[2] ?? 0) / 60 + Number(match[3] ?? 0) / 3600;
  return /[SW]/i.test(match[4]) ? -degrees : degrees;
}

function gps(sources: Sources): { lat: number; lon: number } | null {
  let lat = typeof sources.gps.latitude === 'number' ? sources.gps.latitude : null;
  let lon = typeof sources.gps.longitude === 'number' ? sources.gps.longitude : null;
  if (lat === null || lon === null) {
    lat = xmpCoordinate(sources.xmp.exif?.GPSLatitude);
    lon = xmpCoordinate(sources.xmp.exif?.GPSLongitude);
  }
  if (lat === null || lon === null || !Number.isFinite(lat) || !Number.isFinite(lon)) return null;
  if (Math.abs(lat) > 90 || Math.abs(lon) > 180 || (lat === 0 && lon === 0)) return null;
  return { lat, lon };
}

function orientationOf(value: unknown): number | null {
  const number = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : Number.NaN;
  return Number.isInteger(number) && number >= 1 && number <= 8 ? number : null;
}

function positive(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
}

async function parseExifBlock(bytes: Buffer): Promise<Tags> {
  // sharp returns the APP1 payload, "Exif\0\0" then a TIFF header; exifr wants the TIFF.
  const tiff = bytes.subarray(0, 6).toString('latin1') === 'Exif\0\0' ? bytes.subarray(6) : bytes;
  try {
    return asTags(await exifr.parse(tiff, EXIF_OPTIONS));
  } catch {
    return {};
  }
}

async function parseXmpBlock(bytes: Buffer): Promise<Record<string, Tags>> {
  try {
    return asTags(await exifr.sidecar(bytes, XMP_OPTIONS, 'xmp')) as Record<string, Tags>;
  } catch {
    return {};
  }
}

/**
 * EXIF/XMP of a photo. Never throws: unreadable or missing metadata gives nulls. `bytes`: the
 * file's contents when the caller has read them already (then the file is not opened again).
 */
export async function readPhotoMetadata(filePath: string, bytes?: Buffer): Promise<PhotoMetadata> {
  let exifTags: Tags = {};
  let xmpTags: Record<string, Tags> = {};
  let size: { width?: number; height?: number; frames?: number; orientation: number | null } = { orientation: null };
  try {
    // Headers only: no pixel limit is needed and nothing is decoded.
    const meta = await sharp(bytes ?? filePath, { limitInputPixels: false, autoOrient: false }).metadata();
    const frames = positive(meta.pages);
    size = {
      width: positive(meta.width),
      height: positive(meta.pageHeight ?? meta.height),
      frames: frames !== undefined && frames > 1 ? frames : undefined,
      orientation: orientationOf(meta.orientation),
    };
    if (meta.exif) exifTags = await parseExifBlock(meta.exif);
    if (meta.xmp) xmpTags = await parseXmpBlock(meta.xmp);
  } catch {
    // Not decodable here (e.g. HEIC without an HEVC decoder): exifr reads the container itself.
    try {
      // exifr throws on an empty file before closing the handle it opened (a descriptor leaked
      // until GC); an empty file has no metadata anyway.
      if ((bytes ? bytes.length : (await stat(filePath)).size) === 0) throw new Error('empty file');
      exifTags = asTags(await exifr.parse(bytes ?? filePath, EXIF_OPTIONS));
      xmpTags = asTags(await exifr.parse(bytes ?? filePath, XMP_OPTIONS)) as Record<string, Tags>;
    } catch {
      // No metadata we can read; every field stays null.
    }
  }
  const sources: Sources = { ifd0: asTags(exifTags.ifd0), exif: asTags(exifTags.exif), gps: asTags(exifTags.gps), xmp: xmpTags };
  const result: PhotoMetadata = {
    dateTaken: dateTaken(sources),
    camera: camera(sources),
    lens: lens(sources),
    gps: gps(sources),
    orientation: size.orientation ?? orientationOf(sources.ifd0.Orientation) ?? orientationOf(sources.xmp.tiff?.Orientation),
    width: size.width ?? positive(sources.exif.ExifImageWidth),
    height: size.height ?? positive(sources.exif.ExifImageHeight),
  };
  return size.frames === undefined ? result : { ...result, frames: size.frames };
}

/** "lat,lon" with 6 decimals (about 0.1 m), the form kept in file metadata. */
export function formatGps(gps: { lat: number; lon: number }): string {
  return `${gps.lat.toFixed(6)},${gps.lon.toFixed(6)}`;
}

/** ISO-BMFF brands of HEVC-coded HEIF (HEIC): iPhone photos and most Android "HEIF" pictures. */
const HEVC_BRANDS = new Set(['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'hevm', 'hevs']);

/** True when the file's ftyp box (in its first bytes) names an HEVC brand (major or compatible) and no AV1 one. */
export function isHevcHeif(bytes: Uint8Array): boolean {
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, 64));
  if (head.length < 16 || head.toString('latin1', 4, 8) !== 'ftyp') return false;
  const boxEnd = Math.min(head.length, head.readUInt32BE(0));
  const brands = [head.toString('latin1', 8, 12)];
  for (let at = 16; at + 4 <= boxEnd; at += 4) brands.push(head.toString('latin1', at, at + 4));
  return brands.some((brand) => HEVC_BRANDS.has(brand)) && !brands.includes('avif');
}

/** Images up to this size are read from disk once and every step works on the bytes. */
export const READ_WHOLE_IMAGE_BYTES = 256 * 1024 * 1024;

async function readHead(filePath: string, length: number): Promise<Buffer> {
  const handle = await open(filePath, 'r');
  try {
    const head = Buffer.alloc(length);
    const { bytesRead } = await handle.read(head, 0, length, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

async function extractImageExplained(filePath: string, bytes: Buffer | undefined, head: Buffer): Promise<ExtractedImage> {
  try {
    return await extractImage(filePath, { bytes });
  } catch (error) {
    // The decoder's own words ("bad seek", "Unsupported codec") do not tell the user what to do about HEIC.
    if (error instanceof ImageExtractError && isHevcHeif(head)) {
      throw new ImageExtractError(
        `'${filePath}' is a HEIC photo (HEVC-coded HEIF), which this build cannot decode: the bundled image library leaves out HEVC for patent reasons. ` +
          'Convert it to JPEG (macOS: Photos → Export, or `sips -s format jpeg`; iPhone: Settings → Camera → Formats → Most Compatible) to index it.',
      );
    }
    throw error;
  }
}

/**
 * An image as a library item: the stored thumbnail (upright) from extractImage, the model input
 * as stored (first frame of an animation, unrotated), and the photo's metadata. The item's date is
 * the date taken when the photo has one, else the file's mtime.
 *
 * The file is read from disk once: the BMP check, both header parses and the thumbnail's decode
 * work on those bytes (the scanner refused files over the size limits before). The model worker
 * decodes the file again, on purpose: the model sees every pixel unrotated, the Pillow way, while
 * the thumbnail is shrunk as it loads and turned upright (docs/file-kinds.md#images-read-once-decoded-twice).
 */
export async function prepareImageFile(file: { path: string; mtimeMs: number }): Promise<PreparedFile> {
  let bytes: Buffer | undefined;
  let head: Buffer;
  try {
    // A very large file (a gigapixel TIFF) is not held in memory whole: its parts read the path.
    bytes = (await stat(file.path)).size <= READ_WHOLE_IMAGE_BYTES ? await readFile(file.path) : undefined;
    head = bytes ?? (await readHead(file.path, 64));
  } catch (error) {
    throw cannotReadImage(file.path, error);
  }
  if (isBmp(head.subarray(0, 18))) return prepareBmpFile(file, bytes ?? (await readFile(file.path)));
  const [image, photo] = await Promise.all([extractImageExplained(file.path, bytes, head), readPhotoMetadata(file.path, bytes)]);
  const thumbnail = { mime: image.thumbnail.mime, width: image.thumbnail.width, height: image.thumbnail.height, bytes: image.thumbnail.data };
  const date = photo.dateTaken ?? file.mtimeMs;
  const metadata: PreparedFile['metadata'] = {
    width: image.displayWidth,
    height: image.displayHeight,
    format: image.format,
    camera: photo.camera,
    lens: photo.lens,
    gps: photo.gps ? formatGps(photo.gps) : null,
    orientation: image.orientation ?? photo.orientation,
  };
  if (photo.frames !== undefined) {
    metadata.frames = photo.frames;
    metadata.note = `animated (${photo.frames} frames); the first frame is indexed`;
  }
  return {
    items: [{ item: { kind: 'image', locator: { type: 'whole' }, date, thumbnail }, embed: { images: [file.path] } }],
    dateTaken: photo.dateTaken,
    metadata,
  };
}

/**
 * A BMP (by content, whatever its extension): decoded by bmp-decode.ts, since neither sharp here
 * nor the embedder's decoder reads BMP. The model input is a lossless PNG of the same pixels, so
 * the embedder sees exactly what Pillow would; BMP carries no photo metadata.
 */
async function prepareBmpFile(file: { path: string; mtimeMs: number }, bytes: Buffer): Promise<PreparedFile> {
  let bmp;
  try {
    bmp = decodeBmp(bytes, DEFAULT_MAX_INPUT_PIXELS);
  } catch (error) {
    throw new ImageExtractError(`Cannot decode BMP image '${file.path}': ${error instanceof Error ? error.message : String(error)}. Re-save it as PNG to index it.`);
  }
  const raw = { raw: { width: bmp.width, height: bmp.height, channels: bmp.channels } };
  const [png, thumb] = await Promise.all([
    sharp(bmp.data, raw).png({ compressionLevel: 6 }).toBuffer(),
    sharp(bmp.data, raw).resize(DEFAULT_THUMBNAIL_SIZE, DEFAULT_THUMBNAIL_SIZE, { fit: 'inside', withoutEnlargement: true }).webp({ quality: 80 }).toBuffer({ resolveWithObject: true }),
  ]);
  const thumbnail = { mime: 'image/webp', width: thumb.info.width, height: thumb.info.height, bytes: thumb.data };
  return {
    items: [{ item: { kind: 'image', locator: { type: 'whole' }, date: file.mtimeMs, thumbnail }, embed: { images: [png] } }],
    dateTaken: null,
    metadata: { width: bmp.width, height: bmp.height, format: 'bmp', camera: null, lens: null, gps: null, orientation: null },
  };
}
