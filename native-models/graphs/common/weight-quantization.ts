// Weight-only quantisation in TypeScript, in the layouts onnxruntime's contrib ops read:
// - block-wise N-bit (4 or 8) for com.microsoft MatMulNBits: codes packed low-first along K,
//   B uint8 [N, n_blocks, blob_size], scales float32 [N·n_blocks], optional packed zero points
//   uint8 [N·ceil(n_blocks·bits/8)]; dequantised value = (code − zero_point) · scale, and with no
//   zero_points input the runtime uses 2^(bits−1);
// - per-row symmetric int8 for the token embedding table (Gather, then · row scale).
// The weight is the HF Linear layout [out = N, in = K], row-major, which is already "row n of B is
// output feature n, blocked along K": no transpose.

export type QuantBits = 4 | 8;

export interface BlockQuantOptions {
  readonly bits: QuantBits;
  /** Values per block along K: a power of two ≥ 16 (MatMulNBits' rule). */
  readonly blockSize: number;
  /**
   * Symmetric: no zero points (the runtime's implied 2^(bits−1)), the block's largest-magnitude
   * value maps exactly to −2^(bits−1) so every code level is used. Asymmetric: a per-block zero
   * point from min/max (with 0 inside the range, so exact zeros stay exact).
   */
  readonly symmetric: boolean;
}

export interface BlockQuantizedWeight {
  readonly n: number;
  readonly k: number;
  readonly bits: QuantBits;
  readonly blockSize: number;
  readonly blocksPerRow: number;
  /** Bytes per block: blockSize·bits/8. */
  readonly blobSize: number;
  /** uint8 [N, blocksPerRow, blobSize]. */
  readonly packed: Uint8Array;
  /** float32 [N·blocksPerRow]. */
  readonly scales: Float32Array;
  /** uint8 [N·ceil(blocksPerRow·bits/8)], packed like B; null when symmetric. */
  readonly zeroPoints: Uint8Array | null;
}

function checkOptions({ bits, blockSize }: BlockQuantOptions): void {
  if (bits !== 4 && bits !== 8) throw new RangeError(`quantisation bits must be 4 or 8, got ${bits}`);
  if (!Number.isInteger(blockSize) || blockSize < 16 || (blockSize & (blockSize - 1)) !== 0) {
    throw new RangeError(`block size must be a power of two ≥ 16 (MatMulNBits), got ${blockSize}`);
  }
}

/** Writes `code` (0..2^bits−1) as the `index`-th value of a low-first packed byte run starting at `base`. */
function putCode(out: Uint8Array, base: number, index: number, code: number, bits: QuantBits): void {
  if (bits === 8) out[base + index] = code;
  else out[base + (index >> 1)] |= (index & 1) === 0 ? code : code << 4;
}

function getCode(data: Uint8Array, base: number, index: number, bits: QuantBits): number {
  if (bits === 8) return data[base + index];
  const byte = data[base + (index >> 1)];
  return (index & 1) === 0 ? byte & 0x0f : byte >> 4;
}

/**
 * Quantises `weight` [n, k] (row-major, HF [out, in]) block-wise along k. Values past k in the last
 * block are zero padding, as MatMulNBits expects for K not a multiple of the block size.
 */
