import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  buildEmbedderBatch,
  buildRerankerBatch,
  truncateForEmbedder,
  truncateForReranker,
} from '../../../electron/engine/model-inputs/common/sequence-batch.ts';
import { ALL_SPECIAL_IDS } from '../../../electron/engine/model-inputs/common/prompt-segments.ts';

import { ASSISTANT, IM_END, IM_START, IMAGE_PAD as I, NL, PAD, VIDEO_PAD as V, VISION_END as VE, VISION_START as VS } from '../../support/token-ids.ts';
const t = 7;
const TAIL = [IM_END, NL, IM_START, ASSISTANT, NL];
const rep = (id: number, n: number) => new Array<number>(n).fill(id);

test('embedder: right padding, mask, last index, text-only positions', () => {
  const batch = buildEmbedderBatch([{ ids: [1, 2, 3] }, { ids: [4, 5, 6, 7, 8] }]);
  assert.deepEqual(batch.inputIds, [[1, 2, 3, PAD, PAD], [4, 5, 6, 7, 8]]);
  assert.deepEqual(batch.attentionMask, [[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]]);
  assert.deepEqual(batch.lastIndex, [2, 4]);
  assert.deepEqual(batch.positionIds[0], [[0, 1, 2, 1, 1], [0, 1, 2, 3, 4]]);
  assert.deepEqual(batch.visualIndex, [rep(-1, 5), rep(-1, 5)]);
  assert.equal(batch.numVisual, 0);
  assert.deepEqual(batch.visionOrder, []);
});

test('reranker: left padding, pooled index is the last column', () => {
  const batch = buildRerankerBatch([{ ids: [1, 2, 3] }, { ids: [4, 5, 6, 7, 8] }]);
  assert.deepEqual(batch.inputIds, [[PAD, PAD, 1, 2, 3], [4, 5, 6, 7, 8]]);
  assert.deepEqual(batch.attentionMask, [[0, 0, 1, 1, 1], [1, 1, 1, 1, 1]]);
  assert.deepEqual(batch.lastIndex, [4, 4]);
  assert.deepEqual(batch.positionIds[2], [[1, 1, 0, 1, 2], [0, 1, 2, 3, 4]]);
});

const row0 = { ids: [t, VS, I, I, I, I, VE, t], images: [[1, 4, 4]] as const };
const row1 = {
  ids: [t, 9, VS, V, V, VE, 9, VS, V, V, VE, VS, I, VE, t],
  videos: [[2, 2, 4]] as const,
  images: [[1, 2, 2]] as const,
};

test('visual_index runs over image/video pads row-major; visionOrder matches it', () => {
  for (const build of [buildEmbedderBatch, buildRerankerBatch]) {
    const batch = build([row0, row1]);
    const flat = batch.visualIndex.flat().filter((v) => v >= 0);
    assert.deepEqual(flat, [0, 1, 2, 3, 4, 5, 6, 7, 8]);
    batch.inputIds.forEach((ids, b) => ids.forEach((id, s) => assert.equal(batch.visualIndex[b]![s]! >= 0, id === I || id === V)));
    assert.equal(batch.numVisual, 9);
    assert.deepEqual(
      batch.visionOrder.map(({ row, kind, index, firstVisualRow, tokenCount }) => ({ row, kind, index, firstVisualRow, tokenCount })),
      [
        { row: 0, kind: 'image', index: 0, firstVisualRow: 0, tokenCount: 4 },
        { row: 1, kind: 'video', index: 0, firstVisualRow: 4, tokenCount: 4 },
        { row: 1, kind: 'image', index: 0, firstVisualRow: 8, tokenCount: 1 },
      ],
    );
  }
  const left = buildRerankerBatch([row0, row1]);
  assert.deepEqual(left.visualIndex[0], [...rep(-1, 7), -1, -1, 0, 1, 2, 3, -1, -1]);
});

