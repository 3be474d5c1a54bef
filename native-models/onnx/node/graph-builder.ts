// Writes ONNX graphs from TypeScript (no Python, no torch): inputs, outputs, initializers and nodes
// are added in topological order, then `save()` writes the .onnx (+ one external data file).
//
// Memory: a 2B checkpoint holds ~8 GB of fp32 weights, so `weight()` does not keep large tensors.
// The first weight of at least `externalThreshold` bytes opens a scratch data file (beside the
// graph when `scratchDir` is given, else in the OS temp dir) and every large weight is appended to
// it synchronously as it is added; the caller's array can then be dropped. Only small tensors stay
// in memory and are written inline (or appended at save when save's threshold is lower). `save()`
// renames the scratch file to the final data file, so a builder saves once.
//
// Control flow: `subgraph(name)` gives a builder for a Loop/If body. It shares the model's value
// namespace, reads the enclosing graphs' values by name (outer scope, as ONNX allows), and puts its
// weights and constants into the top-level graph; pass it as a node attribute (`{ graph: body }`).
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { copyFile, open, rename, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import onnxProto from 'onnx-proto';
import { float32ToF16Bits } from '../../checkpoint/common/half-float.ts';

const { onnx } = onnxProto;

export type TensorDType = 'float32' | 'float16' | 'int64' | 'int32' | 'bool' | 'uint8' | 'int8';
/** A number is a fixed dimension; a string names a symbolic (dynamic) one. */
export type Dim = number | string;
/** Uint8Array/Int8Array carry packed quantised weights (uint8, int8) and raw float16 bits (Uint16Array). */
export type TensorData = Float32Array | BigInt64Array | Int32Array | Uint8Array | Int8Array | Uint16Array;
/**
 * Attribute values. An integral number is written as INT and any other number as FLOAT, except
 * for attribute names that are float by definition (epsilon, alpha, beta, …; see FLOAT_ATTRIBUTES),
 * which are always FLOAT. `{ float }` forces FLOAT; number[] is INTS unless a value is fractional;
 * `{ floats }` forces FLOATS.
 */
export type AttributeValue =
  | number
  | number[]
  | string
  | { float: number }
  | { floats: number[] }
  | { tensor: { dtype: TensorDType; dims: number[]; data: TensorData } }
  | { graph: GraphBuilder };
export interface NodeOptions {
  domain?: string;
  name?: string;
}
export interface SaveResult {
  onnxFile: string;
  dataFile: string | null;
  onnxBytes: number;
  dataBytes: number;
}
export interface GraphBuilderOptions {
  /** ai.onnx opset; default 17 (LayerNormalization). */
  opset?: number;
  /** Weights of at least this many bytes are streamed to the external data file; default 1024. */
  externalThreshold?: number;
  /** Where the scratch data file lives until save; put it on the output's filesystem so save is a rename. */
  scratchDir?: string;
}

const DEFAULT_OPSET = 17;
const DEFAULT_EXTERNAL_THRESHOLD = 1024;
/** Big tensors start on a page boundary (what onnx's external-data converter does) so they can be mapped; others on 64 bytes. */
const PAGE_ALIGN = 4096;
const PAGE_ALIGN_FROM_BYTES = 1024 * 1024;
const SMALL_ALIGN = 64;
/** Constants up to this many elements are deduplicated by value. */
const CONSTANT_DEDUP_ELEMENTS = 64;

/** Attribute names whose value is a float even when the number is integral. */
const FLOAT_ATTRIBUTES = new Set(['epsilon', 'alpha', 'beta', 'gamma', 'scale', 'momentum', 'ratio', 'lambd', 'bias', 'value_float', 'spatial_scale', 'extrapolation_value', 'cubic_coeff_a']);

const ONNX_TYPE: Record<TensorDType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  float16: onnx.TensorProto.DataType.FLOAT16,
  int64: onnx.TensorProto.DataType.INT64,
  int32: onnx.TensorProto.DataType.INT32,
  bool: onnx.TensorProto.DataType.BOOL,
  uint8: onnx.TensorProto.DataType.UINT8,
  int8: onnx.TensorProto.DataType.INT8,
};