export function quantizeBlockwise(weight: Float32Array, n: number, k: number, options: BlockQuantOptions): BlockQuantizedWeight {
  checkOptions(options);
  if (weight.length !== n * k) throw new RangeError(`weight has ${weight.length} values, expected ${n}×${k}; check the checkpoint against config.json`);
  const { bits, blockSize, symmetric } = options;
  const blocksPerRow = Math.ceil(k / blockSize);
  const blobSize = (blockSize * bits) / 8;
  const maxCode = (1 << bits) - 1;
  const midpoint = 1 << (bits - 1);
  const packed = new Uint8Array(n * blocksPerRow * blobSize);
  const scales = new Float32Array(n * blocksPerRow);
  const zeroBytesPerRow = Math.ceil((blocksPerRow * bits) / 8);
  const zeroPoints = symmetric ? null : new Uint8Array(n * zeroBytesPerRow);
  for (let row = 0; row < n; row++) {
    for (let block = 0; block < blocksPerRow; block++) {
      const start = row * k + block * blockSize;
      const end = row * k + Math.min(k, (block + 1) * blockSize);
      const slot = row * blocksPerRow + block;
      let scale: number;
      let zero: number;
      if (symmetric) {
        // The value of largest magnitude (sign kept) lands on −midpoint exactly: ORT's own rule.
        let extreme = 0;
        for (let i = start; i < end; i++) if (Math.abs(weight[i]) > Math.abs(extreme)) extreme = weight[i];
        scale = Math.fround(extreme / -midpoint);
        zero = midpoint;
      } else {
        let low = 0;
        let high = 0;
        for (let i = start; i < end; i++) {
          low = Math.min(low, weight[i]);
          high = Math.max(high, weight[i]);
        }
        scale = Math.fround((high - low) / maxCode);
        zero = scale === 0 ? midpoint : Math.min(maxCode, Math.max(0, Math.round(-low / scale)));
        putCode(zeroPoints!, row * zeroBytesPerRow, block, zero, bits);
      }
      scales[slot] = scale;
      const blob = slot * blobSize;
      for (let i = 0; i < blockSize; i++) {
        const at = start + i;
        const value = at < end ? weight[at] : 0;
        const code = scale === 0 ? zero : Math.min(maxCode, Math.max(0, Math.round(value / scale) + zero));
        putCode(packed, blob, i, code, bits);
      }
    }
  }
  return { n, k, bits, blockSize, blocksPerRow, blobSize, packed, scales, zeroPoints };
}

/** The float32 [n, k] matrix MatMulNBits computes with: (code − zero_point) · scale per block. */
export function dequantizeBlockwise(q: BlockQuantizedWeight): Float32Array {
  const { n, k, bits, blockSize, blocksPerRow, blobSize, packed, scales, zeroPoints } = q;
  const out = new Float32Array(n * k);
  const zeroBytesPerRow = Math.ceil((blocksPerRow * bits) / 8);
  const midpoint = 1 << (bits - 1);
  for (let row = 0; row < n; row++) {
    for (let block = 0; block < blocksPerRow; block++) {
      const slot = row * blocksPerRow + block;
      const zero = zeroPoints ? getCode(zeroPoints, row * zeroBytesPerRow, block, bits) : midpoint;
      for (let i = 0; i < blockSize && block * blockSize + i < k; i++) {
        out[row * k + block * blockSize + i] = Math.fround((getCode(packed, slot * blobSize, i, bits) - zero) * scales[slot]);
      }
    }
  }
  return out;
}

export interface RowQuantizedTable {
  /** int8 [rows, width]. */
  readonly codes: Int8Array;
  /** float32 [rows]: row r is codes[r]·scales[r]. */
  readonly scales: Float32Array;
}

/** Per-row symmetric int8 (scale = max|row|/127): the embedding table's Gather-friendly form. */
export function quantizeRowsInt8(table: Float32Array, rows: number, width: number): RowQuantizedTable {
  if (table.length !== rows * width) throw new RangeError(`table has ${table.length} values, expected ${rows}×${width}`);
  const codes = new Int8Array(table.length);
  const scales = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let peak = 0;
    for (let i = r * width; i < (r + 1) * width; i++) peak = Math.max(peak, Math.abs(table[i]));
    const scale = Math.fround(peak / 127);
    scales[r] = scale;
    if (scale === 0) continue;
    for (let i = r * width; i < (r + 1) * width; i++) codes[i] = Math.max(-127, Math.min(127, Math.round(table[i] / scale)));
  }
  return { codes, scales };
}

export function dequantizeRowsInt8(q: RowQuantizedTable, width: number): Float32Array {
  return Float32Array.from(q.codes, (code, i) => Math.fround(code * q.scales[Math.floor(i / width)]));
}
