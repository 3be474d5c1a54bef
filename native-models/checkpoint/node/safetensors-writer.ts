// Writes safetensors files with the same bytes the reference (Rust/Python `safetensors`) writer
// produces for the same tensors: tensors ordered by descending dtype alignment, then by name
// (byte order); the header lists `__metadata__` first, then the tensors in data order, as compact
// JSON padded with spaces to a multiple of 8 bytes. Metadata keys are sorted (the reference keeps
// them in hash order, which is not deterministic; sorting keeps our bytes reproducible).
// Files are written under a temporary name and renamed into place, so a crash never leaves a
// half-written file under the real name.
import { open, rename, rm } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { float32ToBF16Bits, float32ToF16Bits } from '../common/half-float.ts';

export type WritableDType = 'F32' | 'F16' | 'BF16';

export interface TensorSpec {
  name: string;
  dtype: WritableDType;
  shape: number[];
}

export interface TensorToWrite extends TensorSpec {
  /** Row-major values; converted to `dtype` with round-to-nearest-even. */
  data: Float32Array;
}

const DTYPE_SIZE: Readonly<Record<WritableDType, number>> = { F32: 4, F16: 2, BF16: 2 };
/** Position of each dtype in the reference writer's Dtype enum (larger = written first). */
const DTYPE_RANK: Readonly<Record<WritableDType, number>> = { F16: 7, BF16: 8, F32: 11 };

/** Converts at most this many elements at a time, so appending a huge tensor needs little extra memory. */
const CONVERT_CHUNK_ELEMENTS = 1 << 20;

interface PlannedTensor extends TensorSpec {
  elements: number;
  /** Absolute byte position of the tensor's data in the file. */
  position: number;
  written: number;
}

function compareNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function validateSpecs(file: string, specs: readonly TensorSpec[]): void {
  const seen = new Set<string>();
  for (const spec of specs) {
    if (typeof spec.name !== 'string' || spec.name.length === 0 || spec.name === '__metadata__') {
      throw new Error(`${file}: invalid tensor name ${JSON.stringify(spec.name)}.`);
    }
    if (seen.has(spec.name)) throw new Error(`${file}: tensor "${spec.name}" is listed twice; names must be unique.`);
    seen.add(spec.name);
    if (!Object.prototype.hasOwnProperty.call(DTYPE_SIZE, spec.dtype)) {
      throw new Error(`${file}: tensor "${spec.name}" has dtype ${JSON.stringify(spec.dtype)}; the writer supports F32, F16 and BF16.`);
    }
    if (!Array.isArray(spec.shape) || !spec.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new Error(`${file}: tensor "${spec.name}" shape must be non-negative integers, got ${JSON.stringify(spec.shape)}.`);
    }
  }
}

