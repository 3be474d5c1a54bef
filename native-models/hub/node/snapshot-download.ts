// downloadSnapshot: pulls the files of one revision of a hub repo into a folder, verified.
//   listing     resolve the revision to a commit, list its files (sizes + hashes), apply the allow-list
//   checking    keep files already in the folder that verify; link verified Hugging Face cache files in
//   (disk)      refuse up front when the rest cannot fit
//   downloading fetch the rest, a few at a time, resumable, verified as they arrive
//   verifying   write .trove-download.json last: its presence means "complete and verified"
// Offline mode never touches the network (offline-snapshot.ts).
import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { checkFreeSpace } from './disk-space.ts';
import { downloadedFileOf, readDownloadRecord, removeDownloadRecord, writeDownloadRecord } from './download-record.ts';
import { QWEN3VL_CHECKPOINT_FILES, fileMatcher } from '../common/file-filter.ts';
import { PART_SUFFIX, fetchVerifiedFile } from './file-fetch.ts';
import { linkOrCopy } from './file-place.ts';
import { expectedContent, verifyFile } from './file-verify.ts';
import { checkRepoId, checkRevision, resolveHubSettings, resolveUrl } from './hub-endpoint.ts';
import { HubError, cancelledError, diskFullError, isDiskFullError, type RequestSubject } from '../common/hub-errors.ts';
import { createHubHttp, type HubHttp } from './hub-http.ts';
import { findCachedBlob, hfCacheDir, hfRepoFolder } from './hf-cache.ts';
import { listRepoFiles, resolveCommit, type HubFileEntry } from './hub-tree.ts';
import { offlineSnapshot } from './offline-snapshot.ts';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../common/retry-policy.ts';
import type { DownloadOptions, SnapshotDestination, SnapshotFileSource, SnapshotRequest, SnapshotResult } from './snapshot-types.ts';
import { runPool } from '../common/task-pool.ts';
import { ProgressTracker } from '../common/transfer-progress.ts';

// The entry points callers use most, importable from this one module.
export type { DownloadOptions, SnapshotDestination, SnapshotFile, SnapshotFileSource, SnapshotRequest, SnapshotResult } from './snapshot-types.ts';
export type { DownloadPhase, DownloadProgress, ProgressListener } from '../common/transfer-progress.ts';
export { HubError, type HubErrorCode } from '../common/hub-errors.ts';
export { checkLocalCheckpointFolder } from './local-checkpoint.ts';
export { findInHfCache } from './hf-cache.ts';
export { QWEN3VL_CHECKPOINT_FILES } from '../common/file-filter.ts';

const DEFAULT_CONCURRENCY = 4;
const DEFAULT_STALL_TIMEOUT_MS = 30_000;

interface PullContext {
  repo: string;
  revision: string;
  patterns: readonly string[];
  subject: RequestSubject;
  http: HubHttp;
  retry: RetryPolicy;
  controller: AbortController;
  progress: ProgressTracker;
  cacheDir: string | null;
  options: DownloadOptions;
}

async function sizeOf(file: string): Promise<number> {
  return stat(file).then((s) => s.size, () => 0);
}

/** The record already in `dir` covers exactly these files with these hashes, and they are all there. */
async function alreadyComplete(dir: string, commit: string, entries: HubFileEntry[]): Promise<boolean> {
  const record = await readDownloadRecord(dir);
  if (record === null || record.commit !== commit) return false;
  const recorded = new Map(record.files.map((f) => [f.path, f]));
  for (const entry of entries) {
    const want = downloadedFileOf(entry);
    const have = recorded.get(entry.path);
    if (!have || have.size !== want.size || have.sha256 !== want.sha256 || have.gitOid !== want.gitOid) return false;
    if ((await sizeOf(path.join(dir, entry.path))) !== want.size) return false;
  }
  return true;
}

/** Links a verified copy of `entry` from the Hugging Face cache into place; false when the cache has none. */
async function takeFromCache(entry: HubFileEntry, target: string, commit: string, ctx: PullContext): Promise<boolean> {
  if (ctx.cacheDir === null) return false;
  const expected = expectedContent(entry);
  const candidates = [
    await findCachedBlob(ctx.cacheDir, ctx.repo, expected.digest), // content-addressed: any cached revision will do
    path.join(hfRepoFolder(ctx.cacheDir, ctx.repo), 'snapshots', commit, ...entry.path.split('/')),
  ];
  for (const candidate of candidates) {
    if (candidate === null) continue;
    // The user's cache is only read, never repaired: a damaged candidate is simply not used.
    if ((await verifyFile(candidate, expected, { signal: ctx.controller.signal })).ok) {
      await linkOrCopy(candidate, target);
      return true;
    }
  }
  return false;
}

