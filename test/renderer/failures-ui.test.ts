// The "Not indexed" list in a real browser, in front of the fake engine over the real server
// (issue 13, points 3 and 4): every kind of failure with its reason and details, paths cut in the
// middle so the file name stays visible, Retry for one file and Retry all with visible feedback,
// a list that pages with its total and follows new failures by itself. Screenshots: light and
// dark, 1280 and 800 px wide (artifacts/screenshots/failures-*.png).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import type { FileFailure } from '../../electron/contract/common/entities.ts';
import { startApiServer, type ApiServer } from '../../electron/server/node/api-server.ts';
import { createFakeEngine, fakeFailures } from '../support/fake-engine.ts';
import { rendererSuite, pageErrors, shoot, skip, waitUntil, type FakeEngine } from './ui-harness.ts';

const SHOWN_ROOT = '/home/ada/Pictures';

const suite = rendererSuite('trove-failures-ui-');

interface Session {
  engine: FakeEngine;
  page: Page;
  errors: string[];
  close(): Promise<void>;
}

/** A fresh fake engine with a folder already added, its server, and a page on the Indexing view. */
async function open(viewport: { width: number; height: number }, colorScheme: 'light' | 'dark'): Promise<Session> {
  const libraryDir = mkdtempSync(join(suite.work, 'library-'));
  mkdirSync(libraryDir, { recursive: true });
  const engine = createFakeEngine(libraryDir, SHOWN_ROOT);
  engine.seedRoot(SHOWN_ROOT);
  const server: ApiServer = await startApiServer({ handlers: engine.handlers, events: engine.events, media: engine.media, staticDir: suite.outDir });
  const context: BrowserContext = await suite.browser.newContext({ viewport, colorScheme, deviceScaleFactor: 1 });
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  const errors = pageErrors(page);
  await page.goto(server.url);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: /Indexing/ }).click();
  await page.getByTestId('failure-row').first().waitFor();
  return {
    engine,
    page,
    errors,
    async close() {
      await context.close();
      await server.close();
    },
  };
}

const rows = (page: Page) => page.getByTestId('failure-row');
const row = (page: Page, text: string) => rows(page).filter({ hasText: text });

/** A path's text as shown (a space at the cut is a no-break space, so it does not collapse). */
const pathText = (text: string | null): string => (text ?? '').replace(/\u00a0/g, ' ');

/** Whether an element's text is cut by its box (the ellipsis shows); browser source, as the Node project has no DOM types. */
const isClipped = (element: Locator): Promise<boolean> =>
  // The laid-out text against the box, in fractions of a pixel (scrollWidth rounds a sliver away).
  element.evaluate(new Function('el', 'const r = document.createRange(); r.selectNodeContents(el); return r.getBoundingClientRect().width > el.getBoundingClientRect().width + 0.01;') as (el: unknown) => boolean);

/** The file name's element shows all of its text, inside its row (not cut, not overflowing). */
async function nameFullyVisible(page: Page, rowText: string): Promise<boolean> {
  const name = row(page, rowText).locator('.middle-path__name');
  const head = name.locator('.middle-path__head');
  const [box, rowBox, clipped] = await Promise.all([name.boundingBox(), row(page, rowText).boundingBox(), (await head.count()) === 0 ? false : isClipped(head)]);
  return box !== null && rowBox !== null && !clipped && box.x + box.width <= rowBox.x + rowBox.width + 0.5;
}

