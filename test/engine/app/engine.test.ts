// The engine end to end on real parts: tiny model packages in a worker, real SQLite in temp data
// folders, sharp-made images, real chokidar. Checks the promises the product makes: an image finds
// itself, a file-name word finds its file, a rename re-embeds nothing, a delete leaves no trace.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { meetsCutoff } from '../../../electron/contract/common/relevance.ts';
import { dispatchApiCall } from '../../../electron/contract/common/trove-api.ts';
import type { FileFailures, IndexingProgress, SearchResponse, Status } from '../../../electron/contract/common/entities.ts';
import { openTroveEngine } from '../../../electron/engine/app/node/trove-engine.ts';
import type { TroveEngine } from '../../../electron/engine/app/node/trove-engine-types.ts';
import { handWrittenPdf } from '../extract/pdf-fixtures.ts';
import { buildTinyPackage } from '../../support/tiny-package.ts';

process.env.TROVE_EP = 'cpu';
let dir = '';
let embeddingPackage = '';
let rerankerPackage = '';

const COLOURS = ['#d01010', '#10a020', '#1030d0', '#e0c000', '#a000c0', '#00b0b0'];

async function makeImage(file: string, seed: number): Promise<void> {
  const bg = COLOURS[seed % COLOURS.length]!;
  const fg = COLOURS[(seed * 7 + 3) % COLOURS.length]!;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="96" height="64"><rect width="96" height="64" fill="${bg}"/>
    <circle cx="${20 + seed * 9}" cy="${16 + seed * 5}" r="${8 + seed * 2}" fill="${fg}"/><rect x="${60 - seed * 6}" y="40" width="${10 + seed * 3}" height="14" fill="#fff"/></svg>`;
  await sharp(Buffer.from(svg)).png().toFile(file);
}

async function makeLibrary(name: string): Promise<string> {
  const folder = path.join(dir, name);
  await mkdir(path.join(folder, 'notes'), { recursive: true });
  for (let i = 0; i < 5; i++) await makeImage(path.join(folder, `photo-${i}.png`), i);
  await writeFile(path.join(folder, 'notes', 'zebra-migration.md'), '# Serengeti\n\nThe wildebeest crossing happens every summer near the Mara river.\n');
  await writeFile(path.join(folder, 'notes', 'recipes.md'), '# Pancakes\n\nWhisk flour, eggs and buttermilk. Fry in butter until golden.\n');
  await writeFile(path.join(folder, 'broken.jpg'), Buffer.from('this is not a jpeg at all'));
  return folder;
}

const call = <T>(engine: TroveEngine, method: string, params: unknown) => dispatchApiCall(engine.handlers, method, params) as Promise<T>;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'trove-engine-'));
  ({ packageDir: embeddingPackage } = await buildTinyPackage(dir, 'embedding'));
  ({ packageDir: rerankerPackage } = await buildTinyPackage(dir, 'reranker'));
});
after(() => rm(dir, { recursive: true, force: true }));

test('indexes a folder, searches it, follows renames and deletes without re-embedding', async () => {
  const folder = await makeLibrary('lib-a');
  let embedded = 0;
  const engine = await openTroveEngine(
    { dataDir: path.join(dir, 'data-a'), embeddingModel: embeddingPackage, rerankerModel: rerankerPackage, watch: false },
    { observeModelCalls: (kind, n) => void (kind === 'embed' && (embedded += n)) },
  );
  try {
    const progress: IndexingProgress[] = [];
    engine.on('indexing.progress', (p) => progress.push(p));
    const root = await call<{ id: number }>(engine, 'roots.add', { path: folder });
    await engine.idle();

    const status = await call<Status>(engine, 'status.get', {});
    assert.deepEqual(status.files, { total: 8, indexed: 7, failed: 1, pending: 0 });
    assert.equal(status.indexing.byKind.image.total, 6);
    assert.equal(Object.keys(status.indexing.byKind).length, 5);
    assert.equal(status.vectors, status.items, 'every item of an image or text chunk has a vector');
    assert.equal(status.ann.count, status.vectors);
    assert.ok(status.model.embedding && status.model.executionProvider === 'cpu', status.model.statement);
    // Progress events are coalesced (a few a second), so the last one may come just after idle():
    // it must come, and say what status.get says.
    const deadline = Date.now() + 5_000;
    while (progress.at(-1)?.state !== 'idle' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(progress.at(-1)?.state, 'idle', `the last progress event says idle (states: ${progress.map((p) => p.state).join(', ')})`);
    assert.deepEqual(progress.at(-1)?.files, status.files, 'and counts what status.get counts');

    const { total, failures } = await call<FileFailures>(engine, 'files.failures', {});
    assert.equal(total, 1);
    assert.equal(failures.length, 1);
    assert.match(failures[0]!.path, /broken\.jpg$/);
    assert.match(failures[0]!.reason, /decode|corrupt|supported/i);

    // An image queried by itself ranks first (without the tiny reranker, whose weights are random).
    for (const i of [0, 3]) {
      const image = path.join(folder, `photo-${i}.png`);
      const r = await call<SearchResponse>(engine, 'search.run', { image: { path: image }, rerank: false });
      assert.equal(r.results[0]!.path, image, `photo-${i} should find itself first: ${r.results.map((x) => path.basename(x.path)).join(', ')}`);
      assert.equal(r.mode, 'semantic');
    }
    // The same with the image as bytes (drop / paste).
    const bytes = (await sharp(path.join(folder, 'photo-2.png')).png().toBuffer()).toString('base64');
    const dropped = await call<SearchResponse>(engine, 'search.run', { image: { dataBase64: bytes, mime: 'image/png' }, rerank: false });
    assert.equal(path.basename(dropped.results[0]!.path), 'photo-2.png');

    // A file-name word finds its file through keyword search; text results carry snippets.
    const zebra = await call<SearchResponse>(engine, 'search.run', { text: 'zebra', rerank: false });
    assert.match(zebra.results[0]!.path, /zebra-migration\.md$/);
    assert.ok(zebra.results[0]!.sources.includes('keyword'));
    assert.equal(zebra.results[0]!.locator.type, 'text');
    assert.match((zebra.results[0]!.locator as { snippet: string }).snippet, /wildebeest/);
    assert.equal(zebra.mode, 'semantic + keyword');
    // The shown percentages follow the order, so a cut-off trims the tail only.
    zebra.results.forEach((r, i) => i > 0 && assert.ok(r.score <= zebra.results[i - 1]!.score, `score rises at ${i}: ${zebra.results.map((x) => x.score).join(', ')}`));
    const cutoff = zebra.results[Math.floor(zebra.results.length / 2)]!.score;
    const cut = await call<SearchResponse>(engine, 'search.run', { text: 'zebra', rerank: false, cutoff });
    // Kept: the cards whose shown percentage is at or above the cut-off's (contract/common/relevance.ts).
    const expected = zebra.results.filter((r) => meetsCutoff(r.score, cutoff)).map((r) => r.itemId);
    assert.deepEqual(cut.results.map((r) => r.itemId), expected);
    assert.deepEqual(expected, zebra.results.slice(0, expected.length).map((r) => r.itemId), 'the cut-off keeps a prefix of the list');

    // Kind filters apply during the search.
    const onlyText = await call<SearchResponse>(engine, 'search.run', { text: 'pancakes butter', filters: { kinds: ['text'] }, rerank: false });
    assert.ok(onlyText.results.length > 0 && onlyText.results.every((r) => r.kind === 'text'));
    assert.match(onlyText.results[0]!.path, /recipes\.md$/);

    // Reranked: scores are the reranker's probabilities.
    const reranked = await call<SearchResponse>(engine, 'search.run', { text: 'pancakes' });
    assert.equal(reranked.mode, 'semantic + keyword, reranked');
    assert.ok(reranked.results.some((r) => r.sources.includes('reranked')));
    assert.ok(reranked.results.every((r) => r.score >= 0 && r.score <= 1));

    // items.get, media and not-found.
    const first = zebra.results[0]!;
    const detail = await call<{ text: string | null }>(engine, 'items.get', { id: first.itemId });
    assert.match(detail.text ?? '', /Mara river/);
    await assert.rejects(call(engine, 'items.get', { id: 999_999 }), /no item/);
    const photoHit = (await call<SearchResponse>(engine, 'search.run', { text: 'photo', rerank: false })).results.find((r) => r.kind === 'image')!;
    assert.equal((await engine.media.thumbnail(photoHit.itemId))?.mime, 'image/webp');
    assert.equal(await engine.media.filePath(photoHit.itemId), photoHit.path);

    // Rename: same item id, nothing embedded again.
    const before = await call<SearchResponse>(engine, 'search.run', { text: 'recipes', filters: { kinds: ['text'] }, rerank: false });
    const recipeItem = before.results[0]!.itemId;
    const embeddedBefore = embedded;
    assert.ok(embeddedBefore >= 7, 'documents were embedded while indexing');
    const vectorsBefore = (await call<Status>(engine, 'status.get', {})).vectors;
    await rename(path.join(folder, 'notes', 'recipes.md'), path.join(folder, 'notes', 'breakfast-ideas.md'));
    await rm(path.join(folder, 'photo-4.png'));
    await assert.rejects(call(engine, 'roots.remove', { id: -1 }), /no folder/);
    // Without watching, the engine reconciles its folders when it opens (as after a restart).
    await engine.close();
    const again = await openTroveEngine(
      { dataDir: path.join(dir, 'data-a'), embeddingModel: embeddingPackage, watch: false },
      { observeModelCalls: (kind, n) => void (kind === 'embed' && (embedded += n)) },
    );
    try {
      await again.idle();
      assert.equal(embedded, embeddedBefore, 'indexing after the rename embedded nothing (query embeddings come after)');
      const moved = await call<SearchResponse>(again, 'search.run', { text: 'breakfast', rerank: false });
      assert.equal(moved.results[0]!.itemId, recipeItem, 'the renamed file keeps its item');
      const s = await call<Status>(again, 'status.get', {});
      assert.equal(s.vectors, vectorsBefore - 1, 'the deleted photo took its vector with it');
      assert.equal(s.ann.count, s.vectors, 'the ANN index forgot the deleted vector');
      const gone = await call<SearchResponse>(again, 'search.run', { text: 'photo', rerank: false, limit: 100 });
      assert.ok(!gone.results.some((r) => r.path.endsWith('photo-4.png')));
      await call(again, 'roots.remove', { id: root.id });
      assert.equal((await call<Status>(again, 'status.get', {})).files.total, 0);
    } finally {
      await again.close();
    }
  } finally {
    await engine.close();
  }
});

test('without a model, keyword search works and says so', async () => {
  const folder = await makeLibrary('lib-b');
  const engine = await openTroveEngine({ dataDir: path.join(dir, 'data-b'), watch: false });
  try {
    await call(engine, 'roots.add', { path: folder });
    await engine.idle();
    const status = await call<Status>(engine, 'status.get', {});
    assert.equal(status.files.indexed, 7);
    assert.equal(status.vectors, 0);
    assert.equal(status.model.embedding, null);
    const r = await call<SearchResponse>(engine, 'search.run', { text: 'zebra' });
    assert.match(r.results[0]!.path, /zebra-migration\.md$/);
    assert.equal(r.mode, 'keyword only: no embedding model yet');
    await assert.rejects(call(engine, 'search.run', { image: { path: path.join(folder, 'photo-0.png') } }), /needs an embedding model/);
  } finally {
    await engine.close();
  }
});

test('with watching on, a file added to the folder is indexed without a rescan', async () => {
  const folder = await makeLibrary('lib-c');
  const engine = await openTroveEngine({ dataDir: path.join(dir, 'data-c'), embeddingModel: embeddingPackage, watch: true });
  try {
    await call(engine, 'roots.add', { path: folder });
    await engine.idle();
    await writeFile(path.join(folder, 'notes', 'kilimanjaro-trek.md'), 'Summit night on Kilimanjaro starts at midnight.\n');
    const deadline = Date.now() + 15_000;
    let found: SearchResponse | null = null;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      await engine.idle();
      found = await call<SearchResponse>(engine, 'search.run', { text: 'kilimanjaro', rerank: false });
      if (found.results.some((x) => x.path.endsWith('kilimanjaro-trek.md'))) break;
    }
    assert.ok(found?.results.some((x) => x.path.endsWith('kilimanjaro-trek.md')), 'the new note was indexed by the watcher');
    const s = await call<Status>(engine, 'status.get', {});
    assert.equal(s.ann.count, s.vectors);
  } finally {
    await engine.close();
  }
});

test('a PDF is indexed page by page: keyword hits carry the page, pages are embedded as images', async () => {
  const folder = path.join(dir, 'lib-pdf');
  await mkdir(folder, { recursive: true });
  const page = (text: string) => ({ width: 300, height: 200, content: `BT /F1 18 Tf 20 100 Td (${text}) Tj ET` });
  await writeFile(path.join(folder, 'field-guide.pdf'), handWrittenPdf([page('Puffins nest on cliffs'), page('Gannets dive for mackerel')]));
  const engine = await openTroveEngine({ dataDir: path.join(dir, 'data-pdf'), embeddingModel: embeddingPackage, watch: false });
  try {
    await call(engine, 'roots.add', { path: folder });
    await engine.idle();
    const s = await call<Status>(engine, 'status.get', {});
    assert.deepEqual([s.files.indexed, s.items, s.vectors], [1, 2, 2], 'one file, two page items, each with a vector');
    const r = await call<SearchResponse>(engine, 'search.run', { text: 'mackerel', rerank: false });
    assert.equal(r.results[0]!.kind, 'pdf');
    assert.deepEqual(r.results[0]!.locator, { type: 'page', page: 2 });
  } finally {
    await engine.close();
  }
});

test('a video becomes moments plus the whole video, each embedded as a clip with a time locator', async () => {
  const folder = path.join(dir, 'lib-video');
  await mkdir(folder, { recursive: true });
  // 40 s → three equal moments of 13.3 s (≤ 16 s each) and the whole-video item.
  await new Promise<void>((resolve, reject) =>
    execFile('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=4:duration=40', '-pix_fmt', 'yuv420p', '-y', path.join(folder, 'harbour-walk.mp4')], (e) => (e ? reject(e) : resolve())),
  );
  const engine = await openTroveEngine({ dataDir: path.join(dir, 'data-video'), embeddingModel: embeddingPackage, watch: false });
  try {
    await call(engine, 'roots.add', { path: folder });
    await engine.idle();
    const s = await call<Status>(engine, 'status.get', {});
    assert.deepEqual([s.files.indexed, s.items, s.vectors], [1, 4, 4]);
    const r = await call<SearchResponse>(engine, 'search.run', { text: 'harbour', rerank: false });
    // The whole video is found too but shows as its best moment: one card per moment (test/engine/search/video-moments.test.ts).
    const locators = r.results.filter((x) => x.kind === 'video').map((x) => x.locator);
    assert.equal(locators.length, 3);
    for (const l of locators) assert.equal(l.type, 'time');
    const ends = locators.map((l) => (l.type === 'time' ? l.end : -1)).sort((a, b) => a - b);
    assert.ok(Math.abs(ends[ends.length - 1]! - 40) < 0.5, `the last moment ends at the video's duration: ${ends.join(', ')}`);
  } finally {
    await engine.close();
  }
});
