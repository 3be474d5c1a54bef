// How semantic and keyword hits become one ranking, and how a hit becomes a display score in [0, 1]
// when no reranker gives a probability (docs/architecture.md, "Search pipeline").

/** RRF's k: 60 is the constant of Cormack et al. (2009); it damps the head so neither list dominates. */
export const RRF_K = 60;

/**
 * What the best keyword match of a query shows as (80 %). Every keyword hit matched all the
 * query's words, so the best one is a strong match, but a keyword match says less than a reranker's
 * probability; the others are scaled by their bm25 relative to it.
 */
export const BEST_KEYWORD_SCORE = 0.8;

export interface FusedHit {
  readonly itemId: number;
  readonly fused: number;
  readonly semanticRank: number | null;
  readonly keywordRank: number | null;
  readonly similarity: number | null;
  /** FTS5 bm25 of the keyword hit (negative; more negative is a stronger match), null when not a keyword hit. */
  readonly bm25: number | null;
}

/** Best first; equal fused scores by semantic rank. Shared by fusion and by regrouping (video moments). */
export function byFusedOrder(a: FusedHit, b: FusedHit): number {
  return b.fused - a.fused || (a.semanticRank ?? Infinity) - (b.semanticRank ?? Infinity);
}

/** Reciprocal-rank fusion: Σ 1 / (k + rank), ranks 1-based; best first, ties by semantic rank. */
export function fuseByReciprocalRank(
  semantic: readonly { itemId: number; similarity: number }[],
  keyword: readonly { itemId: number; bm25?: number }[],
  k = RRF_K,
): FusedHit[] {
  const hits = new Map<number, { fused: number; semanticRank: number | null; keywordRank: number | null; similarity: number | null; bm25: number | null }>();
  const entry = (id: number) => {
    let h = hits.get(id);
    if (!h) hits.set(id, (h = { fused: 0, semanticRank: null, keywordRank: null, similarity: null, bm25: null }));
    return h;
  };
  semantic.forEach((s, i) => {
    const h = entry(s.itemId);
    h.fused += 1 / (k + i + 1);
    h.semanticRank = i;
    h.similarity = s.similarity;
  });
  keyword.forEach((kw, i) => {
    const h = entry(kw.itemId);
    h.fused += 1 / (k + i + 1);
    h.keywordRank = i;
    h.bm25 = kw.bm25 ?? null;
  });
  return [...hits.entries()].map(([itemId, h]) => ({ itemId, ...h })).sort(byFusedOrder);
}

/**
 * A keyword hit's display score from its match strength: its bm25 relative to the query's best
 * bm25 (`bestBm25`, taken without filters so a filter never changes a score), times
 * BEST_KEYWORD_SCORE. bm25 ratios of hits of one query depend only on where and how often the
 * words occur (the term weights are the same for every hit), so equal matches get equal scores and
 * the scale does not depend on the library's size.
 */
export function keywordScore(bm25: number, bestBm25: number): number {
  // FTS5 reports matches with negative bm25; anything else has no strength to compare.
  if (!(bestBm25 < 0)) return BEST_KEYWORD_SCORE;
  return BEST_KEYWORD_SCORE * Math.min(1, Math.max(0, bm25 / bestBm25));
}

/**
 * A display score without a reranker. NOT a probability: cosine similarities of Qwen3-VL
 * embeddings for unrelated pairs sit around 0.1–0.3 and for strong matches above 0.7, so
 * clamp((cos − 0.2) / 0.6) maps that range onto [0, 1]. A keyword hit scores by its match strength
 * (keywordScore); a hit found both ways takes the higher of the two.
 */
export function calibratedScore(hit: Pick<FusedHit, 'similarity' | 'bm25'>, bestBm25: number | null): number {
  const semantic = hit.similarity === null ? 0 : Math.min(1, Math.max(0, (hit.similarity - 0.2) / 0.6));
  const keyword = hit.bm25 === null || bestBm25 === null ? 0 : keywordScore(hit.bm25, bestBm25);
  return Math.max(semantic, keyword);
}
