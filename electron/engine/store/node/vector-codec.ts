// Stored vectors: full-dimension int8 codes with one scale per vector (value = code * scale), the
// convention of store/common/embedding-codes.ts. Here: blob <-> codes, the normalised Matryoshka
// prefix the ANN index holds, and the exact score used to rescore ANN candidates.

/** int8 codes and their scale, as the model runtime's int8 quantiser produces them. */
export interface Int8Vector {
  readonly codes: Int8Array;
  readonly scale: number;
}

export function codesToBlob(codes: Int8Array): Buffer {
  return Buffer.from(codes.buffer, codes.byteOffset, codes.byteLength);
}

/** A view over the blob's bytes (better-sqlite3 hands out a fresh Buffer per row, so no copy). */
export function blobToCodes(blob: Uint8Array): Int8Array {
  return new Int8Array(blob.buffer, blob.byteOffset, blob.byteLength);
}

/**
 * The first `prefix` values of a vector, L2-normalised, as the plain array hnswlib-node requires.
 * For int8 codes the scale cancels in the normalisation, so it is not needed.
 */
export function normalisedPrefix(values: ArrayLike<number>, prefix: number): number[] {
  if (values.length < prefix) throw new RangeError(`the vector has ${values.length} dimensions, fewer than the ANN prefix ${prefix}; rebuild the index with a prefix ≤ ${values.length}`);
  let sum = 0;
  for (let i = 0; i < prefix; i++) sum += values[i]! * values[i]!;
  const inv = sum > 0 ? 1 / Math.sqrt(sum) : 0;
  const out = new Array<number>(prefix);
  for (let i = 0; i < prefix; i++) out[i] = values[i]! * inv;
  return out;
}

/**
 * The exact similarity of a query with a stored vector over the full dimension: dot(query, codes)
 * * scale. With a unit query and unit stored vectors this is the cosine, up to int8 rounding.
 */
export function int8Dot(query: ArrayLike<number>, vector: Int8Vector): number {
  const { codes } = vector;
  if (codes.length !== query.length) throw new RangeError(`query has ${query.length} dimensions but the stored vector has ${codes.length}; embed the query with the same model`);
  let dot = 0;
  for (let i = 0; i < codes.length; i++) dot += query[i]! * codes[i]!;
  return dot * vector.scale;
}