async function onlineSnapshot(destination: SnapshotDestination, ctx: PullContext): Promise<SnapshotResult> {
  const { repo, progress, controller } = ctx;
  const signal = controller.signal;
  const listCtx = { http: ctx.http, subject: ctx.subject, retry: ctx.retry, signal };
  progress.phase('listing');
  const commit = await resolveCommit(repo, ctx.revision, listCtx);
  const match = fileMatcher(ctx.patterns);
  const entries = (await listRepoFiles(repo, commit, listCtx)).filter((e) => match(e.path));
  if (entries.length === 0) {
    throw new HubError('not-found', `${repo} at revision ${ctx.revision} has no file matching ${ctx.patterns.join(', ')}; check it is the checkpoint repo you meant (e.g. Qwen/Qwen3-VL-Embedding-2B).`);
  }
  const dir = path.resolve(typeof destination === 'function' ? destination(commit) : destination);
  await mkdir(dir, { recursive: true });
  const totalBytes = entries.reduce((s, e) => s + e.size, 0);
  const sources = new Map<string, SnapshotFileSource>();
  const result = (): SnapshotResult => ({ dir, commit, files: entries.map((e) => ({ ...downloadedFileOf(e), source: sources.get(e.path) ?? 'present' })) });

  if (await alreadyComplete(dir, commit, entries)) {
    progress.phase('done', { totalBytes, doneBytes: totalBytes, files: { done: entries.length, total: entries.length } });
    return result();
  }
  await removeDownloadRecord(dir); // the folder is about to change: it is not "complete" until rewritten

  progress.phase('checking', { totalBytes, doneBytes: 0, files: { done: 0, total: entries.length } });
  const todo: HubFileEntry[] = [];
  let stillToFetch = 0;
  for (const entry of entries) {
    progress.current(entry.path);
    const target = path.join(dir, ...entry.path.split('/'));
    if ((await verifyFile(target, expectedContent(entry), { signal })).ok) sources.set(entry.path, 'present');
    else {
      await rm(target, { force: true }); // a wrong file is never left where it could be used
      if (await takeFromCache(entry, target, commit, ctx)) sources.set(entry.path, 'hf-cache');
      else {
        const partBytes = Math.min(await sizeOf(target + PART_SUFFIX), entry.size);
        progress.present(partBytes);
        stillToFetch += entry.size - partBytes;
        todo.push(entry);
        continue;
      }
    }
    progress.present(entry.size);
    progress.fileDone(entry.path);
  }

  await checkFreeSpace(dir, stillToFetch, ctx.options.freeBytes);

  progress.phase('downloading');
  todo.sort((a, b) => b.size - a.size); // largest first: it sets the total time, so start it early
  await runPool(todo, ctx.options.concurrency ?? DEFAULT_CONCURRENCY, controller, async (entry) => {
    const target = path.join(dir, ...entry.path.split('/'));
    await mkdir(path.dirname(target), { recursive: true });
    progress.current(entry.path);
    await fetchVerifiedFile(entry, target, {
      http: ctx.http,
      url: resolveUrl(ctx.subject.endpoint, repo, commit, entry.path),
      subject: { ...ctx.subject, file: entry.path },
      retry: ctx.retry,
      signal,
      stallTimeoutMs: ctx.options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS,
      onBytes: (delta) => progress.bytes(delta, entry.path),
    });
    sources.set(entry.path, 'downloaded');
    progress.fileDone(entry.path);
  });

  progress.phase('verifying');
  for (const entry of entries) {
    // Every file was hashed on its way in; a size check catches one removed or replaced since.
    if ((await sizeOf(path.join(dir, entry.path))) !== entry.size) {
      throw new HubError('corrupt', `${entry.path} in ${dir} changed while the download ran; make sure nothing else writes to that folder, then retry.`);
    }
  }
  await writeDownloadRecord(dir, { repo, revision: ctx.revision, commit, endpoint: ctx.subject.endpoint, files: entries.map(downloadedFileOf) });
  progress.phase('done');
  return result();
}

/**
 * Downloads the files of `request.repo` at `request.revision` that match `request.files` into
 * `destination`, verified, and returns where they are. See docs/model-downloads.md.
 */
export async function downloadSnapshot(request: SnapshotRequest, destination: SnapshotDestination, options: DownloadOptions = {}): Promise<SnapshotResult> {
  const repo = request.repo;
  const revision = request.revision ?? 'main';
  checkRepoId(repo);
  checkRevision(revision);
  const settings = resolveHubSettings(options);
  const env = options.env ?? process.env;
  const cacheDir = options.hfCache === false ? null : (options.hfCache ?? hfCacheDir(env));
  const progress = new ProgressTracker(options.onProgress, { intervalMs: options.progressIntervalMs });
  const patterns = request.allow ?? QWEN3VL_CHECKPOINT_FILES;

  // One controller for the whole pull: the caller's cancel and the first failing file both stop everything.
  const controller = new AbortController();
  const onAbort = () => controller.abort(cancelledError(repo));
  if (options.signal?.aborted) throw cancelledError(repo);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const http = createHubHttp({ token: settings.token, offline: settings.offline, env });
  try {
    if (settings.offline) {
      return await offlineSnapshot(destination, { repo, revision, endpoint: settings.endpoint, match: fileMatcher(patterns), cacheDir, signal: controller.signal, progress });
    }
    const subject: RequestSubject = { repo, revision, endpoint: settings.endpoint, hadToken: settings.token !== null };
    const retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    return await onlineSnapshot(destination, { repo, revision, patterns, subject, http, retry, controller, progress, cacheDir, options });
  } catch (error) {
    if (options.signal?.aborted) throw cancelledError(repo);
    if (error instanceof HubError) throw error;
    if (isDiskFullError(error)) throw diskFullError(typeof destination === 'string' ? destination : 'the models folder', error);
    throw error;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    await http.close();
  }
}
