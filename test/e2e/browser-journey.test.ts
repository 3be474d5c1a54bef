// The whole product end to end in a real browser: the real `bin/trove.js serve` (engine, tiny
// embedding and reranker packages, SQLite, thumbnails, HTTP + WebSocket) in a child process, the
// built React UI, and Debian chromium driven by playwright-core. A user's journey: the welcome →
// add a folder by typing its path → progress reaches "Up to date" → search by a word from a note
// and by a file-name word → drop one of the library's images → it comes back first → open it in
// the preview, whose image and thumbnails really load → Ctrl-C → start again with the reranker on
// the same data folder: the library is still there and searches are reranked. Screenshots land in
// artifacts/screenshots/. Unlike test/renderer/ui.test.ts nothing is faked.
//
// Why the first run has no reranker: the tiny reranker's weights are random, so with it every
// result scores about 50% in an arbitrary order, and "the note comes first" would test luck. The
// ranking checks run on the tiny embedding model's fused ranking (which does order these files);
// the second run proves the reranker loads and ranks through `trove serve`.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { startFakeHub } from '../support/fake-hub-server.ts';
import { makeTinyCatalog } from '../support/tiny-catalog.ts';
import { buildTinyPackage } from '../support/tiny-package.ts';
import { ARTIFACTS, ensureRendererBuilt, imagesLoaded, killAllServes, launchChromium, newWatchedPage as watchedPage, resultNames, shoot, startServe as startTroveServe, waitUntil, type Serve } from './serve-harness.ts';

/** The library's images: distinct colours and shapes, so the tiny model tells them apart. */
const IMAGES = [
  { name: 'zebra-crossing.png', bg: '#f4f4f4', shapes: '<rect x="0" y="90" width="320" height="60" fill="#202020"/>' + [0, 1, 2, 3, 4].map((i) => `<rect x="${20 + i * 60}" y="90" width="30" height="60" fill="#ffffff"/>`).join('') },
  { name: 'red-barn.png', bg: '#7cc0f0', shapes: '<rect x="90" y="90" width="140" height="110" fill="#c02020"/><polygon points="80,90 160,30 240,90" fill="#801010"/><rect x="0" y="200" width="320" height="40" fill="#40a040"/>' },
  { name: 'sunflower-field.png', bg: '#3060c0', shapes: '<circle cx="160" cy="120" r="70" fill="#f0c000"/><circle cx="160" cy="120" r="30" fill="#603000"/>' },
  { name: 'night-harbour.png', bg: '#101030', shapes: '<circle cx="260" cy="50" r="22" fill="#f0f0d0"/><polygon points="40,200 280,200 240,240 80,240" fill="#a06030"/><rect x="150" y="110" width="8" height="90" fill="#e0e0e0"/>' },
] as const;
const DROPPED_IMAGE = 'zebra-crossing.png';
/** The notes, each with a word nothing else in the library has. */
const NOTES = [
  { name: 'aardvark-facts.md', text: '# Aardvarks\n\nAardvarks dig burrows and eat termites at night, sleeping through the hottest hours.\n' },
  { name: 'lighthouse-keeper.md', text: '# The keeper\n\nEvery evening the lighthouse keeper polished the Fresnel lens before lighting the lamp.\n' },
] as const;
const FILE_COUNT = IMAGES.length + NOTES.length;

let work = '';
let libraryDir = '';
let embeddingPackage = '';
let rerankerPackage = '';
let dataDir = '';
let serve: Serve | undefined;
let browser: Browser | undefined;

async function makeLibrary(): Promise<void> {
  await mkdir(libraryDir, { recursive: true });
  for (const image of IMAGES) {
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="320" height="240"><rect width="320" height="240" fill="${image.bg}"/>${image.shapes}</svg>`;
    await sharp(Buffer.from(svg)).png().toFile(join(libraryDir, image.name));
  }
  for (const note of NOTES) await writeFile(join(libraryDir, note.name), note.text);
}

/** Starts `trove serve` and resolves with the address it prints (with its `#token=`). */
async function startServe(withReranker: boolean): Promise<string> {
  return startServeWith(['--data', dataDir, '--model', embeddingPackage, ...(withReranker ? ['--reranker', rerankerPackage] : [])]);
}

async function startServeWith(args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  serve = await startTroveServe(args, env);
  return serve.url;
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'trove-e2e-'));
  libraryDir = join(work, 'Library');
  const [, embedding, reranker] = await Promise.all([
    ensureRendererBuilt(),
    buildTinyPackage(work, 'embedding'),
    buildTinyPackage(work, 'reranker'),
    makeLibrary(),
  ]);
  embeddingPackage = embedding.packageDir;
  rerankerPackage = reranker.packageDir;
  dataDir = join(work, 'data');
  browser = await launchChromium();
  // A failure picture from an earlier run would mislead whoever reads the artifacts of this one.
  await rm(join(ARTIFACTS, 'e2e-failure.png'), { force: true });
});

