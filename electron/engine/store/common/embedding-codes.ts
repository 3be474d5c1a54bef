// What happens to a pooled embedding after the network (docs/qwen3-vl-model.md#pooling,
// docs/qwen3-vl-model.md#matryoshka-dimensions) and how it is stored
// compactly: L2 normalisation, Matryoshka (MRL) truncation, int8 codes with one scale per vector,
// and binary sign codes compared by Hamming distance.
//
// Conventions (stable: stored codes depend on them):
// - int8: symmetric, scale = max|x| / 127 (rounded to float32), code = round-half-even(x / scale)
//   clamped to [−127, 127]; −128 is never produced. A zero vector gets scale 0 and all-zero codes.
// - binary: bit = 1 when x > 0 (zero and −0 give 0), packed 8 values per byte, most significant bit
//   first (value i sits in byte ⌊i/8⌋ at bit 7 − i mod 8); the unused low bits of the last byte are 0.

/** F.normalize's eps: the norm is clamped from below, so a zero vector stays zero. */
export const L2_EPS = 1e-12;
/** Smallest Matryoshka size; the technical report evaluates 32 … 1024 (docs/qwen3-vl-model.md#matryoshka-dimensions). */
export const MIN_MRL_DIMS = 32;

/** `v / max(‖v‖₂, 1e−12)` in a new array; the norm is summed in float64. */
export function l2Normalize(v: ArrayLike<number>): Float32Array {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i]! * v[i]!;
  const scale = 1 / Math.max(Math.sqrt(sum), L2_EPS);
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i]! * scale;
  return out;
}

/** Throws unless `dims` is an integer in [32, full]; the message says what to pass. */
export function assertMatryoshkaDims(dims: number, full: number): void {
  if (!Number.isInteger(dims) || dims < MIN_MRL_DIMS || dims > full) {
    throw new RangeError(`dims must be an integer from ${MIN_MRL_DIMS} to ${full} (this model's embedding size), got ${dims}; leave it out for the full embedding`);
  }
}

/**
 * MRL: the first `dims` values, L2-normalised again. Works on the pooled state or on the
 * normalised embedding alike (the result is the same up to float rounding).
 */
export function matryoshka(embedding: ArrayLike<number>, dims: number): Float32Array {
  assertMatryoshkaDims(dims, embedding.length);
  return l2Normalize(Array.prototype.slice.call(embedding, 0, dims) as number[]);
}

/** Python `round()` / numpy `rint`: to nearest, ties to even. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export interface Int8Code {
  readonly codes: Int8Array;
  /** Value of one code step (float32); x ≈ codes[i] · scale. */
  readonly scale: number;
}

/** Symmetric int8 quantisation with a per-vector scale (see the conventions at the top). */
export function int8Encode(v: ArrayLike<number>): Int8Code {
  let max = 0;
  for (let i = 0; i < v.length; i++) {
    const a = Math.abs(v[i]!);
    if (!Number.isFinite(a)) throw new RangeError(`cannot quantise a vector holding ${v[i]} at index ${i}`);
    if (a > max) max = a;
  }
  const codes = new Int8Array(v.length);
  const scale = Math.fround(max / 127);
  if (scale === 0) return { codes, scale: 0 };
  for (let i = 0; i < v.length; i++) codes[i] = Math.max(-127, Math.min(127, roundHalfEven(v[i]! / scale)));
  return { codes, scale };
}

/** codes · scale as float32. */
export function int8Decode(code: Int8Code): Float32Array {
  const out = new Float32Array(code.codes.length);
  for (let i = 0; i < out.length; i++) out[i] = code.codes[i]! * code.scale;
  return out;
}

/** Sign bits packed MSB-first: ⌈n/8⌉ bytes (see the conventions at the top). */
export function binaryEncode(v: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(Math.ceil(v.length / 8));
  for (let i = 0; i < v.length; i++) if (v[i]! > 0) out[i >> 3]! |= 0x80 >>> (i & 7);
  return out;
}

function popcount8(x: number): number {
  let n = 0;
  for (let b = x; b !== 0; b &= b - 1) n++;
  return n;
}
const POPCOUNT = Uint8Array.from({ length: 256 }, (_, i) => popcount8(i));

/** Number of differing bits between two codes of the same length. */
export function hammingDistance(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new RangeError(`binary codes differ in length (${a.length} vs ${b.length} bytes); compare codes of the same embedding size`);
  let n = 0;
  for (let i = 0; i < a.length; i++) n += POPCOUNT[a[i]! ^ b[i]!]!;
  return n;
}
