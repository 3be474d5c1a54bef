// The TypeScript twin of tools/reference-goldens/seeded_weights.py: the golden checkpoints'
// weights, drawn element by element from a counter-based hash so that this code and numpy give
// the same float32 values bit for bit (see the Python module for the formula). Every step is
// 32-bit integer arithmetic (Math.imul, shifts) or one correctly rounded float64 operation, then
// one rounding to float32, so no platform maths library is involved.

/** Chris Wellons' lowbias32 integer hash (a bijection on 32-bit words). */
export function mix32(x: number): number {
  x >>>= 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  x ^= x >>> 16;
  return x >>> 0;
}

/** 32-bit FNV-1a of the UTF-8 bytes of `text`. */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return h >>> 0;
}

/** The values of tensor `name` for `seed`: uniform with the given mean and standard deviation. */
export function drawTensor(name: string, elements: number, seed: number, mean: number, std: number): Float32Array {
  if (!Number.isSafeInteger(elements) || elements < 0 || elements >= 2 ** 32) throw new RangeError(`${name}: ${elements} elements; the counter is 32-bit`);
  const k1 = mix32((fnv1a32(name) ^ seed) >>> 0);
  const k2 = mix32((k1 ^ 0x9e3779b9) >>> 0);
  const halfWidth = std * Math.sqrt(3);
  const out = new Float32Array(elements);
  for (let i = 0; i < elements; i++) {
    const h = mix32((mix32((i ^ k1) >>> 0) + k2) >>> 0);
    const u = ((h >>> 8) + 0.5) / 16777216;
    out[i] = mean + halfWidth * (2 * u - 1);
  }
  return out;
}

export interface WeightRule {
  readonly match: string;
  readonly mean: number;
  readonly std: number;
}

export interface WeightRecipe {
  readonly seeds: Readonly<Record<string, number>>;
  readonly rules: readonly WeightRule[];
}

/** The first rule whose regular expression matches the tensor name (Python `re.search`). */
export function ruleFor(recipe: WeightRecipe, name: string): WeightRule {
  const rule = recipe.rules.find((r) => new RegExp(r.match).test(name));
  if (!rule) throw new Error(`no rule of the weight recipe matches ${name}`);
  return rule;
}
