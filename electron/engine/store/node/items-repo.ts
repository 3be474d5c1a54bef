// Items: the embeddable units of a file (an image, a video moment, a PDF page, a text chunk), with
// their locator, text and date; their thumbnails; and keyword search over names, paths and text.
import type { FileKind, ItemDetail, Locator, SearchFilters } from '../../../contract/common/entities.ts';
import type { Db } from './database.ts';

export const ITEM_KINDS = ['image', 'video', 'moment', 'page', 'text'] as const;
export type ItemKind = (typeof ITEM_KINDS)[number];

export interface Thumbnail {
  readonly mime: string;
  readonly width: number;
  readonly height: number;
  readonly bytes: Uint8Array;
}

export interface NewItem {
  readonly kind: ItemKind;
  readonly locator: Locator;
  readonly text?: string | null;
  /** Date taken, else the file's mtime (epoch ms). */
  readonly date: number;
  readonly thumbnail?: Thumbnail | null;
}

/** What a search result needs from the store, for a batch of item ids in one query. */
export interface ItemSummary {
  readonly itemId: number;
  readonly fileId: number;
  readonly rootId: number;
  readonly path: string;
  readonly name: string;
  readonly kind: FileKind;
  readonly itemKind: ItemKind;
  readonly locator: Locator;
  readonly date: number;
}

export interface KeywordHit {
  readonly itemId: number;
  /** FTS5 bm25 with column weights; smaller is better (it is negative). */
  readonly bm25: number;
  readonly snippet: string;
}

export interface KeywordSearchOptions {
  readonly filters?: SearchFilters;
  readonly limit?: number;
  /** Markers around matched words in snippets. */
  readonly highlight?: { readonly open: string; readonly close: string };
}

/**
 * Words with more matches than this are "very common": their newest matches are returned as a tie
 * instead of ranked. Up to it, every match is ranked by bm25. A word in every path of a 1M-item
 * library took 462 ms to rank whole (bm25 reads each match's column sizes, and its IDF counts every
 * match, per query).
 */
export const KEYWORD_RANK_LIMIT = 5_000;

/**
 * The bm25 a very common word's matches get: a tie, near 0. FTS5's own bm25 clamps the IDF of a
 * word found in over half of the rows to 1e-6, so its scores are this small anyway; below that
 * share the order it would give (name before path before text) is lost — the newest come first.
 */
export const COMMON_WORD_BM25 = -1e-6;

/** bm25 weights for (name, path, text): a word in the file name says more than one in a long text. */
const BM25_WEIGHTS = '10.0, 2.0, 1.0';

/**
 * A word being typed is expanded into at most this many terms of the index that start with it
 * (one b-tree seek each, ≈ 0.05 ms), searched as their OR, which streams, instead of a prefix
 * query, which merges every such term's doclist before its first row (docs/store.md, "Keyword
 * search at a million items").
 */
export const PREFIX_TERMS_LIMIT = 64;

/**
 * Up to this many items, a prefix with more than PREFIX_TERMS_LIMIT terms is left to FTS5's prefix
 * query: its merge reads at most every posting of this many items (≈ 15 ms at 100,000). Above it,
 * such a prefix (one or two letters, typically) is searched as its first PREFIX_TERMS_LIMIT terms
 * in index order, not ranked (bm25 over that many phrases costs more than the merge it avoids):
 * every result matches it, some matches are left out until the next letter.
 */
export const PREFIX_MERGE_ITEMS = 100_000;

/**
 * The word as the index's tokenizer (unicode61, remove_diacritics 2) stores it, when that is plain
 * ASCII: case folded, accents removed. Null for anything else (left to FTS5's own prefix query),
 * so a term is never looked up under a spelling the tokenizer would not produce.
 */
function asciiTerm(word: string): string | null {
  const folded = word.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
  return /^[a-z0-9]+$/.test(folded) ? folded : null;
}

