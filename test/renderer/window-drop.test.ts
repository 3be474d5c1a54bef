// Files dropped on Trove outside the search page, in a real browser through its own drag and drop
// (DevTools' Input.dispatchDragEvent with a file on disk, as a drag from the file manager), in
// front of the fake engine over the real server. A drop the page does not take makes the browser
// navigate away to the dropped file, leaving the app; so on every view the drop's default is
// prevented, and: an image becomes the query (Trove goes to the search page), any other file or a
// folder gets a sentence, a link dragged in is refused, and before a folder is added an image is
// refused with what to do first. Screenshots: artifacts/screenshots/drop-*.png.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import type { BrowserContext, CDPSession, Page } from 'playwright-core';
import { startApiServer, type ApiServer } from '../../electron/server/node/api-server.ts';
import { createFakeEngine, type FakeEngineOptions } from '../support/fake-engine.ts';
import { rendererSuite, pageErrors, shoot, skip, waitForCall, waitUntil, type FakeEngine } from './ui-harness.ts';

const SHOWN_ROOT = '/home/ada/Pictures';
/** A 2×2 PNG, as a user would drop it from the file manager. */
const PNG_BASE64 = 'iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP4z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==';

const suite = rendererSuite('trove-window-drop-');
let image: string;
let notes: string;

before(() => {
  if (skip) return;
  image = join(suite.work, 'red-chair.png');
  writeFileSync(image, Buffer.from(PNG_BASE64, 'base64'));
  notes = join(suite.work, 'notes.txt');
  writeFileSync(notes, 'hello\n');
});

interface Session {
  engine: FakeEngine;
  page: Page;
  cdp: CDPSession;
  errors: string[];
  close(): Promise<void>;
}

/** Whether the page prevented each drag event's default, in order (read once the event is done). */
const RECORD_DEFAULTS = `
  window.__dragDefaults = [];
  for (const type of ['dragover', 'drop']) {
    window.addEventListener(type, (e) => setTimeout(() => window.__dragDefaults.push(e.type + ':' + e.defaultPrevented)), true);
  }
`;

async function open(viewport: { width: number; height: number }, colorScheme: 'light' | 'dark', withFolder = true, options: FakeEngineOptions = {}): Promise<Session> {
  const libraryDir = mkdtempSync(join(suite.work, 'library-'));
  mkdirSync(libraryDir, { recursive: true });
  const engine = createFakeEngine(libraryDir, SHOWN_ROOT, options);
  if (withFolder) engine.seedRoot(SHOWN_ROOT);
  const server: ApiServer = await startApiServer({ handlers: engine.handlers, events: engine.events, media: engine.media, staticDir: suite.outDir });
  const context: BrowserContext = await suite.browser.newContext({ viewport, colorScheme, deviceScaleFactor: 1 });
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  await page.addInitScript(RECORD_DEFAULTS);
  const errors = pageErrors(page);
  await page.goto(server.url);
  const cdp = await context.newCDPSession(page);
  return {
    engine,
    page,
    cdp,
    errors,
    async close() {
      await context.close();
      await server.close();
    },
  };
}

type DragData = { files: string[] } | { link: string };

/** The browser's own drag and drop, over the middle of the view: enter, over, and (unless held) the drop. */
async function drag(s: Session, what: DragData, steps: ('dragEnter' | 'dragOver' | 'drop')[] = ['dragEnter', 'dragOver', 'drop']): Promise<void> {
  const data = 'files' in what ? { items: [], files: what.files, dragOperationsMask: 1 } : { items: [{ mimeType: 'text/uri-list', data: what.link }], dragOperationsMask: 1 };
  const viewport = s.page.viewportSize()!;
  for (const type of steps) await s.cdp.send('Input.dispatchDragEvent', { type, x: Math.round(viewport.width * 0.6), y: Math.round(viewport.height * 0.5), data } as never);
}

async function dragDefaults(page: Page): Promise<string[]> {
  return page.evaluate<string[]>('window.__dragDefaults.slice()');
}

async function goTo(page: Page, view: 'Folders' | 'Settings' | 'Indexing'): Promise<void> {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: new RegExp(view) }).click();
  await page.getByRole('heading', { level: 1, name: view }).waitFor();
}

