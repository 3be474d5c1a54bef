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
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import sharp from 'sharp';
import { build } from 'vite';
import { startFakeHub } from '../support/fake-hub-server.ts';
import { makeTinyCatalog } from '../support/tiny-catalog.ts';
import { buildTinyPackage } from '../support/tiny-package.ts';

const REPO = new URL('../../', import.meta.url).pathname;
const CHROMIUM = process.env.TROVE_CHROMIUM ?? '/usr/bin/chromium';
const RENDERER_DIST_INDEX = join(REPO, 'renderer/dist/index.html');
/** What the built renderer is made from: a change to any of these makes renderer/dist stale. */
const RENDERER_SOURCES = ['renderer/src', 'renderer/public', 'renderer/index.html', 'renderer/vite.config.ts', 'electron/contract'].map((p) => join(REPO, p));
const ARTIFACTS = join(REPO, 'artifacts', 'screenshots');
/** Set to refresh docs/screenshots/real-search-{light,dark}.png from this run. */
const UPDATE_DOCS = process.env.TROVE_UPDATE_DOCS_SCREENSHOTS === '1';
const DOCS_SCREENSHOT_MAX_BYTES = 300 * 1024;

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
let serve: ChildProcess | undefined;
let serveExit: Promise<number | null> | undefined;
let serveStderr = '';
let browser: Browser | undefined;

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newestMtime(join(path, name))));
}

/** `trove serve` hosts the real renderer/dist, so build it there unless it is newer than its sources. */
async function ensureRendererBuilt(): Promise<void> {
  const builtAt = existsSync(RENDERER_DIST_INDEX) ? statSync(RENDERER_DIST_INDEX).mtimeMs : 0;
  if (builtAt > Math.max(...RENDERER_SOURCES.map(newestMtime))) return;
  await build({ configFile: join(REPO, 'renderer/vite.config.ts'), logLevel: 'warn' });
}

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
  const child = spawn(process.execPath, [join(REPO, 'bin/trove.js'), 'serve', '--port', '0', ...args], {
    cwd: REPO,
    env: { ...process.env, TROVE_EP: 'cpu', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  serve = child;
  serveStderr = '';
  serveExit = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (serveStderr += chunk));
  let stdout = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`trove serve printed no address within 30 s; stdout: ${stdout}; stderr: ${serveStderr}`)), 30_000);
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const printed = /Trove is running at (http:\/\/\S+#token=\S+)/.exec(stdout);
      if (printed) {
        clearTimeout(timer);
        resolve(printed[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`trove serve exited with ${code} before printing its address; stderr: ${serveStderr}`));
    });
  });
}

before(async () => {
  // No skip: this is the one test that proves the product works in a browser, so CI must have it.
  assert.ok(existsSync(CHROMIUM), `no chromium at ${CHROMIUM}: install it (apt-get install chromium) or set TROVE_CHROMIUM`);
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
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-gpu'],
  });
  mkdirSync(ARTIFACTS, { recursive: true });
  // A failure picture from an earlier run would mislead whoever reads the artifacts of this one.
  rmSync(join(ARTIFACTS, 'e2e-failure.png'), { force: true });
});

after(async () => {
  await browser?.close();
  // Normally stopped (and checked) by the test; this covers a failure halfway.
  if (serve && serve.exitCode === null && serve.signalCode === null) {
    serve.kill('SIGKILL');
    await serveExit;
  }
  if (work) await rm(work, { recursive: true, force: true });
});

async function shoot(page: Page, name: string, docsName?: string): Promise<void> {
  // Steady pictures: no toast over the content, no colour transition caught halfway.
  for (const dismiss of await page.getByRole('button', { name: 'Dismiss' }).all()) await dismiss.click();
  // A transition replaced by a newer one (a progress bar moving on) rejects its `finished`: that is fine.
  await page.evaluate(`Promise.all(document.getAnimations().filter((a) => a instanceof CSSTransition).map((a) => a.finished.catch(() => undefined)))`);
  await page.screenshot({ path: join(ARTIFACTS, `e2e-${name}.png`) });
  if (docsName && UPDATE_DOCS) {
    const file = join(REPO, 'docs/screenshots', `${docsName}.png`);
    mkdirSync(join(REPO, 'docs/screenshots'), { recursive: true });
    await page.screenshot({ path: file });
    const size = statSync(file).size;
    assert.ok(size < DOCS_SCREENSHOT_MAX_BYTES, `${file} is ${size} bytes; the README's screenshots stay under ${DOCS_SCREENSHOT_MAX_BYTES}`);
  }
}