const quoted = (word: string): string => `"${word.replaceAll('"', '""')}"`;

/**
 * Turns what the user typed into a safe FTS5 query: every word quoted (so `AND`, `-`, `:`, `"`
 * are plain text) and prefix-matched, all words required. Returns null when nothing is left.
 */
export function toFtsQuery(text: string, opts: { prefix?: boolean } = {}): string | null {
  const words = text.normalize('NFC').match(/[\p{L}\p{N}]+/gu);
  if (!words || words.length === 0) return null;
  const star = opts.prefix === false ? '' : '*';
  return words.map((w) => `"${w.replaceAll('"', '""')}"${star}`).join(' ');
}

interface SummaryRow {
  item_id: number;
  file_id: number;
  root_id: number;
  path: string;
  name: string;
  file_kind: FileKind;
  item_kind: ItemKind;
  locator_json: string;
  date: number;
}

const SUMMARY_COLUMNS = `i.id AS item_id, i.file_id, f.root_id, f.path, f.name, f.kind AS file_kind, i.kind AS item_kind, i.locator_json, i.date`;

function toSummary(r: SummaryRow): ItemSummary {
  return {
    itemId: r.item_id,
    fileId: r.file_id,
    rootId: r.root_id,
    path: r.path,
    name: r.name,
    kind: r.file_kind,
    itemKind: r.item_kind,
    locator: JSON.parse(r.locator_json) as Locator,
    date: r.date,
  };
}

/** SQL conditions over `files f` and `items i` for the filters, with their parameters. */
export function filterSql(filters: SearchFilters | undefined): { sql: string; params: unknown[] } {
  const parts: string[] = [];
  const params: unknown[] = [];
  if (filters?.kinds?.length) {
    parts.push('f.kind IN (SELECT value FROM json_each(?))');
    params.push(JSON.stringify(filters.kinds));
  }
  if (filters?.rootIds?.length) {
    parts.push('f.root_id IN (SELECT value FROM json_each(?))');
    params.push(JSON.stringify(filters.rootIds));
  }
  if (filters?.from !== undefined) {
    parts.push('i.date >= ?');
    params.push(filters.from);
  }
  if (filters?.to !== undefined) {
    parts.push('i.date <= ?');
    params.push(filters.to);
  }
  return { sql: parts.length ? parts.join(' AND ') : '1', params };
}

export class ItemsRepo {
  private readonly prefixMergeItems: number;

  /** `prefixMergeItems`: see PREFIX_MERGE_ITEMS (tests lower it). */
  constructor(
    private readonly db: Db,
    opts: { prefixMergeItems?: number } = {},
  ) {
    this.prefixMergeItems = opts.prefixMergeItems ?? PREFIX_MERGE_ITEMS;
  }

  /**
   * Replaces all items of a file (their thumbnails and vectors go with them by cascade) and returns
   * the new ids in order, in one transaction. With vectors, use writeIndexedFile instead.
   */
  replaceForFile(fileId: number, items: readonly NewItem[]): number[] {
    // Inside an outer transaction this becomes a savepoint; alone it is its own transaction.
    return this.db.transaction(() => this.replaceUnwrapped(fileId, items))();
  }

  private replaceUnwrapped(fileId: number, items: readonly NewItem[]): number[] {
    this.db.prepare('DELETE FROM items WHERE file_id = ?').run(fileId);
    const insert = this.db.prepare<{ id: number }>('INSERT INTO items (file_id, ordinal, kind, locator_json, text, date) VALUES (?, ?, ?, ?, ?, ?) RETURNING id');
    const thumb = this.db.prepare('INSERT INTO thumbnails (item_id, mime, width, height, bytes) VALUES (?, ?, ?, ?, ?)');
    return items.map((item, ordinal) => {
      const id = insert.get(fileId, ordinal, item.kind, JSON.stringify(item.locator), item.text ?? null, Math.round(item.date))!.id;
      if (item.thumbnail) thumb.run(id, item.thumbnail.mime, item.thumbnail.width, item.thumbnail.height, item.thumbnail.bytes);
      return id;
    });
  }

