// Keyword search reads a bounded number of matches at any library size: a word with more than
// KEYWORD_RANK_LIMIT matches (a word in every path) returns its newest matches as a tie; a word
// with fewer is ranked in full, exactly as an unbounded bm25 query ranks it. A word being typed is
// never searched as a prefix query whose doclists are huge (FTS5 merges them all before its first
// row): it becomes the OR of the terms it starts, which streams and matches the same rows. (The
// cost itself is measured by bench/store-million.ts.)
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Store } from '../../../electron/engine/store/node/store.ts';
import { COMMON_WORD_BM25, ItemsRepo, KEYWORD_RANK_LIMIT, PREFIX_TERMS_LIMIT, toFtsQuery } from '../../../electron/engine/store/node/items-repo.ts';
import { tempDir } from './store-fixtures.ts';

describe('keyword search limit', () => {
  it('ranks only the newest matches of a very common word, and every match of a rarer one', () => {
    const { dir, cleanup } = tempDir('keyword-limit');
    const store = Store.open(path.join(dir, 'data'));
    try {
      const root = store.roots.add({ path: '/library' });
      const n = KEYWORD_RANK_LIMIT + 2000;
      store.db.transaction(() => {
        for (let i = 0; i < n; i++) {
          // Every path has 'library'; the oldest file's name has it too (the strongest match);
          // every 50th text has 'harbour'.
          const name = i === 0 ? 'library-card.txt' : `note-${i}.txt`;
          const f = store.files.upsertScanned({ rootId: root.id, path: `/library/${name}`, size: 1, mtimeMs: 1, kind: 'text' }).file;
          store.commitIndexedFile({ fileId: f.id, items: [{ kind: 'text', locator: { type: 'whole' }, text: i % 50 === 0 ? `harbour view ${i}` : `plain words ${i}`, date: i }] });
        }
      })();
      const oldest = store.items.searchKeywords('library-card')[0]!.itemId;

      const common = store.items.searchKeywords('library', { limit: 100 });
      // More matches than the window: the newest come back, tied, without reading every match.
      const newest = store.db.prepare(`SELECT rowid FROM items_fts WHERE items_fts MATCH ? ORDER BY rowid DESC LIMIT 100`).pluck().all('"library"') as number[];
      assert.deepEqual(
        common.map((h) => h.itemId),
        newest,
      );
      assert.ok(common.every((h) => h.bm25 === COMMON_WORD_BM25));
      assert.ok(!common.some((h) => h.itemId === oldest), 'an old match is not looked at for a word this common');
      assert.ok(common.every((h) => h.snippet.includes('[library]')), 'snippets are drawn for the returned rows');
      assert.equal(store.items.bestKeywordBm25('library'), COMMON_WORD_BM25);
      // The start of a word that common, still being typed, is just as common.
      const partial = store.items.searchKeywords('libr', { limit: 10 });
      assert.deepEqual(
        partial.map((h) => h.itemId),
        newest.slice(0, 10),
      );
      assert.ok(partial.every((h) => h.bm25 === COMMON_WORD_BM25 && h.snippet.includes('[library]')));
      // ... and it is searched as the term it starts, not as a prefix query (whose merge reads
      // every match of 'library' before the first row); so is a spelling the tokenizer folds.
      for (const typed of ['libr', 'Libra', 'lïbr']) assert.deepEqual(store.items.keywordPlan(typed), { query: '"library"', common: true }, typed);
      assert.deepEqual(store.items.keywordPlan('note libr'), { query: '"note" "library"', common: true });

      // A rarer word (n / 50 matches) is ranked whole: the same order as an unbounded bm25 query.
      const rare = store.items.searchKeywords('harbour', { limit: 500 });
      const full = store.db
        .prepare(`SELECT rowid FROM items_fts WHERE items_fts MATCH ? ORDER BY bm25(items_fts, 10.0, 2.0, 1.0), rowid LIMIT 500`)
        .pluck()
        .all(toFtsQuery('harbour')) as number[];
      assert.equal(rare.length, Math.ceil(n / 50));
      assert.deepEqual(new Set(rare.map((h) => h.itemId)), new Set(full));
      assert.equal(store.items.bestKeywordBm25('harbour'), rare[0]!.bm25);
      // A word still being typed matches as a prefix (the words as typed match nothing here); a
      // rare one stays a prefix query (its merge is small), ranked by the bm25 it always had.
      assert.deepEqual(store.items.keywordPlan('harb'), { query: '"harb"*', common: false });
      assert.equal(store.items.searchKeywords('harb', { limit: 500 }).length, Math.ceil(n / 50));
      assert.match(store.items.searchKeywords('harb', { limit: 1 })[0]!.snippet, /\[harbour\]/);
      // Filters apply before the limit: the window is the newest matches that pass.
      const early = store.items.searchKeywords('library', { limit: 5000, filters: { to: 100 } });
      assert.equal(early.length, 101);
      assert.ok(early.some((h) => h.itemId === oldest));
    } finally {
      store.close();
      cleanup();
    }
  });

  it('a prefix with more terms than PREFIX_TERMS_LIMIT is a prefix query in a small library, its first terms in a large one', () => {
    const { dir, cleanup } = tempDir('keyword-prefix-terms');
    const store = Store.open(path.join(dir, 'data'));
    try {
      const root = store.roots.add({ path: '/library' });
      const terms = Array.from({ length: PREFIX_TERMS_LIMIT + 20 }, (_, i) => `zeta${i.toString().padStart(3, '0')}`);
      store.db.transaction(() => {
        for (let i = 0; i < terms.length * 3; i++) {
          const f = store.files.upsertScanned({ rootId: root.id, path: `/library/f-${i}.txt`, size: 1, mtimeMs: 1, kind: 'text' }).file;
          store.commitIndexedFile({ fileId: f.id, items: [{ kind: 'text', locator: { type: 'whole' }, text: `about ${terms[i % terms.length]}`, date: i }] });
        }
      })();
      assert.deepEqual(store.items.keywordPlan('zet'), { query: '"zet"*', common: false }, 'a small library: the prefix query, all matches');
      assert.equal(store.items.searchKeywords('zet', { limit: 1000 }).length, terms.length * 3);

      const large = new ItemsRepo(store.db, { prefixMergeItems: 0 });
      const plan = large.keywordPlan('zet')!;
      assert.deepEqual(plan, { query: `(${terms.slice(0, PREFIX_TERMS_LIMIT).map((t) => `"${t}"`).join(' OR ')})`, common: true }, 'cut short, so not ranked');
      const hits = large.searchKeywords('zet', { limit: 1000 });
      assert.equal(hits.length, PREFIX_TERMS_LIMIT * 3, 'the matches of the first terms');
      assert.ok(hits.every((h) => h.bm25 === COMMON_WORD_BM25));
      assert.ok(hits.every((h) => /\[zeta0[0-9]{2}\]/.test(h.snippet) && Number(/zeta(\d+)/.exec(h.snippet)![1]) < PREFIX_TERMS_LIMIT));
      // Fewer terms: their OR (here not common, so the prefix query and its bm25).
      assert.deepEqual(large.keywordPlan('zeta07'), { query: '"zeta07"*', common: false });
      assert.equal(large.searchKeywords('zeta07', { limit: 1000 }).length, 30);
    } finally {
      store.close();
      cleanup();
    }
  });
});
