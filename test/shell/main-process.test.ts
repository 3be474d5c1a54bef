// The bundled main process (dist/electron/main.cjs, built here into a temp folder) run under Node
// against a fake 'electron' module: checks the wiring Electron itself would exercise — scheme
// privileges before ready, window security options, the trove:// handler, the IPC sender check
// and relay, navigation and window-open policy, permissions, engine events, crash restart, and
// the quit sequence. What needs a real Chromium is left to e2e/electron.e2e.ts.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { TroveEngine } from '../../electron/engine/app/node/trove-engine-types.ts';
import { serveEngineHost } from '../../electron/shell/electron-utility/engine-host-core.ts';
import { buildElectron } from '../../scripts/build-electron.ts';
import { createFakeEngineProcess } from '../support/fake-engine-port.ts';

type Listener = (...args: unknown[]) => unknown;

let dir: string;
let library: string;
const calls: string[] = [];
const sent: [string, unknown][] = [];
const opened: string[] = [];
/** Questions the shell asked (dialog.showMessageBox) and the answers the test gives, in order (default: Cancel). */
const asked: { detail: string; buttons: string[]; cancelId: number; owner: boolean }[] = [];
const answers: number[] = [];
const revealed: string[] = [];
const forks: (EventEmitter & { crash(code: number): void })[] = [];
const engineListeners = new Map<string, Listener>();
const engineOptions: unknown[] = [];
let protocolHandler: ((request: Request) => Promise<Response>) | null = null;
let ipcHandler: Listener | null = null;
let permissionRequest: Listener | null = null;
const appEvents = new EventEmitter();
const windows: FakeWindow[] = [];
let resolveReady!: () => void;
let quitCount = 0;

const fakeEngine: TroveEngine = {
  handlers: {
    'roots.list': async () => [{ id: 1, path: library, include: [], exclude: [], present: true, addedAt: 1 }],
    'indexing.pause': async () => ({ ok: true }),
  } as unknown as TroveEngine['handlers'],
  media: {
    thumbnail: async (id) => (id === 5 ? { mime: 'image/webp', bytes: new Uint8Array([1, 2]) } : null),
    filePath: async (id) => (id === 5 ? path.join(library, 'a.jpg') : null),
    rootPaths: async () => [library],
  },
  on: (event, listener) => {
    engineListeners.set(event, listener as Listener);
    return () => engineListeners.delete(event);
  },
  idle: async () => undefined,
  close: async () => {
    calls.push('engine.close');
  },
};

class FakeWebContents extends EventEmitter {
  url = '';
  openHandler: ((details: { url: string }) => { action: string }) | null = null;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: string }) {
    this.openHandler = handler;
  }
  send(channel: string, message: unknown) {
    sent.push([channel, message]);
  }
  getURL() {
    return this.url;
  }
  isDestroyed() {
    return false;
  }
}

class FakeWindow extends EventEmitter {
  webContents = new FakeWebContents();
  constructor(readonly options: { webPreferences: Record<string, unknown> }) {
    super();
    windows.push(this);
    appEvents.emit('web-contents-created', {}, this.webContents);
  }
  loadURL(url: string) {
    this.webContents.url = url;
    calls.push(`loadURL ${url}`);
    return Promise.resolve();
  }
  show() {}
  focus() {}
  hide() {}
  restore() {}
  isMinimized() {
    return false;
  }
}

