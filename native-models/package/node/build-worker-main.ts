// Worker-thread entry for buildModelPackage (started by build-in-worker.ts). Converting and
// quantizing a checkpoint is long synchronous number crunching, a tensor at a time; on the engine's
// thread it would stall search and progress for as long as each tensor takes.
import { parentPort, workerData } from 'node:worker_threads';
import { serializeError } from '../../../electron/engine/base/common/serialized-error.ts';
import { buildModelPackage } from './build-package.ts';
import type { BuildWorkerReply, BuildWorkerRequest, BuildWorkerTask } from './build-worker-protocol.ts';

if (parentPort === null) throw new Error('build-worker-main.ts is a worker_threads entry; start it through buildModelPackageInWorker');
const port = parentPort;
const post = (reply: BuildWorkerReply): void => port.postMessage(reply);
const abort = new AbortController();
port.on('message', (request: BuildWorkerRequest) => {
  if (request.type === 'abort') abort.abort();
});

buildModelPackage({ ...(workerData as BuildWorkerTask), signal: abort.signal, onProgress: (progress) => post({ type: 'progress', progress }) }).then(
  (manifest) => post({ type: 'done', manifest }),
  (error: unknown) => post({ type: 'error', error: serializeError(error) }),
).finally(() => port.close());
