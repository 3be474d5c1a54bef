// The runtime's batching rule: every row lands in exactly one batch, each batch fits the budget
// (or is a single over-long row), and preparation groups bound the images held at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fitsBudget, MAX_BATCH_ROWS, MAX_BATCH_TOKENS, packBatches } from '../../../electron/engine/inference/node/runtime/graph-runner.ts';
import { PREPARE_INPUTS, PREPARE_VISION, prepareGroups } from '../../../electron/engine/inference/node/runtime/qwen3vl-embedder.ts';

test('hand case: 40 short rows split by the row cap, the 300-token row joins the rest; a 9000-token row runs alone', () => {
  const lengths = [...new Array<number>(40).fill(20), 9000, 300];
  const batches = packBatches(lengths);
  assert.deepEqual(batches.map((b) => b.length), [MAX_BATCH_ROWS, 9, 1]);
  assert.ok(batches[1]!.includes(41));
  assert.deepEqual(batches.at(-1), [40]);
  assert.equal(MAX_BATCH_TOKENS, 8192);
});

test('property: a partition of the rows, each batch within budget unless it is one row', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: 12000 }), { minLength: 1, maxLength: 120 }), (lengths) => {
      const batches = packBatches(lengths);
      assert.deepEqual(batches.flat().sort((a, b) => a - b), lengths.map((_, i) => i));
      for (const batch of batches) {
        const seq = Math.max(...batch.map((i) => lengths[i]!));
        assert.ok(batch.length === 1 || fitsBudget(batch.length, seq), `batch of ${batch.length} rows × ${seq} tokens is over budget`);
      }
    }),
  );
});

test('preparation groups: at most 64 inputs and 8 images/videos each, in order, covering all', () => {
  const inputs = [...Array.from({ length: 70 }, () => ({ texts: ['t'] })), ...Array.from({ length: 20 }, () => ({ images: ['a.png'] })), { images: Array.from({ length: 12 }, () => 'b.png') }];
  const groups = prepareGroups(inputs);
  assert.equal(groups[0]![0], 0);
  assert.equal(groups.at(-1)![1], inputs.length);
  groups.forEach(([start, end], i) => {
    if (i > 0) assert.equal(start, groups[i - 1]![1]);
    assert.ok(end - start <= PREPARE_INPUTS);
    const vision = inputs.slice(start, end).reduce((n, input) => n + ('images' in input ? input.images!.length : 0), 0);
    assert.ok(vision <= PREPARE_VISION || end - start === 1, `group ${i} holds ${vision} images`);
  });
});
