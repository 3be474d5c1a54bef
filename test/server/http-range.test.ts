// Byte-range parsing for media (video seeking), shared by the server's /media routes and the
// shell's trove://media protocol.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseByteRange } from '../../electron/server/node/http-range.ts';

describe('parseByteRange', () => {
  it('parses closed, open and suffix ranges, clamped to the size', () => {
    assert.deepEqual(parseByteRange('bytes=0-99', 1000), { start: 0, end: 99 });
    assert.deepEqual(parseByteRange('bytes=900-', 1000), { start: 900, end: 999 });
    assert.deepEqual(parseByteRange('bytes=900-5000', 1000), { start: 900, end: 999 });
    assert.deepEqual(parseByteRange('bytes=-100', 1000), { start: 900, end: 999 });
    assert.deepEqual(parseByteRange('bytes=-5000', 1000), { start: 0, end: 999 }, 'suffix longer than the file');
  });

  it('accepts any case of the unit and stray whitespace', () => {
    assert.deepEqual(parseByteRange('Bytes = 1 - 2', 10), { start: 1, end: 2 });
  });

  it('says unsatisfiable for ranges past the end or of nothing', () => {
    assert.equal(parseByteRange('bytes=1000-', 1000), 'unsatisfiable');
    assert.equal(parseByteRange('bytes=-0', 1000), 'unsatisfiable');
    assert.equal(parseByteRange('bytes=0-', 0), 'unsatisfiable');
  });

  it('ignores what it does not support (the whole body is sent)', () => {
    for (const header of [null, undefined, 'bytes=0-1,5-6', 'items=0-1', 'bytes=5-1', 'bytes=-', 'bytes=a-b']) {
      assert.equal(parseByteRange(header, 1000), null, String(header));
    }
  });

  it('puts every satisfiable range inside the file', () => {
    fc.assert(
      fc.property(fc.nat(10_000), fc.option(fc.nat(20_000)), fc.option(fc.nat(20_000)), (size, a, b) => {
        const range = parseByteRange(`bytes=${a ?? ''}-${b ?? ''}`, size);
        if (range === null || range === 'unsatisfiable') return true;
        return range.start >= 0 && range.start <= range.end && range.end < size;
      }),
    );
  });
});