test('the list shows each failure with its reason, a middle-cut path and Retry; Retry and Retry all requeue with feedback', { skip, timeout: 90_000 }, async () => {
  const s = await open({ width: 1280, height: 800 }, 'light');
  const { page, engine } = s;
  try {
    const list = page.getByTestId('failures');
    await list.getByTestId('failures-total').filter({ hasText: '(6)' }).waitFor();
    assert.equal(await rows(page).count(), 6);

    // Reasons as the engine words them, and the details a person needs.
    const huge = await row(page, 'archive-scan-1998.pdf').innerText();
    assert.match(huge, /more than the 2\.0 GB Trove can read of one PDF file/);
    assert.match(huge, /PDF · tried again when it changes/);
    const slow = await row(page, 'harbour-drone-4k.mov').innerText();
    assert.match(slow, /Video · 1 attempt · tried again at the next start/);
    const folder = row(page, 'EACCES');
    assert.match(await folder.innerText(), /Folder · 12 files in it not indexed · read again at every scan · /);
    assert.equal(await folder.getByRole('button', { name: /Retry/ }).count(), 0, 'a folder is read again by a scan, not retried as a file');
    // (textContent: the name's start and end are laid out as two boxes, so innerText puts a line between them.)
    assert.match(pathText(await row(page, 'Urlaub').locator('.middle-path').textContent()), /Stra\uFFFDe am Meer\.jpg/);

    // The long path is cut in its folder part; the file name stays whole and inside the row.
    const longRow = row(page, 'IMG_0042.jpg');
    assert.equal(await longRow.locator('.middle-path').getAttribute('title'), join(SHOWN_ROOT, 'camera/2023 summer trip to the coast with the whole family and the dog/IMG_0042.jpg'));
    assert.ok(await nameFullyVisible(page, 'IMG_0042.jpg'), 'the file name is fully visible');

    await shoot(page, 'failures-1280-light');

    // Retry one file: the button says so while the engine answers, then a toast, and the row leaves.
    const release = engine.holdAnswers('files.retry');
    await longRow.getByRole('button', { name: 'Retry IMG_0042.jpg' }).click();
    const busy = longRow.getByRole('button', { name: 'Retrying IMG_0042.jpg' });
    await busy.waitFor();
    assert.equal(await busy.isDisabled(), true);
    assert.match(await busy.innerText(), /Retrying…/);
    release();
    await page.getByText('Retrying 1 file: it is back in the indexing queue.').waitFor();
    await waitUntil(async () => (await rows(page).count()) === 5, 'the retried file leaves the list');
    assert.deepEqual(engine.callsOf('files.retry').map((c) => c.params), [{ fileIds: [91] }]);
    await list.getByTestId('failures-total').filter({ hasText: '(5)' }).waitFor();

    // Retry all: every file; the folder stays (it is read again by the rescan the engine starts).
    await list.getByRole('button', { name: 'Retry all' }).click();
    await page.getByText('Retrying 4 files: they are back in the indexing queue.').waitFor();
    await waitUntil(async () => (await rows(page).count()) === 1, 'only the folder is left');
    assert.deepEqual(engine.callsOf('files.retry').at(-1)!.params, {});

    // New failures show up without a click when the failed count changes.
    engine.setFailures(fakeFailures(SHOWN_ROOT));
    engine.emitProgress({ state: 'idle', files: engine.counts(40, 34, 5), etaSeconds: null, current: null });
    await waitUntil(async () => (await rows(page).count()) === 6, 'the list follows the failed count');

    assert.deepEqual(s.errors, []);
  } finally {
    await s.close();
  }
});

test('a long list pages: a hundred at a time, with how many are not shown yet', { skip, timeout: 60_000 }, async () => {
  const s = await open({ width: 1280, height: 800 }, 'light');
  const { page, engine } = s;
  try {
    const many: FileFailure[] = Array.from({ length: 250 }, (_, i) => ({
      ...fakeFailures(SHOWN_ROOT)[1]!,
      fileId: 1000 + i,
      path: join(SHOWN_ROOT, `scans/page-${String(i).padStart(3, '0')}.jpg`),
    }));
    engine.setFailures(many);
    await page.getByTestId('failures').getByRole('button', { name: 'Refresh' }).click();
    await page.getByTestId('failures-total').filter({ hasText: '(250)' }).waitFor();
    await waitUntil(async () => (await rows(page).count()) === 100, 'the first hundred');
    await page.getByRole('button', { name: 'Show more (150 not shown)' }).click();
    await waitUntil(async () => (await rows(page).count()) === 200, 'the next hundred');
    await page.getByRole('button', { name: 'Show more (50 not shown)' }).click();
    await waitUntil(async () => (await rows(page).count()) === 250, 'all of them');
    assert.equal(await page.getByRole('button', { name: /Show more/ }).count(), 0);
    assert.deepEqual(
      engine.callsOf('files.failures').slice(-2).map((c) => c.params),
      [
        { limit: 100, offset: 100 },
        { limit: 100, offset: 200 },
      ],
    );
    assert.deepEqual(s.errors, []);
  } finally {
    await s.close();
  }
});

