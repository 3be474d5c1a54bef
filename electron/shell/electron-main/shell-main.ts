// Electron main process: the thin shell. It owns windows, the trove:// protocol, the tray and
// menus, and relays IPC to the engine, which runs in a utility process (engine-host-main.ts) so a crash
// or out-of-memory there never takes the window down. Every policy decision lives in a pure,
// tested module beside this one; this file only wires them to Electron. See docs/shell.md.
import { app, BrowserWindow, dialog, ipcMain, Menu, nativeImage, protocol, session, shell, Tray, utilityProcess, type WebContents } from 'electron';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { TROVE_IPC_CHANNELS } from '../../contract/common/bridge.ts';
import { resolveDataDir } from '../../engine/store/node/data-dir.ts';
import { appMenuTemplate, trayMenuTemplate } from './app-menus.ts';
import { toUnpackedAsarPath } from './asar-paths.ts';
import type { EngineProcessPort, EngineStartOptions, MainToHost } from '../common/engine-protocol.ts';
import { EngineSupervisor } from './engine-supervisor.ts';
import { APP_ENTRY_URL, ExternalLinkOpener, isAllowedNavigation, isAllowedPermission, isTrustedSender } from './navigation-policy.ts';
import { parseShellArgs, type ShellArgs } from './shell-args.ts';
import { ENGINE_STATUS_EVENT, type EngineStatus } from '../common/shell-events.ts';
import { runShellMethod } from './shell-methods.ts';
import { createTroveProtocolHandler } from './trove-protocol.ts';

// Before `ready`: trove:// behaves like https (origin, CSP 'self', fetch, streamed <video>).
protocol.registerSchemesAsPrivileged([{ scheme: 'trove', privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true } }]);
// Every renderer sandboxed, whatever a BrowserWindow asks for.
app.enableSandbox();

function fail(message: string): never {
  dialog.showErrorBox('Trove cannot start', message);
  app.exit(1);
  throw new Error(message);
}

let args: ShellArgs;
let dataDir: string;
try {
  args = parseShellArgs(process.argv.slice(1));
  dataDir = resolveDataDir({ flag: args.data });
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}
// One Chromium profile (and one single-instance lock) per data folder: `--data` gives an
// independent instance, the default folder a single one.
if (args.data !== undefined || process.env.TROVE_DATA_DIR) app.setPath('userData', path.join(dataDir, 'electron'));

const appPath = app.getAppPath();
const paths = {
  renderer: path.join(appPath, 'renderer', 'dist'),
  preload: path.join(appPath, 'dist', 'electron', 'preload.cjs'),
  engineHost: path.join(appPath, 'dist', 'electron', 'engine-host.cjs'),
  icon: path.join(appPath, 'resources', 'icons', '512x512.png'),
  trayIcon: path.join(appPath, 'resources', 'icons', process.platform === 'darwin' ? 'trayTemplate.png' : 'tray.png'),
};

// Same flags and variables as the CLI (commands/engine-options.ts): null means "none installed yet".
const embeddingModel = args.model ?? process.env.TROVE_MODEL;
const rerankerModel = args.reranker ?? process.env.TROVE_RERANKER;
const engineOptions: EngineStartOptions = {
  dataDir,
  embeddingModel: embeddingModel ? path.resolve(embeddingModel) : null,
  rerankerModel: rerankerModel ? path.resolve(rerankerModel) : null,
  watch: true,
};

let mainWindow: BrowserWindow | null = null;
let tray: Tray | null = null;
let quitting = false;
let engineStopped = false;
let indexingPaused = false;
let engineStatus: EngineStatus = { state: 'starting', message: 'Starting the engine…' };

/** Sends an event to the app's page only (never to a page that is not trove://app). */
function sendToWindow(event: string, payload: unknown): void {
  const contents = mainWindow?.webContents;
  if (!contents || contents.isDestroyed() || !isAllowedNavigation(contents.getURL())) return;
  contents.send(TROVE_IPC_CHANNELS.event, { event, payload });
}

/**
 * In a packaged app, the ffmpeg/ffprobe that the optional installer packages ship live in
 * app.asar.unpacked; the engine finds tools through TROVE_FFMPEG / TROVE_FFPROBE first, so point
 * those at the unpacked executables (unless the user set them).
 */
