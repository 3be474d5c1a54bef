// Highlighting follows what keyword search matched (issue 12, point 11): whole words that start
// with a query word (the index matches every query word as a prefix), never letters inside a
// word, across scripts and accents, with neighbouring marked words read as one phrase.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { highlightRuns } from '../../renderer/src/lib/highlight.ts';

const marked = (text: string, query: string) => highlightRuns(text, query).filter((r) => r.match).map((r) => r.text);

test('letters inside a word are never marked', () => {
  assert.deepEqual(marked('Check the position of the buoy.', 'on'), []);
  assert.deepEqual(marked('The lighthouse came on at dusk; only then.', 'on'), ['on', 'only']);
  assert.deepEqual(marked('reposition', 'position'), []);
});

test('a word that starts with a query word is marked whole, as the index matched it', () => {
  assert.deepEqual(marked('Receipts from the bike shop', 'receipt'), ['Receipts']);
  assert.deepEqual(marked('Sunsets and sunrise', 'sun'), ['Sunsets', 'sunrise']);
});

test('neighbouring marked words form one phrase; punctuation ends it', () => {
  assert.deepEqual(marked('We reached the beach at sunset, then left.', 'beach at sunset'), ['beach at sunset']);
  assert.deepEqual(marked('beach-sunset.jpg and the beach, sunset', 'beach sunset'), ['beach-sunset', 'beach', 'sunset']);
  const runs = highlightRuns('the beach at sunset', 'sunset beach');
  assert.equal(runs.map((r) => r.text).join(''), 'the beach at sunset', 'no text is lost');
});

test('case, accents and scripts: the same folding as the index (unicode61, diacritics removed)', () => {
  assert.deepEqual(marked('Un café à Zürich', 'cafe zurich'), ['café', 'Zürich']);
  assert.deepEqual(marked('Un cafe\u0301 decomposed', 'café'), ['cafe\u0301']);
  assert.deepEqual(marked('Привет, мир! Мирный день.', 'мир'), ['мир', 'Мирный']);
  assert.deepEqual(marked('東京 の 写真', '東京'), ['東京']);
  assert.deepEqual(marked('Straße und Strasse', 'STRASSE'), ['Strasse']);
});

test('one-letter Latin words are not marked everywhere; the rest of the query still is', () => {
  assert.deepEqual(marked('a day at the beach', 'a beach'), ['beach']);
});
