import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getRopeIndex, splitVideoGroups } from '../../../electron/engine/model-inputs/common/rope-index.ts';

const VS = 151652;
const VE = 151653;
const I = 151655;
const V = 151656;
const PAD = 151643;
const t = 7; // any text id
const ones = (n: number) => new Array<number>(n).fill(1);
const nums = (s: string) => s.split(' ').map(Number);

test('rope index example 1: text, one image [1,4,4], text', () => {
  const ids = [t, t, t, t, t, VS, I, I, I, I, VE, t, t, t];
  const [T, H, W] = getRopeIndex([ids], [ones(ids.length)], [[1, 4, 4]], []);
  assert.deepEqual(T![0], nums('0 1 2 3 4 5 6 6 6 6 8 9 10 11'));
  assert.deepEqual(H![0], nums('0 1 2 3 4 5 6 6 7 7 8 9 10 11'));
  assert.deepEqual(W![0], nums('0 1 2 3 4 5 6 7 6 7 8 9 10 11'));
});

test('rope index example 2: video [2,4,4] split into one block per temporal group', () => {
  const ts = 9; // timestamp text
  const ids = [t, t, t, ts, ts, VS, V, V, V, V, VE, ts, ts, VS, V, V, V, V, VE, t, t];
  const [T, H, W] = getRopeIndex([ids], [ones(ids.length)], [], [[2, 4, 4]]);
  assert.deepEqual(T![0], nums('0 1 2 3 4 5 6 6 6 6 8 9 10 11 12 12 12 12 14 15 16'));
  assert.deepEqual(H![0], nums('0 1 2 3 4 5 6 6 7 7 8 9 10 11 12 12 13 13 14 15 16'));
  assert.deepEqual(W![0], nums('0 1 2 3 4 5 6 7 6 7 8 9 10 11 12 13 12 13 14 15 16'));
});

test('rope index example 3: left padding gets 1, real tokens start at 0', () => {
  const ids = [PAD, PAD, t, t, VS, I, I, I, I, VE, t];
  const mask = [0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1];
  const [T, H, W] = getRopeIndex([ids], [mask], [[1, 4, 4]], []);
  assert.deepEqual(T![0], nums('1 1 0 1 2 3 3 3 3 5 6'));
  assert.deepEqual(H![0], nums('1 1 0 1 2 3 3 4 4 5 6'));
  assert.deepEqual(W![0], nums('1 1 0 1 2 3 4 3 4 5 6'));
});

test('a batch of two rows consumes image grids with one global cursor', () => {
  const row0 = [t, VS, I, I, I, I, VE, t];
  const row1 = [t, t, VS, I, I, VE, PAD, PAD];
  const mask = [ones(8), [1, 1, 1, 1, 1, 1, 0, 0]];
  const [T, H, W] = getRopeIndex([row0, row1], mask, [[1, 4, 4], [1, 2, 4]], []);
  assert.deepEqual(T, [nums('0 1 2 2 2 2 4 5'), nums('0 1 2 3 3 5 1 1')]);
  assert.deepEqual(H, [nums('0 1 2 2 3 3 4 5'), nums('0 1 2 3 3 5 1 1')]);
  assert.deepEqual(W, [nums('0 1 2 3 2 3 4 5'), nums('0 1 2 3 4 5 1 1')]);
});

test('text only: cumsum(mask) − 1 with pads 1, same on all axes', () => {
  const ids = [[t, t, t, PAD], [PAD, t, t, t]];
  const mask = [[1, 1, 1, 0], [0, 1, 1, 1]];
  const positions = getRopeIndex(ids, mask, [], []);
  for (const axis of positions) assert.deepEqual(axis, [[0, 1, 2, 1], [1, 0, 1, 2]]);
});

test('grids and tokens must agree', () => {
  const ids = [t, VS, I, I, I, I, VE];
  assert.throws(() => getRopeIndex([ids], [ones(7)], [], []), /more image blocks/);
  assert.throws(() => getRopeIndex([ids], [ones(7)], [[1, 4, 4], [1, 2, 2]], []), /2 image grids given but the tokens hold 1/);
  assert.throws(() => getRopeIndex([ids], [ones(7)], [[1, 4, 6]], []), /fewer than the 6 pads/);
  assert.throws(() => getRopeIndex([ids], [ones(7)], [[1, 3, 4]], []), /divisible by 2/);
  assert.throws(() => getRopeIndex([[t, VS, V, V, VE]], [ones(5)], [], [[2, 2, 4]]), /2 temporal groups but the tokens hold 1/);
  assert.throws(() => getRopeIndex([ids, [t]], [ones(7), [1]], [[1, 4, 4]], []), /pad the batch first/);
});

test('splitVideoGroups expands [t,h,w] into t grids [1,h,w]', () => {
  assert.deepEqual(splitVideoGroups([[3, 2, 4], [1, 2, 2]]), [[1, 2, 4], [1, 2, 4], [1, 2, 4], [1, 2, 2]]);
});