test('positions of a mixed batch follow the rope index with the video split per group', () => {
  const batch = buildEmbedderBatch([row0, row1]);
  // Row 1: text 0..2 (t, ts, VS), group 1 at 3 (1×2), VE 5, ts 6, VS 7, group 2 at 8, VE 10, VS 11, image at 12, VE 13, t 14.
  assert.deepEqual(batch.positionIds[2]![1], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
  assert.deepEqual(batch.positionIds[1]![1], [0, 1, 2, 3, 3, 5, 6, 7, 8, 8, 10, 11, 12, 13, 14]);
  assert.deepEqual(batch.positionIds[0]![0], [0, 1, 2, 2, 2, 2, 4, 5, ...rep(1, 7)]);
});

test('embedder truncation: text is cut silently at 8192, the pooled token is then #8191', () => {
  const ids = [IM_START, ...rep(t, 9000), ...TAIL];
  const batch = buildEmbedderBatch([{ ids }, { ids: [1, 2] }]);
  assert.equal(batch.inputIds[0]!.length, 8192);
  assert.deepEqual(batch.inputIds[0], ids.slice(0, 8192));
  assert.deepEqual(batch.lastIndex, [8191, 1]);
  assert.equal(batch.positionIds[0]![0]![8191], 8191);
});

test('embedder truncation: cutting image pads is an error that says what to do', () => {
  const ids = [...rep(t, 8190), VS, I, I, I, I, VE, ...TAIL];
  assert.throws(() => buildEmbedderBatch([{ ids, images: [[1, 4, 4]] }]), /8201 tokens and the embedder keeps 8192; the cut would drop 3 image\/video tokens\. Use fewer or smaller images/);
  // Cutting only what follows the pads (here <|vision_end|> and the tail) passes, as in the reference.
  const fits = [...rep(t, 8187), VS, I, I, I, I, VE, ...TAIL];
  const batch = buildEmbedderBatch([{ ids: fits, images: [[1, 4, 4]] }]);
  assert.deepEqual(batch.inputIds[0]!.slice(-5), [VS, I, I, I, I]);
  assert.equal(batch.numVisual, 4);
  assert.deepEqual(truncateForEmbedder([1, 2, 3], 5), [1, 2, 3]);
});

test('reranker truncation keeps every special id and the first non-special ids, then the 5-id tail', () => {
  const head = [IM_START, 8948, NL, 100, IM_END, NL, IM_START, 872, NL];
  const body = [...head, ...rep(t, 6000), VS, ...rep(I, 16), VE, ...rep(8, 6000)];
  const ids = [...body, ...TAIL];
  const out = truncateForReranker(ids);
  const specials = body.filter((id) => ALL_SPECIAL_IDS.has(id)).length; // 3 + 18
  assert.equal(specials, 21);
  assert.equal(out.length, 10240 + 5);
  assert.deepEqual(out.slice(-5), TAIL);
  assert.deepEqual(out.slice(0, head.length), head);
  // Non-special budget: 10240 − 21 = 10219 = 6 (head) + 6000 (t) + 4213 (8s).
  assert.equal(out.filter((id) => id === 8).length, 10219 - 6 - 6000);
  assert.deepEqual(out.slice(head.length + 6000, head.length + 6000 + 18), [VS, ...rep(I, 16), VE]);
  const batch = buildRerankerBatch([{ ids, images: [[1, 8, 8]] }]);
  assert.equal(batch.numVisual, 16);
  assert.equal(batch.lastIndex[0], 10244);
  assert.deepEqual(truncateForReranker(ids.slice(0, 100)), ids.slice(0, 100));
});

test('batches refuse grids that disagree with the tokens', () => {
  assert.throws(() => buildEmbedderBatch([{ ids: row0.ids }]), /more image blocks than the 0 image/);
  assert.throws(() => buildEmbedderBatch([{ ids: row0.ids, images: [[1, 4, 4], [1, 2, 2]] }]), /2 image\(s\) and 0 video\(s\) given, but the tokens hold 1 and 0/);
  assert.throws(() => buildEmbedderBatch([{ ids: row0.ids, images: [[1, 2, 4]] }]), /4 image\/video pad tokens but its grids need 2/);
  assert.throws(() => buildEmbedderBatch([{ ids: [t, I, t] }]), /pad tokens but its grids need 0/);
  assert.throws(() => buildEmbedderBatch([{ ids: [] }]), /row 0 has no tokens/);
  assert.throws(() => buildEmbedderBatch([{ ids: [t, VS, V, V, VE, t], videos: [[2, 2, 4]] }]), /missing 1 temporal group/);
});

const specialId = fc.constantFrom(...ALL_SPECIAL_IDS);
const plainId = fc.integer({ min: 0, max: 151642 });

test('reranker truncation properties', () => {
  fc.assert(
    fc.property(fc.array(fc.oneof({ weight: 1, arbitrary: specialId }, { weight: 6, arbitrary: plainId }), { maxLength: 300 }), fc.integer({ min: 1, max: 120 }), (ids, max) => {
      const out = truncateForReranker(ids, max);
      const body = ids.slice(0, Math.max(0, ids.length - 5));
      assert.deepEqual(out.slice(out.length - (ids.length - body.length)), ids.slice(body.length));
      const outBody = out.slice(0, out.length - (ids.length - body.length));
      const specialsIn = body.filter((id) => ALL_SPECIAL_IDS.has(id));
      assert.deepEqual(outBody.filter((id) => ALL_SPECIAL_IDS.has(id)), specialsIn);
      const plainIn = body.filter((id) => !ALL_SPECIAL_IDS.has(id));
      const plainOut = outBody.filter((id) => !ALL_SPECIAL_IDS.has(id));
      const keep = body.length <= max ? plainIn.length : Math.max(0, max - specialsIn.length);
      assert.deepEqual(plainOut, plainIn.slice(0, keep));
      // order preserved: outBody is a subsequence of body
      let k = 0;
      for (const id of body) if (k < outBody.length && outBody[k] === id) k++;
      assert.equal(k, outBody.length);
    }),
  );
});

test('batch invariants over random image rows (property)', () => {
  const row = fc.record({
    before: fc.integer({ min: 1, max: 6 }),
    grids: fc.array(fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })), { maxLength: 3 }),
    after: fc.integer({ min: 0, max: 4 }),
  });
  fc.assert(
    fc.property(fc.array(row, { minLength: 1, maxLength: 4 }), fc.boolean(), (rows, left) => {
      const input = rows.map(({ before, grids, after }) => {
        const ids = rep(t, before);
        for (const [gh, gw] of grids) ids.push(VS, ...rep(I, gh * gw), VE);
        ids.push(...rep(t, after));
        return { ids, images: grids.map(([gh, gw]) => [1, 2 * gh, 2 * gw] as const) };
      });
      const batch = (left ? buildRerankerBatch : buildEmbedderBatch)(input);
      const seq = Math.max(...input.map((r) => r.ids.length));
      const total = input.reduce((sum, r) => sum + r.ids.filter((id) => id === I).length, 0);
      assert.equal(batch.numVisual, total);
      assert.deepEqual(batch.visualIndex.flat().filter((v) => v >= 0), Array.from({ length: total }, (_, k) => k));
      batch.inputIds.forEach((ids, b) => {
        assert.equal(ids.length, seq);
        assert.equal(batch.attentionMask[b]![batch.lastIndex[b]!], 1);
        assert.ok(batch.attentionMask[b]!.slice(batch.lastIndex[b]! + 1).every((m) => m === 0));
        assert.deepEqual(ids.filter((_, s) => batch.attentionMask[b]![s] === 1), input[b]!.ids);
        // the last real token's T position = largest T position of the row
        const T = batch.positionIds[0]![b]!;
        assert.equal(Math.max(...T.filter((_, s) => batch.attentionMask[b]![s] === 1)), T[batch.lastIndex[b]!]!);
      });
      let expectedRow = 0;
      for (const p of batch.visionOrder) {
        assert.equal(p.firstVisualRow, expectedRow);
        expectedRow += p.tokenCount;
      }
    }),
  );
});
