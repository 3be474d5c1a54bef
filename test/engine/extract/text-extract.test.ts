import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { extractText, TextExtractError } from '../../../electron/engine/extract/node/text-extract.ts';
import { decodeTextBytes } from '../../../electron/engine/extract/common/text-decoding.ts';

const SAMPLE = 'Grüße, café — naïve 日本語 ✓\nsecond line';

function utf16be(text: string): Buffer {
  const le = Buffer.from(text, 'utf16le');
  for (let i = 0; i < le.length; i += 2) [le[i], le[i + 1]] = [le[i + 1], le[i]];
  return le;
}

test('encodings: UTF-8, UTF-8 BOM, UTF-16 LE/BE with BOM, Latin-1 (as Windows-1252)', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'trove-text-'));
  try {
    const cases: [string, Buffer, string, string][] = [
      ['utf8.txt', Buffer.from(SAMPLE, 'utf8'), 'utf-8', SAMPLE],
      ['utf8bom.md', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(SAMPLE, 'utf8')]), 'utf-8-bom', SAMPLE],
      ['le.txt', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(SAMPLE, 'utf16le')]), 'utf-16le', SAMPLE],
      ['be.txt', Buffer.concat([Buffer.from([0xfe, 0xff]), utf16be(SAMPLE)]), 'utf-16be', SAMPLE],
      // "café “quoted”" in Windows-1252: é = 0xE9, curly quotes 0x93/0x94 (not valid UTF-8).
      ['latin1.txt', Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x20, 0x93, 0x71, 0x94, 0x20, 0x80]), 'windows-1252', 'café “q” €'],
    ];
    for (const [name, bytes, encoding, text] of cases) {
      await writeFile(path.join(dir, name), bytes);
      const result = await extractText(path.join(dir, name));
      assert.equal(result.encoding, encoding, name);
      assert.equal(result.text, text, name);
      assert.equal(result.truncated, false);
      assert.equal(result.note, null);
      assert.equal(result.totalBytes, bytes.length);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('binary files are refused with a reason; unreadable files too', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'trove-text-'));
  try {
    await writeFile(path.join(dir, 'data.json'), Buffer.from([0x7b, 0x22, 0x61, 0x00, 0x01, 0x02, 0x7d]));
    await assert.rejects(extractText(path.join(dir, 'data.json')), (error: unknown) => {
      assert.ok(error instanceof TextExtractError);
      assert.equal(error.code, 'binary');
      assert.match(error.message, /NUL byte at offset 3/);
      return true;
    });
    await assert.rejects(extractText(path.join(dir, 'missing.txt')), (error: unknown) => error instanceof TextExtractError && error.code === 'unreadable');
    const empty = path.join(dir, 'empty.txt');
    await writeFile(empty, '');
    assert.equal((await extractText(empty)).text, '');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('size cap: the first part is indexed with a note; a character cut by the cap is dropped, not garbled', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'trove-text-'));
  try {
    const file = path.join(dir, 'big.log');
    const text = 'ab' + '日'.repeat(1000); // 2 + 3,000 bytes
    await writeFile(file, text);
    const result = await extractText(file, { maxBytes: 1001 }); // cuts the 334th 日 after one of its three bytes
    assert.equal(result.truncated, true);
    assert.equal(result.encoding, 'utf-8', 'a cut character must not make the file look like Latin-1');
    assert.equal(result.text, 'ab' + '日'.repeat(333));
    assert.equal(result.bytesRead, 1001);
    assert.match(result.note!, /Only the first .* of .* is indexed/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('decodeTextBytes: odd-length UTF-16 and UTF-16 without BOM', () => {
  const odd = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('hi', 'utf16le'), Buffer.from([0x41])]);
  assert.deepEqual(decodeTextBytes(odd, true), { ok: true, text: 'hi', encoding: 'utf-16le' });
  const noBom = decodeTextBytes(Buffer.from('hello', 'utf16le'));
  assert.equal(noBom.ok, false);
  assert.match(!noBom.ok ? noBom.reason : '', /UTF-16 without a byte-order mark/);
});