/** Header bytes (length prefix included) and the data layout for `specs`, in reference order. */
function planLayout(specs: readonly TensorSpec[], metadata: Record<string, string> | undefined): { header: Buffer; tensors: PlannedTensor[]; totalBytes: number } {
  const ordered = [...specs].sort((a, b) => DTYPE_RANK[b.dtype] - DTYPE_RANK[a.dtype] || compareNames(a.name, b.name));
  const entries: string[] = [];
  if (metadata !== undefined) {
    const keys = Object.keys(metadata).sort(compareNames);
    entries.push(`"__metadata__":{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(metadata[k])}`).join(',')}}`);
  }
  let offset = 0;
  const layout: { spec: TensorSpec; elements: number; begin: number }[] = [];
  for (const spec of ordered) {
    const elements = spec.shape.reduce((a, b) => a * b, 1);
    const end = offset + elements * DTYPE_SIZE[spec.dtype];
    // Built by hand: JSON.stringify on an object would move integer-like names ("0") to the front.
    entries.push(`${JSON.stringify(spec.name)}:{"dtype":"${spec.dtype}","shape":[${spec.shape.join(',')}],"data_offsets":[${offset},${end}]}`);
    layout.push({ spec, elements, begin: offset });
    offset = end;
  }
  let json = Buffer.from(`{${entries.join(',')}}`, 'utf8');
  const padding = (8 - (json.length % 8)) % 8;
  if (padding > 0) json = Buffer.concat([json, Buffer.alloc(padding, 0x20)]);
  const header = Buffer.alloc(8 + json.length);
  header.writeBigUInt64LE(BigInt(json.length), 0);
  json.copy(header, 8);
  const tensors = layout.map(({ spec, elements, begin }) => ({
    name: spec.name, dtype: spec.dtype, shape: [...spec.shape], elements, position: header.length + begin, written: 0,
  }));
  return { header, tensors, totalBytes: header.length + offset };
}

function encode(dtype: WritableDType, values: Float32Array): Uint8Array {
  if (dtype === 'F32') return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const out = new Uint16Array(values.length);
  const convert = dtype === 'F16' ? float32ToF16Bits : float32ToBF16Bits;
  for (let i = 0; i < values.length; i++) out[i] = convert(values[i]);
  return new Uint8Array(out.buffer);
}

/**
 * A safetensors file written tensor by tensor: the header is fixed by the specs given up front,
 * then `append` supplies each tensor's values, in any tensor order and in as many pieces as
 * wanted (pieces of one tensor in order). `finish` checks every tensor is complete and moves the
 * file into place; `abort` removes the temporary file.
 */
export interface SafetensorsStream {
  append(name: string, values: Float32Array): Promise<void>;
  finish(): Promise<void>;
  abort(): Promise<void>;
}

let tempCounter = 0;

export async function createSafetensorsStream(
  file: string,
  specs: readonly TensorSpec[],
  metadata?: Record<string, string>,
): Promise<SafetensorsStream> {
  validateSpecs(file, specs);
  const { header, tensors } = planLayout(specs, metadata);
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const temp = `${file}.tmp-${process.pid}-${++tempCounter}`;
  const fh: FileHandle = await open(temp, 'w');
  let state: 'open' | 'finished' | 'aborted' = 'open';
  try {
    await fh.write(header, 0, header.length, 0);
  } catch (error) {
    await fh.close();
    await rm(temp, { force: true });
    throw error;
  }

  async function abort(): Promise<void> {
    if (state !== 'open') return;
    state = 'aborted';
    await fh.close().catch(() => undefined);
    await rm(temp, { force: true });
  }

  return {
    async append(name, values) {
      if (state !== 'open') throw new Error(`${file}: cannot append "${name}"; the stream is ${state}.`);
      const t = byName.get(name);
      if (!t) throw new Error(`${file}: tensor "${name}" was not declared when the stream was created.`);
      if (t.written + values.length > t.elements) {
        await abort();
        throw new Error(`${file}: tensor "${name}" [${t.shape.join(', ')}] holds ${t.elements} values; appending ${values.length} after ${t.written} would exceed it.`);
      }
      const size = DTYPE_SIZE[t.dtype];
      for (let first = 0; first < values.length; first += CONVERT_CHUNK_ELEMENTS) {
        const piece = values.subarray(first, Math.min(values.length, first + CONVERT_CHUNK_ELEMENTS));
        const bytes = encode(t.dtype, piece);
        await fh.write(bytes, 0, bytes.length, t.position + (t.written + first) * size);
      }
      t.written += values.length;
    },
    async finish() {
      if (state !== 'open') throw new Error(`${file}: cannot finish; the stream is ${state}.`);
      const incomplete = tensors.filter((t) => t.written !== t.elements);
      if (incomplete.length > 0) {
        await abort();
        const list = incomplete.slice(0, 5).map((t) => `"${t.name}" (${t.written}/${t.elements})`).join(', ');
        throw new Error(`${file}: ${incomplete.length} tensor(s) were not fully written: ${list}; nothing was saved.`);
      }
      state = 'finished';
      await fh.sync();
      await fh.close();
      await rename(temp, file);
    },
    abort,
  };
}

/** Writes `tensors` to `file` (atomically) with the reference writer's byte layout. */
export async function writeSafetensors(
  file: string,
  tensors: readonly TensorToWrite[],
  metadata?: Record<string, string>,
): Promise<void> {
  for (const t of tensors) {
    const elements = Array.isArray(t.shape) ? t.shape.reduce((a, b) => a * b, 1) : NaN;
    if (!(t.data instanceof Float32Array) || t.data.length !== elements) {
      throw new Error(`${file}: tensor "${t.name}" has ${t.data?.length} values but shape [${t.shape}] needs ${elements}.`);
    }
  }
  const stream = await createSafetensorsStream(file, tensors, metadata);
  try {
    for (const t of tensors) await stream.append(t.name, t.data);
  } catch (error) {
    await stream.abort();
    throw error;
  }
  await stream.finish();
}
