// The MatMulNBits settings bench/model-quantized.ts and bench/model-quantized-goldens.ts compare,
// and how they score fidelity against fp32. Not a benchmark itself.
import type { Precision } from '../native-models/manifest/common/model-manifest.ts';
import type { NBitsSettings } from '../native-models/graphs/node/graph-precision.ts';

export interface QuantSetting {
  readonly precision: Precision;
  readonly nbits?: NBitsSettings;
}

/** fp32 first: the baseline of every ratio. */
export const QUANT_SETTINGS: QuantSetting[] = [
  { precision: 'fp32' },
  { precision: 'int8', nbits: { accuracyLevel: 0, blockSize: 32 } },
  { precision: 'int8', nbits: { accuracyLevel: 4, blockSize: 32 } },
  { precision: 'int8', nbits: { accuracyLevel: 4, blockSize: 128 } },
  { precision: 'int4', nbits: { accuracyLevel: 0, blockSize: 32 } },
  { precision: 'int4', nbits: { accuracyLevel: 4, blockSize: 32 } },
  { precision: 'int4', nbits: { accuracyLevel: 4, blockSize: 128 } },
];

export const settingLabel = (s: QuantSetting) => (s.nbits ? `${s.precision} acc ${s.nbits.accuracyLevel} block ${s.nbits.blockSize}` : s.precision);

export interface Fidelity {
  minCosine: number;
  meanCosine: number;
  top1: number;
  top5: number;
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return dot / Math.sqrt(na * nb);
}

/**
 * Lowest / mean cosine of `actual` rows to `reference` rows, and top-1 agreement / mean top-5
 * overlap when each of `queries` ranks all other rows (as test/goldens/golden-precision.test.ts).
 */
export function fidelity(reference: readonly ArrayLike<number>[], actual: readonly ArrayLike<number>[], queries: readonly number[]): Fidelity {
  const cosines = reference.map((r, i) => cosine(r, actual[i]!));
  const ranking = (rows: readonly ArrayLike<number>[], q: number) =>
    rows.map((e, i) => [i, cosine(rows[q]!, e)] as const).filter(([i]) => i !== q).sort((a, b) => b[1] - a[1]).map(([i]) => i);
  let top1 = 0;
  let top5 = 0;
  for (const q of queries) {
    const g = ranking(reference, q);
    const a = ranking(actual, q);
    if (g[0] === a[0]) top1 += 1;
    const five = new Set(g.slice(0, 5));
    top5 += a.slice(0, 5).filter((i) => five.has(i)).length / 5;
  }
  return { minCosine: Math.min(...cosines), meanCosine: cosines.reduce((a, b) => a + b, 0) / cosines.length, top1: top1 / queries.length, top5: top5 / queries.length };
}
