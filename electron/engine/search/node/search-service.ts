// search.run: embed the query → ANN top-K on the Matryoshka prefix + exact rescore (filters during
// the search) → keyword hits (FTS5) → reciprocal-rank fusion → one card per video moment → rerank
// the top R → cut-off, sort, limit. Every stage that cannot run (no model yet, no reranker) is skipped and `mode` says so.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { formatBytes } from '../../../contract/common/display-units.ts';
import { meetsCutoff } from '../../../contract/common/relevance.ts';
import { ApiError } from '../../../contract/common/trove-api.ts';
import type { ApiParsedParams } from '../../../contract/common/api-methods.ts';
import type { SearchResponse, SearchResult } from '../../../contract/common/entities.ts';
import { l2Normalize } from '../../store/common/embedding-codes.ts';
import type { EmbedInput } from '../../model-inputs/node/embed-inputs.ts';
import { FILE_SIZE_LIMITS } from '../../library/common/file-refusals.ts';
import { LibraryFileError, openLibraryFile } from '../../library/node/library-file.ts';
import type { AnnStatus } from '../../store/node/ann-handle.ts';
import type { ItemSummary } from '../../store/node/items-repo.ts';
import type { Store } from '../../store/node/store.ts';
import type { EngineModels } from '../../inference/node/engine-models.ts';
import { calibratedScore, fuseByReciprocalRank, type FusedHit } from './rank-fusion.ts';
import { foldVideoHits, type VideoMoment } from './video-moments.ts';

/** The query instruction of the Qwen3-VL embedder for retrieval across modalities. */
export const QUERY_INSTRUCTION = 'Retrieve images or text relevant to the user\'s query.';
/**
 * K: semantic candidates taken into fusion (and keyword hits alike): the best 100 of the store's
 * K' = 200 exactly rescored ANN candidates (docs/store.md, "ANN defaults, by measurement").
 */
export const SEMANTIC_CANDIDATES = 100;
export const KEYWORD_CANDIDATES = 100;
/**
 * R: fused candidates the reranker scores. 30 fills the first screens of the grid; the reranker
 * costs one forward pass per candidate (≈ 0.1–0.3 s each for the 2B model on a GPU, seconds on a
 * CPU), so R bounds the latency. Candidates below R keep their calibrated score and rank after.
 */
export const RERANK_CANDIDATES = 30;

type SearchParams = ApiParsedParams<'search.run'>;

/** The mode while the ANN index loads or builds in the background: what ran instead, and why. */
function semanticWaiting(ann: AnnStatus, keyword: boolean): string {
  const why = ann.state === 'building' ? `is being built (${Math.round((ann.progress ?? 0) * 100)} %)` : ann.state === 'failed' ? 'could not be opened' : 'is loading';
  return `${keyword ? 'keyword only' : 'nothing to search'}: the semantic index ${why}`;
}

function describe(parts: { semantic: boolean; keyword: boolean; reranked: boolean; noModel: boolean }): string {
  if (parts.noModel) return parts.keyword ? 'keyword only: no embedding model yet' : 'nothing to search: no embedding model yet';
  const base = parts.semantic && parts.keyword ? 'semantic + keyword' : parts.semantic ? 'semantic' : 'keyword';
  return parts.reranked ? `${base}, reranked` : base;
}

export class SearchService {
  constructor(
    private readonly store: Store,
    private readonly models: EngineModels,
  ) {}