/** IR version matching the ai.onnx opset (onnx/helper.py VERSION_TABLE). */
function irVersionFor(opset: number): number {
  if (opset <= 8) return 3;
  if (opset <= 10) return 5;
  if (opset <= 11) return 6;
  if (opset <= 14) return 7;
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  if (opset <= 22) return 10;
  return 11;
}

function elementCount(dims: number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** Little-endian bytes of `data` as `dtype` (the host is little-endian: x86-64 and arm64). */
function tensorBytes(data: TensorData | number[], dtype: TensorDType, where: string): Uint8Array {
  const view = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  switch (dtype) {
    case 'float32':
      return data instanceof Float32Array ? view(data) : view(Float32Array.from(data as ArrayLike<number>, Number));
    case 'float16': {
      if (data instanceof BigInt64Array) throw new TypeError(`${where}: float16 data must be given as float32 values, not BigInt64Array.`);
      // A Uint16Array already holds f16 bit patterns (converted once by the caller); anything else is values.
      if (data instanceof Uint16Array) return view(data);
      return view(Uint16Array.from(data as ArrayLike<number>, (x) => float32ToF16Bits(x)));
    }
    case 'uint8':
      if (data instanceof Uint8Array) return view(data);
      if (data instanceof BigInt64Array) throw new TypeError(`${where}: uint8 data must be Uint8Array or numbers, not BigInt64Array.`);
      return Uint8Array.from(data as ArrayLike<number>, (x) => checkedByte(x, 0, 255, where));
    case 'int8':
      if (data instanceof Int8Array) return view(data);
      if (data instanceof BigInt64Array) throw new TypeError(`${where}: int8 data must be Int8Array or numbers, not BigInt64Array.`);
      return view(Int8Array.from(data as ArrayLike<number>, (x) => checkedByte(x, -128, 127, where)));
    case 'int64':
      return data instanceof BigInt64Array ? view(data) : view(BigInt64Array.from(data as ArrayLike<number>, (x) => {
        if (!Number.isInteger(x)) throw new TypeError(`${where}: int64 value ${x} is not an integer.`);
        return BigInt(x);
      }));
    case 'int32':
      if (data instanceof BigInt64Array) throw new TypeError(`${where}: int32 data must be Int32Array or numbers, not BigInt64Array.`);
      return data instanceof Int32Array ? view(data) : view(Int32Array.from(data as ArrayLike<number>));
    case 'bool':
      if (data instanceof BigInt64Array) return Uint8Array.from(data, (x) => (x !== 0n ? 1 : 0));
      return Uint8Array.from(data as ArrayLike<number>, (x) => (x !== 0 ? 1 : 0));
  }
}

function checkedByte(x: number, min: number, max: number, where: string): number {
  if (!Number.isInteger(x) || x < min || x > max) throw new RangeError(`${where}: value ${x} is not an integer in [${min}, ${max}].`);
  return x;
}

function defaultDType(data: TensorData): TensorDType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof BigInt64Array) return 'int64';
  if (data instanceof Uint8Array) return 'uint8';
  if (data instanceof Int8Array) return 'int8';
  if (data instanceof Uint16Array) return 'float16';
  return 'int32';
}

function alignUp(value: number, alignment: number): number {
  return Math.ceil(value / alignment) * alignment;
}

interface Initializer {
  name: string;
  dtype: TensorDType;
  dims: number[];
  /** Inline bytes; null once streamed to the scratch file. */
  bytes: Uint8Array | null;
  /** Offset in the scratch (later: final) data file when streamed. */
  offset: number;
  length: number;
}

