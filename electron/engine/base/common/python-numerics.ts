// Python's numeric semantics where they differ from JavaScript's. The reference pipeline is
// Python, and these differences change real outputs (image sizes, timestamp strings).

/** Python 3 `round(x)`: to the nearest integer, ties to even (JS `Math.round` ties up). */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * Python `f"{x:.1f}"`: correctly rounded from the exact binary value, ties to even.
 * A tie at one decimal exists only when 4·x is an odd integer (x = k ± 0.25, k ± 0.75);
 * everywhere else `toFixed(1)` already rounds the exact binary value correctly.
 */
export function formatFixed1(x: number): string {
  const q = 4 * x;
  if (Number.isInteger(q) && Math.abs(q) % 2 === 1) {
    const tenths = Math.floor(x * 10); // x·10 is exact for quarter values
    const even = tenths % 2 === 0 ? tenths : tenths + 1;
    const text = (even / 10).toFixed(1);
    return text === '-0.0' ? '-0.0' : text;
  }
  return x.toFixed(1);
}

/** Python `int(x)` on a float: truncation toward zero. */
export function pyTrunc(x: number): number {
  return Math.trunc(x);
}
