// Videos in the results (issue 12, point 9): one card per moment, never the whole video beside its
// own moments, never two cards that overlap in time. Unit tests of the folding, then the real
// engine on a real (ffmpeg-made) video, keyword only and with the tiny embedding model.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { SearchResponse, SearchResult } from '../../../electron/contract/common/entities.ts';
import { dispatchApiCall } from '../../../electron/contract/common/trove-api.ts';
import { openTroveEngine } from '../../../electron/engine/app/node/trove-engine.ts';
import type { TroveEngine } from '../../../electron/engine/app/node/trove-engine-types.ts';
import { fuseByReciprocalRank } from '../../../electron/engine/search/node/rank-fusion.ts';
import { foldVideoHits, type HitItem, type VideoMoment } from '../../../electron/engine/search/node/video-moments.ts';
import { buildTinyPackage } from '../../support/tiny-package.ts';

process.env.TROVE_EP = 'cpu';

// A 20 s video (file 7): whole item 70 (0–20 s), moments 71 (0–10 s) and 72 (10–20 s); a photo 1.
const ITEMS = new Map<number, HitItem>([
  [1, { fileId: 1, itemKind: 'image' }],
  [70, { fileId: 7, itemKind: 'video' }],
  [71, { fileId: 7, itemKind: 'moment' }],
  [72, { fileId: 7, itemKind: 'moment' }],
]);
const itemOf = (id: number) => ITEMS.get(id);
const noMoments = (): VideoMoment[] => assert.fail('moments are not needed here');

test('moments found by meaning keep their cards; the whole video joins the best of them', () => {
  const fused = fuseByReciprocalRank(
    [
      { itemId: 70, similarity: 0.71 },
      { itemId: 72, similarity: 0.62 },
      { itemId: 1, similarity: 0.5 },
      { itemId: 71, similarity: 0.4 },
    ],
    [],
  );
  const folded = foldVideoHits(fused, itemOf, noMoments);
  assert.deepEqual(folded.map((h) => h.itemId), [72, 1, 71]);
  assert.equal(folded[0]!.similarity, 0.71, 'the best moment shows the whole video’s closeness');
  assert.equal(folded[0]!.semanticRank, 0, 'and its place');
});

test('a whole-video hit without a moment found by meaning becomes the moment closest to the query', () => {
  const fused = fuseByReciprocalRank([{ itemId: 1, similarity: 0.6 }, { itemId: 70, similarity: 0.55 }], []);
  const folded = foldVideoHits(fused, itemOf, (fileId) => {
    assert.equal(fileId, 7);
    return [
      { itemId: 71, similarity: 0.3 },
      { itemId: 72, similarity: 0.45 },
    ];
  });
  assert.deepEqual(folded.map((h) => h.itemId), [1, 72]);
  assert.equal(folded[1]!.similarity, 0.55);
});

test('a video found by its name (keyword only) shows once, as the whole video', () => {
  const fused = fuseByReciprocalRank(
    [],
    [70, 71, 72, 1].map((itemId) => ({ itemId, bm25: -4 })),
  );
  const folded = foldVideoHits(fused, itemOf, noMoments);
  assert.deepEqual(folded.map((h) => h.itemId), [70, 1]);
});

test('moments found only by name join the moment found by meaning', () => {
  const fused = fuseByReciprocalRank([{ itemId: 72, similarity: 0.5 }], [70, 71, 72].map((itemId) => ({ itemId, bm25: -4 })));
  const folded = foldVideoHits(fused, itemOf, noMoments);
  assert.deepEqual(folded.map((h) => h.itemId), [72]);
  assert.equal(folded[0]!.bm25, -4);
});

// ── The real engine ──

let dir = '';
let embeddingPackage = '';
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'trove-moments-'));
  ({ packageDir: embeddingPackage } = await buildTinyPackage(dir, 'embedding'));
});
after(() => rm(dir, { recursive: true, force: true }));

const call = <T>(engine: TroveEngine, method: string, params: unknown) => dispatchApiCall(engine.handlers, method, params) as Promise<T>;

async function makeVideo(file: string, seconds: number): Promise<void> {
  await new Promise<void>((resolve, reject) =>
    execFile('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', `testsrc2=size=160x120:rate=4:duration=${seconds}`, '-pix_fmt', 'yuv420p', '-y', file], (e) => (e ? reject(e) : resolve())),
  );
}

function windows(results: SearchResult[]): [number, number][] {
  return results.filter((r) => r.kind === 'video').map((r) => (r.locator.type === 'time' ? [r.locator.start, r.locator.end] : assert.fail('a video result has a time locator')));
}

function assertNoOverlap(spans: [number, number][]): void {
  const sorted = [...spans].sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < sorted.length; i++) assert.ok(sorted[i]![0] >= sorted[i - 1]![1] - 1e-6, `moments ${JSON.stringify(sorted[i - 1])} and ${JSON.stringify(sorted[i])} overlap`);
}

test('the engine, keyword only: a video whose name matches is one card, not its moments and the whole video', async () => {
  const folder = path.join(dir, 'lib-keyword');
  await mkdir(folder, { recursive: true });
  await makeVideo(path.join(folder, 'harbour-walk.mp4'), 40);
  await writeFile(path.join(folder, 'harbour-notes.md'), 'Boats in the harbour at noon.\n');
  const engine = await openTroveEngine({ dataDir: path.join(dir, 'data-keyword'), watch: false });
  try {
    await call(engine, 'roots.add', { path: folder });
    await engine.idle();
    const r = await call<SearchResponse>(engine, 'search.run', { text: 'harbour' });
    const spans = windows(r.results);
    assert.equal(spans.length, 1, `one card for the video: ${JSON.stringify(spans)}`);
    assert.ok(Math.abs(spans[0]![1] - 40) < 0.5 && spans[0]![0] === 0, 'found by name: the whole video');
    assert.equal(r.total, 2);
  } finally {
    await engine.close();
  }
});

test('the engine, with a model: a video shows as moments that do not overlap, never beside the whole video', async () => {
  const folder = path.join(dir, 'lib-model');
  await mkdir(folder, { recursive: true });
  // 40 s → three moments of 13.3 s and the whole-video item (docs/videos.md).
  await makeVideo(path.join(folder, 'harbour-walk.mp4'), 40);
  const engine = await openTroveEngine({ dataDir: path.join(dir, 'data-model'), embeddingModel: embeddingPackage, watch: false });
  try {
    await call(engine, 'roots.add', { path: folder });
    await engine.idle();
    for (const text of ['harbour', 'boats at sea']) {
      const r = await call<SearchResponse>(engine, 'search.run', { text, rerank: false });
      const spans = windows(r.results);
      assert.ok(spans.length >= 1, `"${text}" finds the video`);
      assertNoOverlap(spans);
      assert.ok(!spans.some(([start, end]) => start === 0 && Math.abs(end - 40) < 0.5), `"${text}": no card of the whole video beside its moments: ${JSON.stringify(spans)}`);
      assert.equal(new Set(r.results.map((x) => x.itemId)).size, r.results.length);
    }
    // "More like this" on a moment: the rest of the video, as moments, not the moment itself.
    const first = (await call<SearchResponse>(engine, 'search.run', { text: 'harbour', rerank: false })).results[0]!;
    const like = await call<SearchResponse>(engine, 'search.run', { likeItemId: first.itemId, rerank: false });
    assert.ok(!like.results.some((x) => x.itemId === first.itemId), 'the example itself is not a result');
    assertNoOverlap(windows(like.results));
  } finally {
    await engine.close();
  }
});