after(async () => {
  await browser?.close();
  // Normally stopped (and checked) by the test; this covers a failure halfway.
  await killAllServes();
  if (work) await rm(work, { recursive: true, force: true });
});

/** Ctrl-C, as a user stops `trove serve`: it must close the engine and exit 0. */
async function stopServe(): Promise<void> {
  await serve!.stop();
}

/** A light 1280×800 page whose uncaught errors and console errors/warnings are collected. */
function newWatchedPage() {
  return watchedPage(browser!);
}

// Normally 20–35 s on 2 cores; the limit leaves room for a loaded CI machine.
test('a user indexes a folder and searches it by text and by image in a real browser against trove serve', { timeout: 150_000 }, async () => {
  const { context, page, pageErrors } = await newWatchedPage();
  try {
    await firstRun(page, await startServe(false));
    assert.deepEqual(pageErrors, [], 'no uncaught errors or console errors/warnings in the page (first run)');
    // Leave the page before stopping the server: an open page would log its (expected) failed
    // reconnects as console errors, which are chromium's, not the app's.
    await page.goto('about:blank');
    await stopServe();
    await restartedWithReranker(page, await startServe(true));
    assert.deepEqual(pageErrors, [], 'no uncaught errors or console errors/warnings in the page (after the restart)');
    await page.goto('about:blank');
  } catch (error) {
    // What the user would have seen when it went wrong, next to the step screenshots.
    await page.screenshot({ path: join(ARTIFACTS, 'e2e-failure.png') }).catch(() => undefined);
    throw error;
  }
  await context.close();
  await stopServe();
});

// The first run of a user with no model: `trove serve` with nothing but a data folder, its hub a
// local server in the Hugging Face layout (HF_ENDPOINT) serving the tiny checkpoints of the tiny
// catalog (TROVE_MODEL_CATALOG). The welcome asks for a folder, keyword search works while there
// is no model, then the recommended models are downloaded, verified, built and activated from the
// welcome's step 2 with visible progress, and semantic search starts — nothing faked in between.
test('a new user gets the recommended model from the hub in the welcome flow, searching by keyword meanwhile', { timeout: 240_000 }, async () => {
  const catalog = await makeTinyCatalog(join(work, 'catalog'));
  const hub = await startFakeHub({ repos: catalog.repos });
  const { context, page, pageErrors } = await newWatchedPage();
  try {
    // The tiny files download in a blink; slowed down, the progress is there to be seen.
    hub.slow('model.safetensors', 64 * 1024, 40);
    const url = await startServeWith(['--data', join(work, 'data-first-run')], {
      HF_ENDPOINT: hub.url,
      HF_HUB_CACHE: join(work, 'empty-hf-cache'),
      TROVE_MODEL_CATALOG: catalog.file,
    });
    await page.goto(url);
    await page.getByRole('heading', { name: 'Add a folder to start' }).waitFor();
    await page.getByTestId('folder-path-input').fill(libraryDir);
    await page.getByRole('button', { name: 'Add folder' }).click();

    // Step 2 offers the recommendation for this machine, with its reason and hardware line.
    await page.getByRole('heading', { name: 'Next, the search model' }).waitFor();
    const offer = page.getByTestId('model-recommendation');
    assert.match(await offer.innerText(), /Tiny Embedding A \+ Tiny Reranker/);
    assert.match(await page.getByTestId('hardware-line').innerText(), /^Running on your CPU/);
    await shoot(page, 'first-run-model', 'first-run-model');

    await offer.getByRole('button', { name: 'Download and set up' }).click();
    const task = page.getByTestId('setup-task');
    await task.waitFor();
    // Bytes arrive with a rate: the download's progress bar moves.
    await page.getByTestId('setup-stats').filter({ hasText: / of [\d.]+ (KB|MB)/ }).waitFor({ timeout: 60_000 });
    // No model is in use yet: the setup says what search does meanwhile, as the search page does.
    assert.match(await page.getByTestId('setup-meanwhile').innerText(), /^Names, paths and text are searchable now/);
    await shoot(page, 'first-run-download', 'first-run-download');

    // Meanwhile the library is indexed by name and text: the user searches while waiting, by keyword,
    // and the search page says so, with the download's progress.
    await task.getByRole('button', { name: 'Search while you wait' }).click();
    const input = page.getByRole('searchbox', { name: 'Search' });
    await input.waitFor();
    const notice = page.getByTestId('keyword-only-notice');
    await notice.waitFor();
    // The notes are read by then (names and text need no model); an open search is not re-run
    // when files arrive, so on a loaded machine the query waits for them.
    await page.getByTestId('sidebar-counts').filter({ hasText: `${FILE_COUNT} of ${FILE_COUNT} files indexed` }).waitFor({ timeout: 60_000 });
    await input.fill('termites');
    await waitUntil(
      async () => (await resultNames(page))[0] === 'aardvark-facts.md',
      async () => `aardvark-facts.md comes first for "termites" by keyword (results: ${(await resultNames(page)).join(', ')})`,
      60_000,
    );
    assert.match(await page.getByRole('status').filter({ hasText: /\d+ results?/ }).innerText(), /keyword only: no embedding model yet/);
    await shoot(page, 'first-run-keyword-meanwhile', 'first-run-keyword-only');

    // Once the model is built and active, the notice goes and the same search is semantic too.
    await notice.waitFor({ state: 'detached', timeout: 150_000 });
    await page.getByTestId('sidebar-indicator').filter({ hasText: `${FILE_COUNT} of ${FILE_COUNT} files` }).waitFor({ timeout: 60_000 });
    await input.fill('');
    await input.fill('termites');
    await page.getByRole('status').filter({ hasText: /semantic \+ keyword/ }).waitFor();
    // The recommended pair includes the tiny reranker, whose random weights put every result near
    // 50 % in an arbitrary order: the note is among the results, with its word marked.
    const noteCard = page.getByTestId('result-card').filter({ hasText: 'aardvark-facts.md' });
    assert.deepEqual(await noteCard.locator('mark').allInnerTexts(), ['termites']);
    assert.equal(await page.getByTestId('keyword-only-notice').count(), 0, 'with the model in use, search is not keyword-only');
    assert.ok(hub.fileRequests().length > 0, 'the model files came from the hub');
    await shoot(page, 'first-run-searching');
    assert.deepEqual(pageErrors, [], 'no uncaught errors or console errors/warnings in the page');
    await page.goto('about:blank');
  } catch (error) {
    await page.screenshot({ path: join(ARTIFACTS, 'e2e-first-run-failure.png') }).catch(() => undefined);
    throw error;
  } finally {
    await context.close();
    await serve?.stop();
    await hub.close();
  }
});

