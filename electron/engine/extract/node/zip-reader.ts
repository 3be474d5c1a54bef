// A small read-only ZIP reader for Office documents (docx/pptx/odt are ZIP containers), on
// node:zlib alone. It reads the central directory and then only the entries asked for, straight
// from the file, so a 500 MB presentation full of pictures costs a few KB of XML, not its size.
//
// Supported: stored and deflated entries, data descriptors (sizes come from the central
// directory), ZIP64 sizes and offsets. Not supported (an Office file never needs them):
// multi-disk archives, encrypted entries (refused with a reason), other compression methods.
// Every inflate has an output limit, so a zip bomb fails with a reason instead of exhausting memory.
import { open, type FileHandle } from 'node:fs/promises';
import { inflateRaw } from 'node:zlib';
import { promisify } from 'node:util';

const inflateRawAsync = promisify(inflateRaw);

const EOCD_SIGNATURE = 0x06054b50;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;
/** A central directory this large means millions of entries: not an Office document. */
const MAX_CENTRAL_DIRECTORY_BYTES = 64 * 1024 * 1024;

export class ZipFormatError extends Error {
  override readonly name = 'ZipFormatError';
}

export interface ZipEntry {
  readonly name: string;
  readonly method: number;
  readonly encrypted: boolean;
  readonly compressedSize: number;
  readonly size: number;
  readonly localHeaderOffset: number;
}

export interface ZipArchive {
  readonly entries: ReadonlyMap<string, ZipEntry>;
  /** The entry's bytes, inflated; throws ZipFormatError when it is missing, encrypted, corrupt or above maxBytes. */
  read(name: string, maxBytes: number): Promise<Buffer>;
  close(): Promise<void>;
}

async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buffer, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  if (done < length) throw new ZipFormatError('the archive ends early (truncated)');
  return buffer;
}

/** Reads a 64-bit little-endian size; Office files stay far below 2^53. */
function readU64(buffer: Buffer, at: number): number {
  return Number(buffer.readBigUInt64LE(at));
}

async function findDirectory(handle: FileHandle, fileSize: number): Promise<{ offset: number; size: number; count: number }> {
  if (fileSize < EOCD_SIZE) throw new ZipFormatError('the file is too short to be a ZIP archive');
  const tailLength = Math.min(fileSize, EOCD_SIZE + MAX_COMMENT);
  const tailStart = fileSize - tailLength;
  const tail = await readAt(handle, tailStart, tailLength);
  let eocd = -1;
  for (let at = tail.length - EOCD_SIZE; at >= 0; at -= 1) {
    if (tail.readUInt32LE(at) === EOCD_SIGNATURE) {
      eocd = at;
      break;
    }
  }
  if (eocd < 0) throw new ZipFormatError('no ZIP end-of-directory record (the file is truncated or not a ZIP archive)');
  let count = tail.readUInt16LE(eocd + 10);
  let size = tail.readUInt32LE(eocd + 12);
  let offset = tail.readUInt32LE(eocd + 16);
  if (count === 0xffff || size === 0xffffffff || offset === 0xffffffff) {
    const locatorAt = eocd - 20;
    if (locatorAt >= 0 && tail.readUInt32LE(locatorAt) === ZIP64_LOCATOR_SIGNATURE) {
      const zip64At = readU64(tail, locatorAt + 8);
      const record = await readAt(handle, zip64At, 56);
      if (record.readUInt32LE(0) !== ZIP64_EOCD_SIGNATURE) throw new ZipFormatError('the ZIP64 end-of-directory record is damaged');
      count = readU64(record, 32);
      size = readU64(record, 40);
      offset = readU64(record, 48);
    }
  }
  if (size > MAX_CENTRAL_DIRECTORY_BYTES) throw new ZipFormatError(`the ZIP directory is ${size} bytes, too large for a document`);
  if (offset + size > fileSize) throw new ZipFormatError('the ZIP directory points past the end of the file (truncated)');
  return { offset, size, count };
}

