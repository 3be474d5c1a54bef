// Messages between build-in-worker.ts (the caller's thread) and build-worker-main.ts.
import type { SerializedError } from '../../../electron/engine/base/common/serialized-error.ts';
import type { ModelManifest } from '../../manifest/common/model-manifest.ts';
import type { BuildModelPackageOptions, PackageBuildProgress } from './build-package.ts';

/** workerData: the build's options, less what cannot cross a thread (callbacks, the signal). */
export type BuildWorkerTask = Omit<BuildModelPackageOptions, 'onProgress' | 'signal'>;

export type BuildWorkerRequest = { readonly type: 'abort' };

export type BuildWorkerReply =
  | { readonly type: 'progress'; readonly progress: PackageBuildProgress }
  | { readonly type: 'done'; readonly manifest: ModelManifest }
  | { readonly type: 'error'; readonly error: SerializedError };
