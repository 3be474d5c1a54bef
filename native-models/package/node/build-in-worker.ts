// buildModelPackage on a worker thread, as a promise on the caller's: same options, progress and
// cancel. The engine builds packages this way so search, status and progress keep answering while
// a checkpoint's tensors are converted (one 8B tensor is seconds of synchronous work).
import { Worker } from 'node:worker_threads';
import { deserializeError } from '../../../electron/engine/base/common/serialized-error.ts';
import { startWorkerBeside } from '../../../electron/engine/base/node/worker-beside.ts';
import type { ModelManifest } from '../../manifest/common/model-manifest.ts';
import type { BuildModelPackageOptions } from './build-package.ts';
import type { BuildWorkerReply, BuildWorkerRequest, BuildWorkerTask } from './build-worker-protocol.ts';

/** After a cancel, how long the worker gets to finish its tensor and remove its partial folder. */
const ABORT_GRACE_MS = 30_000;

export interface BuildInWorkerOptions extends BuildModelPackageOptions {
  /** Tests of a bundle: the built worker file to start instead of the one beside this module. */
  readonly workerFile?: string;
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted.', 'AbortError');
}

export function buildModelPackageInWorker(options: BuildInWorkerOptions): Promise<ModelManifest> {
  const { onProgress, signal, workerFile, ...task } = options;
  if (signal?.aborted) return Promise.reject(abortError(signal));
  const workerData: BuildWorkerTask = task;
  const worker = workerFile ? new Worker(workerFile, { workerData }) : startWorkerBeside(import.meta.url, 'build-worker-main', { workerData });
  return new Promise<ModelManifest>((resolve, reject) => {
    let settled = false;
    let stopTimer: NodeJS.Timeout | undefined;
    const settle = (done: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(stopTimer);
      signal?.removeEventListener('abort', onAbort);
      done();
    };
    const onAbort = (): void => {
      worker.postMessage({ type: 'abort' } satisfies BuildWorkerRequest);
      // The build checks the signal between tensors; one that does not come back is stopped (its
      // partial folder then stays, and is swept when the engine next starts).
      stopTimer = setTimeout(() => void worker.terminate(), ABORT_GRACE_MS);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (reply: BuildWorkerReply) => {
      if (reply.type === 'progress') onProgress?.(reply.progress);
      else if (reply.type === 'done') settle(() => resolve(reply.manifest));
      else settle(() => reject(deserializeError(reply.error)));
    });
    worker.on('error', (error) => {
      const words = (error as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'ran out of memory' : `failed: ${error.message}`;
      settle(() => reject(new Error(`Building the model package ${words}. Close other programs and try again.`, { cause: error })));
    });
    worker.on('exit', (code) => {
      settle(() => reject(signal?.aborted ? abortError(signal) : new Error(`The model package build stopped (worker exit code ${code}) before it finished; try again.`)));
    });
  });
}
