// Reads Hugging Face checkpoints (safetensors, single file or sharded) one tensor at a time.
// Files are never read whole: an 8B checkpoint is 16 GB, so every read goes through a file handle
// at the tensor's offset. Layout: 8-byte little-endian header length N, N bytes of JSON header
// {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {…}}, then the data, with
// offsets relative to the end of the header. Validation follows the reference reader: the data
// regions must tile the data section exactly (no gaps, no overlaps, nothing after the last one).
import { open, readFile, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { decodeBF16, decodeF16 } from '../common/half-float.ts';

export type SafetensorsDType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

export interface TensorInfo {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  /** Absolute path of the file holding the tensor. */
  file: string;
  /** Absolute byte offset of the tensor's first byte in `file` (header included). */
  byteOffset: number;
  byteLength: number;
}

export interface Checkpoint {
  readonly dir: string;
  /** Parsed config.json. */
  readonly config: unknown;
  names(): string[];
  has(name: string): boolean;
  /** Throws an error naming the tensor and the checkpoint when absent. */
  info(name: string): TensorInfo;
  /** Converts F16/BF16/F64 (and integer types) to float32 exactly where float32 can hold the value. */
  readFloat32(name: string): Promise<Float32Array>;
  close(): Promise<void>;
}

export const DTYPE_SIZE: Readonly<Record<SafetensorsDType, number>> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1,
};

/** The reference reader refuses headers above 100 MB; so do we (a corrupt length would otherwise allocate it). */
const MAX_HEADER_BYTES = 100_000_000;
/** Tensors are converted in slices of this many bytes so a 2.5 GB table never needs a second full copy. */
const READ_CHUNK_BYTES = 32 * 1024 * 1024;

export const SINGLE_FILE = 'model.safetensors';
export const SHARD_INDEX = 'model.safetensors.index.json';

function isDType(value: unknown): value is SafetensorsDType {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(DTYPE_SIZE, value);
}

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Fills `target` from `fh` at `position`, looping over short reads; throws if the file ends first. */
async function readExactly(fh: FileHandle, target: Uint8Array, position: number, file: string): Promise<void> {
  let done = 0;
  while (done < target.length) {
    const { bytesRead } = await fh.read(target, done, target.length - done, position + done);
    if (bytesRead === 0) {
      throw new Error(`${file}: file ended at byte ${position + done} while ${target.length - done} more bytes were expected; the file is truncated — download it again.`);
    }
    done += bytesRead;
  }
}