  idsOfFile(fileId: number): number[] {
    return this.db.prepare('SELECT id FROM items WHERE file_id = ? ORDER BY ordinal').pluck().all(fileId) as number[];
  }

  /** Items in the store, from the count migration 4's triggers keep (O(1)). */
  count(): number {
    return this.db.prepare('SELECT coalesce(sum(n), 0) FROM item_counts').pluck().get() as number;
  }

  /** Summaries of the given items, keyed by id (unknown ids are absent: deleted since the hit). */
  summaries(itemIds: readonly number[]): Map<number, ItemSummary> {
    const rows = this.db
      .prepare<SummaryRow>(`SELECT ${SUMMARY_COLUMNS} FROM items i JOIN files f ON f.id = i.file_id WHERE i.id IN (SELECT value FROM json_each(?))`)
      .all(JSON.stringify(itemIds));
    return new Map(rows.map((r) => [r.item_id, toSummary(r)]));
  }

  /** The subset of `itemIds` that pass the filters: applied to ANN candidates before ranking. */
  passingFilters(itemIds: readonly number[], filters: SearchFilters): Set<number> {
    const f = filterSql(filters);
    const ids = this.db
      .prepare(`SELECT i.id FROM items i JOIN files f ON f.id = i.file_id WHERE i.id IN (SELECT value FROM json_each(?)) AND ${f.sql}`)
      .pluck()
      .all(JSON.stringify(itemIds), ...f.params) as number[];
    return new Set(ids);
  }

  detail(itemId: number): ItemDetail | null {
    const r = this.db
      .prepare<SummaryRow & { text: string | null; size: number; mtime_ms: number; metadata_json: string }>(
        `SELECT ${SUMMARY_COLUMNS}, i.text, f.size, f.mtime_ms, f.metadata_json FROM items i JOIN files f ON f.id = i.file_id WHERE i.id = ?`,
      )
      .get(itemId);
    if (!r) return null;
    const s = toSummary(r);
    return {
      itemId: s.itemId,
      fileId: s.fileId,
      path: s.path,
      name: s.name,
      kind: s.kind,
      locator: s.locator,
      date: s.date,
      size: r.size,
      mtime: r.mtime_ms,
      text: r.text,
      metadata: JSON.parse(r.metadata_json) as ItemDetail['metadata'],
    };
  }

  thumbnail(itemId: number): Thumbnail | null {
    const r = this.db.prepare<{ mime: string; width: number; height: number; bytes: Buffer }>('SELECT mime, width, height, bytes FROM thumbnails WHERE item_id = ?').get(itemId);
    return r ? { mime: r.mime, width: r.width, height: r.height, bytes: r.bytes } : null;
  }