async function firstRun(page: Page, serverUrl: string): Promise<void> {
  await page.goto(serverUrl);

  // A fresh data folder: the welcome asks for a folder.
  await page.getByRole('heading', { name: 'Add a folder to start' }).waitFor();
  assert.equal(new URL(page.url()).hash, '', 'the token is removed from the address bar');
  await shoot(page, 'welcome');

  // Add the library by typing its path, as a user of the browser UI does.
  await page.getByTestId('folder-path-input').fill(libraryDir);
  await page.getByRole('button', { name: 'Add folder' }).click();
  const input = page.getByRole('searchbox', { name: 'Search' });
  await input.waitFor();

  // Progress reaches done: every file indexed, and the indexing view says so.
  const indicator = page.getByTestId('sidebar-indicator');
  await indicator.filter({ hasText: `${FILE_COUNT} of ${FILE_COUNT} files` }).waitFor({ timeout: 45_000 });
  await indicator.click();
  const overall = page.getByTestId('indexing-overall');
  await overall.getByRole('heading', { name: 'Up to date' }).waitFor();
  assert.match(await overall.innerText(), new RegExp(`${FILE_COUNT} of ${FILE_COUNT} files`));
  assert.equal(await page.getByTestId('failure-row').count(), 0, 'no file failed to index');
  await shoot(page, 'indexed');

  // Search by a word only one note has: that note comes first, with its passage and the word marked.
  await page.keyboard.press('Control+K');
  await input.fill('termites');
  const cards = page.getByTestId('result-card');
  await waitUntil(
    async () => (await resultNames(page))[0] === 'aardvark-facts.md',
    async () => `aardvark-facts.md comes first for "termites" (results: ${(await resultNames(page)).join(', ')})`,
  );
  assert.match(await page.getByRole('status').filter({ hasText: 'results' }).innerText(), /semantic \+ keyword/);
  const noteCard = cards.first();
  assert.match(await noteCard.locator('.result-card__snippet').innerText(), /dig burrows and eat termites at night/);
  assert.deepEqual(await noteCard.locator('mark').allInnerTexts(), ['termites'], 'the snippet marks the query word');
  await shoot(page, 'text-search');

  // Search by a file-name word: the image of that name comes first, its thumbnail served by /media/thumb/.
  await input.fill('zebra');
  await waitUntil(
    async () => (await resultNames(page))[0] === DROPPED_IMAGE,
    async () => `${DROPPED_IMAGE} comes first for "zebra" (results: ${(await resultNames(page)).join(', ')})`,
  );
  assert.match((await cards.first().locator('img').getAttribute('src')) ?? '', /\/media\/thumb\/\d+\?token=/);
  await waitUntil(() => imagesLoaded(page, '[data-testid="result-card"] img'), () => 'every result thumbnail has loaded');
  await shoot(page, 'filename-search');

  // Drop one of the library's own images on the search bar (a synthetic drop carrying it as a File):
  // with no text, the image alone is the query, and the same image comes back first.
  await input.fill('');
  const droppedBase64 = readFileSync(join(libraryDir, DROPPED_IMAGE)).toString('base64');
  await page.evaluate(`(() => {
    const bytes = Uint8Array.from(atob(${JSON.stringify(droppedBase64)}), (c) => c.charCodeAt(0));
    const transfer = new DataTransfer();
    transfer.items.add(new File([bytes], ${JSON.stringify(DROPPED_IMAGE)}, { type: 'image/png' }));
    document.querySelector('[data-testid="search-bar"]').dispatchEvent(new DragEvent('drop', { bubbles: true, cancelable: true, dataTransfer: transfer }));
  })()`);
  await page.getByTestId('image-chip').filter({ hasText: DROPPED_IMAGE }).waitFor();
  await waitUntil(
    // The answer to the image alone says "semantic" without "+ keyword"; until then the grid may
    // still show the "zebra" answer, which has the same image first.
    async () => /semantic · /.test(await page.getByRole('status').filter({ hasText: 'results' }).innerText()) && (await resultNames(page))[0] === DROPPED_IMAGE,
    async () => `the dropped ${DROPPED_IMAGE} finds itself first (results: ${(await resultNames(page)).join(', ')})`,
  );
  await waitUntil(() => imagesLoaded(page, '[data-testid="result-card"] img'), () => 'every result thumbnail has loaded');
  await shoot(page, 'image-search');

  // Open the top result: the preview names it and shows the real file, loaded from /media/file/.
  await cards.first().click();
  const preview = page.getByTestId('preview');
  await preview.getByRole('heading', { name: DROPPED_IMAGE }).waitFor();
  await waitUntil(async () => (await cards.first().getAttribute('aria-selected')) === 'true', () => 'the opened card is selected');
  const previewImage = preview.getByTestId('preview-image');
  assert.match((await previewImage.getAttribute('src')) ?? '', /\/media\/file\/\d+\?token=/, 'the preview shows the file itself, not the thumbnail fallback');
  await waitUntil(() => imagesLoaded(page, '[data-testid="preview-image"]'), () => 'the preview image has loaded');
  assert.equal(await page.evaluate<number>(`document.querySelector('[data-testid="preview-image"]').naturalWidth`), 320, 'the preview is the full-size file');
  assert.ok((await preview.innerText()).includes(join(libraryDir, DROPPED_IMAGE)), 'the preview says where the file is');
  await shoot(page, 'preview', 'real-search-light');

  // The same screen in the dark palette, for the README.
  await page.emulateMedia({ colorScheme: 'dark' });
  await waitUntil(async () => (await page.evaluate<string>(`getComputedStyle(document.body).backgroundColor`)) === 'rgb(27, 27, 30)', () => 'the dark palette follows prefers-color-scheme');
  await shoot(page, 'preview-dark', 'real-search-dark');
  await page.emulateMedia({ colorScheme: 'light' });
}

/** After Ctrl-C, `trove serve` again on the same data folder, now with the reranker. */
async function restartedWithReranker(page: Page, serverUrl: string): Promise<void> {
  await page.goto(serverUrl);
  // The library survived the restart: no welcome, nothing to index again.
  const input = page.getByRole('searchbox', { name: 'Search' });
  await input.waitFor();
  await page.getByTestId('sidebar-indicator').filter({ hasText: `${FILE_COUNT} of ${FILE_COUNT} files` }).waitFor();
  await input.fill('lighthouse');
  const summary = page.getByRole('status').filter({ hasText: 'results' });
  await summary.filter({ hasText: 'semantic + keyword, reranked' }).waitFor();
  const noteCard = page.getByTestId('result-card').filter({ hasText: 'lighthouse-keeper.md' });
  assert.match(await noteCard.locator('.result-card__snippet').innerText(), /polished the Fresnel lens/);
  await waitUntil(() => imagesLoaded(page, '[data-testid="result-card"] img'), () => 'every result thumbnail has loaded');
  await shoot(page, 'reranked-search');
}