const fakeElectron = {
  app: {
    enableSandbox: () => calls.push('enableSandbox'),
    getAppPath: () => dir,
    setPath: (name: string, value: string) => calls.push(`setPath ${name} ${value}`),
    requestSingleInstanceLock: () => true,
    isPackaged: false,
    on: (event: string, listener: Listener) => appEvents.on(event, listener),
    whenReady: () => new Promise<void>((resolve) => (resolveReady = resolve)),
    quit: () => {
      quitCount++;
      const event = { defaultPrevented: false, preventDefault() { this.defaultPrevented = true; } };
      appEvents.emit('before-quit', event);
      calls.push(event.defaultPrevented ? 'quit deferred' : 'quit');
    },
    exit: (code: number) => calls.push(`exit ${code}`),
  },
  protocol: {
    registerSchemesAsPrivileged: (schemes: unknown) => calls.push(`registerSchemesAsPrivileged ${JSON.stringify(schemes)}`),
    handle: (scheme: string, handler: (request: Request) => Promise<Response>) => {
      calls.push(`protocol.handle ${scheme}`);
      protocolHandler = handler;
    },
  },
  session: {
    defaultSession: {
      setPermissionRequestHandler: (handler: Listener) => (permissionRequest = handler),
      setPermissionCheckHandler: () => undefined,
    },
  },
  ipcMain: { handle: (channel: string, handler: Listener) => ((ipcHandler = handler), calls.push(`ipcMain.handle ${channel}`)) },
  shell: {
    openExternal: async (url: string) => void opened.push(url),
    openPath: async () => '',
    showItemInFolder: (file: string) => void revealed.push(file),
  },
  dialog: {
    showErrorBox: (title: string, message: string) => calls.push(`error ${title}: ${message}`),
    showMessageBox: async (...args: unknown[]) => {
      const options = args.at(-1) as { detail: string; buttons: string[]; cancelId: number };
      asked.push({ ...options, owner: args.length === 2 });
      return { response: answers.shift() ?? options.cancelId, checkboxChecked: false };
    },
  },
  Menu: { buildFromTemplate: (template: unknown) => template, setApplicationMenu: () => calls.push('setApplicationMenu') },
  nativeImage: { createFromPath: (p: string) => p },
  Tray: class {
    on() {}
    setToolTip() {}
    setContextMenu() {}
  },
  BrowserWindow: FakeWindow,
  utilityProcess: {
    fork: (modulePath: string) => {
      calls.push(`fork ${path.relative(dir, modulePath)}`);
      const proc = createFakeEngineProcess();
      serveEngineHost(proc.host, { openEngine: async (options) => (engineOptions.push(options), fakeEngine), exit: (code) => proc.exit(code) });
      const child = Object.assign(new EventEmitter(), {
        postMessage: (m: never) => proc.main.postMessage(m),
        kill: () => (proc.main.kill(), true),
        crash: (code: number) => proc.exit(code),
      });
      proc.main.onMessage((m) => child.emit('message', m));
      proc.main.onExit((code) => child.emit('exit', code));
      setImmediate(() => child.emit('spawn'));
      forks.push(child);
      return child;
    },
  },
};

const until = async (condition: () => boolean, what: string): Promise<void> => {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(condition(), `timed out waiting for ${what}`);
};

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'trove-main-'));
  library = path.join(dir, 'library');
  await mkdir(path.join(dir, 'renderer', 'dist'), { recursive: true });
  await mkdir(library);
  await writeFile(path.join(dir, 'renderer', 'dist', 'index.html'), '<!doctype html><title>Trove</title>');
  await writeFile(path.join(library, 'a.jpg'), 'jpeg bytes');
  const { outputs } = await buildElectron({ outDir: path.join(dir, 'bundle'), entries: ['main'] });
  const require = createRequire(import.meta.url);
  const Module = require('node:module') as { _load: (request: string, ...rest: unknown[]) => unknown };
  const load = Module._load;
  Module._load = function (request: string, ...rest: unknown[]) {
    return request === 'electron' ? fakeElectron : load.call(this, request, ...rest);
  };
  process.env.TROVE_DATA_DIR = path.join(dir, 'data');
  delete process.env.TROVE_MODEL;
  delete process.env.TROVE_RERANKER;
  require(outputs.main!);
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('before ready: trove:// is privileged and every renderer is sandboxed', () => {
  const registered = calls.find((c) => c.startsWith('registerSchemesAsPrivileged'));
  assert.ok(registered);
  const [scheme] = JSON.parse(registered.slice('registerSchemesAsPrivileged '.length)) as { scheme: string; privileges: Record<string, boolean> }[];
  assert.equal(scheme!.scheme, 'trove');
  assert.deepEqual(scheme!.privileges, { standard: true, secure: true, supportFetchAPI: true, stream: true });
  assert.ok(calls.includes('enableSandbox'));
  assert.ok(calls.includes(`setPath userData ${path.join(dir, 'data', 'electron')}`), 'a --data/TROVE_DATA_DIR folder gets its own profile and instance lock');
  assert.equal(windows.length, 0, 'no window before ready');
});