interface ValueInfo {
  name: string;
  dtype: TensorDType;
  /** null: shape left to the runtime's inference (allowed for subgraph values). */
  dims: Dim[] | null;
}

export class GraphBuilder {
  readonly name: string;
  readonly opset: number;
  private readonly streamThreshold: number;
  private readonly scratchDir: string;
  private readonly inputs: ValueInfo[] = [];
  private readonly outputs: ValueInfo[] = [];
  private readonly initializers: Initializer[] = [];
  private readonly nodes: onnxProto.onnx.INodeProto[] = [];
  private readonly domains = new Set<string>();
  /** Every value name defined so far (inputs, initializers, node outputs), for checks and `fresh`. */
  private readonly defined = new Set<string>();
  private readonly used = new Set<string>();
  private readonly constantCache = new Map<string, string>();
  private counter = 0;
  private scratchFile: string | null = null;
  private scratchFd: number | null = null;
  private scratchBytes = 0;
  private finished = false;
  /** The enclosing graph of a subgraph (Loop/If body); null for the model's graph. */
  private readonly parent: GraphBuilder | null;

  /** `parent` is internal: use `subgraph()` to make a body. */
  constructor(name: string, options: GraphBuilderOptions = {}, parent: GraphBuilder | null = null) {
    this.name = name;
    this.opset = parent?.opset ?? options.opset ?? DEFAULT_OPSET;
    this.streamThreshold = options.externalThreshold ?? DEFAULT_EXTERNAL_THRESHOLD;
    this.scratchDir = options.scratchDir ?? tmpdir();
    this.parent = parent;
  }

  /**
   * A builder for a control-flow body (Loop, If) nested in this graph: its nodes may read any
   * value defined so far here or further out; `weight()` and `constant()` land in the top-level
   * graph. Declare its inputs/outputs in the order the op defines, then pass `{ graph: body }`.
   */
  subgraph(name: string): GraphBuilder {
    this.checkOpen();
    return new GraphBuilder(`${this.name}/${name}`, {}, this);
  }

  private get root(): GraphBuilder {
    return this.parent ? this.parent.root : this;
  }

  /** A value name not used before in this graph. */
  fresh(prefix: string): string {
    if (this.parent) return this.root.fresh(prefix);
    for (;;) {
      const candidate = `${prefix}_${this.counter++}`;
      if (!this.used.has(candidate)) {
        this.used.add(candidate);
        return candidate;
      }
    }
  }

  /** `dims` null leaves the shape unstated (subgraph values whose shape the runtime infers). */
  input(name: string, dtype: TensorDType, dims: Dim[] | null): string {
    if (dims === null && !this.parent) throw new Error(`graph "${this.name}": input "${name}" of the model's graph needs dims.`);
    this.define(name, `input "${name}"`);
    this.inputs.push({ name, dtype, dims: dims && [...dims] });
    return name;
  }

  output(name: string, dtype: TensorDType, dims: Dim[] | null, from?: string): void {
    if (dims === null && !this.parent) throw new Error(`graph "${this.name}": output "${name}" of the model's graph needs dims.`);
    if (this.outputs.some((o) => o.name === name)) throw new Error(`graph "${this.name}": output "${name}" is declared twice.`);
    if (from !== undefined) {
      this.requireDefined(from, `output "${name}"`);
      this.define(name, `output "${name}"`);
      this.nodes.push({ opType: 'Identity', input: [from], output: [name], name: `${name}_identity` });
    }
    this.outputs.push({ name, dtype, dims: dims && [...dims] });
  }