/** Parses and validates the header of one safetensors file; tensors come back in data order. */
export async function readSafetensorsHeader(file: string): Promise<TensorInfo[]> {
  const absolute = path.resolve(file);
  const fh = await open(absolute, 'r');
  try {
    const { size } = await fh.stat();
    if (size < 8) {
      throw new Error(`${absolute}: ${size} bytes is too short for a safetensors file (the 8-byte header length alone is missing); the file is truncated or not safetensors.`);
    }
    const lengthBytes = new Uint8Array(8);
    await readExactly(fh, lengthBytes, 0, absolute);
    const headerLength = Buffer.from(lengthBytes).readBigUInt64LE(0);
    if (headerLength > BigInt(size - 8)) {
      throw new Error(`${absolute}: header length ${headerLength} is beyond the file size (${size} bytes); the file is truncated or not safetensors.`);
    }
    const n = Number(headerLength);
    if (n > MAX_HEADER_BYTES) {
      throw new Error(`${absolute}: header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit of the safetensors format; the file is corrupt.`);
    }
    const headerBytes = new Uint8Array(n);
    await readExactly(fh, headerBytes, 8, absolute);
    let header: unknown;
    try {
      header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
    } catch (error) {
      throw new Error(`${absolute}: the header is not valid UTF-8 JSON (${(error as Error).message}); the file is corrupt or not safetensors.`);
    }
    if (header === null || typeof header !== 'object' || Array.isArray(header)) {
      throw new Error(`${absolute}: the header must be a JSON object of tensors; the file is corrupt or not safetensors.`);
    }
    const dataStart = 8 + n;
    const dataLength = size - dataStart;
    const tensors: (TensorInfo & { begin: number; end: number })[] = [];
    for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
      if (name === '__metadata__') continue;
      const where = `${absolute}: tensor "${name}"`;
      if (entry === null || typeof entry !== 'object') throw new Error(`${where}: header entry is not an object.`);
      const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
      if (!isDType(dtype)) {
        throw new Error(`${where}: unknown or unsupported dtype ${JSON.stringify(dtype)} (supported: ${Object.keys(DTYPE_SIZE).join(', ')}).`);
      }
      if (!Array.isArray(shape) || !shape.every(isNonNegativeInteger)) {
        throw new Error(`${where}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}.`);
      }
      if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegativeInteger)) {
        throw new Error(`${where}: data_offsets must be [begin, end] with non-negative integers, got ${JSON.stringify(offsets)}.`);
      }
      const [begin, end] = offsets as [number, number];
      if (end < begin) throw new Error(`${where}: data_offsets [${begin}, ${end}] end before they begin; the header is corrupt.`);
      const elements = (shape as number[]).reduce((a, b) => a * b, 1);
      const expected = elements * DTYPE_SIZE[dtype];
      if (end - begin !== expected) {
        throw new Error(`${where}: byte length ${end - begin} ≠ ${expected} = product of shape [${shape.join(', ')}] × ${DTYPE_SIZE[dtype]} bytes (${dtype}); the header is corrupt.`);
      }
      if (end > dataLength) {
        throw new Error(`${where}: data ends at byte ${dataStart + end} but the file has only ${size} bytes; the file is truncated — download it again.`);
      }
      tensors.push({ name, dtype, shape: [...(shape as number[])], file: absolute, byteOffset: dataStart + begin, byteLength: expected, begin, end });
    }
    tensors.sort((a, b) => a.begin - b.begin || a.end - b.end);
    let cursor = 0;
    for (const t of tensors) {
      if (t.begin < cursor) {
        throw new Error(`${absolute}: tensor "${t.name}" data [${t.begin}, ${t.end}] overlaps the previous tensor (which ends at ${cursor}); the header is corrupt.`);
      }
      if (t.begin > cursor) {
        throw new Error(`${absolute}: gap in the data section before tensor "${t.name}" (bytes ${cursor}..${t.begin} belong to no tensor); the header is corrupt.`);
      }
      cursor = t.end;
    }
    if (cursor !== dataLength) {
      throw new Error(`${absolute}: the tensors cover ${cursor} data bytes but the file holds ${dataLength} after the header; the file has trailing bytes or a corrupt header.`);
    }
    return tensors.map(({ name, dtype, shape, file: f, byteOffset, byteLength }) => ({ name, dtype, shape, file: f, byteOffset, byteLength }));
  } finally {
    await fh.close();
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

async function readJson(file: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new Error(`${file}: cannot read the ${what} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); the checkpoint folder is incomplete.`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`${file}: the ${what} is not valid JSON (${(error as Error).message}).`);
  }
}

/** Tensors of a sharded checkpoint, located through model.safetensors.index.json's weight_map. */
async function readShardedTensors(dir: string): Promise<Map<string, TensorInfo>> {
  const indexFile = path.join(dir, SHARD_INDEX);
  const index = await readJson(indexFile, 'shard index');
  const weightMap = (index as { weight_map?: unknown } | null)?.weight_map;
  if (weightMap === null || typeof weightMap !== 'object' || Array.isArray(weightMap)) {
    throw new Error(`${indexFile}: "weight_map" must be an object mapping tensor names to shard files.`);
  }
  const byShard = new Map<string, string[]>();
  for (const [name, shard] of Object.entries(weightMap as Record<string, unknown>)) {
    if (typeof shard !== 'string' || shard.length === 0 || path.basename(shard) !== shard) {
      throw new Error(`${indexFile}: weight_map["${name}"] must name a shard file in the same folder, got ${JSON.stringify(shard)}.`);
    }
    const names = byShard.get(shard) ?? [];
    names.push(name);
    byShard.set(shard, names);
  }
  const tensors = new Map<string, TensorInfo>();
  for (const [shard, names] of [...byShard].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const shardFile = path.join(dir, shard);
    if (!(await exists(shardFile))) {
      throw new Error(`${indexFile}: shard "${shard}" (holding e.g. "${names[0]}") is missing from ${dir}; download the missing shard.`);
    }
    const inShard = new Map((await readSafetensorsHeader(shardFile)).map((t) => [t.name, t]));
    for (const name of names) {
      const info = inShard.get(name);
      if (!info) throw new Error(`${indexFile}: names tensor "${name}" in shard "${shard}", but that shard has no such tensor; the index and shards do not match — download the checkpoint again.`);
      tensors.set(name, info);
    }
  }
  return tensors;
}