function bundledToolEnv(): Record<string, string> {
  if (!app.isPackaged) return {};
  const env: Record<string, string> = {};
  const load = createRequire(__filename);
  for (const [variable, pkg] of [
    ['TROVE_FFMPEG', '@ffmpeg-installer/ffmpeg'],
    ['TROVE_FFPROBE', '@ffprobe-installer/ffprobe'],
  ] as const) {
    if (process.env[variable]) continue;
    try {
      const found = (load(pkg) as { path?: unknown }).path;
      if (typeof found === 'string') env[variable] = toUnpackedAsarPath(found);
    } catch {
      // Optional dependency not installed for this platform: the engine falls back to PATH.
    }
  }
  return env;
}

/**
 * In development (`npm start` from a checkout) node_modules holds better-sqlite3 built for Node;
 * scripts/prepare-electron-sqlite.ts built a copy for Electron's ABI, which the engine loads
 * instead. Packaged apps carry an Electron build already (electron-builder rebuilds it).
 */
function sqliteBindingEnv(): Record<string, string> {
  if (app.isPackaged || process.env.TROVE_SQLITE_BINDING) return {};
  const binding = path.join(appPath, 'dist', 'electron', 'native', `better_sqlite3-electron-${process.versions.electron}-${process.platform}-${process.arch}.node`);
  return existsSync(binding) ? { TROVE_SQLITE_BINDING: binding } : {};
}

function spawnEngineHost(): EngineProcessPort {
  const env = { ...process.env, ...bundledToolEnv(), ...sqliteBindingEnv() } as Record<string, string>;
  const child = utilityProcess.fork(paths.engineHost, [], { serviceName: 'Trove engine', stdio: 'inherit', env });
  // Messages sent before the process has spawned are held here, then flushed in order.
  let queue: MainToHost[] | null = [];
  child.once('spawn', () => {
    for (const message of queue ?? []) child.postMessage(message);
    queue = null;
  });
  return {
    postMessage: (message) => (queue ? queue.push(message) : child.postMessage(message)),
    onMessage: (listener) => child.on('message', listener),
    onExit: (listener) => child.on('exit', (code) => listener(code)),
    kill: () => void child.kill(),
  };
}

const engine = new EngineSupervisor({
  spawn: spawnEngineHost,
  startOptions: engineOptions,
  onStatus: (status) => {
    engineStatus = status;
    sendToWindow(ENGINE_STATUS_EVENT, status);
    refreshTray();
  },
  onEvent: (event, payload) => {
    if (event === 'indexing.progress') {
      const paused = (payload as { state?: unknown } | null)?.state === 'paused';
      if (paused !== indexingPaused) {
        indexingPaused = paused;
        refreshTray();
      }
    }
    sendToWindow(event, payload);
  },
  log: (message) => console.error(`[trove] ${message}`),
});

/** Current roots, from the engine; empty (nothing is served) when it cannot answer. */
const rootPaths = (): Promise<string[]> => engine.rootPaths();

function showWindow(): void {
  if (!mainWindow) {
    createWindow();
    return;
  }
  if (mainWindow.isMinimized()) mainWindow.restore();
  mainWindow.show();
  mainWindow.focus();
}

function createWindow(): void {
  const window = new BrowserWindow({
    width: 1280,
    height: 840,
    minWidth: 720,
    minHeight: 480,
    title: 'Trove',
    show: false,
    icon: paths.icon,
    webPreferences: {
      preload: paths.preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
    },
  });
  mainWindow = window;
  window.once('ready-to-show', () => window.show());
  window.on('close', (event) => {
    // With a tray the app keeps indexing in the background; Quit lives in the tray and the menu.
    if (tray && !quitting) {
      event.preventDefault();
      window.hide();
    }
  });
  window.on('closed', () => {
    if (mainWindow === window) mainWindow = null;
  });
  window.webContents.on('did-finish-load', () => sendToWindow(ENGINE_STATUS_EVENT, engineStatus));
  void window.loadURL(APP_ENTRY_URL);
}

function refreshTray(): void {
  if (!tray) return;
  tray.setToolTip(`Trove — ${engineStatus.message}`);
  tray.setContextMenu(
    Menu.buildFromTemplate(
      trayMenuTemplate(
        { paused: indexingPaused, engineMessage: engineStatus.message },
        {
          show: showWindow,
          pause: () => void setPaused(true),
          resume: () => void setPaused(false),
          quit: () => app.quit(),
        },
      ),
    ),
  );
}