/** Whether every <img> the selector matches has loaded real pixels (a broken or 401 image has naturalWidth 0). */
function imagesLoaded(page: Page, selector: string): Promise<boolean> {
  return page.evaluate<boolean>(`(() => {
    const images = [...document.querySelectorAll(${JSON.stringify(selector)})];
    return images.length > 0 && images.every((img) => img.complete && img.naturalWidth > 0);
  })()`);
}

/** Polls `check`; `what` is built on failure, so it can describe the page as it ended up. */
async function waitUntil(check: () => Promise<boolean>, what: () => string | Promise<string>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`timed out waiting until ${await what()}`);
}

/** Ctrl-C, as a user stops `trove serve`: it must close the engine and exit 0. */
async function stopServe(): Promise<void> {
  serve!.kill('SIGINT');
  const exitCode = await serveExit;
  assert.equal(exitCode, 0, `trove serve exited with ${exitCode} after SIGINT; stderr: ${serveStderr}`);
}

/** A light 1280×800 page whose uncaught errors and console errors/warnings are collected. */
async function newWatchedPage(): Promise<{ context: BrowserContext; page: Page; pageErrors: string[] }> {
  const context = await browser!.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light', deviceScaleFactor: 1 });
  context.setDefaultTimeout(20_000);
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') pageErrors.push(`console.${m.type()}: ${m.text()} at ${m.location().url}`);
  });
  return { context, page, pageErrors };
}

/** The names on the result cards, best first. */
function resultNames(page: Page): Promise<string[]> {
  return page.getByTestId('result-card').locator('.result-card__name').allInnerTexts();
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
    assert.match(await page.getByTestId('hardware-line').innerText(), /runs on (the )?CPU/i);
    await shoot(page, 'first-run-model');

    await offer.getByRole('button', { name: 'Download and set up' }).click();
    const task = page.getByTestId('setup-task');
    await task.waitFor();
    // Bytes arrive with a rate: the download's progress bar moves.
    await page.getByTestId('setup-stats').filter({ hasText: / of [\d.]+ (KB|MB)/ }).waitFor({ timeout: 60_000 });
    await shoot(page, 'first-run-download');

    // Meanwhile the library is indexed by name and text: the user searches while waiting, by keyword,
    // and the search page says so, with the download's progress.
    await task.getByRole('button', { name: 'Search while you wait' }).click();
    const input = page.getByRole('searchbox', { name: 'Search' });
    await input.waitFor();
    const notice = page.getByTestId('keyword-only-notice');
    await notice.waitFor();
    await input.fill('termites');
    await waitUntil(
      async () => (await resultNames(page))[0] === 'aardvark-facts.md',
      async () => `aardvark-facts.md comes first for "termites" by keyword (results: ${(await resultNames(page)).join(', ')})`,
      60_000,
    );
    assert.match(await page.getByRole('status').filter({ hasText: /\d+ results?/ }).innerText(), /keyword only: no embedding model yet/);
    await shoot(page, 'first-run-keyword-meanwhile');

    // Once the model is built and active, the notice goes and the same search is semantic too.
    await notice.waitFor({ state: 'detached', timeout: 150_000 });
    await page.getByTestId('sidebar-indicator').filter({ hasText: `${FILE_COUNT} of ${FILE_COUNT} files` }).waitFor({ timeout: 60_000 });
    await input.fill('');
    await input.fill('termites');
    await page.getByRole('status').filter({ hasText: /semantic \+ keyword/ }).waitFor();
    assert.equal((await resultNames(page))[0], 'aardvark-facts.md');
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
    if (serve && serve.exitCode === null && serve.signalCode === null) await stopServe();
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
