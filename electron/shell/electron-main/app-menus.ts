// Menu and tray templates as plain data (type-only Electron import), so their contents are tested
// under Node; main.ts turns them into Menu objects.
import type { MenuItemConstructorOptions } from 'electron';

export function appMenuTemplate(options: { isMac: boolean; isPackaged: boolean }): MenuItemConstructorOptions[] {
  const view: MenuItemConstructorOptions[] = [
    { role: 'reload' },
    { role: 'forceReload' },
    // Developer tools only in development builds: a packaged app gives users no console to paste into.
    ...(options.isPackaged ? [] : [{ role: 'toggleDevTools' } as const]),
    { type: 'separator' },
    { role: 'resetZoom' },
    { role: 'zoomIn' },
    { role: 'zoomOut' },
    { type: 'separator' },
    { role: 'togglefullscreen' },
  ];
  return [
    ...(options.isMac ? [{ role: 'appMenu' } as const] : []),
    { label: 'File', submenu: [options.isMac ? { role: 'close' } : { role: 'quit' }] },
    { role: 'editMenu' },
    { label: 'View', submenu: view },
    { role: 'windowMenu' },
  ];
}

export interface TrayActions {
  show(): void;
  pause(): void;
  resume(): void;
  quit(): void;
}

export function trayMenuTemplate(state: { paused: boolean; engineMessage: string }, actions: TrayActions): MenuItemConstructorOptions[] {
  return [
    { label: 'Show Trove', click: () => actions.show() },
    { type: 'separator' },
    state.paused ? { label: 'Resume indexing', click: () => actions.resume() } : { label: 'Pause indexing', click: () => actions.pause() },
    { label: state.engineMessage, enabled: false },
    { type: 'separator' },
    { label: 'Quit Trove', click: () => actions.quit() },
  ];
}