  /**
   * Keyword search: FTS5 over name, path and text, ranked by weighted bm25, with a snippet.
   * Bounded for very common words: only the newest KEYWORD_RANK_LIMIT matches (by item id) that
   * pass the filters are ranked — all of them whenever there are fewer — and snippets are drawn
   * for the rows returned only (docs/store.md, "Keyword search at a million items").
   */
  searchKeywords(text: string, opts: KeywordSearchOptions = {}): KeywordHit[] {
    const ranking = this.keywordPlan(text);
    if (ranking === null) return [];
    const { query, common } = ranking;
    const f = filterSql(opts.filters);
    const open = opts.highlight?.open ?? '[';
    const close = opts.highlight?.close ?? ']';
    const passes = f.sql !== '1' ? ` AND EXISTS (SELECT 1 FROM items i JOIN files f ON f.id = i.file_id WHERE i.id = items_fts.rowid AND ${f.sql})` : '';
    const limit = opts.limit ?? 100;
    // bm25() is computed for the rows the inner query emits only; ORDER BY rowid DESC walks the
    // doclist backwards and stops at the limit (FTS5 serves rowid order natively). A very common
    // word is not ranked at all (see COMMON_WORD_BM25): its newest matches come back as a tie.
    if (common) {
      // Not ranked: the newest matches that pass, with their snippets, in one walk of the doclist
      // (a second query per row would merge a prefix's doclist again each time).
      return this.db
        .prepare<{ item_id: number; snippet: string }>(
          `SELECT rowid AS item_id, snippet(items_fts, -1, ?, ?, '…', 16) AS snippet FROM items_fts
           WHERE items_fts MATCH ?${passes} ORDER BY rowid DESC LIMIT ?`,
        )
        .all(open, close, query, ...f.params, limit)
        .map((r) => ({ itemId: r.item_id, bm25: COMMON_WORD_BM25, snippet: r.snippet }));
    }
    const ranked = this.db
      .prepare<{ item_id: number; rank: number }>(
        `SELECT item_id, rank FROM (
           SELECT rowid AS item_id, bm25(items_fts, ${BM25_WEIGHTS}) AS rank FROM items_fts
           WHERE items_fts MATCH ?${passes}
           ORDER BY rowid DESC LIMIT ?)
         ORDER BY rank LIMIT ?`,
      )
      .all(query, ...f.params, KEYWORD_RANK_LIMIT, limit);
    // A snippet per row asks for the words as typed first, and the prefix query only for a row
    // that matched through a longer word (cheap here: the prefix has fewer matches than the window).
    const snippet = this.db.prepare(`SELECT snippet(items_fts, -1, ?, ?, '…', 16) FROM items_fts WHERE items_fts MATCH ? AND rowid = ?`).pluck();
    const exact = toFtsQuery(text, { prefix: false })!;
    return ranked.map((r) => ({
      itemId: r.item_id,
      bm25: r.rank,
      snippet: ((snippet.get(open, close, exact, r.item_id) as string | undefined) ?? snippet.get(open, close, query, r.item_id)) as string,
    }));
  }

  /**
   * What to search with. A prefix query ("word"*) makes FTS5 merge the doclists of every term with
   * that prefix before it returns its first row: a million entries, ~0.5 s, for a word in every
   * path. The words as typed ("word") stream instead. When the words as typed alone fill the
   * ranking window, the words are `common`: what is searched is the words as typed (longer words
   * sharing their start add nothing to a word that common), and nothing is ranked by bm25, whose
   * IDF reads every match (37 ms for a word in 1M items, per query). Otherwise each word is
   * matched as a prefix (see `prefixOf`), and the words are common when together they fill the
   * window (a word still being typed that starts a very common one, "libr"): then they are not
   * ranked either; else they are ranked by bm25, as before. Exposed for tests.
   */
  keywordPlan(text: string): { query: string; common: boolean } | null {
    if (this.lastRanking?.text === text) return this.lastRanking.result;
    const words = text.normalize('NFC').match(/[\p{L}\p{N}]+/gu);
    let result: { query: string; common: boolean } | null = null;
    if (words?.length) {
      const exact = toFtsQuery(text, { prefix: false })!;
      const fills = new Map<string, boolean>();
      const window = this.db.prepare(`SELECT count(*) FROM (SELECT rowid FROM items_fts WHERE items_fts MATCH ? ORDER BY rowid DESC LIMIT ?)`).pluck();
      const fillsWindow = (query: string): boolean => {
        let full = fills.get(query);
        if (full === undefined) fills.set(query, (full = (window.get(query, KEYWORD_RANK_LIMIT) as number) >= KEYWORD_RANK_LIMIT));
        return full;
      };
      if (fillsWindow(exact)) {
        result = { query: exact, common: true };
      } else {
        const prefixes = words.map((w) => this.prefixOf(w, fillsWindow));
        const query = prefixes.map((p) => p.query).join(' ');
        result = { query, common: prefixes.some((p) => p.cut) || fillsWindow(query) };
      }
    }
    // searchKeywords and bestKeywordBm25 of one search run in one turn of the event loop: they
    // share this answer, which is dropped before anything else can change the table.
    this.lastRanking = { text, result };
    setImmediate(() => (this.lastRanking = null));
    return result;
  }