function parseDirectory(directory: Buffer, count: number): Map<string, ZipEntry> {
  const entries = new Map<string, ZipEntry>();
  let at = 0;
  for (let index = 0; index < count; index += 1) {
    if (at + 46 > directory.length || directory.readUInt32LE(at) !== CENTRAL_SIGNATURE) throw new ZipFormatError('the ZIP directory is damaged');
    const flags = directory.readUInt16LE(at + 8);
    const method = directory.readUInt16LE(at + 10);
    let compressedSize = directory.readUInt32LE(at + 20);
    let size = directory.readUInt32LE(at + 24);
    const nameLength = directory.readUInt16LE(at + 28);
    const extraLength = directory.readUInt16LE(at + 30);
    const commentLength = directory.readUInt16LE(at + 32);
    let localHeaderOffset = directory.readUInt32LE(at + 42);
    const nameEnd = at + 46 + nameLength;
    if (nameEnd + extraLength + commentLength > directory.length) throw new ZipFormatError('the ZIP directory is damaged');
    const name = directory.toString('utf8', at + 46, nameEnd);
    // ZIP64 extra field: only the fields whose 32-bit value is saturated are present, in this order.
    let extra = nameEnd;
    while (extra + 4 <= nameEnd + extraLength) {
      const id = directory.readUInt16LE(extra);
      const length = directory.readUInt16LE(extra + 2);
      if (id === 0x0001) {
        let field = extra + 4;
        const fieldsEnd = extra + 4 + length;
        const next = (): number => {
          const value = field + 8 <= fieldsEnd ? readU64(directory, field) : 0xffffffff;
          field += 8;
          return value;
        };
        if (size === 0xffffffff) size = next();
        if (compressedSize === 0xffffffff) compressedSize = next();
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = next();
      }
      extra += 4 + length;
    }
    entries.set(name, { name, method, encrypted: (flags & 1) !== 0, compressedSize, size, localHeaderOffset });
    at = nameEnd + extraLength + commentLength;
  }
  return entries;
}

export async function openZip(filePath: string): Promise<ZipArchive> {
  const handle = await open(filePath, 'r');
  try {
    const fileSize = (await handle.stat()).size;
    const { offset, size, count } = await findDirectory(handle, fileSize);
    const entries = parseDirectory(await readAt(handle, offset, size), count);
    return {
      entries,
      async read(name: string, maxBytes: number): Promise<Buffer> {
        const entry = entries.get(name);
        if (!entry) throw new ZipFormatError(`the archive has no '${name}'`);
        if (entry.encrypted) throw new ZipFormatError(`'${name}' is encrypted`);
        // Both sizes are checked: a forged header can understate either, and compressed data larger than the output limit cannot fit it.
        if (entry.size > maxBytes || entry.compressedSize > maxBytes + 65536) {
          throw new ZipFormatError(`'${name}' is ${Math.max(entry.size, entry.compressedSize)} bytes, above the limit of ${maxBytes}`);
        }
        const local = await readAt(handle, entry.localHeaderOffset, 30);
        if (local.readUInt32LE(0) !== LOCAL_SIGNATURE) throw new ZipFormatError(`the entry '${name}' is damaged`);
        const dataAt = entry.localHeaderOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
        if (dataAt + entry.compressedSize > fileSize) throw new ZipFormatError(`the entry '${name}' runs past the end of the file (truncated)`);
        const data = await readAt(handle, dataAt, entry.compressedSize);
        if (entry.method === 0) return data;
        if (entry.method !== 8) throw new ZipFormatError(`'${name}' uses ZIP compression method ${entry.method}, which is not supported`);
        try {
          return await inflateRawAsync(data, { maxOutputLength: Math.max(1, maxBytes) });
        } catch (error) {
          const reason = (error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || error instanceof RangeError ? `inflates past the limit of ${maxBytes} bytes` : 'cannot be inflated (corrupt data)';
          throw new ZipFormatError(`'${name}' ${reason}`);
        }
      },
      close: () => handle.close(),
    };
  } catch (error) {
    await handle.close();
    throw error;
  }
}
