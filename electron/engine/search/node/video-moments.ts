// A video is indexed as its moments plus the whole video (docs/videos.md): the whole-video vector
// finds videos whose content matches as a whole, the moments say where. In the results a person
// wants one card per moment, never the whole video beside its own moments (0:00–0:20 next to
// 0:00–0:10 and 0:10–0:20). This folds each video's hits so that:
//   - moments found by meaning keep their own cards (moments never overlap: docs/videos.md);
//   - the whole-video hit lends its rank and score to the video's best moment: the best of its
//     moments found by meaning, else the moment closest to the query vector;
//   - moments found only by keyword matched the file's name or path (moments have no text), which
//     every moment of the file shares, so they collapse into one card too;
//   - a video found only by its name (no query vector, or no moments) shows once: the whole video.
import { byFusedOrder, type FusedHit } from './rank-fusion.ts';

/** What folding needs to know about an item of a hit. */
export interface HitItem {
  readonly fileId: number;
  /** 'video' for the whole-video item, 'moment' for a moment; anything else is left alone. */
  readonly itemKind: string;
}

/** A moment of a video file, with its cosine similarity to the query (null without a query vector). */
export interface VideoMoment {
  readonly itemId: number;
  readonly similarity: number | null;
}

/** One hit standing for several of the same video: the best of each signal. */
function combine(into: FusedHit, others: readonly FusedHit[], itemId = into.itemId): FusedHit {
  const all = [into, ...others];
  const best = <T>(values: (T | null)[], pick: (a: T, b: T) => T): T | null => values.reduce<T | null>((acc, v) => (v === null ? acc : acc === null ? v : pick(acc, v)), null);
  return {
    itemId,
    fused: Math.max(...all.map((h) => h.fused)),
    semanticRank: best(all.map((h) => h.semanticRank), Math.min),
    keywordRank: best(all.map((h) => h.keywordRank), Math.min),
    similarity: best(all.map((h) => h.similarity), Math.max),
    bm25: best(all.map((h) => h.bm25), Math.min),
  };
}

/**
 * Folds the hits of every video as described above; other hits pass through. `hits` are in fused
 * order; the answer is too. `momentsOf(fileId)` lists a video's moments (in time order) with their
 * similarity to the query; it is asked only when a whole-video hit has no moment found by meaning.
 */
export function foldVideoHits(hits: readonly FusedHit[], itemOf: (itemId: number) => HitItem | undefined, momentsOf: (fileId: number) => readonly VideoMoment[]): FusedHit[] {
  const videos = new Map<number, FusedHit[]>();
  const out: FusedHit[] = [];
  for (const hit of hits) {
    const item = itemOf(hit.itemId);
    if (!item || (item.itemKind !== 'video' && item.itemKind !== 'moment')) {
      out.push(hit);
      continue;
    }
    let group = videos.get(item.fileId);
    if (!group) videos.set(item.fileId, (group = []));
    group.push(hit);
  }
  for (const [fileId, group] of videos) {
    const whole = group.find((h) => itemOf(h.itemId)!.itemKind === 'video');
    const moments = group.filter((h) => h !== whole);
    const byMeaning = moments.filter((h) => h.semanticRank !== null);
    const byNameOnly = moments.filter((h) => h.semanticRank === null);
    const lenders = [...(whole ? [whole] : []), ...byNameOnly];
    if (byMeaning.length > 0) {
      out.push(combine(byMeaning[0]!, lenders), ...byMeaning.slice(1));
      continue;
    }
    if (whole && whole.semanticRank !== null) {
      const closest = closestMoment(momentsOf(fileId));
      if (closest) {
        out.push(combine({ ...whole, similarity: Math.max(whole.similarity ?? -1, closest.similarity ?? -1) }, byNameOnly, closest.itemId));
        continue;
      }
    }
    const shown = whole ?? lenders[0]!;
    out.push(combine(shown, lenders.filter((h) => h !== shown)));
  }
  return out.sort(byFusedOrder);
}

function closestMoment(moments: readonly VideoMoment[]): VideoMoment | null {
  let best: VideoMoment | null = null;
  for (const m of moments) if (m.similarity !== null && (best === null || m.similarity > best.similarity!)) best = m;
  return best;
}
