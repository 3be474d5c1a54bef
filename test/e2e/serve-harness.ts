// What the browser end-to-end tests share: the built renderer, the real `bin/trove.js serve` in a
// child process, Debian chromium through playwright-core, pages that collect their own errors,
// polling, and screenshots (artifacts/screenshots/ always; docs/screenshots/ when
// TROVE_UPDATE_DOCS_SCREENSHOTS=1, which is how the pictures the docs show are regenerated).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import sharp from 'sharp';
import { build } from 'vite';

export const REPO = new URL('../../', import.meta.url).pathname;
export const CHROMIUM = process.env.TROVE_CHROMIUM ?? '/usr/bin/chromium';
export const ARTIFACTS = join(REPO, 'artifacts', 'screenshots');
export const DOCS_SCREENSHOTS = join(REPO, 'docs', 'screenshots');
/** Set to refresh the docs' screenshots from this run. */
export const UPDATE_DOCS = process.env.TROVE_UPDATE_DOCS_SCREENSHOTS === '1';
const DOCS_SCREENSHOT_MAX_BYTES = 300 * 1024;

const RENDERER_DIST_INDEX = join(REPO, 'renderer/dist/index.html');
/** What the built renderer is made from: a change to any of these makes renderer/dist stale. */
const RENDERER_SOURCES = ['renderer/src', 'renderer/public', 'renderer/index.html', 'renderer/vite.config.ts', 'electron/contract'].map((p) => join(REPO, p));

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newestMtime(join(path, name))));
}

/** `trove serve` hosts the real renderer/dist, so build it there unless it is newer than its sources. */
export async function ensureRendererBuilt(): Promise<void> {
  const builtAt = existsSync(RENDERER_DIST_INDEX) ? statSync(RENDERER_DIST_INDEX).mtimeMs : 0;
  if (builtAt > Math.max(...RENDERER_SOURCES.map(newestMtime))) return;
  await build({ configFile: join(REPO, 'renderer/vite.config.ts'), logLevel: 'warn' });
}

export async function launchChromium(): Promise<Browser> {
  // No skip: these are the tests that prove the product works in a browser, so CI must have them.
  assert.ok(existsSync(CHROMIUM), `no chromium at ${CHROMIUM}: install it (apt-get install chromium) or set TROVE_CHROMIUM`);
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-gpu'],
  });
}

/** A running `trove serve`: its address (with `#token=`), what it wrote to stderr, how to stop it. */
export interface Serve {
  readonly url: string;
  readonly child: ChildProcess;
  stderr(): string;
  /** Ctrl-C, as a user stops it: it must close the engine and exit 0. */
  stop(): Promise<void>;
  /** For a failure halfway: no questions asked. */
  kill(): Promise<void>;
}

/** Every `trove serve` started here, so a test that fails halfway leaves none running (see killAllServes). */
const started = new Set<Serve>();

/** For `after()`: kills whatever is still running (a test that failed before stopping its server). */
export async function killAllServes(): Promise<void> {
  await Promise.all([...started].map((s) => s.kill()));
}

/** Starts `trove serve` with `args` and resolves once it prints its address. */
export async function startServe(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Serve> {
  const child = spawn(process.execPath, [join(REPO, 'bin/trove.js'), 'serve', '--port', '0', ...args], {
    cwd: REPO,
    env: { ...process.env, TROVE_EP: 'cpu', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  let stdout = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`trove serve printed no address within 30 s; stdout: ${stdout}; stderr: ${stderr}`)), 30_000);
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
      reject(new Error(`trove serve exited with ${code} before printing its address; stderr: ${stderr}`));
    });
  });
  const running = () => child.exitCode === null && child.signalCode === null;
  const serve: Serve = {
    url,
    child,
    stderr: () => stderr,
    async stop() {
      if (!running()) return;
      child.kill('SIGINT');
      const code = await exited;
      assert.equal(code, 0, `trove serve exited with ${code} after SIGINT; stderr: ${stderr}`);
    },
    async kill() {
      if (!running()) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
  started.add(serve);
  void exited.then(() => started.delete(serve));
  return serve;
}

/** A page (default: light, 1280×800) whose uncaught errors and console errors/warnings are collected. */
export async function newWatchedPage(
  browser: Browser,
  options: { width?: number; height?: number; colorScheme?: 'light' | 'dark' } = {},
): Promise<{ context: BrowserContext; page: Page; pageErrors: string[] }> {
  const context = await browser.newContext({
    viewport: { width: options.width ?? 1280, height: options.height ?? 800 },
    colorScheme: options.colorScheme ?? 'light',
    deviceScaleFactor: 1,
  });
  context.setDefaultTimeout(20_000);
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') pageErrors.push(`console.${m.type()}: ${m.text()} at ${m.location().url}`);
  });
  return { context, page, pageErrors };
}

/**
 * A steady picture of the page: no toast over it, no colour transition caught halfway. Saved as
 * artifacts/screenshots/e2e-<name>.png, and as docs/screenshots/<docsName>.png when the docs'
 * pictures are being regenerated.
 */
export async function shoot(page: Page, name: string, docsName?: string, options: { fullPage?: boolean } = {}): Promise<void> {
  for (const dismiss of await page.getByRole('button', { name: 'Dismiss' }).all()) await dismiss.click();
  // A transition replaced by a newer one (a progress bar moving on) rejects its `finished`: that is fine.
  // (Transitions only: a spinner's animation never finishes.)
  await page.evaluate(`Promise.all(document.getAnimations().filter((a) => a instanceof CSSTransition).map((a) => a.finished.catch(() => undefined)))`);
  await page.screenshot({ path: join(ARTIFACTS, `e2e-${name}.png`), fullPage: options.fullPage });
  if (docsName && UPDATE_DOCS) {
    const file = join(DOCS_SCREENSHOTS, `${docsName}.png`);
    mkdirSync(DOCS_SCREENSHOTS, { recursive: true });
    // A 256-colour palette (libimagequant, dithered): a third of the bytes, and a UI looks the same.
    const png = await page.screenshot({ fullPage: options.fullPage });
    await sharp(png).png({ palette: true, quality: 90, effort: 10, compressionLevel: 9 }).toFile(file);
    const size = statSync(file).size;
    assert.ok(size < DOCS_SCREENSHOT_MAX_BYTES, `${file} is ${size} bytes; the docs' screenshots stay under ${DOCS_SCREENSHOT_MAX_BYTES}`);
  }
}

/** Whether every <img> the selector matches has loaded real pixels (a broken or 401 image has naturalWidth 0). */
export function imagesLoaded(page: Page, selector: string): Promise<boolean> {
  return page.evaluate<boolean>(`(() => {
    const images = [...document.querySelectorAll(${JSON.stringify(selector)})];
    return images.length > 0 && images.every((img) => img.complete && img.naturalWidth > 0);
  })()`);
}

/** Polls `check`; `what` is built on failure, so it can describe the page as it ended up. */
export async function waitUntil(check: () => Promise<boolean>, what: () => string | Promise<string>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`timed out waiting until ${await what()}`);
}

/** The names on the result cards, best first. */
export function resultNames(page: Page): Promise<string[]> {
  return page.getByTestId('result-card').locator('.result-card__name').allInnerTexts();
}
