// Child process for failures.test.ts: one engine start (no model, no watcher) on a data folder,
// then the API calls the parent asks for, in order; prints one JSON line per call with its answer
// (after the engine is idle). The parent runs it as user `nobody` when the tests run as root, so
// that a folder without read permission is unreadable here too.
//   failures-child.ts <data-dir> <library> <step>...   steps: add | idle | failures | status | retry[:<file-name>] | retry-all
import path from 'node:path';
import { dispatchApiCall } from '../../../electron/contract/common/trove-api.ts';
import type { FileFailures } from '../../../electron/contract/common/entities.ts';
import { openTroveEngine } from '../../../electron/engine/app/node/trove-engine.ts';

const [dataDir, library, ...steps] = process.argv.slice(2);
if (!dataDir || !library || steps.length === 0) throw new Error('usage: failures-child.ts <data-dir> <library> <step>...');

const engine = await openTroveEngine({ dataDir, watch: false });
const call = (method: string, params: unknown): Promise<unknown> => dispatchApiCall(engine.handlers, method, params);
const print = (step: string, answer: unknown): void => void process.stdout.write(`${JSON.stringify({ step, answer })}\n`);
try {
  for (const step of steps) {
    if (step === 'add') print(step, await call('roots.add', { path: library }));
    else if (step === 'idle') print(step, await engine.idle());
    else if (step === 'failures') print(step, await call('files.failures', { limit: 1000 }));
    else if (step === 'status') print(step, await call('status.get', {}));
    else if (step === 'retry-all') print(step, await call('files.retry', {}));
    else if (step.startsWith('retry:')) {
      const name = step.slice('retry:'.length);
      const { failures } = (await call('files.failures', { limit: 1000 })) as FileFailures;
      const fileIds = failures.filter((f) => f.fileId !== null && path.basename(f.path) === name).map((f) => f.fileId!);
      print(step, await call('files.retry', { fileIds }));
    } else throw new Error(`unknown step '${step}'`);
  }
} finally {
  await engine.close();
}
