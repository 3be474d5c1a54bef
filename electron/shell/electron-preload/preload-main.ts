// Runs in the sandboxed renderer before the page: exposes `window.trove` (call + on) through
// contextBridge and nothing else. Bundled to dist/electron/preload.cjs (sandboxed preloads must be
// a single CommonJS file that requires only 'electron').
import { contextBridge, ipcRenderer } from 'electron';
import { TROVE_BRIDGE_GLOBAL } from '../../contract/common/bridge.ts';
import { createTroveBridge } from './bridge-core.ts';

contextBridge.exposeInMainWorld(
  TROVE_BRIDGE_GLOBAL,
  createTroveBridge({
    invoke: (channel, ...args) => ipcRenderer.invoke(channel, ...args),
    on: (channel, listener) => {
      ipcRenderer.on(channel, listener);
    },
  }),
);
