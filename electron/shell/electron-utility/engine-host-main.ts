// Entry of the engine's utility process (utilityProcess.fork in main.ts): the store, the watcher
// and the models live here, so a crash or an out-of-memory in them never takes the window down.
// Bundled to dist/electron/engine-host.cjs by scripts/build-electron.ts.
import { openTroveEngine } from '../../engine/app/node/trove-engine.ts';
import { serveEngineHost } from './engine-host-core.ts';
import type { HostToMain } from '../common/engine-protocol.ts';

/** Electron's utility-process port (typed here so this file needs no Electron import). */
interface ParentPort {
  on(event: 'message', listener: (event: { data: unknown }) => void): void;
  postMessage(message: unknown): void;
}

const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;
if (!parentPort) {
  console.error('engine-host must run in an Electron utility process (utilityProcess.fork); for a terminal use `npx trove`.');
  process.exit(2);
}

serveEngineHost(
  {
    postMessage: (message: HostToMain) => parentPort.postMessage(message),
    onMessage: (listener) => parentPort.on('message', (event) => listener(event.data)),
  },
  {
    openEngine: openTroveEngine,
    // A moment for the last message (closed / start-failed) to reach main before the process ends.
    exit: (code) => void setTimeout(() => process.exit(code), 50),
    log: (message) => console.error(`[engine-host] ${message}`),
  },
);
