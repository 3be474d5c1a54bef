// Embedding post-processing and codes: hand-computed values for each convention, then properties.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  binaryEncode,
  hammingDistance,
  int8Decode,
  int8Encode,
  l2Normalize,
  matryoshka,
  roundHalfEven,
} from '../../../electron/engine/store/common/embedding-codes.ts';

const vector = (n: number) => fc.array(fc.float({ min: -10, max: 10, noNaN: true, noDefaultInfinity: true }), { minLength: n, maxLength: n });
const norm = (v: ArrayLike<number>) => Math.sqrt(Array.from(v).reduce((s, x) => s + x * x, 0));

describe('L2 and Matryoshka', () => {
  test('hand values: (3, 4) → (0.6, 0.8); zero stays zero (eps 1e-12)', () => {
    assert.deepEqual(l2Normalize([3, 4]), Float32Array.from([0.6, 0.8]));
    assert.deepEqual(l2Normalize([0, 0, 0]), new Float32Array(3));
    // Below eps the norm is clamped, as F.normalize does: 1e-13 / 1e-12 = 0.1.
    assert.ok(Math.abs(l2Normalize([1e-13])[0]! - 0.1) < 1e-7);
  });

  test('MRL keeps the prefix and renormalises: (3, 4, 12, 0…) at 32 of 64', () => {
    const v = new Float32Array(64);
    v.set([3, 4, 12]);
    v[40] = 100; // dropped by the prefix
    const out = matryoshka(v, 32);
    assert.equal(out.length, 32);
    assert.deepEqual(Array.from(out.subarray(0, 3)).map((x) => Math.fround(x)), [3 / 13, 4 / 13, 12 / 13].map(Math.fround));
  });

  test('MRL dims outside [32, H] or fractional are refused with the range', () => {
    const v = new Float32Array(64).fill(1);
    assert.throws(() => matryoshka(v, 31), /dims must be an integer from 32 to 64/);
    assert.throws(() => matryoshka(v, 65), /from 32 to 64/);
    assert.throws(() => matryoshka(v, 40.5), /from 32 to 64/);
    assert.equal(matryoshka(v, 64).length, 64);
  });

  test('property: unit length, and MRL of normalised = MRL of raw', () => {
    fc.assert(
      fc.property(vector(48), fc.integer({ min: 32, max: 48 }), (raw, dims) => {
        fc.pre(norm(raw.slice(0, dims)) > 1e-3);
        const a = matryoshka(raw, dims);
        const b = matryoshka(l2Normalize(raw), dims);
        assert.ok(Math.abs(norm(a) - 1) < 1e-6);
        for (let i = 0; i < dims; i++) assert.ok(Math.abs(a[i]! - b[i]!) < 1e-6);
      }),
    );
  });
});

describe('int8 codes', () => {
  test('round half to even', () => {
    assert.deepEqual([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999, -3.5, 3].map(roundHalfEven), [0, 2, 2, -0, -2, -2, 2, -4, 3]);
  });

  test('hand values: max 31.75 → scale 0.25 (exact); half steps round to even', () => {
    const { codes, scale } = int8Encode([31.75, -31.75, 0.125, 0.375, 0.625, -0.375, 1, 0]);
    assert.equal(scale, 0.25);
    // 0.5 → 0, 1.5 → 2, 2.5 → 2, −1.5 → −2, 4 → 4.
    assert.deepEqual(Array.from(codes), [127, -127, 0, 2, 2, -2, 4, 0]);
    assert.deepEqual(int8Decode({ codes, scale }), Float32Array.from([31.75, -31.75, 0, 0.5, 0.5, -0.5, 1, 0]));
  });

  test('zero vector: scale 0, zero codes; non-finite refused', () => {
    assert.deepEqual(int8Encode([0, 0]), { codes: new Int8Array(2), scale: 0 });
    assert.throws(() => int8Encode([1, Number.NaN]), /cannot quantise/);
  });

  test('property: codes in [−127, 127], the max hits ±127, error ≤ scale/2', () => {
    fc.assert(
      fc.property(vector(40), (v) => {
        const code = int8Encode(v);
        const back = int8Decode(code);
        const max = Math.max(...v.map(Math.abs));
        if (max === 0) return;
        assert.ok(code.codes.every((c) => c >= -127 && c <= 127));
        assert.ok(code.codes.some((c) => Math.abs(c) === 127));
        v.forEach((x, i) => assert.ok(Math.abs(x - back[i]!) <= code.scale / 2 + 1e-6 * max, `${x} vs ${back[i]}`));
      }),
    );
  });
});

describe('binary codes', () => {
  test('hand values: MSB first, 1 = positive, zero is 0, tail bits 0', () => {
    // + - + + 0 - - +  | -0 +  →  1011 0001 | 01 000000
    assert.deepEqual(Array.from(binaryEncode([1, -1, 2, 3, 0, -5, -6, 7, -0, 0.1])), [0b10110001, 0b01000000]);
    assert.equal(binaryEncode([]).length, 0);
  });

  test('hamming distance: hand value and length check', () => {
    assert.equal(hammingDistance(Uint8Array.from([0b10110001, 0xff]), Uint8Array.from([0b00110000, 0x0f])), 6);
    assert.throws(() => hammingDistance(new Uint8Array(2), new Uint8Array(3)), /differ in length/);
  });

  test('property: distance = number of sign disagreements; symmetric; zero to itself', () => {
    fc.assert(
      fc.property(vector(37), vector(37), (a, b) => {
        const expected = a.filter((x, i) => x > 0 !== b[i]! > 0).length;
        const ca = binaryEncode(a);
        const cb = binaryEncode(b);
        assert.equal(ca.length, 5);
        assert.equal(hammingDistance(ca, cb), expected);
        assert.equal(hammingDistance(cb, ca), expected);
        assert.equal(hammingDistance(ca, ca), 0);
      }),
    );
  });
});
