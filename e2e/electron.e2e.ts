// The user journey in the real Electron app, driven by Playwright's _electron (playwright-core):
// launch → add a folder of fixture images through the UI → indexing reaches done → search by text
// → open a result in the preview, with screenshots in artifacts/screenshots/electron-*.png.
// Also checks, inside the running app, what unit tests cannot: the renderer has no Node, the
// bridge exposes only call/on, and the CSP header on the app's page. (Electron 41 has no API to read
// a window's webPreferences back; the bundle test checks the literal options in main.cjs.)
//
//   npm run e2e:electron        (builds the renderer and shell first when their output is missing)
//
// Where no Electron binary exists (installed with ELECTRON_SKIP_BINARY_DOWNLOAD=1), it prints
// SKIP with the reason, writes artifacts/e2e-electron.json with status "skipped", and exits 0:
// a skip, never a pass. Runs against the unpackaged app: the release build's fuses disable the
// inspector Playwright needs (docs/shell.md).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { _electron as electron, type ElectronApplication, type Page } from 'playwright-core';
import sharp from 'sharp';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ARTIFACTS = path.join(ROOT, 'artifacts');
const SCREENSHOTS = path.join(ARTIFACTS, 'screenshots');
const RESULT_FILE = path.join(ARTIFACTS, 'e2e-electron.json');
const STEP_TIMEOUT_MS = Number(process.env.TROVE_E2E_TIMEOUT_MS ?? 60_000);

type Outcome = { status: 'passed' } | { status: 'skipped'; reason: string } | { status: 'failed'; error: string };

async function record(outcome: Outcome): Promise<void> {
  await mkdir(ARTIFACTS, { recursive: true });
  await writeFile(RESULT_FILE, `${JSON.stringify({ suite: 'electron e2e', ...outcome, at: new Date().toISOString() }, null, 2)}\n`);
}

async function skip(reason: string): Promise<never> {
  console.log(`SKIP electron e2e: ${reason}`);
  console.log('electron e2e: 0 passed, 0 failed, 1 skipped (not a pass)');
  await record({ status: 'skipped', reason });
  process.exit(0);
}

/** The Electron executable, or the reason there is none. */
function findElectron(): { executable: string } | { missing: string } {
  const require = createRequire(import.meta.url);
  let executable: string;
  try {
    // The electron package exports the binary's path; without the binary it throws.
    executable = require('electron') as unknown as string;
  } catch (error) {
    const detail = error instanceof Error ? error.message.split('\n')[0] : String(error);
    return {
      missing: `no Electron binary (installed with ELECTRON_SKIP_BINARY_DOWNLOAD=1?): ${detail}. Run 'npx electron --version' after a normal npm install (or 'node node_modules/electron/install.js') to enable`,
    };
  }
  if (typeof executable !== 'string' || !existsSync(executable)) {
    return { missing: `no Electron binary at ${String(executable)} (installed with ELECTRON_SKIP_BINARY_DOWNLOAD=1); run 'npx electron --version' after a normal npm install to enable` };
  }
  return { executable };
}

function needsDisplay(): boolean {
  return process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY;
}

function onPath(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
}

/** Renderer and shell bundles, built when missing (or always with TROVE_E2E_REBUILD=1). */
function ensureBuilt(): void {
  const built = existsSync(path.join(ROOT, 'renderer', 'dist', 'index.html')) && existsSync(path.join(ROOT, 'dist', 'electron', 'main.cjs')) && existsSync(path.join(ROOT, 'dist', 'electron', 'engine-host.cjs'));
  if (built && process.env.TROVE_E2E_REBUILD !== '1') return;
  console.log('electron e2e: building the renderer and the shell (npm run build)…');
  const result = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit', shell: process.platform === 'win32' });
  if (result.status !== 0) throw new Error('npm run build failed; fix the build first (see its output above)');
}

/** Three small images whose names are the words the journey searches for (keyword search works without a model). */
async function makeFixtureFolder(dir: string): Promise<{ folder: string; count: number }> {
  const folder = path.join(dir, 'photos');
  await mkdir(folder, { recursive: true });
  const images: [string, { r: number; g: number; b: number }][] = [
    ['red-apple.png', { r: 220, g: 30, b: 40 }],
    ['green-forest.png', { r: 30, g: 160, b: 60 }],
    ['blue-ocean.png', { r: 20, g: 80, b: 200 }],
  ];
  for (const [name, background] of images) {
    await sharp({ create: { width: 96, height: 64, channels: 3, background } }).png().toFile(path.join(folder, name));
  }
  return { folder, count: images.length };
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SCREENSHOTS, `electron-${name}.png`) });
}

async function check(condition: boolean, message: string): Promise<void> {
  if (!condition) throw new Error(message);
}

