// Semantic candidates for a query vector: ANN over the prefix, then exact rescoring of the top K'
// against the full int8 vectors (both in the ANN workers, one per shard), with filters applied
// during the search rather than by discarding afterwards. When the filters leave few vectors,
// those are scored exactly instead: cheaper than over-fetching from the graph and never misses one.
import type { SearchFilters } from '../../../contract/common/entities.ts';
import { DEFAULT_RESCORE_CANDIDATES } from './ann-index.ts';
import type { AnnHandle } from './ann-handle.ts';
import { int8Dot } from './vector-codec.ts';
import type { VectorsRepo } from './vectors-repo.ts';

/** At or below this many vectors passing the filters, score them all exactly (≈ 10 ms at 2048-d). */
export const EXACT_SEARCH_LIMIT = 2000;

export interface NearestOptions {
  readonly k: number;
  readonly filters?: SearchFilters;
  /** ANN candidates each shard rescores exactly (K'); at least k. */
  readonly rescore?: number;
  readonly ef?: number;
  /** Score the filtered set exactly when it has at most this many vectors (default EXACT_SEARCH_LIMIT). */
  readonly exactLimit?: number;
}

export interface NearestItem {
  readonly itemId: number;
  /** Exact cosine over the full dimension (query · stored int8 vector). */
  readonly similarity: number;
}

function hasFilters(f: SearchFilters | undefined): f is SearchFilters {
  return !!f && (!!f.kinds?.length || !!f.rootIds?.length || f.from !== undefined || f.to !== undefined);
}

/**
 * The k items nearest to `query` (a unit vector of the model's full dimension), best first.
 * `ann` and `vectors` must belong to the same model. Null when the ANN index cannot search yet
 * (loading or building) and the filters leave more than the exact limit.
 */
export async function nearestItems(
  ann: Pick<AnnHandle, 'nearest'>,
  vectors: VectorsRepo,
  modelId: number,
  query: ArrayLike<number>,
  opts: NearestOptions,
): Promise<NearestItem[] | null> {
  const k = opts.k;
  if (k <= 0) return [];
  const candidates = Math.max(k, opts.rescore ?? DEFAULT_RESCORE_CANDIDATES);
  let allowed: Uint32Array | undefined;
  if (hasFilters(opts.filters)) {
    const passing = vectors.labelsPassing(modelId, opts.filters);
    if (passing.size === 0) return [];
    if (passing.size <= (opts.exactLimit ?? EXACT_SEARCH_LIMIT)) {
      const scored: NearestItem[] = [];
      for (const v of vectors.byLabels(modelId, [...passing]).values()) scored.push({ itemId: v.itemId, similarity: int8Dot(query, v) });
      scored.sort((a, b) => b.similarity - a.similarity);
      return scored.slice(0, k);
    }
    allowed = Uint32Array.from(passing).sort();
  }
  const hits = await ann.nearest(query, k, { candidates, ef: opts.ef, allowed });
  return hits === null ? null : hits.map((h) => ({ itemId: h.itemId, similarity: h.similarity }));
}