test('when ready: protocol, IPC, engine in a utility process, a secure window at trove://app', async () => {
  resolveReady();
  await until(() => windows.length === 1, 'the window');
  assert.ok(calls.includes('protocol.handle trove'));
  assert.ok(calls.includes('ipcMain.handle trove:api-call'));
  assert.ok(calls.includes(`fork ${path.join('dist', 'electron', 'engine-host.cjs')}`));
  assert.ok(calls.includes('loadURL trove://app/index.html'));
  const prefs = windows[0]!.options.webPreferences;
  assert.equal(prefs.contextIsolation, true);
  assert.equal(prefs.sandbox, true);
  assert.equal(prefs.nodeIntegration, false);
  assert.equal(prefs.webSecurity, true);
  assert.equal(prefs.webviewTag, false);
  assert.equal(prefs.preload, path.join(dir, 'dist', 'electron', 'preload.cjs'));
  await until(() => engineOptions.length === 1, 'the engine to open');
  assert.deepEqual(engineOptions[0], { dataDir: path.join(dir, 'data'), embeddingModel: null, rerankerModel: null, watch: true });
});

test('trove:// serves the app with its CSP and media through the engine', async () => {
  const page = await protocolHandler!(new Request('trove://app/index.html'));
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-security-policy')!, /script-src 'self'/);
  const thumb = await protocolHandler!(new Request('trove://media/thumb/5'));
  assert.deepEqual([...new Uint8Array(await thumb.arrayBuffer())], [1, 2]);
  const file = await protocolHandler!(new Request('trove://media/file/5'));
  assert.equal(await file.text(), 'jpeg bytes');
  assert.equal((await protocolHandler!(new Request('trove://media/file/6'))).status, 404);
});

test('IPC: only the app main frame is served; calls relay to the engine; files.reveal uses the shell', async () => {
  const trusted = { senderFrame: { url: 'trove://app/index.html', parent: null } };
  const outcome = (await ipcHandler!(trusted, 'roots.list', {})) as { ok: boolean; result: { path: string }[] };
  assert.equal(outcome.ok, true);
  assert.equal(outcome.result[0]!.path, library);
  for (const untrusted of [{ senderFrame: { url: 'https://evil.example/', parent: null } }, { senderFrame: { url: 'trove://app/index.html', parent: {} } }, { senderFrame: null }]) {
    const refused = (await ipcHandler!(untrusted, 'roots.list', {})) as { ok: boolean; error: { message: string } };
    assert.equal(refused.ok, false);
    assert.match(refused.error.message, /may not call Trove/);
  }
  const invalid = (await ipcHandler!(trusted, 'roots.remove', { id: 'x' })) as { ok: boolean; error: { code: string } };
  assert.equal(invalid.error.code, 'invalid-params', 'validated on receipt in the engine host');
  const reveal = (await ipcHandler!(trusted, 'files.reveal', { itemId: 5 })) as { ok: boolean };
  assert.equal(reveal.ok, true);
  assert.deepEqual(revealed, [path.join(library, 'a.jpg')]);
});

test('navigation, new windows and permissions are denied', () => {
  const contents = windows[0]!.webContents;
  const navigate = (url: string): boolean => {
    let prevented = false;
    contents.emit('will-navigate', { url, preventDefault: () => (prevented = true) });
    return prevented;
  };
  assert.equal(navigate('file:///etc/passwd'), true);
  assert.equal(navigate('trove://app/index.html'), false);
  assert.deepEqual(contents.openHandler!({ url: 'file:///bin/sh' }), { action: 'deny' });
  let granted: boolean | null = null;
  permissionRequest!(contents, 'media', (ok: boolean) => (granted = ok), { requestingUrl: 'trove://app/index.html' });
  assert.equal(granted, false);
});

