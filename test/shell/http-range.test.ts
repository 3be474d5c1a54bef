import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseRangeHeader } from '../../electron/main/http-range.ts';

test('single byte ranges', () => {
  assert.deepEqual(parseRangeHeader('bytes=0-99', 1000), { start: 0, end: 99 });
  assert.deepEqual(parseRangeHeader('bytes=500-', 1000), { start: 500, end: 999 });
  assert.deepEqual(parseRangeHeader('bytes=-100', 1000), { start: 900, end: 999 });
  assert.deepEqual(parseRangeHeader('bytes=-5000', 1000), { start: 0, end: 999 }, 'suffix longer than the file');
  assert.deepEqual(parseRangeHeader('bytes=900-5000', 1000), { start: 900, end: 999 }, 'end clamped');
  assert.deepEqual(parseRangeHeader('Bytes = 1 - 2', 10), { start: 1, end: 2 });
});

test('unsatisfiable and ignored ranges', () => {
  assert.equal(parseRangeHeader('bytes=1000-', 1000), 'unsatisfiable');
  assert.equal(parseRangeHeader('bytes=-0', 1000), 'unsatisfiable');
  assert.equal(parseRangeHeader('bytes=0-', 0), 'unsatisfiable');
  assert.equal(parseRangeHeader(null, 1000), null);
  assert.equal(parseRangeHeader(undefined, 1000), null);
  assert.equal(parseRangeHeader('bytes=5-1', 1000), null, 'inverted range is ignored');
  assert.equal(parseRangeHeader('bytes=0-1,5-6', 1000), null, 'multipart ranges are answered with the whole file');
  assert.equal(parseRangeHeader('items=0-1', 1000), null);
  assert.equal(parseRangeHeader('bytes=-', 1000), null);
});

test('every satisfiable range lies inside the file', () => {
  fc.assert(
    fc.property(fc.nat(10_000), fc.option(fc.nat(20_000)), fc.option(fc.nat(20_000)), (size, a, b) => {
      const header = `bytes=${a ?? ''}-${b ?? ''}`;
      const range = parseRangeHeader(header, size);
      if (range === null || range === 'unsatisfiable') return true;
      return range.start >= 0 && range.start <= range.end && range.end < size;
    }),
  );
});
