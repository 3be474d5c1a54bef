// The first-run model flow and Settings → Models in a real browser (Debian chromium through
// playwright-core), against the real `trove serve` server in front of the fake engine, whose
// setup task each test moves on by hand (downloading → building → done, failed, cancelled). Each
// test gets a fresh engine and server; the UI is built once.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import type { ApiMethod } from '../../electron/contract/common/api-methods.ts';
import { startApiServer, type ApiServer } from '../../electron/server/node/api-server.ts';
import { createFakeEngine, fakePackage, type FakeEngineOptions } from '../support/fake-engine.ts';
import { rendererSuite, pageErrors, shoot, skip, waitForCall, waitUntil, type FakeEngine } from './ui-harness.ts';

const SHOWN_ROOT = '/home/ada/Pictures';
const GIB = 1024 ** 3;
/** The recommended pair's download: two 4,266,570,691-byte checkpoints (see FAKE_CATALOG). */
const PAIR_BYTES = 2 * 4_266_570_691;
/** A download a quarter done: "2.0 GB of 7.9 GB · 24 MB/s · about 3 min left". */
const QUARTER_DONE = {
  phase: 'downloading' as const,
  step: 'Downloading model.safetensors (Qwen/Qwen3-VL-Embedding-2B)',
  bytes: { done: 2 * GIB, total: PAIR_BYTES },
  bytesPerSecond: 24 * 1024 * 1024,
  etaSeconds: 170,
};

const suite = rendererSuite('trove-models-ui-');

