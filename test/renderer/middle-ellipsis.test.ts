// Paths in lists are cut in the middle so the file name stays visible (issue 12, point 18).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { middleEllipsis, splitPath } from '../../renderer/src/lib/middle-ellipsis.ts';

const LONG = '/home/ann/Pictures/Holidays/2019 Portugal and Spain/Day 3 - Lisbon/IMG_0001.jpg';

test('a short path is left as it is', () => {
  assert.equal(middleEllipsis('/a/b.jpg', 40), '/a/b.jpg');
});

test('a long path keeps its start and the whole file name', () => {
  const cut = middleEllipsis(LONG, 40);
  assert.equal(Array.from(cut).length, 40);
  assert.ok(cut.startsWith('/home/ann/'), cut);
  assert.ok(cut.endsWith('…/IMG_0001.jpg'), cut);
});

test('a file name longer than the budget is cut in its own middle, keeping the extension', () => {
  const cut = middleEllipsis(`/x/${'a'.repeat(60)}.pdf`, 20);
  assert.equal(Array.from(cut).length, 20);
  assert.ok(cut.endsWith('a.pdf') && cut.includes('…'), cut);
});

test('emoji and accented names are never split inside a character', () => {
  const cut = middleEllipsis(`/Fotos/${'🎉'.repeat(30)}/été 🎉.jpg`, 16);
  assert.ok(cut.endsWith('…/été 🎉.jpg'), cut);
  assert.ok(!/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/.test(cut), 'no lone high surrogate');
});

test('Windows paths split on backslashes', () => {
  assert.deepEqual(splitPath('C:\\Users\\ann\\photo.png'), { dir: 'C:\\Users\\ann\\', name: 'photo.png' });
  assert.ok(middleEllipsis('C:\\Users\\ann\\Documents\\Very long folder name\\photo.png', 24).endsWith('…\\photo.png'));
});