  /**
   * The bytes of a query image named by path, which must be a file in the library's folders under
   * the link rule (library/node/library-file.ts): search.run reaches the engine from browsers and
   * other programs (`trove serve`, the app's IPC), and a path outside the roots would let them make
   * the engine read any file its user can. A path outside every root is refused before the disk is
   * touched, so the answer says nothing about what exists there. An image from anywhere else is
   * sent as bytes (image.dataBase64), as the app and `trove search --image` do.
   */
  private async libraryImage(file: string): Promise<Buffer> {
    const roots = this.store.roots.list().map((r) => r.path);
    const lexicallyInside = path.isAbsolute(file) && roots.some((root) => {
      const relative = path.relative(root, path.normalize(file));
      return relative !== '' && relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative);
    });
    if (!lexicallyInside) {
      throw new ApiError(
        'invalid-params',
        `image.path must name a file inside one of the library's folders, and '${file}' is not in one. Send the image itself instead (image.dataBase64 with image.mime).`,
      );
    }
    let opened;
    try {
      opened = await openLibraryFile(path.normalize(file), roots);
    } catch (error) {
      if (!(error instanceof LibraryFileError)) throw error;
      throw new ApiError(error.code === 'missing' ? 'not-found' : 'invalid-params', `The query image cannot be used: ${error.message}`);
    }
    try {
      const limit = FILE_SIZE_LIMITS.image!;
      if (opened.size > limit) throw new ApiError('invalid-params', `The query image is ${formatBytes(opened.size)}, more than the ${formatBytes(limit)} Trove can read of one image; use a smaller copy.`);
      return await opened.handle.readFile();
    } finally {
      await opened.handle.close();
    }
  }

  async run(req: SearchParams, signal?: AbortSignal): Promise<SearchResponse> {
    const t0 = performance.now();
    const { store, models } = this;
    const text = req.text?.trim() ? req.text.trim() : undefined;
    // A path is checked first, with or without a model: nothing outside the roots is read.
    const queryImage: Buffer | undefined = req.image ? ('path' in req.image ? await this.libraryImage(req.image.path) : Buffer.from(req.image.dataBase64, 'base64')) : undefined;
    const embedder = models.embedder;
    if (!embedder && (req.image || (req.likeItemId !== undefined && !text))) {
      throw new ApiError('unavailable', 'searching by image or by example needs an embedding model; start Trove with a model package (--model PKG)');
    }

    const queryInput: EmbedInput = { ...(text ? { texts: [text] } : {}), ...(queryImage ? { images: [queryImage] } : {}) };

    let likeSummary: ItemSummary | undefined;
    if (req.likeItemId !== undefined) {
      likeSummary = store.items.summaries([req.likeItemId]).get(req.likeItemId);
      if (!likeSummary) throw new ApiError('not-found', `there is no item ${req.likeItemId}; it may have been removed — search again`);
    }

    // 1. Semantic candidates.
    let semantic: { itemId: number; similarity: number }[] = [];
    let query: Float32Array | null = null;
    let annWaiting: AnnStatus | null = null;
    if (embedder) {
      if (req.likeItemId !== undefined) {
        const stored = store.vectors.dequantised(embedder.modelId, req.likeItemId);
        if (!stored) throw new ApiError('unavailable', `item ${req.likeItemId} has no embedding yet (it is still being indexed, or its kind is found by name only)`);
        query = l2Normalize(stored);
      } else if (queryInput.texts || queryInput.images) {
        try {
          // An image alone asks "more like this picture": it is embedded exactly as documents are
          // (the embedder's default instruction), a symmetric comparison. Text uses the query instruction.
          const [vector] = await models.embed([queryInput], { instruction: text ? QUERY_INSTRUCTION : undefined, signal, priority: 'interactive' });
          query = l2Normalize(vector!);
        } catch (error) {
          throw new ApiError('failed', `the query could not be embedded: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
      if (query && store.vectors.count(embedder.modelId) > 0) {
        // Null while the ANN index loads or builds off the engine's thread: keyword search answers alone.
        const found = await store.nearest(embedder.modelId, query, { k: SEMANTIC_CANDIDATES, filters: req.filters });
        if (found === null) annWaiting = store.ann(embedder.modelId).status;
        else semantic = found;
        if (req.likeItemId !== undefined) semantic = semantic.filter((s) => s.itemId !== req.likeItemId);
      }
    }

    // 2. Keyword candidates.
    const keyword = text ? store.items.searchKeywords(text, { filters: req.filters, limit: KEYWORD_CANDIDATES }) : [];

    // 3. Fusion, one card per video moment, then the reranker on the head.
    const fused = fuseByReciprocalRank(semantic, keyword);
    const summaries = store.items.summaries(fused.map((f) => f.itemId));
    const momentsOf = (fileId: number): VideoMoment[] => {
      const moments = [...store.items.summaries(store.items.idsOfFile(fileId)).values()].filter((m) => m.itemKind === 'moment' && m.itemId !== req.likeItemId);
      for (const m of moments) summaries.set(m.itemId, m);
      return moments.map((m) => ({ itemId: m.itemId, similarity: query && embedder ? this.similarity(embedder.modelId, query, m.itemId) : null }));
    };
    const live = foldVideoHits(
      fused.filter((f) => summaries.has(f.itemId)),
      (id) => summaries.get(id),
      momentsOf,
    );
    const bestBm25 = text && keyword.length > 0 ? store.items.bestKeywordBm25(text) : null;
    const scores = new Map<number, number>(live.map((f) => [f.itemId, calibratedScore(f, bestBm25)]));
    let reranked = new Set<number>();
    if (req.rerank && models.reranker && live.length > 0) {
      const head = live.slice(0, RERANK_CANDIDATES);
      const rerankQuery: EmbedInput = likeSummary ? this.documentOf(likeSummary) : queryInput;
      try {
        const probabilities = await models.rerank(rerankQuery, head.map((h) => this.documentOf(summaries.get(h.itemId)!)), { signal, priority: 'interactive' });
        head.forEach((h, i) => scores.set(h.itemId, Math.min(1, Math.max(0, probabilities[i]!))));
        reranked = new Set(head.map((h) => h.itemId));
      } catch (error) {
        throw new ApiError('failed', `reranking failed: ${error instanceof Error ? error.message : String(error)}; search again with rerank off`);
      }
    }

    // 4. Order: reranked head by probability, then the rest in fused order; cut-off; sort; limit.
    const rank = new Map(live.map((f, i) => [f.itemId, i]));
    const ordered = [...live].sort((a, b) => {
      const ra = reranked.has(a.itemId);
      const rb = reranked.has(b.itemId);
      if (ra !== rb) return ra ? -1 : 1;
      if (ra) return scores.get(b.itemId)! - scores.get(a.itemId)!;
      return rank.get(a.itemId)! - rank.get(b.itemId)!;
    });
    // Shown scores never rise down the list (the fused order can put a keyword hit above a
    // closer-looking semantic one), so the order and the percentages agree and the cut-off
    // trims a tail instead of punching holes.
    let ceiling = 1;
    for (const f of ordered) {
      ceiling = Math.min(scores.get(f.itemId)!, ceiling);
      scores.set(f.itemId, ceiling);
    }
    const kept = ordered.filter((f) => meetsCutoff(scores.get(f.itemId)!, req.cutoff));
    let results = kept.map((f) => this.toResult(f, summaries.get(f.itemId)!, scores.get(f.itemId)!, reranked.has(f.itemId)));
    if (req.sort === 'date') results = results.sort((a, b) => b.date - a.date);
    const total = results.length;
    results = results.slice(0, req.limit);
    return {
      results,
      total,
      hiddenByCutoff: ordered.length - kept.length,
      mode: annWaiting ? semanticWaiting(annWaiting, !!text) : describe({ semantic: embedder !== null && (semantic.length > 0 || !!queryInput.images || req.likeItemId !== undefined || !!text), keyword: !!text, reranked: reranked.size > 0, noModel: !embedder }),
      tookMs: performance.now() - t0,
    };
  }

  /** Cosine similarity of the (normalised) query and an item's stored vector; null when it has none. */
  private similarity(modelId: number, query: Float32Array, itemId: number): number | null {
    const stored = this.store.vectors.dequantised(modelId, itemId);
    if (!stored) return null;
    const v = l2Normalize(stored);
    let dot = 0;
    for (let i = 0; i < Math.min(v.length, query.length); i++) dot += v[i]! * query[i]!;
    return dot;
  }

  /** What the reranker reads for an item: the image itself, the chunk's text, else the file name. */
  private documentOf(item: ItemSummary): EmbedInput {
    if (item.itemKind === 'image' && existsSync(item.path)) return { images: [item.path] };
    if (item.locator.type === 'text') {
      const detail = this.store.items.detail(item.itemId);
      if (detail?.text) return { texts: [detail.text] };
    }
    return { texts: [item.name] };
  }

  private toResult(hit: FusedHit, item: ItemSummary, score: number, reranked: boolean): SearchResult {
    const sources: SearchResult['sources'] = [];
    if (hit.semanticRank !== null) sources.push('semantic');
    if (hit.keywordRank !== null) sources.push('keyword');
    if (reranked) sources.push('reranked');
    return { itemId: item.itemId, fileId: item.fileId, path: item.path, name: item.name, kind: item.kind, score, locator: item.locator, date: item.date, sources };
  }
}
