// Exact conversions between float32 and the two 16-bit float formats safetensors checkpoints use.
// Reading is exact in both directions of interest (every f16/bf16 value is a float32); writing
// rounds to nearest, ties to even, as PyTorch's `.to(torch.float16/bfloat16)` does.

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 value of every f16 bit pattern, built once: subnormals, ±0, ±inf and NaN payloads included. */
const F16_TO_F32: Float32Array = buildF16Table();
/** The same table as bit patterns: copying bits (not numbers) keeps signalling-NaN payloads intact. */
const F16_TO_F32_BITS = new Uint32Array(F16_TO_F32.buffer);

function buildF16Table(): Float32Array {
  const table = new Float32Array(65536);
  const bits = new Uint32Array(table.buffer);
  for (let h = 0; h < 65536; h++) {
    const sign = (h & 0x8000) << 16;
    const exponent = (h >>> 10) & 0x1f;
    const mantissa = h & 0x3ff;
    if (exponent === 0) {
      // Subnormal (or zero): mantissa · 2^-24, exactly representable in float32.
      table[h] = (sign ? -1 : 1) * mantissa * 2 ** -24;
    } else if (exponent === 31) {
      // Inf or NaN: keep the payload bits so a NaN stays the same NaN.
      bits[h] = (sign | 0x7f800000 | (mantissa << 13)) >>> 0;
    } else {
      bits[h] = (sign | ((exponent - 15 + 127) << 23) | (mantissa << 13)) >>> 0;
    }
  }
  return table;
}

/** float32 value of the f16 bit pattern `h` (0..65535). */
export function f16BitsToFloat32(h: number): number {
  return F16_TO_F32[h & 0xffff];
}

/** float32 value of the bf16 bit pattern `b` (0..65535): bf16 is the top half of a float32. */
export function bf16BitsToFloat32(b: number): number {
  u32[0] = (b & 0xffff) << 16;
  return f32[0];
}

/** Converts `count` f16 values from `src` (little-endian bytes) into `dst` starting at `dstOffset`. */
export function decodeF16(src: Uint8Array, dst: Float32Array, dstOffset: number, count: number): void {
  const out = new Uint32Array(dst.buffer, dst.byteOffset + 4 * dstOffset, count);
  for (let i = 0; i < count; i++) out[i] = F16_TO_F32_BITS[src[2 * i] | (src[2 * i + 1] << 8)];
}

/** Converts `count` bf16 values from `src` (little-endian bytes) into `dst` starting at `dstOffset`. */
export function decodeBF16(src: Uint8Array, dst: Float32Array, dstOffset: number, count: number): void {
  const out = new Uint32Array(dst.buffer, dst.byteOffset + 4 * dstOffset, count);
  for (let i = 0; i < count; i++) out[i] = ((src[2 * i] << 16) | (src[2 * i + 1] << 24)) >>> 0;
}

/** f16 bit pattern nearest to the float32 value `x` (ties to even; overflow → ±inf; NaN stays NaN, quieted). */
export function float32ToF16Bits(x: number): number {
  f32[0] = x;
  const bits = u32[0];
  const sign = (bits >>> 16) & 0x8000;
  const abs = bits & 0x7fffffff;
  if (abs >= 0x7f800000) {
    return abs > 0x7f800000 ? sign | 0x7e00 | ((abs >>> 13) & 0x3ff) : sign | 0x7c00;
  }
  // 65520 = halfway between 65504 (largest f16) and 65536: from there on, the value rounds to inf.
  if (abs >= 0x477ff000) return sign | 0x7c00;
  if (abs >= 0x38800000) {
    // Normal f16: re-bias the exponent by (127 − 15) and round 23 mantissa bits down to 10.
    const rebiased = abs - 0x38000000;
    let h = rebiased >>> 13;
    const rest = rebiased & 0x1fff;
    if (rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1)) h += 1; // a carry moves into the exponent, as it should
    return sign | h;
  }
  // Subnormal f16 (or zero): count units of 2^-24, rounding half to even. The product is exact in float64.
  f32[0] = x;
  const units = Math.abs(f32[0]) * 2 ** 24;
  const floor = Math.floor(units);
  const frac = units - floor;
  const rounded = frac > 0.5 || (frac === 0.5 && floor % 2 === 1) ? floor + 1 : floor;
  return sign | rounded; // 1024 units is the smallest normal, whose bit pattern is exactly 0x400
}

/** bf16 bit pattern nearest to the float32 value `x` (ties to even; NaN stays NaN, quieted). */
export function float32ToBF16Bits(x: number): number {
  f32[0] = x;
  const bits = u32[0];
  if ((bits & 0x7fffffff) > 0x7f800000) return ((bits >>> 16) | 0x0040) & 0xffff;
  const roundingBias = 0x7fff + ((bits >>> 16) & 1);
  return ((bits + roundingBias) >>> 16) & 0xffff;
}
