import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, open, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EDGE_BYTES, FULL_HASH_MAX_BYTES, FingerprintError, fingerprintFile, fingerprintRanges } from '../../../electron/engine/library/node/fingerprint.ts';

test('fingerprint survives rename and move, differs on content and on size', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'trove-fp-'));
  try {
    const a = path.join(dir, 'a.txt');
    await writeFile(a, 'hello world');
    const first = await fingerprintFile(a);
    assert.match(first, /^fp1:[0-9a-f]{64}$/);
    await rename(a, path.join(dir, 'moved.txt'));
    assert.equal(await fingerprintFile(path.join(dir, 'moved.txt')), first);
    await writeFile(path.join(dir, 'b.txt'), 'hello worle');
    assert.notEqual(await fingerprintFile(path.join(dir, 'b.txt')), first, 'small files are hashed whole');
    await writeFile(path.join(dir, 'empty.txt'), '');
    assert.match(await fingerprintFile(path.join(dir, 'empty.txt')), /^fp1:/);
    await assert.rejects(fingerprintFile(path.join(dir, 'missing')), FingerprintError);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('large files: sampled ranges, edits in head, tail and samples change it, at most 3 MiB read', async () => {
  const size = 40 * 1024 * 1024 + 123;
  const ranges = fingerprintRanges(size);
  assert.equal(ranges[0].offset, 0);
  assert.equal(ranges.at(-1)!.offset + ranges.at(-1)!.length, size);
  assert.ok(ranges.reduce((s, r) => s + r.length, 0) <= 3 * 1024 * 1024);
  for (let i = 1; i < ranges.length; i += 1) assert.ok(ranges[i].offset >= ranges[i - 1].offset + ranges[i - 1].length, 'ordered, disjoint');
  assert.deepEqual(fingerprintRanges(FULL_HASH_MAX_BYTES), [{ offset: 0, length: FULL_HASH_MAX_BYTES }]);
  // Just above the full-hash limit the samples must still fit between head and tail.
  const small = fingerprintRanges(FULL_HASH_MAX_BYTES + 1);
  for (const r of small.slice(1, -1)) assert.ok(r.offset >= EDGE_BYTES && r.offset + r.length <= FULL_HASH_MAX_BYTES + 1 - EDGE_BYTES);

  const dir = await mkdtemp(path.join(tmpdir(), 'trove-fp-'));
  try {
    const file = path.join(dir, 'big.bin');
    const handle = await open(file, 'w');
    await handle.truncate(size);
    await handle.close();
    const base = await fingerprintFile(file);
    assert.equal(await fingerprintFile(file), base, 'stable');
    const poke = async (offset: number): Promise<string> => {
      const h = await open(file, 'r+');
      await h.write(Buffer.from([0xff]), 0, 1, offset);
      await h.close();
      const print = await fingerprintFile(file);
      const h2 = await open(file, 'r+');
      await h2.write(Buffer.from([0x00]), 0, 1, offset);
      await h2.close();
      return print;
    };
    assert.notEqual(await poke(10), base, 'head');
    assert.notEqual(await poke(size - 10), base, 'tail');
    assert.notEqual(await poke(ranges[5].offset + 100), base, 'a sampled block');
    assert.equal(await poke(ranges[5].offset + ranges[5].length + 100), base, 'the stated gap: an unsampled byte is not seen');
    assert.equal(await fingerprintFile(file), base);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
