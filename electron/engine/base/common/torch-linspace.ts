// `torch.linspace(start, end, steps)` in float32, reproduced value for value: PyTorch computes the
// first half forward from `start` and the second half backward from `end`, in float32.
const f32 = Math.fround;

export function linspaceFloat32(start: number, end: number, steps: number): Float32Array {
  if (!Number.isInteger(steps) || steps < 0) throw new RangeError(`linspace steps must be a non-negative integer, got ${steps}`);
  const out = new Float32Array(steps);
  if (steps === 0) return out;
  const a = f32(start);
  const b = f32(end);
  if (steps === 1) {
    out[0] = a;
    return out;
  }
  const step = f32(f32(b - a) / (steps - 1));
  const half = Math.floor(steps / 2);
  for (let i = 0; i < steps; i++) {
    out[i] = i < half ? f32(a + f32(step * i)) : f32(b - f32(step * (steps - 1 - i)));
  }
  return out;
}

/**
 * `numpy.linspace(0, last, count, dtype=int)`: computed in float64, then floored; the final
 * element is exactly `last`.
 */
export function numpyLinspaceIntFloor(last: number, count: number): number[] {
  if (count === 1) return [0];
  const step = last / (count - 1);
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(i === count - 1 ? last : Math.floor(i * step));
  return out;
}