  weight(name: string, data: TensorData, dims: number[], dtype?: TensorDType): string {
    if (this.parent) return this.root.weight(name, data, dims, dtype);
    this.checkOpen();
    const type = dtype ?? defaultDType(data);
    const where = `graph "${this.name}": weight "${name}"`;
    if (elementCount(dims) !== data.length) throw new RangeError(`${where}: ${data.length} values do not fill dims [${dims.join(', ')}] (${elementCount(dims)} values).`);
    this.define(name, `weight "${name}"`);
    const raw = tensorBytes(data, type, where);
    // Kept tensors are copied so that later changes to the caller's array do not leak in.
    const bytes = raw.byteLength >= this.streamThreshold ? raw : raw.slice();
    const init: Initializer = { name, dtype: type, dims: [...dims], bytes, offset: 0, length: bytes.byteLength };
    if (bytes.byteLength >= this.streamThreshold) this.stream(init);
    this.initializers.push(init);
    return name;
  }

  constant(data: number[] | TensorData, dims: number[], dtype: TensorDType): string {
    if (this.parent) return this.root.constant(data, dims, dtype);
    const count = elementCount(dims);
    if (data.length !== count) throw new RangeError(`graph "${this.name}": constant has ${data.length} values for dims [${dims.join(', ')}] (${count} values).`);
    const key = count <= CONSTANT_DEDUP_ELEMENTS ? `${dtype}|${dims.join(',')}|${Array.from(data as ArrayLike<number | bigint>, String).join(',')}` : null;
    const cached = key === null ? undefined : this.constantCache.get(key);
    if (cached !== undefined) return cached;
    const name = this.fresh('const');
    this.used.delete(name); // define() below claims it
    const typed: TensorData = Array.isArray(data)
      ? (dtype === 'int64' ? BigInt64Array.from(data, (x) => BigInt(x)) : dtype === 'int32' || dtype === 'bool' ? Int32Array.from(data) : Float32Array.from(data))
      : data;
    this.weight(name, typed, dims, dtype);
    if (key !== null) this.constantCache.set(key, name);
    return name;
  }

  node(opType: string, inputs: string[], attributes?: Record<string, AttributeValue>, options?: NodeOptions): string {
    return this.nodeN(opType, inputs, 1, attributes, options)[0];
  }

  nodeN(opType: string, inputs: string[], outputCount: number, attributes: Record<string, AttributeValue> = {}, options: NodeOptions = {}): string[] {
    this.checkOpen();
    const nodeName = options.name ?? this.fresh(`${opType}_node`);
    for (const input of inputs) if (input !== '') this.requireDefined(input, `node "${nodeName}" (${opType})`);
    const outputs: string[] = [];
    for (let i = 0; i < outputCount; i++) {
      const out = this.fresh(opType);
      this.defined.add(out);
      outputs.push(out);
    }
    const domain = options.domain ?? '';
    if (domain !== '') this.root.domains.add(domain);
    this.nodes.push({
      opType,
      input: inputs,
      output: outputs,
      name: nodeName,
      domain,
      attribute: Object.entries(attributes).map(([key, value]) => this.attribute(key, value, nodeName)),
    });
    return outputs;
  }

  /** Removes the scratch data file of a builder that will not be saved (after an error). */
  async discard(): Promise<void> {
    this.finished = true;
    this.closeScratch();
    if (this.scratchFile) await rm(this.scratchFile, { force: true });
    this.scratchFile = null;
  }

