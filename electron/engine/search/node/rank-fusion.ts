// How semantic and keyword hits become one ranking, and how a similarity becomes a score in [0, 1]
// when no reranker gives a probability.

/** RRF's k: 60 is the constant of Cormack et al. (2009); it damps the head so neither list dominates. */
export const RRF_K = 60;

export interface FusedHit {
  readonly itemId: number;
  readonly fused: number;
  readonly semanticRank: number | null;
  readonly keywordRank: number | null;
  readonly similarity: number | null;
}

/** Reciprocal-rank fusion: Σ 1 / (k + rank), ranks 1-based; best first, ties by semantic rank. */
export function fuseByReciprocalRank(semantic: readonly { itemId: number; similarity: number }[], keyword: readonly { itemId: number }[], k = RRF_K): FusedHit[] {
  const hits = new Map<number, { fused: number; semanticRank: number | null; keywordRank: number | null; similarity: number | null }>();
  const entry = (id: number) => {
    let h = hits.get(id);
    if (!h) hits.set(id, (h = { fused: 0, semanticRank: null, keywordRank: null, similarity: null }));
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
  });
  return [...hits.entries()]
    .map(([itemId, h]) => ({ itemId, ...h }))
    .sort((a, b) => b.fused - a.fused || (a.semanticRank ?? Infinity) - (b.semanticRank ?? Infinity));
}

/**
 * A display score without a reranker. NOT a probability: cosine similarities of Qwen3-VL
 * embeddings for unrelated pairs sit around 0.1–0.3 and for strong matches above 0.7, so
 * clamp((cos − 0.2) / 0.6) maps that range onto [0, 1]. A keyword-only hit gets a rank-based score
 * (0.8 for the best, falling by 0.02 per rank, at least 0.05).
 */
export function calibratedScore(hit: Pick<FusedHit, 'similarity' | 'keywordRank'>): number {
  const semantic = hit.similarity === null ? 0 : Math.min(1, Math.max(0, (hit.similarity - 0.2) / 0.6));
  const keyword = hit.keywordRank === null ? 0 : Math.max(0.05, 0.8 - 0.02 * hit.keywordRank);
  return Math.max(semantic, keyword);
}
