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
 * At most this many keyword matches are ranked by bm25 (the newest, by item id). A word in every
 * path of a 1M-item library took 462 ms to rank whole; a word that common says almost nothing
 * about relevance (its bm25 weight is near 0), and anything rarer is ranked in full. bm25 reads
 * each row's column sizes: 5,000 rows cost a few ms.
 */
export const KEYWORD_RANK_LIMIT = 5_000;

/** bm25 weights for (name, path, text): a word in the file name says more than one in a long text. */
const BM25_WEIGHTS = '10.0, 2.0, 1.0';

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
  constructor(private readonly db: Db) {}

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
    const query = this.rankingQuery(text);
    if (query === null) return [];
    const f = filterSql(opts.filters);
    const open = opts.highlight?.open ?? '[';
    const close = opts.highlight?.close ?? ']';
    const filtered = f.sql !== '1';
    // bm25() is computed for the rows the inner query emits only; ORDER BY rowid DESC walks the
    // doclist backwards and stops at the limit (FTS5 serves rowid order natively).
    const ranked = this.db
      .prepare<{ item_id: number; rank: number }>(
        `SELECT item_id, rank FROM (
           SELECT rowid AS item_id, bm25(items_fts, ${BM25_WEIGHTS}) AS rank FROM items_fts
           WHERE items_fts MATCH ?${filtered ? ` AND EXISTS (SELECT 1 FROM items i JOIN files f ON f.id = i.file_id WHERE i.id = items_fts.rowid AND ${f.sql})` : ''}
           ORDER BY rowid DESC LIMIT ?)
         ORDER BY rank LIMIT ?`,
      )
      .all(query, ...f.params, KEYWORD_RANK_LIMIT, opts.limit ?? 100);
    // A snippet per row asks for the words as typed first (see rankingQuery), and the prefix query
    // only for a row that matched through a longer word.
    const snippet = this.db.prepare(`SELECT snippet(items_fts, -1, ?, ?, '…', 16) FROM items_fts WHERE items_fts MATCH ? AND rowid = ?`).pluck();
    const exact = toFtsQuery(text, { prefix: false })!;
    return ranked.map((r) => ({
      itemId: r.item_id,
      bm25: r.rank,
      snippet: ((snippet.get(open, close, exact, r.item_id) as string | undefined) ?? snippet.get(open, close, query, r.item_id)) as string,
    }));
  }

  /**
   * The FTS query to rank with. A prefix query ("word"*) makes FTS5 merge the doclists of every
   * term with that prefix before it returns its first row: a million entries, ~0.5 s, for a word in
   * every path. The words as typed ("word") stream instead. So when the words as typed already fill
   * the ranking window, they are what is ranked: words that common leave nothing for longer words
   * sharing their start to add. Otherwise (rarer words, or a word still being typed) the prefix
   * query runs, as before.
   */
  private rankingQuery(text: string): string | null {
    const prefixed = toFtsQuery(text);
    if (prefixed === null) return null;
    const exact = toFtsQuery(text, { prefix: false })!;
    const window = this.db.prepare(`SELECT count(*) FROM (SELECT rowid FROM items_fts WHERE items_fts MATCH ? ORDER BY rowid DESC LIMIT ?)`).pluck().get(exact, KEYWORD_RANK_LIMIT) as number;
    return window >= KEYWORD_RANK_LIMIT ? exact : prefixed;
  }

  /**
   * The strongest keyword match of `text` in the whole library (the lowest bm25), ignoring filters:
   * the yardstick keyword scores are measured against, so a filter never changes a score. Null when
   * nothing matches. Over the same window as searchKeywords without filters (the newest
   * KEYWORD_RANK_LIMIT matches), so a very common word costs the same bounded work.
   */
  bestKeywordBm25(text: string): number | null {
    const query = this.rankingQuery(text);
    if (query === null) return null;
    const best = this.db
      .prepare(`SELECT min(rank) FROM (SELECT bm25(items_fts, ${BM25_WEIGHTS}) AS rank FROM items_fts WHERE items_fts MATCH ? ORDER BY rowid DESC LIMIT ?)`)
      .pluck()
      .get(query, KEYWORD_RANK_LIMIT) as number | null;
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