test('an image dropped on Folders, Settings or Indexing becomes the query on the search page; the window never navigates to it', { skip, timeout: 90_000 }, async () => {
  const s = await open({ width: 1280, height: 800 }, 'light');
  const { page, engine } = s;
  try {
    const start = page.url();
    for (const view of ['Folders', 'Settings', 'Indexing'] as const) {
      await goTo(page, view);
      await page.evaluate('window.__dragDefaults.length = 0');
      const searchesBefore = engine.callsOf('search.run').length;
      await drag(s, { files: [image] });
      await page.getByTestId('image-chip').filter({ hasText: 'red-chair.png' }).waitFor();
      await page.getByRole('searchbox', { name: 'Search' }).waitFor();
      await waitForCall(engine, 'search.run', (p) => (p.image as { dataBase64?: string } | undefined)?.dataBase64 === PNG_BASE64, `the image dropped on ${view}`);
      assert.ok(engine.callsOf('search.run').length > searchesBefore);
      await waitUntil(async () => (await dragDefaults(page)).includes('drop:true'), `the drop on ${view} was taken by the page`);
      assert.ok(!(await dragDefaults(page)).includes('drop:false'), `no drop left to the browser on ${view}`);
      assert.equal(page.url(), start, 'still on Trove');
      await page.getByRole('button', { name: 'Remove image red-chair.png' }).click();
      await page.getByTestId('image-chip').waitFor({ state: 'detached' });
    }
    assert.deepEqual(s.errors, []);
  } finally {
    await s.close();
  }
});

test('a file that is not an image, or a link, dropped outside the search page is refused in a sentence and the view stays', { skip, timeout: 60_000 }, async () => {
  const s = await open({ width: 1280, height: 800 }, 'light');
  const { page, engine } = s;
  try {
    const start = page.url();
    await goTo(page, 'Settings');
    await page.evaluate('window.__dragDefaults.length = 0');
    await drag(s, { files: [notes] });
    await page.getByRole('alert').filter({ hasText: 'Only an image can be a query' }).waitFor();
    await page.getByRole('heading', { level: 1, name: 'Settings' }).waitFor();
    await waitUntil(async () => (await dragDefaults(page)).includes('drop:true'), 'the drop was taken by the page');

    // A link from another window: it would replace Trove with that page; nothing here takes it.
    await goTo(page, 'Folders');
    await page.evaluate('window.__dragDefaults.length = 0');
    await drag(s, { link: 'https://example.com/elsewhere' });
    await waitUntil(async () => (await dragDefaults(page)).includes('dragover:true'), 'the link drag was handled');
    assert.ok(!(await dragDefaults(page)).includes('drop:false'), 'no drop left to the browser');
    await page.getByRole('heading', { level: 1, name: 'Folders' }).waitFor();
    assert.equal(page.url(), start);
    assert.equal(engine.callsOf('search.run').filter((c) => (c.params as { image?: unknown }).image !== undefined).length, 0);
    assert.deepEqual(s.errors, []);
  } finally {
    await s.close();
  }
});

test('before a folder is added, a dropped image is refused with what to do first', { skip, timeout: 60_000 }, async () => {
  const s = await open({ width: 1280, height: 800 }, 'light', false);
  const { page, engine } = s;
  try {
    await page.getByTestId('welcome').waitFor();
    await drag(s, { files: [image] });
    await page.getByRole('alert').filter({ hasText: 'Add a folder first' }).waitFor();
    await waitUntil(async () => (await dragDefaults(page)).includes('drop:true'), 'the drop was taken by the page');
    assert.equal(engine.callsOf('search.run').length, 0);
    assert.deepEqual(s.errors, []);
  } finally {
    await s.close();
  }
});

for (const [width, scheme] of [
  [1280, 'light'],
  [1280, 'dark'],
  [800, 'light'],
  [800, 'dark'],
] as const) {
  test(`screenshot: an image dragged over Folders at ${width} px, ${scheme}`, { skip, timeout: 60_000 }, async () => {
    const s = await open({ width, height: 800 }, scheme);
    try {
      await goTo(s.page, 'Folders');
      await drag(s, { files: [image] }, ['dragEnter', 'dragOver']);
      await s.page.getByTestId('drop-overlay').filter({ hasText: 'Drop an image to search by what it shows' }).waitFor();
      await waitUntil(async () => await s.page.evaluate<boolean>(`document.getAnimations().every((a) => a.effect?.getTiming().iterations === Infinity || a.playState === 'finished')`), 'the overlay faded in');
      await shoot(s.page, `drop-folders-${width}-${scheme}`);
      await drag(s, { files: [image] }, ['drop']);
      await s.page.getByTestId('image-chip').waitFor();
      await shoot(s.page, `drop-folders-result-${width}-${scheme}`);
      assert.deepEqual(s.errors, []);
    } finally {
      await s.close();
    }
  });
}