async function journey(app: ElectronApplication, fixture: { folder: string; count: number }): Promise<void> {
  const page = await app.firstWindow();
  await page.waitForLoadState('domcontentloaded');
  await check(page.url().startsWith('trove://app/'), `the window loaded ${page.url()}, expected trove://app/…`);

  // Security, from inside the running app.
  // Evaluated in the page as a string: this file is type-checked without the DOM library.
  const exposed = await page.evaluate<{ trove: string[]; require: string; process: string; ipc: string }>(
    `({ trove: Object.keys(window.trove ?? {}).sort(), require: typeof window.require, process: typeof window.process, ipc: typeof window.ipcRenderer })`,
  );
  await check(JSON.stringify(exposed.trove) === '["call","on"]', `window.trove exposes ${JSON.stringify(exposed.trove)}, expected only call and on`);
  await check(exposed.require === 'undefined' && exposed.process === 'undefined' && exposed.ipc === 'undefined', `the page can see Node: ${JSON.stringify(exposed)}`);
  const csp = await app.evaluate(async ({ net }) => (await net.fetch('trove://app/index.html')).headers.get('content-security-policy'));
  await check(typeof csp === 'string' && csp.includes("script-src 'self'") && csp.includes("object-src 'none'"), `the app page's CSP header is ${String(csp)}`);
  await shot(page, '01-start');

  // Add the fixture folder through the UI.
  const pathInput = page.getByTestId('folder-path-input').first();
  if (!(await pathInput.isVisible().catch(() => false))) await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Folders' }).click();
  // The desktop app offers the system's folder chooser; it is answered here as a user would answer it.
  await app.evaluate(({ dialog }, folder) => {
    dialog.showOpenDialog = (async () => ({ canceled: false, filePaths: [folder] })) as typeof dialog.showOpenDialog;
  }, fixture.folder);
  await page.getByRole('button', { name: 'Choose…' }).first().click({ timeout: STEP_TIMEOUT_MS });
  await check((await pathInput.inputValue()) === fixture.folder, `the folder chooser's answer fills the path field (it holds '${await pathInput.inputValue()}')`);
  await page.getByRole('button', { name: /Add folder/ }).first().click();
  await page.getByText(fixture.folder).first().waitFor({ timeout: STEP_TIMEOUT_MS });
  await shot(page, '02-folder-added');

  // Progress reaches done: every file indexed, as the UI shows it.
  await page.getByTestId('sidebar-indicator').getByText(`${fixture.count} of ${fixture.count} files`).waitFor({ timeout: STEP_TIMEOUT_MS });
  await shot(page, '03-indexed');

  // Search by text and open the best result in the preview.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Search' }).click();
  const search = page.getByRole('searchbox', { name: 'Search' }).or(page.getByRole('textbox', { name: 'Search' })).or(page.getByRole('combobox', { name: 'Search' })).first();
  await search.fill('apple');
  await search.press('Enter');
  const first = page.getByTestId('result-card').first();
  await first.waitFor({ timeout: STEP_TIMEOUT_MS });
  const firstName = await first.getAttribute('aria-label');
  await check(firstName !== null && firstName.includes('red-apple.png'), `the first result for "apple" is ${String(firstName)}, expected red-apple.png`);
  // Thumbnails come through trove://media/thumb/<id>.
  await page.waitForFunction(`[...document.querySelectorAll('[data-testid=result-card] img')].some((img) => img.complete && img.naturalWidth > 0)`, null, { timeout: STEP_TIMEOUT_MS });
  await shot(page, '04-results');
  await first.click();
  await page.getByTestId('preview').waitFor({ timeout: STEP_TIMEOUT_MS });
  await page.getByTestId('preview').getByText('red-apple.png').first().waitFor({ timeout: STEP_TIMEOUT_MS });
  await shot(page, '05-preview');
}

async function main(): Promise<void> {
  const found = findElectron();
  if ('missing' in found) await skip(found.missing);
  const { executable } = found as { executable: string };
  if (needsDisplay()) {
    if (onPath('xvfb-run') && !process.env.TROVE_E2E_UNDER_XVFB) {
      // Re-run this script under a virtual display.
      const rerun = spawnSync('xvfb-run', ['-a', process.execPath, ...process.execArgv, fileURLToPath(import.meta.url)], { stdio: 'inherit', env: { ...process.env, TROVE_E2E_UNDER_XVFB: '1' } });
      process.exit(rerun.status ?? 1);
    }
    await skip("no display (DISPLAY is unset) and no xvfb-run; install xvfb (apt-get install xvfb) or run it in a desktop session");
  }
  ensureBuilt();
  await mkdir(SCREENSHOTS, { recursive: true });
  const temp = await mkdtemp(path.join(tmpdir(), 'trove-electron-e2e-'));
  let app: ElectronApplication | null = null;
  try {
    const fixture = await makeFixtureFolder(temp);
    const args = [ROOT, '--data', path.join(temp, 'data')];
    // Chromium refuses to run as root with its sandbox on (CI containers); say so rather than hide it.
    if (process.getuid?.() === 0) {
      console.log('electron e2e: running as root, so Chromium runs with --no-sandbox (the renderer is still contextIsolated with no Node)');
      args.unshift('--no-sandbox');
    }
    app = await electron.launch({ executablePath: executable, args, cwd: ROOT, env: { ...process.env, TROVE_DATA_DIR: path.join(temp, 'data') } as Record<string, string>, timeout: STEP_TIMEOUT_MS });
    app.process().stderr?.on('data', (chunk: Buffer) => process.stderr.write(`[electron] ${chunk}`));
    await journey(app, fixture);
    console.log('electron e2e: journey passed (launch, add folder, indexed, search, preview); screenshots in artifacts/screenshots/electron-*.png');
    await record({ status: 'passed' });
  } catch (error) {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    console.error(`FAIL electron e2e: ${message}`);
    if (app) {
      const page = app.windows()[0];
      if (page) await shot(page, 'failure').catch(() => undefined);
    }
    await record({ status: 'failed', error: message });
    process.exitCode = 1;
  } finally {
    await app?.close().catch(() => undefined);
    await rm(temp, { recursive: true, force: true });
  }
}

await main();