  async save(onnxFile: string, options: { externalDataFile?: string; externalThreshold?: number } = {}): Promise<SaveResult> {
    if (this.parent) throw new Error(`graph "${this.name}" is a subgraph: pass it to a node as { graph } and save the model's graph.`);
    this.checkOpen();
    this.checkOutputs();
    const absoluteOnnx = path.resolve(onnxFile);
    const dir = path.dirname(absoluteOnnx);
    const dataFile = path.resolve(dir, options.externalDataFile ?? `${path.basename(absoluteOnnx, '.onnx')}.onnx_data`);
    if (path.dirname(dataFile) !== dir) throw new Error(`graph "${this.name}": the external data file ${dataFile} must lie in the graph's directory ${dir} (ONNX stores a relative location).`);
    const location = path.basename(dataFile);

    // Small weights kept in memory go external too when save's threshold is lower than the stream threshold.
    const saveThreshold = options.externalThreshold ?? this.streamThreshold;
    for (const init of this.initializers) if (init.bytes && init.bytes.byteLength >= saveThreshold) this.stream(init);
    this.finished = true;

    const model = onnx.ModelProto.create({
      irVersion: irVersionFor(this.opset),
      producerName: 'trove-graph-builder',
      opsetImport: [{ domain: '', version: this.opset }, ...[...this.domains].sort().map((domain) => ({ domain, version: 1 }))],
      graph: {
        name: this.name,
        node: this.nodes,
        input: this.inputs.map((v) => this.valueInfo(v)),
        output: this.outputs.map((v) => this.valueInfo(v)),
        initializer: this.initializers.map((init) => init.bytes
          ? { name: init.name, dims: init.dims, dataType: ONNX_TYPE[init.dtype], rawData: init.bytes }
          : {
            name: init.name,
            dims: init.dims,
            dataType: ONNX_TYPE[init.dtype],
            dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
            externalData: [
              { key: 'location', value: location },
              { key: 'offset', value: String(init.offset) },
              { key: 'length', value: String(init.length) },
            ],
          }),
      },
    });
    const encoded = onnx.ModelProto.encode(model).finish();

    const suffix = `.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    const onnxTemp = absoluteOnnx + suffix;
    try {
      const handle = await open(onnxTemp, 'w');
      try {
        await handle.writeFile(encoded);
        await handle.sync();
      } finally {
        await handle.close();
      }
      // Remove the old graph first: at every moment the real .onnx name is absent or matches its data.
      await rm(absoluteOnnx, { force: true });
      if (this.scratchFile) {
        if (this.scratchFd !== null) fsyncSync(this.scratchFd);
        this.closeScratch();
        await moveFile(this.scratchFile, dataFile);
        this.scratchFile = null;
      }
      await rename(onnxTemp, absoluteOnnx);
    } catch (error) {
      await rm(onnxTemp, { force: true });
      await this.discard();
      throw error;
    }
    const hasExternal = this.initializers.some((init) => init.bytes === null);
    return { onnxFile: absoluteOnnx, dataFile: hasExternal ? dataFile : null, onnxBytes: encoded.byteLength, dataBytes: hasExternal ? this.scratchBytes : 0 };
  }

  private checkOutputs(): void {
    for (const out of this.outputs) {
      if (!this.defined.has(out.name)) {
        throw new Error(`graph "${this.name}": output "${out.name}" is not produced by any node, input or weight; pass \`from\` to output() or give the producing node's value.`);
      }
    }
    if (this.outputs.length === 0) throw new Error(`graph "${this.name}": no outputs declared; call output() before save().`);
  }

  /** A finished subgraph as a GraphProto (it can be used once). */
  private subgraphProto(): onnxProto.onnx.IGraphProto {
    this.checkOpen();
    this.checkOutputs();
    this.finished = true;
    return { name: this.name, node: this.nodes, input: this.inputs.map((v) => this.valueInfo(v)), output: this.outputs.map((v) => this.valueInfo(v)) };
  }

  private stream(init: Initializer): void {
    const bytes = init.bytes!;
    if (this.scratchFd === null) {
      this.scratchFile = path.join(this.scratchDir, `.${this.name.replace(/[^\w.-]/g, '_')}-${process.pid}-${randomBytes(4).toString('hex')}.onnx_data.partial`);
      this.scratchFd = openSync(this.scratchFile, 'w');
    }
    const offset = alignUp(this.scratchBytes, bytes.byteLength >= PAGE_ALIGN_FROM_BYTES ? PAGE_ALIGN : SMALL_ALIGN);
    if (offset > this.scratchBytes) writeAll(this.scratchFd, new Uint8Array(offset - this.scratchBytes), this.scratchBytes);
    writeAll(this.scratchFd, bytes, offset);
    init.offset = offset;
    init.length = bytes.byteLength;
    init.bytes = null;
    this.scratchBytes = offset + bytes.byteLength;
  }

  private closeScratch(): void {
    if (this.scratchFd !== null) {
      closeSync(this.scratchFd);
      this.scratchFd = null;
    }
  }

  private checkOpen(): void {
    if (this.finished) throw new Error(`graph "${this.name}" was already saved or discarded; build a new GraphBuilder.`);
  }

  /** Whether `name` is visible here: defined in this graph or an enclosing one. */
  private visible(name: string): boolean {
    return this.defined.has(name) || (this.parent?.visible(name) ?? false);
  }

  private define(name: string, what: string): void {
    if (name === '') throw new Error(`graph "${this.name}": ${what} needs a non-empty name.`);
    if (this.parent) this.root.used.add(name); // one namespace for the whole model: fresh() never hands it out
    if (this.visible(name)) throw new Error(`graph "${this.name}": ${what} reuses the name "${name}"; value names must be unique (use fresh()).`);
    this.defined.add(name);
    this.used.add(name);
  }

  private requireDefined(name: string, user: string): void {
    if (!this.visible(name)) {
      throw new Error(`graph "${this.name}": ${user} uses "${name}", which no earlier input, weight or node defines; add its producer first (nodes must be added in topological order).`);
    }
  }

  private valueInfo(v: ValueInfo): onnxProto.onnx.IValueInfoProto {
    return {
      name: v.name,
      type: {
        tensorType: v.dims === null
          ? { elemType: ONNX_TYPE[v.dtype] }
          : { elemType: ONNX_TYPE[v.dtype], shape: { dim: v.dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } },
      },
    };
  }

  private attribute(name: string, value: AttributeValue, nodeName: string): onnxProto.onnx.IAttributeProto {
    const { AttributeType } = onnx.AttributeProto;
    if (typeof value === 'string') return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value) };
    if (typeof value === 'number') {
      if (Number.isInteger(value) && !FLOAT_ATTRIBUTES.has(name)) return { name, type: AttributeType.INT, i: value };
      return { name, type: AttributeType.FLOAT, f: value };
    }
    if (Array.isArray(value)) {
      if (value.every(Number.isInteger)) return { name, type: AttributeType.INTS, ints: value };
      return { name, type: AttributeType.FLOATS, floats: value };
    }
    if ('float' in value) return { name, type: AttributeType.FLOAT, f: value.float };
    if ('floats' in value) return { name, type: AttributeType.FLOATS, floats: value.floats };
    if ('graph' in value) {
      if (value.graph.parent !== this) throw new Error(`graph "${this.name}": node "${nodeName}" attribute "${name}" must be a subgraph made by this graph's subgraph().`);
      return { name, type: AttributeType.GRAPH, g: value.graph.subgraphProto() };
    }
    if ('tensor' in value) {
      const { dtype, dims, data } = value.tensor;
      if (elementCount(dims) !== data.length) throw new RangeError(`graph "${this.name}": node "${nodeName}" attribute "${name}": ${data.length} values for dims [${dims.join(', ')}].`);
      return { name, type: AttributeType.TENSOR, t: { dims, dataType: ONNX_TYPE[dtype], rawData: tensorBytes(data, dtype, `attribute "${name}"`) } };
    }
    throw new TypeError(`graph "${this.name}": node "${nodeName}" attribute "${name}" has an unsupported value ${JSON.stringify(value)}.`);
  }
}

function writeAll(fd: number, bytes: Uint8Array, position: number): void {
  let done = 0;
  while (done < bytes.byteLength) done += writeSync(fd, bytes, done, bytes.byteLength - done, position + done);
}

/** rename, falling back to copy + delete when the scratch file is on another filesystem. */
async function moveFile(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    const temp = `${to}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      await copyFile(from, temp);
      await rename(temp, to);
    } finally {
      await rm(temp, { force: true });
      await rm(from, { force: true });
    }
  }
}
