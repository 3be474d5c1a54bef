import assert from 'node:assert/strict';
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { appMenuTemplate, trayMenuTemplate } from '../../electron/shell/electron-main/app-menus.ts';
import { parseShellArgs } from '../../electron/shell/electron-main/shell-args.ts';
import { runShellMethod, type ShellMethodDeps } from '../../electron/shell/electron-main/shell-methods.ts';

test('shell args: --data, --model, --reranker in both spellings, among Chromium switches', () => {
  assert.deepEqual(parseShellArgs(['.', '--no-sandbox', '--data', '/tmp/d', '--model=/m', '--inspect=0']), { data: '/tmp/d', model: '/m' });
  assert.deepEqual(parseShellArgs(['--reranker', 'r']), { reranker: 'r' });
  assert.deepEqual(parseShellArgs([]), {});
  assert.throws(() => parseShellArgs(['--data']), /--data needs a folder path/);
  assert.throws(() => parseShellArgs(['--data', '--model', 'x']), /--data needs a folder path/);
  assert.throws(() => parseShellArgs(['--data=']), /--data needs a folder path/);
});

// Real files: the roots check resolves symlinks, so it needs them on disk.
let dir: string;
let photos: string;
let photo: string;
let outsideFile: string;

before(async () => {
  dir = await realpath(await mkdtemp(path.join(tmpdir(), 'trove-shell-methods-')));
  photos = path.join(dir, 'photos');
  photo = path.join(photos, 'a.jpg');
  outsideFile = path.join(dir, 'passwd');
  await mkdir(photos);
  await writeFile(photo, 'jpeg bytes');
  await writeFile(outsideFile, 'secret');
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function deps(overrides: Partial<ShellMethodDeps> = {}) {
  const calls: string[] = [];
  const d: ShellMethodDeps = {
    filePath: async (id) => (id === 1 ? photo : id === 2 ? outsideFile : id === 4 ? path.join(photos, 'gone.jpg') : null),
    rootPaths: async () => [photos],
    openPath: async (p) => {
      calls.push(`open ${p}`);
      return '';
    },
    showItemInFolder: (p) => void calls.push(`reveal ${p}`),
    pickFolder: async (title) => {
      calls.push(`pick ${title ?? ''}`);
      return title === 'cancel' ? null : photos;
    },
    ...overrides,
  };
  return { d, calls };
}

test('dialog.pickFolder answers the chosen folder, null when cancelled, and a failed chooser as an error', async () => {
  const { d, calls } = deps();
  assert.deepEqual(await runShellMethod('dialog.pickFolder', { title: 'Add a folder' }, d), { ok: true, result: { path: photos } });
  assert.deepEqual(await runShellMethod('dialog.pickFolder', { title: 'cancel' }, d), { ok: true, result: { path: null } });
  assert.deepEqual(calls, ['pick Add a folder', 'pick cancel']);
  const bad = await runShellMethod('dialog.pickFolder', { title: 42 }, d);
  assert.equal(bad?.ok === false && bad.error.code, 'invalid-params');
  const broken = deps({ pickFolder: async () => Promise.reject(new Error('no display')) });
  const failed = await runShellMethod('dialog.pickFolder', {}, broken.d);
  assert.ok(failed?.ok === false && /folder chooser failed: no display/.test(failed.error.message));
});

test('files.open and files.reveal act on indexed files inside a root only', async () => {
  const { d, calls } = deps();
  assert.deepEqual(await runShellMethod('files.open', { itemId: 1 }, d), { ok: true, result: { ok: true } });
  assert.deepEqual(await runShellMethod('files.reveal', { itemId: 1 }, d), { ok: true, result: { ok: true } });
  const outside = await runShellMethod('files.open', { itemId: 2 }, d);
  assert.equal(outside?.ok === false && outside.error.code, 'not-found');
  const missing = await runShellMethod('files.reveal', { itemId: 3 }, d);
  assert.equal(missing?.ok === false && missing.error.code, 'not-found');
  const gone = await runShellMethod('files.open', { itemId: 4 }, d);
  assert.equal(gone?.ok === false && gone.error.code, 'not-found', 'a file gone from disk is not handed to the desktop');
  const invalid = await runShellMethod('files.open', { itemId: 'a' }, d);
  assert.equal(invalid?.ok === false && invalid.error.code, 'invalid-params');
  assert.deepEqual(calls, [`open ${photo}`, `reveal ${photo}`]);
  assert.equal(await runShellMethod('roots.list', {}, d), null, 'other methods go to the engine');
});

test('files.open reports the desktop refusing to open a file', async () => {
  const { d } = deps({ openPath: async () => 'No application is associated with this file' });
  const outcome = await runShellMethod('files.open', { itemId: 1 }, d);
  assert.equal(outcome?.ok === false && outcome.error.code, 'failed');
  assert.match(outcome?.ok === false ? outcome.error.message : '', /No application/);
});

test('menus: dev tools only unpackaged, app menu only on macOS, tray toggles pause/resume', () => {
  const labels = (t: ReturnType<typeof appMenuTemplate>) => JSON.stringify(t);
  assert.match(labels(appMenuTemplate({ isMac: false, isPackaged: false })), /toggleDevTools/);
  assert.doesNotMatch(labels(appMenuTemplate({ isMac: false, isPackaged: true })), /toggleDevTools/);
  assert.match(labels(appMenuTemplate({ isMac: true, isPackaged: true })), /appMenu/);
  assert.doesNotMatch(labels(appMenuTemplate({ isMac: false, isPackaged: true })), /appMenu/);
  const clicked: string[] = [];
  const actions = { show: () => clicked.push('show'), pause: () => clicked.push('pause'), resume: () => clicked.push('resume'), quit: () => clicked.push('quit') };
  const running = trayMenuTemplate({ paused: false, engineMessage: 'The engine is running.' }, actions);
  const paused = trayMenuTemplate({ paused: true, engineMessage: 'x' }, actions);
  const byLabel = (t: typeof running, label: string) => t.find((i) => i.label === label);
  assert.ok(byLabel(running, 'Pause indexing') && !byLabel(running, 'Resume indexing'));
  assert.ok(byLabel(paused, 'Resume indexing') && !byLabel(paused, 'Pause indexing'));
  for (const item of [byLabel(running, 'Pause indexing'), byLabel(paused, 'Resume indexing'), byLabel(running, 'Show Trove'), byLabel(running, 'Quit Trove')]) {
    (item!.click as () => void)();
  }
  assert.deepEqual(clicked, ['pause', 'resume', 'show', 'quit']);
});

test('asar paths: only the app.asar folder segment becomes app.asar.unpacked', async () => {
  const { toUnpackedAsarPath } = await import('../../electron/shell/electron-main/asar-paths.ts');
  assert.equal(toUnpackedAsarPath('/opt/Trove/resources/app.asar/node_modules/@ffmpeg-installer/linux-x64/ffmpeg'), '/opt/Trove/resources/app.asar.unpacked/node_modules/@ffmpeg-installer/linux-x64/ffmpeg');
  assert.equal(toUnpackedAsarPath('/opt/Trove/resources/app.asar.unpacked/x/ffmpeg'), '/opt/Trove/resources/app.asar.unpacked/x/ffmpeg', 'already unpacked');
  assert.equal(toUnpackedAsarPath('/usr/bin/ffmpeg'), '/usr/bin/ffmpeg');
  assert.equal(toUnpackedAsarPath('/home/me/my-app.asar/ffmpeg'), '/home/me/my-app.asar/ffmpeg', 'a folder merely ending in app.asar');
});
