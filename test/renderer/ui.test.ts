// The React UI in a real browser (Debian chromium through playwright-core), built with Vite and
// served by the real `trove serve` HTTP + WebSocket server in front of a fake engine. The journey:
// first run → add a folder → progress events → search → scores → keyboard → preview → quick look
// → open → drop and paste an image → light and dark themes → keyword-only notice. The engine is
// faked on purpose: this proves the UI and its wire format, not search quality.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { ApiMethod } from '../../electron/contract/common/api-methods.ts';
import { startApiServer, type ApiServer } from '../../electron/server/node/api-server.ts';
import { createFakeEngine, NO_MODEL } from '../support/fake-engine.ts';
import { buildRenderer, launchChromium, pageErrors as collectPageErrors, shoot, skip, waitForCall as waitForEngineCall, waitUntil } from './ui-harness.ts';

/** The folder the user adds in the journey (the fake engine serves files from a temp folder). */
const SHOWN_ROOT = '/home/ada/Pictures';
/** A 2×2 PNG, as a user would drop or paste it. */
const PNG_BASE64 = 'iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP4z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==';

let work: string;
let server: ApiServer;
let browser: Browser;
let engine: ReturnType<typeof createFakeEngine>;

before(async () => {
  if (skip) return;
  work = mkdtempSync(join(tmpdir(), 'trove-ui-'));
  const outDir = join(work, 'dist');
  const libraryDir = join(work, 'Pictures');
  mkdirSync(libraryDir);
  await buildRenderer(outDir);
  engine = createFakeEngine(libraryDir, SHOWN_ROOT);
  server = await startApiServer({ handlers: engine.handlers, events: engine.events, media: engine.media, staticDir: outDir });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

function waitForCall(method: ApiMethod, matches: (params: Record<string, unknown>) => boolean, what: string) {
  return waitForEngineCall(engine, method, matches, what);
}

/**
 * Dispatches a synthetic drop (on the search bar) or paste (in the box) carrying a PNG File, as the
 * browser would for a real one. Written as browser source: the Node project has no DOM types.
 */
async function sendImage(page: Page, selector: string, how: 'drop' | 'paste', name: string) {
  await page.evaluate(`(() => {
    const bytes = Uint8Array.from(atob(${JSON.stringify(PNG_BASE64)}), (c) => c.charCodeAt(0));
    const transfer = new DataTransfer();
    transfer.items.add(new File([bytes], ${JSON.stringify(name)}, { type: 'image/png' }));
    const init = { bubbles: true, cancelable: true };
    const event = ${JSON.stringify(how)} === 'drop'
      ? new DragEvent('drop', { ...init, dataTransfer: transfer })
      : new ClipboardEvent('paste', { ...init, clipboardData: transfer });
    document.querySelector(${JSON.stringify(selector)}).dispatchEvent(event);
  })()`);
}

test('the UI journey: first run, add a folder, progress, search, keyboard, preview, image query, themes', { skip, timeout: 60_000 }, async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light', deviceScaleFactor: 1 });
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  const pageErrors = collectPageErrors(page);
  await page.goto(server.url);

  // First run: no folders yet, so the welcome asks for one.
  await page.getByRole('heading', { name: 'Add a folder to start' }).waitFor();
  assert.equal(new URL(page.url()).hash, '', 'the token is removed from the address bar');
  await shoot(page, 'welcome-light');

  // A relative path is refused by the engine (the fake applies the engine's path rules): the
  // message shows next to the field; ~ is typed as is and expanded by the engine.
  await page.getByTestId('folder-path-input').fill('Pictures');
  await page.getByRole('button', { name: 'Add folder' }).click();
  await page.getByRole('alert').filter({ hasText: "'Pictures' is not an absolute path; type the folder's full path, like" }).waitFor();

  // A malformed pattern is refused with what to change (the fake applies the engine's pattern check).
  await page.getByRole('button', { name: 'Include or exclude patterns' }).click();
  await page.getByLabel('Only include').fill('[raw');
  await page.getByTestId('folder-path-input').fill('~/Scans');
  await page.getByRole('button', { name: 'Add folder' }).click();
  await page.getByRole('alert').filter({ hasText: "Pattern '[raw' has a '[' without a matching ']'; close the set or write" }).waitFor();
  await page.getByLabel('Only include').fill('');

  await page.getByTestId('folder-path-input').fill('~/Pictures');
  await page.getByRole('button', { name: 'Add folder' }).click();
  await waitForCall('roots.add', (p) => p.path === '~/Pictures', 'path ~/Pictures');
  // The engine expanded ~: the folder is shown (and filtered on, below) as SHOWN_ROOT.
  await page.getByText(`Added ${SHOWN_ROOT}.`).first().waitFor();
  await page.getByRole('searchbox', { name: 'Search' }).waitFor();

  // Progress arrives as events over the WebSocket.
  assert.ok(engine.hasListeners('indexing.progress'), 'the UI subscribed to indexing.progress');
  const c = engine.counts;
  engine.emitProgress({
    state: 'indexing',
    files: c(40, 12, 1),
    byKind: { image: c(30, 10, 1), video: c(4, 1), pdf: c(3, 1), text: c(3, 0), document: c(0, 0) },
    rate: 3.2,
    etaSeconds: 170,
    current: join(SHOWN_ROOT, 'beach-sunset.jpg'),
  });
  const indicator = page.getByTestId('sidebar-indicator');
  // One wording for the counts, the same in the sidebar and the indexing view (issue 12.6).
  const counts = '12 of 40 files indexed, 1 failed, 27 pending';
  await indicator.filter({ hasText: counts }).waitFor();
  await indicator.click();
  const overall = page.getByTestId('indexing-overall');
  await overall.filter({ hasText: counts }).waitFor();
  assert.match(await overall.innerText(), /3\.2 files\/s/);
  assert.match(await overall.innerText(), /3 min/);
  assert.equal(await page.getByRole('progressbar', { name: 'Library indexed' }).first().getAttribute('aria-valuenow'), '33');
  await page.getByTestId('failure-row').filter({ hasText: 'password-protected' }).waitFor();
  await shoot(page, 'indexing-light', true);
  await page.getByRole('button', { name: 'Pause' }).click();
  await waitForCall('indexing.pause', () => true, 'no parameters');

  engine.emitProgress({ state: 'idle', files: c(40, 39, 1), byKind: { image: c(30, 29, 1), video: c(4, 4), pdf: c(3, 3), text: c(3, 3), document: c(0, 0) }, rate: 0, etaSeconds: null, current: null });
  await overall.getByRole('heading', { name: 'Up to date' }).waitFor();

  // ⌘/Ctrl-K goes back to search and focuses the box from anywhere.
  await page.keyboard.press('Control+K');
  const input = page.getByRole('searchbox', { name: 'Search' });
  await input.waitFor();
  await waitUntil(async () => (await page.evaluate(`document.activeElement?.id`)) === 'search-input', 'Ctrl-K focuses the search box');

  // A failed search says why and offers a retry that works.
  engine.failNextSearch('The search model stopped responding; it is restarting.');
  await input.fill('beach sunset');
  const failure = page.getByRole('alert').filter({ hasText: 'The search model stopped responding' });
  await failure.waitFor();
  await failure.getByRole('button', { name: 'Retry' }).click();
  await waitForCall('search.run', (p) => p.text === 'beach sunset', 'text "beach sunset"');
  const cards = page.getByTestId('result-card');
  await cards.first().waitFor();
  assert.equal(await cards.count(), engine.library.length);
  assert.match(await cards.first().innerText(), /94%/, 'the score is visible as a percentage');
  assert.equal(await cards.nth(3).locator('mark').first().innerText(), 'beach', 'the snippet marks the query words');
  assert.match(await cards.nth(2).innerText(), /0:32/, 'a video hit shows its moment');

  // Keyboard: ↓ from the box into the grid, → to the next card, Enter for the preview.
  const selected = (n: number, what: string) => waitUntil(async () => (await cards.nth(n).getAttribute('aria-selected')) === 'true', what);
  await input.press('ArrowDown');
  await selected(0, '↓ selects the first card');
  await page.keyboard.press('ArrowRight');
  await selected(1, '→ selects the next card');
  await page.keyboard.press('Enter');
  const preview = page.getByTestId('preview');
  await preview.getByRole('heading', { name: 'dunes-evening.jpg' }).waitFor();
  for (const action of ['Open', 'Reveal in folder', 'Copy path', 'More like this']) {
    await preview.getByRole('button', { name: action }).waitFor();
  }
  await shoot(page, 'search-light', true);

  // The preview follows the selection; the video loads from the media route and names its moment.
  const videoRequest = page.waitForRequest((r) => /\/media\/file\/3\?token=/.test(r.url()));
  await page.keyboard.press('ArrowRight');
  await preview.getByRole('heading', { name: 'harbour-walk.mp4' }).waitFor();
  await preview.getByRole('button', { name: 'Open at 0:32' }).waitFor();
  await videoRequest;
  // The fake "video" is an SVG, so the player fails: the pane says what to do instead of spinning.
  await preview.getByText('This video cannot play inside Trove.').waitFor();
  assert.match(await preview.innerText(), /matching moment is 0:32–0:48/);

  // Space: quick look over everything; Escape closes it.
  await page.keyboard.press('Escape');
  await page.getByRole('listbox', { name: 'Results' }).focus();
  await page.keyboard.press(' ');
  await page.getByTestId('quicklook').waitFor();
  await shoot(page, 'quicklook-light');
  await page.keyboard.press('Escape');
  await page.getByTestId('quicklook').waitFor({ state: 'detached' });

  // ⌘/Ctrl-Enter opens the selected file: in a browser, in a new tab at the moment (results-ui.test.ts has more).
  await page.getByRole('listbox', { name: 'Results' }).focus();
  const tab = context.waitForEvent('page');
  await page.keyboard.press('Control+Enter');
  const opened = await tab;
  assert.match(opened.url(), /\/media\/file\/3\?token=[^#]+#t=32$/);
  await opened.close();

  // The cut-off hides weaker results at once and asks the engine again once the slider settles.
  const cutoff = page.getByRole('slider', { name: /Cut-off/ });
  await cutoff.fill('0.5');
  await waitUntil(async () => (await cards.count()) === 6, 'only the 6 results scored ≥ 50% remain');
  await waitForCall('search.run', (p) => p.cutoff === 0.5, 'cutoff 0.5');
  await cutoff.fill('0');
  await waitUntil(async () => (await cards.count()) === engine.library.length, 'every result is back at 0%');

  // Folder and date filters live in popovers; each choice re-runs the search.
  await page.getByText('All folders').click();
  await page.getByRole('checkbox', { name: SHOWN_ROOT }).check();
  await waitForCall('search.run', (p) => JSON.stringify((p.filters as { rootIds?: number[] }).rootIds) === '[1]', 'filters.rootIds [1]');
  await page.keyboard.press('Escape');
  await page.getByRole('checkbox', { name: SHOWN_ROOT }).waitFor({ state: 'hidden' });
  await page.getByText('Any date').click();
  await page.getByLabel('From').fill('2025-06-01');
  await waitForCall('search.run', (p) => typeof (p.filters as { from?: number }).from === 'number', 'filters.from');
  await page.keyboard.press('Escape');

  // Typing in the grid goes to the search box.
  await page.getByRole('listbox', { name: 'Results' }).focus();
  await page.keyboard.type('s');
  await waitUntil(async () => (await input.inputValue()) === 'beach sunsets', `the typed letter lands in the search box (value: ${await input.inputValue()})`);
  await input.fill('beach sunset');

  // A filter chip re-runs the search with the filter.
  await page.getByRole('button', { name: 'Images', exact: true }).click();
  await waitForCall('search.run', (p) => JSON.stringify((p.filters as { kinds?: string[] }).kinds) === '["image"]', 'filters.kinds ["image"]');

  // Drop an image: it becomes a chip, and the search carries its bytes alongside the text.
  await sendImage(page, '[data-testid="search-bar"]', 'drop', 'red-chair.png');
  const chip = page.getByTestId('image-chip');
  await chip.filter({ hasText: 'red-chair.png' }).waitFor();
  const withImage = await waitForCall('search.run', (p) => (p.image as { dataBase64?: string } | undefined)?.dataBase64 === PNG_BASE64, 'the dropped image');
  assert.deepEqual(withImage.image, { dataBase64: PNG_BASE64, mime: 'image/png' });
  assert.equal(withImage.text, 'beach sunset', 'text and image go together');

  // Remove the chip, then paste one into the box instead.
  await chip.getByRole('button', { name: /Remove image/ }).click();
  await chip.waitFor({ state: 'detached' });
  await sendImage(page, '#search-input', 'paste', 'pasted.png');
  await page.getByTestId('image-chip').filter({ hasText: 'pasted.png' }).waitFor();

  // Light theme by default; dark when the OS asks for it.
  // The theme is applied in an effect, after the render the click caused: wait for it, do not sample.
  const background = (color: string, what: string) =>
    waitUntil(async () => (await page.evaluate<string>(`getComputedStyle(document.body).backgroundColor`)) === color, what);
  await background('rgb(255, 255, 255)', 'the light palette by default');
  await cards.nth(1).click();
  await preview.getByRole('heading', { name: 'dunes-evening.jpg' }).waitFor();
  await page.emulateMedia({ colorScheme: 'dark' });
  await background('rgb(27, 27, 30)', 'the dark palette follows prefers-color-scheme');
  await shoot(page, 'search-dark', true);
  // A narrow window: the preview slides over the results instead of squeezing them.
  await page.setViewportSize({ width: 760, height: 700 });
  await shoot(page, 'search-narrow-dark');
  await page.setViewportSize({ width: 1280, height: 800 });

  // Without a model, the UI says plainly that search is keyword-only for now.
  engine.setModel({ ...NO_MODEL, statement: 'The search model is downloading (38%).' });
  await page.getByTestId('keyword-only-notice').filter({ hasText: 'Keyword search only until the model is ready' }).waitFor();

  // "More like this" swaps the query for the item itself.
  await cards.nth(0).click();
  await preview.getByRole('heading', { name: 'beach-sunset.jpg' }).waitFor();
  await preview.getByRole('button', { name: 'More like this' }).click();
  await page.getByTestId('like-chip').filter({ hasText: 'beach-sunset.jpg' }).waitFor();
  await waitForCall('search.run', (p) => p.likeItemId === 1 && p.text === undefined && p.image === undefined, 'likeItemId 1 alone');

  // Folders: the added folder is listed; removing it asks first, then tells the engine.
  await page.keyboard.press('Control+2');
  const row = page.getByTestId('root-row').filter({ hasText: SHOWN_ROOT });
  await row.waitFor();
  await row.getByRole('button', { name: `Remove ${SHOWN_ROOT}` }).click();
  await row.getByRole('button', { name: 'Remove', exact: true }).click();
  await waitForCall('roots.remove', (p) => p.id === 1, 'id 1');
  await row.waitFor({ state: 'detached' });

  // Settings state the model, the device and the data folder; the manual theme wins over the OS.
  await page.keyboard.press('Control+4');
  await page.getByRole('heading', { name: 'Settings' }).waitFor();
  await page.getByRole('radio', { name: 'Light' }).click();
  await background('rgb(255, 255, 255)', 'the manual light theme overrides a dark OS');
  assert.match(await page.getByTestId('settings-model').innerText(), /Search\nBy keyword only \(names, paths and text\)\nSearch model\nNone yet/);
  await shoot(page, 'settings-light');

  assert.deepEqual(pageErrors, [], 'no uncaught errors or console errors/warnings in the page');
  await context.close();
});