for (const [width, scheme] of [
  [800, 'light'],
  [1280, 'dark'],
  [800, 'dark'],
] as const) {
  test(`screenshot: the list at ${width} px, ${scheme}; file names stay visible`, { skip, timeout: 60_000 }, async () => {
    const s = await open({ width, height: 800 }, scheme);
    try {
      await s.page.getByTestId('failures').scrollIntoViewIfNeeded();
      assert.ok(await nameFullyVisible(s.page, 'IMG_0042.jpg'), 'the file name is fully visible');
      await shoot(s.page, `failures-${width}-${scheme}`);
      assert.deepEqual(s.errors, []);
    } finally {
      await s.close();
    }
  });
}

/** 66 characters: longer than any fixed cut, short enough for the list at 1280 and 800 px. */
const FITTING_NAME = 'Scan of the signed tenancy agreement for the flat, page 1 of 3.pdf';
/** Too long for any window: cut in its middle, its end and extension kept. */
const ENDLESS_NAME = `${'Minutes of the residents association meeting about the courtyard garden '.repeat(4)}final v2.docx`;

for (const width of [1280, 800]) {
  test(`a long file name is shown whole when it fits, and cut in its middle only when it does not (${width} px)`, { skip, timeout: 60_000 }, async () => {
    const s = await open({ width, height: 800 }, 'light');
    const { page, engine } = s;
    try {
      const [template] = fakeFailures(SHOWN_ROOT);
      engine.setFailures([
        { ...template!, fileId: 95, path: join(SHOWN_ROOT, 'Documents/Home/Lease', FITTING_NAME) },
        { ...template!, fileId: 96, path: join(SHOWN_ROOT, 'Documents/Community', ENDLESS_NAME) },
        ...fakeFailures(SHOWN_ROOT),
      ]);
      await page.getByTestId('failures').getByRole('button', { name: 'Refresh' }).click();
      await waitUntil(async () => (await rows(page).count()) === 8, 'the two long names are listed');

      const fitting = row(page, 'tenancy');
      assert.equal(pathText(await fitting.locator('.middle-path__name').textContent()), `/${FITTING_NAME}`, 'the whole name, no ellipsis in it');
      assert.ok(await nameFullyVisible(page, 'tenancy'), `${FITTING_NAME} is not cut at ${width} px`);

      const endless = row(page, 'final v2.docx');
      const head = endless.locator('.middle-path__head');
      assert.equal(await isClipped(head), true, 'the start of the endless name gives way');
      const tail = pathText(await endless.locator('.middle-path__tail').textContent());
      assert.ok(tail.endsWith('v2.docx') && ENDLESS_NAME.endsWith(tail), `its end and extension stay: ${tail}`);
      const [nameBox, rowBox] = await Promise.all([endless.locator('.middle-path__name').boundingBox(), endless.boundingBox()]);
      assert.ok(nameBox && rowBox && nameBox.x + nameBox.width <= rowBox.x + rowBox.width + 0.5, 'and the name stays inside its row');
      // Every other path keeps its name whole too.
      assert.ok(await nameFullyVisible(page, 'IMG_0042.jpg'));
      await shoot(page, `failures-long-names-${width}-light`);
      assert.deepEqual(s.errors, []);
    } finally {
      await s.close();
    }
  });
}