interface Session {
  engine: FakeEngine;
  page: Page;
  errors: string[];
  waitForCall(method: ApiMethod, matches: (params: Record<string, unknown>) => boolean, what: string): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

/** A fresh engine and server and a page on it; `withRoot`: a folder was added before (step 1 done). */
async function open(options: FakeEngineOptions & { withRoot?: boolean } = {}): Promise<Session> {
  const libraryDir = mkdtempSync(join(suite.work, 'library-'));
  mkdirSync(libraryDir, { recursive: true });
  const engine = createFakeEngine(libraryDir, SHOWN_ROOT, options);
  if (options.withRoot) engine.seedRoot(SHOWN_ROOT);
  const server: ApiServer = await startApiServer({ handlers: engine.handlers, events: engine.events, media: engine.media, staticDir: suite.outDir });
  const context: BrowserContext = await suite.browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light', deviceScaleFactor: 1 });
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  const errors = pageErrors(page);
  await page.goto(server.url);
  return {
    engine,
    page,
    errors,
    waitForCall: (method, matches, what) => waitForCall(engine, method, matches, what),
    async close() {
      await context.close();
      await server.close();
    },
  };
}

async function startRecommendedDownload(s: Session): Promise<void> {
  await s.page.getByTestId('model-recommendation').getByRole('button', { name: 'Download and set up' }).click();
  await s.waitForCall('models.install', () => true, 'any request');
  await s.page.getByTestId('setup-task').waitFor();
}

async function progressNow(page: Page, name: string): Promise<string | null> {
  return page.getByRole('progressbar', { name }).first().getAttribute('aria-valuenow');
}

test('first run: the recommended model with size, memory, speed, reason and hardware → download → build → indexing', { skip, timeout: 60_000 }, async () => {
  const s = await open({ models: 'none' });
  const { page, engine } = s;
  try {
    await page.getByRole('heading', { name: 'Add a folder to start' }).waitFor();
    // Before step 1 is done, step 2 only says what comes next.
    // Step 2's preview comes from models.state, which may answer after the roots did: wait for it.
    await page.getByTestId('welcome-step-model').filter({ hasText: /Qwen3-VL-Embedding 2B \(4\.0 GB\)/ }).waitFor();

    await page.getByTestId('folder-path-input').fill(SHOWN_ROOT);
    await page.getByRole('button', { name: 'Add folder' }).click();
    await page.getByRole('heading', { name: 'Next, the search model' }).waitFor();
    await waitUntil(async () => (await page.evaluate(`document.activeElement?.textContent`)) === 'Search model', 'focus follows the flow to step 2');

    const offer = page.getByTestId('model-recommendation');
    const text = await offer.innerText();
    assert.match(text, /Qwen3-VL-Embedding 2B \+ Qwen3-VL-Reranker 2B/);
    assert.match(text, /Recommended/);
    assert.match(text, /Total download\s+7\.9 GB/, 'the download size of the pair');
    assert.match(text, /Memory at int8/);
    assert.match(text, /5\.8 GB/, 'memory at the recommended precision');
    assert.match(text, /fit in its 12 GB of GPU memory/, 'why it is recommended, from the engine');
    assert.match(text, /About 1 full-size photo a second/, 'the expected speed');
    assert.equal(await page.getByTestId('hardware-line').innerText(), 'Running on your graphics card (NVIDIA GeForce RTX 4070, 12 GB).');
    await shoot(page, 'welcome-model-light', true);
    await page.emulateMedia({ colorScheme: 'dark' });
    await shoot(page, 'welcome-model-dark', true);
    await page.emulateMedia({ colorScheme: 'light' });

    await startRecommendedDownload(s);
    const request = engine.callsOf('models.install')[0]!.params;
    assert.deepEqual(request, { embedding: 'embedding-2b', reranker: 'reranker-2b', precision: 'int8', source: { type: 'hub' } }, 'the recommended ids and precision, from the hub');
    await page.getByTestId('setup-task').getByText('Getting ready').waitFor();

    engine.models.progress(QUARTER_DONE);
    const stats = page.getByTestId('setup-stats');
    await stats.filter({ hasText: '2.0 GB of 7.9 GB' }).waitFor();
    assert.match(await stats.innerText(), /24 MB\/s/);
    assert.match(await stats.innerText(), /about 3 min/);
    assert.equal(await progressNow(page, 'Model download'), '25');
    assert.equal(await page.getByRole('progressbar', { name: 'Model download' }).getAttribute('aria-valuetext'), '2.0 GB of 7.9 GB · 24 MB/s · about 3 min left');
    assert.match(await page.getByTestId('setup-task').innerText(), /Downloading model\.safetensors/, 'the step in words');
    await shoot(page, 'welcome-download-light', true);
    await page.emulateMedia({ colorScheme: 'dark' });
    await shoot(page, 'welcome-download-dark', true);
    await page.emulateMedia({ colorScheme: 'light' });

    engine.models.progress({ phase: 'building', step: 'Building Qwen3-VL-Embedding 2B for CUDA (int8)', bytes: { done: PAIR_BYTES, total: PAIR_BYTES }, bytesPerSecond: 0, etaSeconds: null, fraction: 0.62 });
    await page.getByTestId('setup-task').filter({ hasText: '62% built' }).waitFor();
    assert.equal(await progressNow(page, 'Model build'), '62');

    const c = engine.counts;
    engine.emitProgress({ state: 'indexing', files: c(40, 12), byKind: { image: c(30, 10), video: c(4, 1), pdf: c(3, 1), text: c(3, 0), document: c(0, 0) }, rate: 3.2, etaSeconds: 170, current: join(SHOWN_ROOT, 'beach-sunset.jpg') });
    engine.models.done();
    // Step 3: the same overall card as the Indexing page.
    await page.getByRole('heading', { name: 'Trove is reading your files' }).waitFor();
    await page.getByTestId('indexing-overall').filter({ hasText: '12 of 40 files' }).waitFor();
    // The statement comes from status.get, read again after model.changed: wait for it.
    await page.getByTestId('welcome-step-model').filter({ hasText: /Qwen3-VL-Embedding 2B and Qwen3-VL-Reranker 2B on the GPU/ }).waitFor();
    await page.getByRole('button', { name: 'Start searching' }).click();
    await page.getByRole('searchbox', { name: 'Search' }).waitFor();
    assert.equal(await page.getByTestId('keyword-only-notice').count(), 0, 'with the model active, search is not keyword-only');
    assert.deepEqual(s.errors, []);
  } finally {
    await s.close();
  }
});

test('cancel stops the download and offers the choices again', { skip, timeout: 30_000 }, async () => {
  const s = await open({ models: 'none', withRoot: true });
  const { page, engine } = s;
  try {
    await startRecommendedDownload(s);
    engine.models.progress(QUARTER_DONE);
    await page.getByTestId('setup-stats').filter({ hasText: '2.0 GB of 7.9 GB' }).waitFor();
    await page.getByTestId('setup-task').getByRole('button', { name: 'Cancel' }).click();
    await s.waitForCall('models.cancel', () => true, 'no parameters');
    await page.getByText('Download cancelled. What was downloaded is kept').waitFor();
    await page.getByTestId('setup-task').waitFor({ state: 'detached' });
    await page.getByTestId('model-recommendation').getByRole('button', { name: 'Download and set up' }).waitFor();
    assert.equal(engine.models.state.task?.phase, 'cancelled');
    assert.deepEqual(s.errors, []);
  } finally {
    await s.close();
  }
});

test('a failed setup shows the engine’s message, and Retry asks for the same models again', { skip, timeout: 30_000 }, async () => {
  const s = await open({ models: 'none', withRoot: true });
  const { page, engine } = s;
  try {
    // The install answer is held back until after the events that follow it: a slow answer must
    // not put the task back to "queued" over the failure the engine reported since.
    const releaseAnswer = engine.holdAnswers('models.install');
    await page.getByTestId('model-recommendation').getByRole('button', { name: 'Download and set up' }).click();
    await s.waitForCall('models.install', () => true, 'any request');
    await page.getByTestId('setup-task').waitFor();
    engine.models.progress(QUARTER_DONE);
    const message = 'Could not download model.safetensors from Qwen/Qwen3-VL-Embedding-2B: the hub answered 401 Unauthorized. Set HF_TOKEN and retry.';
    engine.models.fail(message);
    const alert = page.getByRole('alert').filter({ hasText: 'Setting up the model failed' });
    await alert.waitFor();
    const answered = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/call' && r.request().postData()?.includes('"models.install"') === true);
    releaseAnswer();
    await (await answered).finished();
    // The answer is in; the page has handled it once the next frame is drawn.
    await page.evaluate('new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)))');
    assert.equal(await alert.count(), 1, 'the failure stays after the late answer');
    assert.match(await alert.innerText(), /401 Unauthorized\. Set HF_TOKEN and retry\./);
    await alert.getByRole('button', { name: 'Retry' }).click();
    await waitUntil(async () => engine.callsOf('models.install').length === 2, 'Retry calls models.install again');
    const [first, second] = engine.callsOf('models.install');
    assert.deepEqual(second!.params, first!.params, 'the retry repeats the request');
    await page.getByTestId('setup-task').getByText('Getting ready').waitFor();
    assert.deepEqual(s.errors, []);
  } finally {
    await s.close();
  }
});

test('“Not now”: keyword search with a plain banner, a link to the setup, and the download inline once it runs', { skip, timeout: 30_000 }, async () => {
  const s = await open({ models: 'none', withRoot: true });
  const { page, engine } = s;
  try {
    await page.getByRole('button', { name: 'Not now' }).click();
    await s.waitForCall('models.decline', () => true, 'no parameters');
    const input = page.getByRole('searchbox', { name: 'Search' });
    await input.waitFor();
    const notice = page.getByTestId('keyword-only-notice');
    await notice.filter({ hasText: 'Keyword search only until the model is ready.' }).waitFor();
    assert.match(await notice.innerText(), /Semantic search starts by itself once the model is ready/);
    await input.fill('beach');
    await page.getByRole('status').filter({ hasText: 'keyword only' }).waitFor();

    await notice.getByRole('button', { name: 'Set up the search model' }).click();
    const heading = page.getByRole('heading', { name: 'Set up the search model' });
    await heading.waitFor();
    await waitUntil(async () => (await page.evaluate(`document.activeElement?.textContent`)) === 'Set up the search model', 'the setup section has focus');
    const settingsOffer = page.getByTestId('settings-get-model').getByTestId('model-recommendation');
    assert.equal(await settingsOffer.getByRole('button', { name: 'Not now' }).count(), 0, 'Settings does not offer “Not now”');
    await settingsOffer.getByRole('button', { name: 'Download and set up' }).click();
    await s.waitForCall('models.install', () => true, 'any request');
    engine.models.progress(QUARTER_DONE);

    // Back in search, the banner carries the download's progress.
    await page.keyboard.press('Control+1');
    const inline = page.getByTestId('notice-task');
    await inline.filter({ hasText: 'Downloading: 2.0 GB of 7.9 GB · 24 MB/s · about 3 min left' }).waitFor();
    assert.equal(await inline.getByRole('progressbar', { name: 'Model download' }).getAttribute('aria-valuenow'), '25');
    await shoot(page, 'search-downloading-light');
    assert.deepEqual(s.errors, []);
  } finally {
    await s.close();
  }
});

test('“Choose another…” greys out what does not fit, with the reason, and installs the choice', { skip, timeout: 30_000 }, async () => {
  const s = await open({ models: 'none', withRoot: true });
  const { page } = s;
  try {
    await page.getByRole('button', { name: 'Choose another…' }).click();
    const picker = page.getByTestId('model-picker');
    await picker.waitFor();
    assert.equal(await picker.getByTestId('model-option').count(), 5, 'four catalog models and “No reranker”');
    const big = picker.locator('[data-model="embedding-8b"]');
    assert.equal(await big.locator('input').isDisabled(), true, '8B cannot be chosen on a 12 GB GPU');
    assert.match(await big.getAttribute('class') ?? '', /model-option--unfit/);
    assert.match(await big.innerText(), /Qwen3-VL-Embedding 8B at fp16 needs about 23 GB of GPU memory/, 'the engine’s reason is shown');
    assert.match(await big.innerText(), /15 GB download/, 'its size');
    const small = picker.locator('[data-model="embedding-2b"]');
    assert.equal(await small.locator('input').isChecked(), true, 'the recommended model is preselected');
    assert.match(await small.innerText(), /4\.0 GB download · 7\.7 GB memory at fp16/);
    await shoot(page, 'welcome-picker-light');

    await picker.getByText('No reranker').click();
    await picker.getByRole('button', { name: 'Download and set up (4.0 GB)' }).click();
    const request = await s.waitForCall('models.install', () => true, 'any request');
    assert.deepEqual(request, { embedding: 'embedding-2b', reranker: null, precision: null, source: { type: 'hub' } });
    assert.deepEqual(s.errors, []);
  } finally {
    await s.close();
  }
});

test('with a model in use, a download started in Settings says search by meaning goes on meanwhile, and no page says keyword-only', { skip, timeout: 30_000 }, async () => {
  const s = await open({ withRoot: true });
  const { page } = s;
  try {
    await page.getByRole('searchbox', { name: 'Search' }).waitFor();
    await page.keyboard.press('Control+4');
    await page.getByRole('heading', { name: 'Install another model' }).waitFor();
    const picker = page.getByTestId('model-picker');
    await picker.getByRole('button', { name: /^Download and set up/ }).click();
    await s.waitForCall('models.install', () => true, 'any request');
    const meanwhile = page.getByTestId('setup-meanwhile');
    await meanwhile.waitFor();
    assert.match(await meanwhile.innerText(), /^Search by meaning goes on with Qwen3-VL-Embedding 2B meanwhile/);
    await page.keyboard.press('Control+1');
    await page.getByRole('searchbox', { name: 'Search' }).waitFor();
    assert.equal(await page.getByTestId('keyword-only-notice').count(), 0, 'the search page does not say keyword-only while the model in use searches');
    assert.deepEqual(s.errors, []);
  } finally {
    await s.close();
  }
});

test('an inference server: the form says content leaves the machine, the badge and statement stay while it is used', { skip, timeout: 30_000 }, async () => {
  const s = await open({ models: 'none', withRoot: true });
  const { page } = s;
  try {
    await page.getByRole('button', { name: 'Use an inference server' }).click();
    const form = page.getByTestId('remote-form');
    assert.match(await form.getByTestId('remote-disclosure').innerText(), /images, video frames and text from your folders — and your searches are sent to this server/);
    await form.getByLabel('Server address').fill('http://unreachable.lan:8000');
    await form.getByRole('button', { name: 'Use this server' }).click();
    await form.getByRole('alert').filter({ hasText: 'Could not reach http://unreachable.lan:8000' }).waitFor();

    await form.getByLabel('Server address').fill('http://gpu-box:8000');
    await form.getByLabel('Reranker model (optional)').fill('Qwen/Qwen3-VL-Reranker-2B');
    await form.getByLabel('API key (optional)').fill('s3cret');
    await form.getByRole('button', { name: 'Use this server' }).click();
    await s.waitForCall('models.useRemote', (p) => p.url === 'http://gpu-box:8000', 'the working url');
    assert.deepEqual(s.engine.callsOf('models.useRemote').at(-1)!.params, {
      url: 'http://gpu-box:8000',
      embeddingModel: 'Qwen/Qwen3-VL-Embedding-2B',
      rerankerModel: 'Qwen/Qwen3-VL-Reranker-2B',
      apiKey: 's3cret',
    });
    await page.getByRole('heading', { name: 'Trove is reading your files' }).waitFor();

    const badge = page.getByTestId('remote-badge');
    await badge.waitFor();
    assert.match(await badge.innerText(), /Remote models/);
    assert.match(await badge.innerText(), /gpu-box:8000/);
    await badge.click();
    const statement = page.getByTestId('settings-model').getByTestId('remote-statement');
    await statement.waitFor();
    assert.match(await statement.innerText(), /File contents leave this computer\./);
    assert.match(await statement.innerText(), /sent to http:\/\/gpu-box:8000/);
    await shoot(page, 'settings-remote-light');

    await page.getByRole('radio', { name: 'This computer' }).click();
    await s.waitForCall('models.useLocal', () => true, 'no parameters');
    await badge.waitFor({ state: 'detached' });
    assert.equal(await page.getByTestId('remote-statement').count(), 0, 'no statement once models run locally');
    assert.deepEqual(s.errors, []);
  } finally {
    await s.close();
  }
});

test('Settings → Models: installed packages with sizes, Activate starts a re-embed shown with its progress, Remove, unfinished downloads', { skip, timeout: 30_000 }, async () => {
  const s = await open({
    withRoot: true,
    extraPackages: [fakePackage('embedding-8b', 'int8', false), fakePackage('reranker-8b', 'int8', false)],
    downloads: [{ repo: 'Qwen/Qwen3-VL-Embedding-8B', bytes: 8 * GIB + GIB / 2, inUse: false }],
  });
  const { page, engine } = s;
  try {
    await page.getByRole('searchbox', { name: 'Search' }).waitFor();
    await page.keyboard.press('Control+4');
    const rows = page.getByTestId('package-row');
    await rows.first().waitFor();
    assert.equal(await rows.count(), 4);
    const active = page.locator('[data-package="embedding-2b-fp16"]');
    assert.match(await active.innerText(), /Qwen3-VL-Embedding 2B \(fp16\)\s+Search model · fp16 · 4\.0 GB/);
    assert.match(await active.innerText(), /In use/);
    assert.equal(await active.getByRole('button').count(), 0, 'the model in use cannot be removed or activated');
    const big = page.locator('[data-package="embedding-8b-int8"]');
    assert.match(await big.innerText(), /Search model · int8 · 9\.1 GB/);

    await big.getByRole('button', { name: 'Activate Qwen3-VL-Embedding 8B (int8)' }).click();
    await s.waitForCall('models.activate', (p) => p.id === 'embedding-8b-int8', 'id embedding-8b-int8');
    const change = page.getByTestId('switch-progress');
    await change.waitFor();
    engine.models.switchProgress(1234);
    await change.filter({ hasText: 'Re-embedding 1,234 of 5,000 with Qwen3-VL-Embedding 8B — search uses Qwen3-VL-Embedding 2B until it finishes.' }).waitFor();
    assert.equal(await change.getByRole('progressbar').getAttribute('aria-valuenow'), '25');
    await big.getByText('Switching…').waitFor();
    await shoot(page, 'settings-models-light');

    const reranker = page.locator('[data-package="reranker-8b-int8"]');
    await reranker.getByRole('button', { name: 'Remove Qwen3-VL-Reranker 8B (int8)' }).click();
    await reranker.getByRole('button', { name: 'Remove', exact: true }).click();
    await s.waitForCall('models.remove', (p) => p.id === 'reranker-8b-int8', 'id reranker-8b-int8');
    await reranker.waitFor({ state: 'detached' });

    engine.models.finishSwitch();
    await change.waitFor({ state: 'detached' });
    await big.getByText('In use').waitFor();
    await active.getByRole('button', { name: 'Activate Qwen3-VL-Embedding 2B (fp16)' }).waitFor();

    // A cancelled 8B download: its size, why it is kept, and a confirmed Delete.
    const unfinished = page.getByTestId('unfinished-downloads');
    assert.match(await unfinished.innerText(), /Unfinished downloads: 8\.5 GB \(Qwen\/Qwen3-VL-Embedding-8B\)\. Kept so that installing the model again continues where it stopped\./);
    await unfinished.getByRole('button', { name: 'Delete' }).click();
    await unfinished.getByRole('button', { name: 'Remove', exact: true }).click();
    await s.waitForCall('models.removeDownloads', () => true, 'no parameters');
    await unfinished.waitFor({ state: 'detached' });
    await page.getByText('Deleted the unfinished downloads.').waitFor();
    assert.deepEqual(s.errors, []);
  } finally {
    await s.close();
  }
});

test('a reload mid-download comes back to the same progress, read from models.state', { skip, timeout: 30_000 }, async () => {
  const s = await open({ models: 'none', withRoot: true });
  const { page, engine } = s;
  try {
    await startRecommendedDownload(s);
    engine.models.progress(QUARTER_DONE);
    await page.getByTestId('setup-stats').filter({ hasText: '2.0 GB of 7.9 GB' }).waitFor();
    const asked = engine.callsOf('models.state').length;

    await page.reload();
    await page.getByRole('heading', { name: 'Next, the search model' }).waitFor();
    await page.getByTestId('setup-stats').filter({ hasText: '2.0 GB of 7.9 GB' }).waitFor();
    assert.ok(engine.callsOf('models.state').length > asked, 'the reloaded page asked the engine for models.state');
    assert.equal(await progressNow(page, 'Model download'), '25');
    assert.equal(await page.getByTestId('welcome-step-model').getAttribute('aria-current'), 'step');
    assert.equal(engine.callsOf('models.install').length, 1, 'nothing was started again');

    // Searching while it downloads: the banner carries the progress.
    await page.getByRole('button', { name: 'Search while you wait' }).click();
    await page.getByRole('searchbox', { name: 'Search' }).waitFor();
    await page.getByTestId('notice-task').filter({ hasText: 'Downloading: 2.0 GB of 7.9 GB' }).waitFor();
    assert.deepEqual(s.errors, []);
  } finally {
    await s.close();
  }
});

test('offline: downloads are off, and “files I already have” installs from folders', { skip, timeout: 30_000 }, async () => {
  const s = await open({ models: 'none', withRoot: true, offline: true });
  const { page } = s;
  try {
    const notice = page.getByTestId('offline-notice');
    await notice.filter({ hasText: 'Downloads are off' }).waitFor();
    assert.equal(await page.getByTestId('model-recommendation').getByRole('button', { name: 'Download and set up' }).isDisabled(), true);
    await notice.getByRole('button', { name: 'Use files I already have' }).click();
    const form = page.getByTestId('folders-form');
    await form.getByLabel('Qwen3-VL-Embedding 2B folder').fill('/home/ada/models/Qwen3-VL-Embedding-2B');
    await form.getByRole('button', { name: 'Set up from these folders' }).click();
    const request = await s.waitForCall('models.install', () => true, 'any request');
    assert.deepEqual(request, {
      embedding: 'embedding-2b',
      reranker: null,
      precision: null,
      source: { type: 'folders', folders: { 'embedding-2b': '/home/ada/models/Qwen3-VL-Embedding-2B' } },
    });
    await page.getByTestId('setup-task').waitFor();
    assert.deepEqual(s.errors, []);
  } finally {
    await s.close();
  }
});
