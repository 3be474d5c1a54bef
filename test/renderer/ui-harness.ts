// What the UI tests share: build the renderer with Vite, launch Debian chromium, take screenshots
// (and refresh docs/screenshots/ on request), collect page errors, and poll the fake engine's call
// log instead of sleeping.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { after, before } from 'node:test';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'vite';
import type { ApiMethod } from '../../electron/contract/common/api-methods.ts';
import type { createFakeEngine } from '../support/fake-engine.ts';

export const REPO = new URL('../../', import.meta.url).pathname;
const CHROMIUM = process.env.TROVE_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = join(REPO, 'artifacts', 'screenshots');
/** Set to refresh the README's screenshots (docs/screenshots/*.png) from this run. */
const UPDATE_DOCS = process.env.TROVE_UPDATE_DOCS_SCREENSHOTS === '1';
/** Docs screenshots live in git: keep each one small. */
const DOCS_SCREENSHOT_MAX_BYTES = 300 * 1024;

export const skip = existsSync(CHROMIUM) ? false : `no chromium at ${CHROMIUM} (install Debian's chromium or set TROVE_CHROMIUM)`;

export type FakeEngine = ReturnType<typeof createFakeEngine>;

export async function buildRenderer(outDir: string): Promise<void> {
  await build({ configFile: join(REPO, 'renderer/vite.config.ts'), build: { outDir, emptyOutDir: true }, logLevel: 'warn' });
}

export async function launchChromium(): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-gpu'],
  });
}

/**
 * For one test file: before its tests, a temporary folder, the renderer built into `outDir` and
 * Chromium started; after them, both gone. Nothing is started when Chromium is missing (`skip`).
 */
export function rendererSuite(prefix: string): { readonly work: string; readonly outDir: string; readonly browser: Browser } {
  let work = '';
  let browser: Browser | undefined;
  before(async () => {
    if (skip) return;
    work = mkdtempSync(join(tmpdir(), prefix));
    await buildRenderer(join(work, 'dist'));
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });
  return {
    get work() {
      return work;
    },
    get outDir() {
      return join(work, 'dist');
    },
    get browser() {
      return browser!;
    },
  };
}

/** Uncaught errors and console errors/warnings of `page`, for a test to assert there were none. */
export function pageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') errors.push(`console.${m.type()}: ${m.text()} at ${m.location().url}`);
  });
  return errors;
}

export async function shoot(page: Page, name: string, forDocs = false): Promise<void> {
  // Steady pictures: no toast over the content, no colour transition caught halfway.
  // One at a time: each click removes a toast, so the list shrinks under the loop.
  const dismiss = page.getByRole('button', { name: 'Dismiss' });
  while ((await dismiss.count()) > 0) await dismiss.first().click();
  await page.evaluate(`Promise.all(document.getAnimations().filter((a) => a instanceof CSSTransition).map((a) => a.finished))`);
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
  if (forDocs && UPDATE_DOCS) {
    mkdirSync(join(REPO, 'docs/screenshots'), { recursive: true });
    const path = join(REPO, 'docs/screenshots', `${name}.png`);
    await page.screenshot({ path });
    assert.ok(statSync(path).size < DOCS_SCREENSHOT_MAX_BYTES, `${path} is ${statSync(path).size} bytes; keep docs screenshots under 300 KB`);
  }
}

/** Polls the fake engine's call log (calls arrive over HTTP, after the UI's debounce). */
export async function waitForCall(engine: FakeEngine, method: ApiMethod, matches: (params: Record<string, unknown>) => boolean, what: string) {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const found = engine.callsOf(method).find((c) => matches(c.params as Record<string, unknown>));
    if (found) return found.params as Record<string, unknown>;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`the UI never called ${method} with ${what}; calls: ${JSON.stringify(engine.callsOf(method)).slice(0, 600)}`);
}

export async function waitUntil(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`timed out waiting until ${what}`);
}
