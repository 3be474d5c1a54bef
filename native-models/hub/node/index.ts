// The hub downloader's public surface: fetch a model checkpoint from the Hugging Face hub (or take
// it from a Hugging Face cache or a local folder) for the package builder. docs/model-downloads.md.
export { downloadSnapshot } from './snapshot-download.ts';
export type { DownloadOptions, SnapshotDestination, SnapshotFile, SnapshotFileSource, SnapshotRequest, SnapshotResult } from './snapshot-types.ts';
export { QWEN3VL_CHECKPOINT_FILES, fileMatcher } from '../common/file-filter.ts';
export { findInHfCache, hfCacheDir, type HfCacheFile, type HfCacheSnapshot, type HfCacheOptions } from './hf-cache.ts';
export { checkLocalCheckpointFolder, type LocalCheckpoint, type LocalCheckpointFile, type LocalCheckpointOptions } from './local-checkpoint.ts';
export { HubError, type HubErrorCode } from '../common/hub-errors.ts';
export type { DownloadPhase, DownloadProgress, ProgressListener } from '../common/transfer-progress.ts';
export { DOWNLOAD_RECORD_FILE, readDownloadRecord, type DownloadRecord, type DownloadedFile } from './download-record.ts';
export { DEFAULT_ENDPOINT, isOfflineEnv, resolveHubSettings } from './hub-endpoint.ts';
export { freeBytesOnDisk, type FreeBytes } from './disk-space.ts';
