// A fake utility process for the shell's engine tests: a linked pair of ports that copy every
// message with structuredClone (as Electron's port does) and deliver it on a later tick.
import type { EngineProcessPort, HostToMain, MainToHost } from '../../electron/shell/common/engine-protocol.ts';
import type { HostPort } from '../../electron/shell/electron-utility/engine-host-core.ts';

export interface FakeEngineProcess {
  readonly main: EngineProcessPort;
  readonly host: HostPort;
  /** Messages main sent, in order (after cloning). */
  readonly sent: MainToHost[];
  /** Simulates the process dying (crash, OOM, process.exit). */
  exit(code: number | null): void;
  readonly killed: boolean;
  readonly exited: boolean;
}

export function createFakeEngineProcess(): FakeEngineProcess {
  const toHost: ((m: unknown) => void)[] = [];
  const toMain: ((m: unknown) => void)[] = [];
  const exitListeners: ((code: number | null) => void)[] = [];
  const sent: MainToHost[] = [];
  let exited = false;
  let killed = false;
  const deliver = (listeners: ((m: unknown) => void)[], message: unknown): void => {
    // A message posted before the process died is still delivered (it was already in the pipe).
    if (exited) return;
    const copy = structuredClone(message);
    setImmediate(() => {
      for (const l of listeners) l(copy);
    });
  };
  const exit = (code: number | null): void => {
    if (exited) return;
    exited = true;
    setImmediate(() => {
      for (const l of exitListeners) l(code);
    });
  };
  return {
    sent,
    main: {
      postMessage(message: MainToHost) {
        if (exited) throw new Error('the process is gone');
        sent.push(structuredClone(message));
        deliver(toHost, message);
      },
      onMessage: (l) => void toMain.push(l),
      onExit: (l) => void exitListeners.push(l),
      kill() {
        killed = true;
        exit(null);
      },
    },
    host: {
      postMessage(message: HostToMain) {
        deliver(toMain, message);
      },
      onMessage: (l) => void toHost.push(l),
    },
    exit,
    get killed() {
      return killed;
    },
    get exited() {
      return exited;
    },
  };
}
