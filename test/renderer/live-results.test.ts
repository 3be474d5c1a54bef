// "Search works while indexing runs; new files show up as they are done" (the Indexing page and the
// welcome say so): results on screen follow the index, in a real browser in front of the fake
// engine over the real server. When the indexed count moves, the search on screen runs again by
// itself, quietly: the new file appears without a click, and the selection, the open preview,
// focus and the scroll position stay where the person left them. Away from the results nothing
// runs; coming back catches up. Screenshots: artifacts/screenshots/live-results-*.png.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { startApiServer, type ApiServer } from '../../electron/server/node/api-server.ts';
import { createFakeEngine } from '../support/fake-engine.ts';
import { rendererSuite, pageErrors, shoot, skip, waitForCall, waitUntil, type FakeEngine } from './ui-harness.ts';

const SHOWN_ROOT = '/home/ada/Pictures';

const suite = rendererSuite('trove-live-results-');

const cards = (page: Page) => page.getByTestId('result-card');

/** A file the engine has just indexed: one more library item, and the counts the progress event carries. */
function indexOneMore(engine: FakeEngine, name: string, scores: number[], score: number): void {
  const last = engine.library.at(-1)!;
  const itemId = last.itemId + 1;
  engine.library.push({ ...last, itemId, fileId: itemId, name, hue: (itemId * 47) % 360 });
  scores[engine.library.length - 1] = score;
  const n = engine.library.length;
  engine.emitProgress({ state: 'indexing', files: engine.counts(n + 5, n), etaSeconds: 30, current: join(SHOWN_ROOT, name) });
}

/** Records whether the results were ever dimmed or replaced by a skeleton from now on. */
async function watchForFlicker(page: Page): Promise<void> {
  await page.evaluate(`(() => {
    window.__flicker = [];
    const results = document.querySelector('.search-view__results');
    new MutationObserver(() => {
      if (results.querySelector('.results--stale')) window.__flicker.push('dimmed');
      if (results.querySelector('[data-testid="results-skeleton"], .skeleton')) window.__flicker.push('skeleton');
    }).observe(results, { subtree: true, childList: true, attributes: true, attributeFilter: ['class'] });
  })()`);
}

test('new files indexed while results are on screen show up by themselves; selection, preview, focus and scroll stay', { skip, timeout: 90_000 }, async () => {
  const scores = [0.94, 0.88, 0.81, 0.77, 0.64, 0.52, 0.31, 0.12];
  const libraryDir = mkdtempSync(join(suite.work, 'library-'));
  mkdirSync(libraryDir, { recursive: true });
  const engine = createFakeEngine(libraryDir, SHOWN_ROOT, { scores });
  engine.seedRoot(SHOWN_ROOT);
  const server: ApiServer = await startApiServer({ handlers: engine.handlers, events: engine.events, media: engine.media, staticDir: suite.outDir });
  // Short enough that the grid scrolls.
  const context = await suite.browser.newContext({ viewport: { width: 1280, height: 600 }, colorScheme: 'light', deviceScaleFactor: 1 });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  const errors = pageErrors(page);
  try {
    await page.goto(server.url);
    engine.emitProgress({ state: 'indexing', files: engine.counts(13, 8), etaSeconds: 30, current: null });
    const box = page.getByRole('searchbox', { name: 'Search' });
    await box.fill('coast');
    await waitForCall(engine, 'search.run', (p) => p.text === 'coast', 'text "coast"');
    await waitUntil(async () => (await cards(page).count()) === 8 && (await page.locator('.results--stale').count()) === 0, 'the eight results are on screen');

    // A person looking at one result: selected with the keyboard, its preview open, the grid scrolled.
    await cards(page).filter({ hasText: 'lighthouse.jpg' }).click();
    await page.getByTestId('preview').getByRole('heading', { name: 'lighthouse.jpg' }).waitFor();
    const scroller = page.locator('.search-view__results');
    await scroller.evaluate(new Function('el', 'el.scrollTop = 120') as (el: unknown) => void);
    const scrollTop = await scroller.evaluate(new Function('el', 'return el.scrollTop') as (el: unknown) => number);
    assert.ok(scrollTop > 0, 'the results scroll');
    const focused = await page.evaluate<string>('document.activeElement?.id ?? ""');
    await watchForFlicker(page);
    const searches = engine.callsOf('search.run').length;

    indexOneMore(engine, 'sea-glass.jpg', scores, 0.7);
    await cards(page).filter({ hasText: 'sea-glass.jpg' }).waitFor();
    assert.equal(engine.callsOf('search.run').length, searches + 1, 'one search, asked by the UI itself');
    assert.equal(engine.callsOf('search.run').at(-1)!.params && (engine.callsOf('search.run').at(-1)!.params as { text: string }).text, 'coast');
    assert.equal(await cards(page).count(), 9);
    await page.getByTestId('preview').getByRole('heading', { name: 'lighthouse.jpg' }).waitFor();
    assert.equal(await cards(page).filter({ hasText: 'lighthouse.jpg' }).getAttribute('aria-selected'), 'true', 'the selection stayed on lighthouse.jpg');
    assert.equal(await page.evaluate<string>('document.activeElement?.id ?? ""'), focused, 'focus stayed');
    assert.equal(await scroller.evaluate(new Function('el', 'return el.scrollTop') as (el: unknown) => number), scrollTop, 'the scroll position stayed');
    assert.deepEqual(await page.evaluate<string[]>('window.__flicker'), [], 'the results were never dimmed or blanked');
    await shoot(page, 'live-results-1280-light');

    // Away from the results nothing is asked; coming back catches up.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: /Folders/ }).click();
    await page.getByRole('heading', { level: 1, name: 'Folders' }).waitFor();
    const whileAway = engine.callsOf('search.run').length;
    indexOneMore(engine, 'tide-pools.jpg', scores, 0.6);
    await page.getByText(/10 of 15 files indexed/).first().waitFor();
    assert.equal(engine.callsOf('search.run').length, whileAway, 'no search while the results are not on screen');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: /Search/ }).click();
    await cards(page).filter({ hasText: 'tide-pools.jpg' }).waitFor();
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
    await server.close();
  }
});