/** Opens a checkpoint folder in the Hugging Face hub layout (config.json + model.safetensors or a shard index). */
export async function openCheckpoint(dir: string): Promise<Checkpoint> {
  const root = path.resolve(dir);
  const config = await readJson(path.join(root, 'config.json'), 'model config');
  let tensors: Map<string, TensorInfo>;
  if (await exists(path.join(root, SHARD_INDEX))) {
    tensors = await readShardedTensors(root);
  } else if (await exists(path.join(root, SINGLE_FILE))) {
    tensors = new Map((await readSafetensorsHeader(path.join(root, SINGLE_FILE))).map((t) => [t.name, t]));
  } else {
    throw new Error(`${root}: no ${SINGLE_FILE} and no ${SHARD_INDEX}; this is not a safetensors checkpoint folder.`);
  }
  return new SafetensorsCheckpoint(root, config, tensors);
}

class SafetensorsCheckpoint implements Checkpoint {
  private readonly handles = new Map<string, Promise<FileHandle>>();
  private closed = false;

  constructor(
    readonly dir: string,
    readonly config: unknown,
    private readonly tensors: Map<string, TensorInfo>,
  ) {}

  names(): string[] {
    return [...this.tensors.keys()].sort();
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  info(name: string): TensorInfo {
    const info = this.tensors.get(name);
    if (!info) {
      throw new Error(`checkpoint ${this.dir} has no tensor "${name}" (${this.tensors.size} tensors present); check the tensor name against the model architecture and the checkpoint version.`);
    }
    return { ...info, shape: [...info.shape] };
  }

  private handle(file: string): Promise<FileHandle> {
    if (this.closed) throw new Error(`checkpoint ${this.dir} is closed; open it again to read tensors.`);
    let fh = this.handles.get(file);
    if (!fh) {
      fh = open(file, 'r');
      this.handles.set(file, fh);
    }
    return fh;
  }

  async readFloat32(name: string): Promise<Float32Array> {
    const info = this.info(name);
    const fh = await this.handle(info.file);
    const size = DTYPE_SIZE[info.dtype];
    const count = info.byteLength / size;
    const out = new Float32Array(count);
    if (info.dtype === 'F32') {
      // Same layout (little-endian float32; every supported platform is little-endian): read straight in.
      await readExactly(fh, new Uint8Array(out.buffer), info.byteOffset, info.file);
      return out;
    }
    const perChunk = Math.max(1, Math.floor(READ_CHUNK_BYTES / size));
    const scratch = new Uint8Array(Math.min(count, perChunk) * size);
    for (let first = 0; first < count; first += perChunk) {
      const n = Math.min(perChunk, count - first);
      const bytes = scratch.subarray(0, n * size);
      await readExactly(fh, bytes, info.byteOffset + first * size, info.file);
      decodeInto(info.dtype, bytes, out, first, n);
    }
    return out;
  }

  async close(): Promise<void> {
    this.closed = true;
    const handles = [...this.handles.values()];
    this.handles.clear();
    await Promise.all(handles.map(async (fh) => (await fh).close()));
  }
}

function decodeInto(dtype: SafetensorsDType, bytes: Uint8Array, out: Float32Array, first: number, n: number): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'F16': return decodeF16(bytes, out, first, n);
    case 'BF16': return decodeBF16(bytes, out, first, n);
    case 'F32': for (let i = 0; i < n; i++) out[first + i] = view.getFloat32(4 * i, true); return;
    case 'F64': for (let i = 0; i < n; i++) out[first + i] = view.getFloat64(8 * i, true); return;
    case 'I64': for (let i = 0; i < n; i++) out[first + i] = Number(view.getBigInt64(8 * i, true)); return;
    case 'I32': for (let i = 0; i < n; i++) out[first + i] = view.getInt32(4 * i, true); return;
    case 'I16': for (let i = 0; i < n; i++) out[first + i] = view.getInt16(2 * i, true); return;
    case 'I8': for (let i = 0; i < n; i++) out[first + i] = view.getInt8(i); return;
    case 'U8': for (let i = 0; i < n; i++) out[first + i] = bytes[i]; return;
    case 'BOOL': for (let i = 0; i < n; i++) out[first + i] = bytes[i] === 0 ? 0 : 1; return;
  }
}
