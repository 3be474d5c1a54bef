// Scores a person can believe (issue 12, point 7): keyword hits score by how strongly they match,
// not by their place in the list, so equal matches show equal percentages; a cut-off keeps exactly
// the results whose shown percentage is at or above it. Unit tests of the scoring, then the real
// engine (keyword only: no model needed) on a library with equal and unequal matches.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { SearchResponse } from '../../../electron/contract/common/entities.ts';
import { meetsCutoff, relevancePercent } from '../../../electron/contract/common/relevance.ts';
import { dispatchApiCall } from '../../../electron/contract/common/trove-api.ts';
import { openTroveEngine } from '../../../electron/engine/app/node/trove-engine.ts';
import type { TroveEngine } from '../../../electron/engine/app/node/trove-engine-types.ts';
import { BEST_KEYWORD_SCORE, calibratedScore, fuseByReciprocalRank } from '../../../electron/engine/search/node/rank-fusion.ts';

let dir = '';
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'trove-scores-'));
});
after(() => rm(dir, { recursive: true, force: true }));

const call = <T>(engine: TroveEngine, method: string, params: unknown) => dispatchApiCall(engine.handlers, method, params) as Promise<T>;

test('keyword hits with equal bm25 get equal scores, whatever their rank', () => {
  const keyword = [-5.97, -5.97, -5.97, -5.97, -5.97, -2.5].map((bm25, i) => ({ itemId: i + 1, bm25 }));
  const fused = fuseByReciprocalRank([], keyword);
  const scores = fused.map((f) => calibratedScore(f, -5.97));
  assert.deepEqual(scores.slice(0, 5), [BEST_KEYWORD_SCORE, BEST_KEYWORD_SCORE, BEST_KEYWORD_SCORE, BEST_KEYWORD_SCORE, BEST_KEYWORD_SCORE]);
  assert.ok(scores[5]! < scores[0]!, 'a weaker match scores lower');
  assert.ok(Math.abs(scores[5]! - BEST_KEYWORD_SCORE * (2.5 / 5.97)) < 1e-12, 'in proportion to its bm25');
});

test('a keyword score does not depend on which other hits are in the list (filters)', () => {
  // The yardstick is the library-wide best match, so hiding the best one (a filter) leaves the rest as they were.
  const withBest = calibratedScore({ similarity: null, bm25: -3 }, -6);
  const [alone] = fuseByReciprocalRank([], [{ itemId: 2, bm25: -3 }]);
  assert.equal(calibratedScore(alone!, -6), withBest);
  assert.equal(withBest, BEST_KEYWORD_SCORE / 2);
});

test('a hit found both ways takes the higher of its semantic and keyword scores', () => {
  const [hit] = fuseByReciprocalRank([{ itemId: 1, similarity: 0.74 }], [{ itemId: 1, bm25: -1 }]);
  assert.ok(Math.abs(calibratedScore(hit!, -4) - 0.9) < 1e-12, 'cos 0.74 → 0.9 beats 0.8 × 1/4');
});

test('the cut-off compares the percentages people see', () => {
  assert.equal(relevancePercent(0.496), 50);
  assert.ok(meetsCutoff(0.496, 0.5), 'a card showing 50% is kept by a 50% cut-off');
  assert.ok(!meetsCutoff(0.494, 0.5), 'a card showing 49% is not');
  assert.ok(meetsCutoff(0.35, 0.35000000000000003), 'slider values with float noise');
  assert.ok(meetsCutoff(0, 0));
});

test('the engine: equal keyword matches show equal scores, and a cut-off at a shown percentage keeps exactly the cards at or above it', async () => {
  const folder = path.join(dir, 'notes');
  await mkdir(folder, { recursive: true });
  // Five notes whose names match "lighthouse" the same way (same length, same words), one that
  // mentions it once in a longer text, one that mentions it in its name and text.
  for (const n of [1, 2, 3, 4, 5]) await writeFile(path.join(folder, `lighthouse-${n}.md`), 'Walk along the coast path at dawn.\n');
  await writeFile(path.join(folder, 'coast-walk.md'), `${'We walked along the cliffs for hours and saw seals and gannets. '.repeat(6)}At the end stood the old lighthouse.\n`);
  await writeFile(path.join(folder, 'lighthouse-keeper.md'), 'The lighthouse keeper kept a log of every lighthouse visit.\n');
  const engine = await openTroveEngine({ dataDir: path.join(dir, 'data'), watch: false });
  try {
    await call(engine, 'roots.add', { path: folder });
    await engine.idle();
    const r = await call<SearchResponse>(engine, 'search.run', { text: 'lighthouse' });
    assert.equal(r.results.length, 7);
    const byName = new Map(r.results.map((x) => [x.name, x.score]));
    const equal = [1, 2, 3, 4, 5].map((n) => byName.get(`lighthouse-${n}.md`)!);
    assert.equal(new Set(equal).size, 1, `equal matches, equal scores: ${equal.join(', ')}`);
    assert.ok(byName.get('coast-walk.md')! < equal[0]!, 'a mention deep in a text scores below a name match');
    assert.equal(Math.max(...r.results.map((x) => x.score)), BEST_KEYWORD_SCORE, 'the best match shows as 80%');
    for (let i = 1; i < r.results.length; i++) assert.ok(r.results[i]!.score <= r.results[i - 1]!.score, 'scores never rise down the list');

    // A cut-off equal to a card's shown percentage keeps it; one point more drops it.
    for (const hit of r.results) {
      const shown = relevancePercent(hit.score);
      const at = await call<SearchResponse>(engine, 'search.run', { text: 'lighthouse', cutoff: shown / 100 });
      assert.ok(at.results.some((x) => x.itemId === hit.itemId), `${hit.name} (${shown}%) is kept by a ${shown}% cut-off`);
      assert.ok(at.results.every((x) => relevancePercent(x.score) >= shown), `a ${shown}% cut-off keeps only cards at or above it`);
      assert.equal(at.total, r.results.filter((x) => relevancePercent(x.score) >= shown).length);
      const above = await call<SearchResponse>(engine, 'search.run', { text: 'lighthouse', cutoff: (shown + 1) / 100 });
      assert.ok(!above.results.some((x) => x.itemId === hit.itemId), `${hit.name} (${shown}%) is dropped by a ${shown + 1}% cut-off`);
      assert.equal(above.hiddenByCutoff, r.results.length - above.total, 'the answer says how many the cut-off hid');
    }
  } finally {
    await engine.close();
  }
});
