// The renderer's pure parts under Node: the reducer's rules (a slow answer never replaces a newer
// one), the query → SearchRequest mapping checked against the contract's own schema, and the
// helpers that mark query words and format numbers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { searchRequest, type SearchResponse } from '../../electron/contract/common/entities.ts';
import { emptyQuery, hasQuery, initialState, reduce, type AppState } from '../../renderer/src/state/app-state.ts';
import { toSearchRequest } from '../../renderer/src/state/search-request.ts';
import { highlightRuns, queryTerms } from '../../renderer/src/lib/highlight.ts';
import { formatBytes, formatDuration, formatTimestamp, fromDateInput, toDateInput } from '../../renderer/src/lib/format.ts';

function response(names: string[]): SearchResponse {
  return {
    results: names.map((name, i) => ({ itemId: i + 1, fileId: i + 1, path: `/p/${name}`, name, kind: 'image', score: 0.9 - i * 0.1, locator: { type: 'whole' }, date: 0, sources: ['semantic'] })),
    total: names.length,
    mode: 'semantic',
    tookMs: 5,
  };
}

test('a search answer that arrives after a newer search started is dropped', () => {
  let s: AppState = initialState('system');
  s = reduce(s, { type: 'search/start', seq: 1, limit: 60 });
  s = reduce(s, { type: 'search/start', seq: 2, limit: 60 });
  s = reduce(s, { type: 'search/ready', seq: 2, response: response(['new.jpg']) });
  s = reduce(s, { type: 'search/ready', seq: 1, response: response(['old.jpg', 'older.jpg']) });
  assert.equal(s.search.result.phase, 'ready');
  assert.deepEqual(s.search.result.phase === 'ready' && s.search.result.value.results.map((r) => r.name), ['new.jpg']);
  const failed = reduce(s, { type: 'search/error', seq: 1, message: 'late failure' });
  assert.equal(failed, s, 'a stale error changes nothing');
});

test('while a search runs the previous results stay on screen, and the selection stays in range', () => {
  let s: AppState = initialState('system');
  s = reduce(s, { type: 'search/start', seq: 1, limit: 60 });
  s = reduce(s, { type: 'search/ready', seq: 1, response: response(['a', 'b', 'c']) });
  s = reduce(s, { type: 'select', index: 2 });
  s = reduce(s, { type: 'search/start', seq: 2, limit: 60 });
  assert.equal(s.search.result.phase, 'loading');
  assert.deepEqual(s.search.result.phase === 'loading' && s.search.result.previous?.results.length, 3);
  s = reduce(s, { type: 'search/ready', seq: 2, response: response(['a']) });
  assert.equal(s.selectedIndex, 0);
  s = reduce(s, { type: 'search/ready', seq: 2, response: response([]) });
  assert.equal(s.selectedIndex, -1);
});

test('item details for an item no longer previewed are ignored', () => {
  let s = reduce(initialState('system'), { type: 'preview/open', itemId: 1, quickLook: false });
  s = reduce(s, { type: 'preview/open', itemId: 2, quickLook: true });
  const before = s;
  s = reduce(s, { type: 'preview/error', itemId: 1, message: 'gone' });
  assert.equal(s, before);
  assert.equal(s.preview.detail.phase, 'loading');
  assert.equal(s.preview.quickLook, true);
});

test('the query maps to a SearchRequest the contract accepts, with empty parts left out', () => {
  const plain = toSearchRequest({ ...emptyQuery, text: '  red chair ' }, 60);
  assert.deepEqual(plain, { text: 'red chair', filters: {}, sort: 'relevance', limit: 60, cutoff: 0 });
  assert.ok(searchRequest.safeParse(plain).success);

  const full = toSearchRequest(
    {
      ...emptyQuery,
      text: 'but in red',
      image: { name: 'chair.png', mime: 'image/png', dataBase64: 'AAAA', previewUrl: 'blob:x' },
      kinds: ['image', 'pdf'],
      rootIds: [3],
      from: 10,
      to: 20,
      sort: 'date',
      cutoff: 0.4,
    },
    120,
  );
  assert.deepEqual(full.image, { dataBase64: 'AAAA', mime: 'image/png' }, 'the chip preview URL stays in the page');
  assert.deepEqual(full.filters, { kinds: ['image', 'pdf'], rootIds: [3], from: 10, to: 20 });
  assert.ok(searchRequest.safeParse(full).success);

  const blank = { ...emptyQuery, text: '   ' };
  assert.equal(hasQuery(blank), false, 'whitespace is not a query');
  assert.equal(searchRequest.safeParse(toSearchRequest(blank, 60)).success, false, 'and the contract agrees');
  assert.ok(searchRequest.safeParse(toSearchRequest({ ...emptyQuery, likeItem: { id: 9, name: 'x' } }, 60)).success);
});

test('query words are marked case-insensitively, longest first, and regex characters are literal', () => {
  assert.deepEqual(queryTerms('The beach, the BEACH house (c++)'), ['beach', 'house', 'the']);
  const runs = highlightRuns('Beach houses by the beach.', 'beach house');
  assert.deepEqual(
    runs.filter((r) => r.match).map((r) => r.text),
    ['Beach', 'house', 'beach'],
  );
  assert.equal(runs.map((r) => r.text).join(''), 'Beach houses by the beach.', 'no text is lost');
  assert.deepEqual(highlightRuns('a.b*c', 'x'), [{ text: 'a.b*c', match: false }]);
  assert.deepEqual(highlightRuns('price $5 (approx)', '(approx'), [
    { text: 'price $5 (', match: false },
    { text: 'approx', match: true },
    { text: ')', match: false },
  ]);
});

test('numbers read calmly: durations, bytes, timestamps, and dates that survive a round trip', () => {
  assert.equal(formatDuration(0.2), '1 s');
  assert.equal(formatDuration(170), '3 min');
  assert.equal(formatDuration(3 * 3600 + 5 * 60), '3 h 5 min');
  assert.equal(formatBytes(734_003_200), '700 MB');
  assert.equal(formatBytes(1536), '1.5 KB');
  assert.equal(formatTimestamp(32), '0:32');
  assert.equal(formatTimestamp(3725), '1:02:05');
  const start = fromDateInput('2025-07-14', 'start')!;
  const end = fromDateInput('2025-07-14', 'end')!;
  assert.equal(toDateInput(start), '2025-07-14');
  assert.equal(toDateInput(end), '2025-07-14');
  assert.equal(end - start, 24 * 3600 * 1000 - 1);
  assert.equal(fromDateInput('', 'start'), null);
});
