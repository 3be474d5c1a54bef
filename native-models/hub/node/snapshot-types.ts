// The request, options and result of a snapshot pull, shared by the online and offline paths.
import type { DownloadedFile } from './download-record.ts';
import type { FreeBytes } from './disk-space.ts';
import type { HubSettingsOptions } from './hub-endpoint.ts';
import type { RetryPolicy } from '../common/retry-policy.ts';
import type { ProgressListener } from '../common/transfer-progress.ts';

export interface SnapshotRequest {
  /** `owner/name`, e.g. `Qwen/Qwen3-VL-Embedding-2B`. */
  repo: string;
  /** Branch, tag or commit sha; default `main`. */
  revision?: string;
  /** Allow-list of repo paths to fetch (exact names or globs: `*`, `?`, `**`); default QWEN3VL_CHECKPOINT_FILES. */
  allow?: readonly string[];
}

/** Where the files go: a folder, or a function of the resolved commit (e.g. `<models>/downloads/<owner>--<name>/<commit>`). */
export type SnapshotDestination = string | ((commit: string) => string);

export interface DownloadOptions extends HubSettingsOptions {
  signal?: AbortSignal;
  onProgress?: ProgressListener;
  /** Files fetched at once (default 4). */
  concurrency?: number;
  /** Back-off settings (default 5 retries from 1 s, doubling, at most 60 s a wait). */
  retry?: Partial<RetryPolicy>;
  /** A connection silent for this long is dropped and resumed (default 30 s). */
  stallTimeoutMs?: number;
  /** Free-space probe (default statfs); tests fake a full disk with it. */
  freeBytes?: FreeBytes;
  /** Hugging Face cache folder to reuse files from; default from HF_HUB_CACHE / HF_HOME; `false` ignores any cache. */
  hfCache?: string | false;
  /** Gap between progress reports (default 250 ms). */
  progressIntervalMs?: number;
}

/** Where a file of the result came from. */
export type SnapshotFileSource = 'downloaded' | 'hf-cache' | 'present';

export interface SnapshotFile extends DownloadedFile {
  source: SnapshotFileSource;
}

export interface SnapshotResult {
  /** The folder holding the files under their repo paths (and `.trove-download.json`). */
  dir: string;
  commit: string;
  files: SnapshotFile[];
}