async function setPaused(paused: boolean): Promise<void> {
  const outcome = await engine.call(paused ? 'indexing.pause' : 'indexing.resume', {});
  if (outcome.ok) indexingPaused = paused;
  else console.error(`[trove] could not ${paused ? 'pause' : 'resume'} indexing: ${outcome.error.message}`);
  refreshTray();
}

function createTray(): void {
  try {
    tray = new Tray(nativeImage.createFromPath(paths.trayIcon));
    tray.on('click', showWindow);
    refreshTray();
  } catch (error) {
    // Some Linux desktops have no status area; the app then quits when its window closes.
    tray = null;
    console.error(`[trove] no tray icon: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Links to the web open in the system browser only after the person confirms each one. */
const externalLinks = new ExternalLinkOpener({
  confirm: async (prompt) => {
    const answer = mainWindow ? await dialog.showMessageBox(mainWindow, prompt) : await dialog.showMessageBox(prompt);
    return answer.response === 0;
  },
  openExternal: (url) => shell.openExternal(url),
});

function openExternalLink(url: string): void {
  externalLinks.open(url).catch((error: unknown) => console.error(`[trove] could not open ${url}: ${error instanceof Error ? error.message : String(error)}`));
}

function hardenWebContents(contents: WebContents): void {
  contents.on('will-navigate', (event) => {
    if (isAllowedNavigation(event.url)) return;
    event.preventDefault();
    // A link to the web clicked in the page gets the same question as one asking for a new window.
    openExternalLink(event.url);
  });
  contents.on('will-redirect', (event) => {
    if (!isAllowedNavigation(event.url)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    openExternalLink(url);
    return { action: 'deny' };
  });
}

function registerIpc(): void {
  ipcMain.handle(TROVE_IPC_CHANNELS.call, async (event, method: unknown, params: unknown) => {
    const frame = event.senderFrame;
    if (!isTrustedSender(frame ? { url: frame.url, isMainFrame: frame.parent === null } : null)) {
      return { ok: false, error: { code: 'failed', message: 'this page may not call Trove (only the app window at trove://app may)' } };
    }
    if (typeof method !== 'string') return { ok: false, error: { code: 'unknown-method', message: 'the API method must be a string' } };
    const handledByShell = await runShellMethod(method, params, {
      filePath: (itemId) => engine.filePath(itemId),
      rootPaths,
      openPath: (file) => shell.openPath(file),
      showItemInFolder: (file) => shell.showItemInFolder(file),
      pickFolder: async (title) => {
        const options = { title: title ?? 'Choose a folder', properties: ['openDirectory' as const, 'createDirectory' as const] };
        const owner = BrowserWindow.fromWebContents(event.sender);
        const answer = owner ? await dialog.showOpenDialog(owner, options) : await dialog.showOpenDialog(options);
        return answer.canceled ? null : (answer.filePaths[0] ?? null);
      },
    });
    // Everything else is validated on receipt in the engine host (dispatchApiCall).
    return handledByShell ?? engine.call(method, params);
  });
}

if (!app.requestSingleInstanceLock()) {
  // Another Trove with this data folder is running: it gets the focus (second-instance), we leave.
  app.quit();
} else {
  app.on('second-instance', showWindow);
  app.on('web-contents-created', (_event, contents) => hardenWebContents(contents));
  app.on('before-quit', (event) => {
    quitting = true;
    if (engineStopped) return;
    // Close the engine first so the store is flushed and the ANN index saved, then quit for real.
    event.preventDefault();
    void engine.stop().finally(() => {
      engineStopped = true;
      app.quit();
    });
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  app.on('activate', showWindow);

  void app.whenReady().then(() => {
    const ses = session.defaultSession;
    ses.setPermissionRequestHandler((_contents, permission, callback, details) => callback(isAllowedPermission(permission, details.requestingUrl)));
    ses.setPermissionCheckHandler((_contents, permission, requestingOrigin, details) => isAllowedPermission(permission, details.requestingUrl ?? requestingOrigin));
    protocol.handle(
      'trove',
      createTroveProtocolHandler({
        rendererDir: paths.renderer,
        thumbnail: (itemId) => engine.thumbnail(itemId),
        preview: (itemId) => engine.preview(itemId),
        filePath: (itemId) => engine.filePath(itemId),
        rootPaths,
      }),
    );
    Menu.setApplicationMenu(Menu.buildFromTemplate(appMenuTemplate({ isMac: process.platform === 'darwin', isPackaged: app.isPackaged })));
    registerIpc();
    engine.start();
    createWindow();
    createTray();
  });
}