test('a link to the web opens in the browser only after the person confirms it', async () => {
  const contents = windows[0]!.webContents;
  asked.length = 0;
  // A link in a note or PDF asking for a new window: the window is denied, the question shows the address.
  answers.push(1);
  assert.deepEqual(contents.openHandler!({ url: 'https://example.com/docs?from=note' }), { action: 'deny' });
  await until(() => asked.length === 1, 'the question for the first link');
  assert.match(asked[0]!.detail, /^https:\/\/example\.com\/docs\?from=note\n\nIt goes to example\.com\. It came from a file or page shown in Trove/);
  assert.deepEqual(asked[0]!.buttons, ['Open in browser', 'Cancel']);
  assert.equal(asked[0]!.owner, true, 'the question belongs to the window');
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(opened, [], 'cancelled: nothing opened');
  // Confirmed: opened. A look-alike host is shown as the browser resolves it.
  answers.push(0);
  contents.openHandler!({ url: 'https://exаmple.com/' }); // Cyrillic 'а'
  await until(() => opened.length === 1, 'the confirmed link to open');
  assert.match(asked[1]!.detail, /It goes to xn--exmple-4nf\.com\./);
  assert.deepEqual(opened, ['https://xn--exmple-4nf.com/']);
  // A plain link (no new window) to the web: the navigation is refused and the same question asked.
  answers.push(0);
  let prevented = false;
  contents.emit('will-navigate', { url: 'https://example.org/page', preventDefault: () => (prevented = true) });
  assert.equal(prevented, true);
  await until(() => opened.length === 2, 'the confirmed plain link to open');
  assert.equal(opened[1], 'https://example.org/page');
  // Many windows at once: one question, the others dropped; file: and friends are never asked about.
  // (asked while the first question is still open: the fake holds its answer.)
  let release!: (n: number) => void;
  const held = fakeElectron.dialog.showMessageBox;
  fakeElectron.dialog.showMessageBox = (...args: unknown[]) => {
    const options = args.at(-1) as { detail: string; buttons: string[]; cancelId: number };
    asked.push({ ...options, owner: args.length === 2 });
    return new Promise((resolve) => (release = (response) => resolve({ response, checkboxChecked: false })));
  };
  try {
    const before = asked.length;
    for (let i = 0; i < 5; i++) contents.openHandler!({ url: `https://spam.example/${i}` });
    contents.openHandler!({ url: 'file:///bin/sh' });
    await until(() => asked.length === before + 1, 'the one question');
    release(1);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(asked.length, before + 1, 'one question for five windows');
    assert.equal(opened.length, 2, 'nothing more opened');
  } finally {
    fakeElectron.dialog.showMessageBox = held;
  }
});

test('engine events reach the window; a crash restarts the engine and says so', async () => {
  engineListeners.get('library.changed')!({ indexed: 2, removed: 0 });
  await until(() => sent.some(([, m]) => (m as { event: string }).event === 'library.changed'), 'the library.changed event');
  assert.deepEqual(sent.find(([, m]) => (m as { event: string }).event === 'library.changed'), ['trove:api-event', { event: 'library.changed', payload: { indexed: 2, removed: 0 } }]);
  forks[0]!.crash(139);
  await until(() => forks.length === 2, 'the restarted engine');
  const statuses = sent.filter(([, m]) => (m as { event: string }).event === 'engine.status').map(([, m]) => (m as { payload: { state: string } }).payload.state);
  assert.ok(statuses.includes('restarting'), `statuses: ${statuses.join(', ')}`);
  const outcome = (await ipcHandler!({ senderFrame: { url: 'trove://app/index.html', parent: null } }, 'roots.list', {})) as { ok: boolean };
  assert.equal(outcome.ok, true, 'the restarted engine answers');
});

test('quitting closes the engine first, then quits', async () => {
  fakeElectron.app.quit();
  assert.ok(calls.includes('quit deferred'));
  await until(() => calls.includes('quit'), 'the second quit');
  assert.ok(calls.includes('engine.close'));
  assert.equal(quitCount, 2);
});
