// Paths in lists are cut in the middle so the file name stays visible (issue 12, point 18); the
// browser cuts where the room runs out (failures-ui.test.ts measures it), this module only says
// which parts give way.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { middleCutParts, splitPath } from '../../renderer/src/lib/middle-ellipsis.ts';

const LONG = '/home/ann/Pictures/Holidays/2019 Portugal and Spain/Day 3 - Lisbon/IMG_0001 edited.jpg';
const join = (p: ReturnType<typeof middleCutParts>) => `${p.folder}${p.sep}${p.nameHead}${p.nameTail}`;

test('the parts are the whole path: nothing is dropped before the browser measures', () => {
  for (const path of [LONG, '/a/b.jpg', 'bare-name.txt', 'C:\\Users\\ann\\photo.png', `/Fotos/${'🎉'.repeat(30)}/été 🎉.jpg`]) assert.equal(join(middleCutParts(path)), path);
});

test('the folders give way first; the file name keeps its end and extension whole', () => {
  const parts = middleCutParts(LONG);
  assert.equal(parts.folder, '/home/ann/Pictures/Holidays/2019 Portugal and Spain/Day 3 - Lisbon');
  assert.equal(parts.sep, '/');
  assert.equal(parts.nameTail, 'ited.jpg', 'the extension and a few characters before it');
  assert.equal(parts.nameHead, 'IMG_0001 ed');
});

test('a short name is not split; a long extension is not kept whole', () => {
  assert.deepEqual(middleCutParts('/a/b.jpg'), { folder: '/a', sep: '/', nameHead: '', nameTail: 'b.jpg' });
  assert.equal(middleCutParts(`/x/${'a'.repeat(60)}.pdf`).nameTail, 'aaaa.pdf');
  assert.equal(middleCutParts(`/x/${'a'.repeat(60)}.${'b'.repeat(30)}`).nameTail.length, 8);
});

test('emoji and accented names are never split inside a character', () => {
  const parts = middleCutParts(`/Fotos/${'🎉'.repeat(30)}.jpg`);
  for (const part of [parts.nameHead, parts.nameTail]) assert.ok(!/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(part), `no lone surrogate in ${part}`);
  assert.equal(Array.from(parts.nameTail).length, 8);
});

test('Windows paths split on backslashes', () => {
  assert.deepEqual(splitPath('C:\\Users\\ann\\photo.png'), { dir: 'C:\\Users\\ann\\', name: 'photo.png' });
  assert.equal(middleCutParts('C:\\Users\\ann\\Documents\\photo.png').sep, '\\');
});
