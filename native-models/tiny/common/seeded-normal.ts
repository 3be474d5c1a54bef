// A seeded source of normal random numbers whose stream is fixed by the seed alone, so the tiny
// checkpoint has the same bytes on every machine.
//
// - Seeding: SplitMix64 (Steele, Lea & Flood 2014) expands the seed into 128 bits of state,
//   computed with BigInt so no 64-bit arithmetic is approximated.
// - Uniforms: xoshiro128** 1.1 (Blackman & Vigna 2018), 32-bit integer operations only
//   (Math.imul, shifts), exact in JavaScript. Two 32-bit outputs make one 53-bit uniform double.
// - Normals: Box–Muller in float64, both outputs used, then scaled by σ and rounded to float32.
//   Math.log/sqrt/cos/sin: sqrt is correctly rounded by IEEE 754; V8 (Node) computes log/cos/sin
//   with its own software port of fdlibm rather than the platform's libm, so the doubles — and
//   therefore the float32 results — are the same on every OS and CPU Node runs on.

const MASK64 = (1n << 64n) - 1n;

/** SplitMix64: the next output and the advanced state. */
function splitMix64(state: bigint): { value: bigint; state: bigint } {
  const next = (state + 0x9e3779b97f4a7c15n) & MASK64;
  let z = next;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return { value: z ^ (z >> 31n), state: next };
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

export class SeededNormal {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  /** Box–Muller makes normals in pairs; the second waits here. */
  private spare: number | undefined;

  /** `seed`: any non-negative safe integer. */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`seed must be a non-negative safe integer, got ${seed}.`);
    let state = BigInt(seed);
    const a = splitMix64(state);
    state = a.state;
    const b = splitMix64(state);
    this.s0 = Number(a.value & 0xffffffffn) | 0;
    this.s1 = Number(a.value >> 32n) | 0;
    this.s2 = Number(b.value & 0xffffffffn) | 0;
    this.s3 = Number(b.value >> 32n) | 0;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // the all-zero state is a fixed point
  }

  /** Next 32-bit unsigned integer from xoshiro128**. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  nextUniform(): number {
    const high = this.nextUint32() >>> 5; // 27 bits
    const low = this.nextUint32() >>> 6; // 26 bits
    return (high * 67108864 + low) / 9007199254740992;
  }

  /** Standard normal N(0, 1) as a double. */
  nextStandard(): number {
    if (this.spare !== undefined) {
      const value = this.spare;
      this.spare = undefined;
      return value;
    }
    const u1 = 1 - this.nextUniform(); // (0, 1]: log never sees 0
    const u2 = this.nextUniform();
    const radius = Math.sqrt(-2 * Math.log(u1));
    const angle = 2 * Math.PI * u2;
    this.spare = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  }

  /** Fills `out` with N(0, sigma²) draws, each computed in float64 and rounded to float32. */
  fill(out: Float32Array, sigma: number): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = sigma * this.nextStandard();
    return out;
  }
}