  private lastRanking: { text: string; result: { query: string; common: boolean } | null } | null = null;

  /**
   * One word matched as a prefix, without making FTS5 merge a huge doclist. Its terms in the
   * index are looked up (PREFIX_TERMS_LIMIT at most, one seek each on items_fts_terms). Few terms
   * with few matches between them (their OR does not fill the window): the prefix query, whose
   * merge is then cheap and whose bm25 is the one the word always had. Few terms but many matches:
   * their OR, which streams — the same matches as the prefix. Many terms: the prefix query in a
   * library of up to prefixMergeItems items, else the first PREFIX_TERMS_LIMIT terms (`cut`: some
   * matches are left out, and the search is not ranked).
   */
  private prefixOf(word: string, fillsWindow: (query: string) => boolean): { query: string; cut: boolean } {
    const prefix = { query: `${quoted(word)}*`, cut: false };
    const start = asciiTerm(word);
    if (start === null) return prefix;
    const terms = this.termsStartingWith(start, PREFIX_TERMS_LIMIT + 1);
    if (terms.length === 0) return prefix; // matches nothing: nothing to merge
    const any = (list: readonly string[]): string => (list.length === 1 ? quoted(list[0]!) : `(${list.map(quoted).join(' OR ')})`);
    if (terms.length <= PREFIX_TERMS_LIMIT) return fillsWindow(any(terms)) ? { query: any(terms), cut: false } : prefix;
    return this.count() <= this.prefixMergeItems ? prefix : { query: any(terms.slice(0, PREFIX_TERMS_LIMIT)), cut: true };
  }

  /** Terms of the keyword index that start with `start` (folded), in index order, at most `limit`. */
  private termsStartingWith(start: string, limit: number): string[] {
    // One seek per term: the next term at or after `from` ('\u0001' sorts before any character a
    // term can hold, so term + '\u0001' skips exactly that term and not its longer relatives).
    const next = this.db.prepare('SELECT term FROM items_fts_terms WHERE term >= ? LIMIT 1').pluck();
    const terms: string[] = [];
    let from = start;
    while (terms.length < limit) {
      const term = next.get(from) as string | undefined;
      if (term === undefined || !term.startsWith(start)) break;
      terms.push(term);
      from = `${term}\u0001`;
    }
    return terms;
  }

  /**
   * The strongest keyword match of `text` in the whole library (the lowest bm25), ignoring filters:
   * the yardstick keyword scores are measured against, so a filter never changes a score. Null when
   * nothing matches. Bounded like searchKeywords: a very common word's matches all tie at
   * COMMON_WORD_BM25.
   */
  bestKeywordBm25(text: string): number | null {
    const ranking = this.keywordPlan(text);
    if (ranking === null) return null;
    if (ranking.common) return COMMON_WORD_BM25;
    const best = this.db
      .prepare(`SELECT min(rank) FROM (SELECT bm25(items_fts, ${BM25_WEIGHTS}) AS rank FROM items_fts WHERE items_fts MATCH ? ORDER BY rowid DESC LIMIT ?)`)
      .pluck()
      .get(ranking.query, KEYWORD_RANK_LIMIT) as number | null;
    return best ?? null;
  }

  /** Rebuilds the keyword index from items and files (after a tokenizer change or a repair). */
  rebuildKeywordIndex(): void {
    this.db.transaction(() => {
      this.db.exec(`DELETE FROM items_fts;
        INSERT INTO items_fts(rowid, name, path, text) SELECT i.id, f.name, f.path, coalesce(i.text, '') FROM items i JOIN files f ON f.id = i.file_id;`);
    })();
  }
}
