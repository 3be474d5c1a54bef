// A pull in offline mode (HF_HUB_OFFLINE / TROVE_OFFLINE): never touches the network. It succeeds
// when the destination already holds a finished download of the revision, or when the Hugging
// Face cache holds the files (verified against their blob names, then linked into place);
// otherwise it says what is missing and how to get it.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { SHARD_INDEX } from '../../checkpoint/node/safetensors-reader.ts';
import { readDownloadRecord, removeDownloadRecord, writeDownloadRecord, type DownloadedFile } from './download-record.ts';
import { linkOrCopy } from './file-place.ts';
import { algorithmOfEtag, verifyFile } from './file-verify.ts';
import { isCommitSha } from './hub-endpoint.ts';
import { HubError, OFFLINE_ADVICE } from '../common/hub-errors.ts';
import { findInHfCache, type HfCacheFile } from './hf-cache.ts';
import type { SnapshotDestination, SnapshotFile, SnapshotResult } from './snapshot-types.ts';
import type { ProgressTracker } from '../common/transfer-progress.ts';

export interface OfflineContext {
  repo: string;
  revision: string;
  endpoint: string;
  match: (file: string) => boolean;
  cacheDir: string | null;
  signal: AbortSignal;
  progress: ProgressTracker;
}

async function sizeOrNull(file: string): Promise<number | null> {
  return stat(file).then((s) => (s.isFile() ? s.size : null), () => null);
}

/**
 * The finished download in `dir` when its record is for `repo` at `revision` (name or commit)
 * and every selected file is there with its recorded size; null otherwise. Sizes only: the
 * record's presence already means the files were verified when written.
 */
export async function finishedDownload(dir: string, repo: string, revision: string, match: (file: string) => boolean): Promise<SnapshotResult | null> {
  const record = await readDownloadRecord(dir);
  if (record === null || record.repo !== repo || (record.revision !== revision && record.commit !== revision)) return null;
  const files = record.files.filter((f) => match(f.path));
  if (files.length === 0) return null;
  for (const f of files) if ((await sizeOrNull(path.join(dir, f.path))) !== f.size) return null;
  return { dir, commit: record.commit, files: files.map((f) => ({ ...f, source: 'present' as const })) };
}

/** A cache snapshot may be partial (someone fetched only config.json): every shard the index names must be there. */
async function missingShards(files: HfCacheFile[]): Promise<string[]> {
  const index = files.find((f) => f.path === SHARD_INDEX);
  if (!index) return files.some((f) => f.path.endsWith('.safetensors')) ? [] : ['*.safetensors'];
  const map = (JSON.parse(await readFile(index.file, 'utf8')) as { weight_map?: Record<string, string> }).weight_map ?? {};
  const have = new Set(files.map((f) => f.path));
  return [...new Set(Object.values(map))].filter((shard) => !have.has(shard)).sort();
}

function notAvailable(ctx: OfflineContext, detail: string): HubError {
  return new HubError('offline', `${ctx.repo} (revision ${ctx.revision}) ${detail}; ${OFFLINE_ADVICE}.`);
}

export async function offlineSnapshot(destination: SnapshotDestination, ctx: OfflineContext): Promise<SnapshotResult> {
  const { repo, revision, progress } = ctx;
  progress.phase('checking');
  const cached = ctx.cacheDir === null ? null : await findInHfCache({ repo, revision }, { cacheDir: ctx.cacheDir });
  const commit = cached?.commit ?? (isCommitSha(revision) ? revision : null);
  if (typeof destination === 'function' && commit === null) {
    throw notAvailable(ctx, `cannot be resolved to a commit without the network (it is not in the Hugging Face cache${ctx.cacheDir ? ` at ${ctx.cacheDir}` : ''})`);
  }
  const dir = path.resolve(typeof destination === 'function' ? destination(commit!) : destination);
  const finished = await finishedDownload(dir, repo, revision, ctx.match);
  if (finished) {
    const total = finished.files.reduce((s, f) => s + f.size, 0);
    progress.phase('done', { totalBytes: total, doneBytes: total, files: { done: finished.files.length, total: finished.files.length } });
    return finished;
  }
  if (cached === null) throw notAvailable(ctx, `is not downloaded to ${dir} and not in the Hugging Face cache${ctx.cacheDir ? ` (${ctx.cacheDir})` : ''}`);
  const selected = cached.files.filter((f) => ctx.match(f.path));
  if (selected.length === 0) throw notAvailable(ctx, `has no wanted file in the Hugging Face cache (${cached.dir})`);
  const missing = await missingShards(selected);
  if (missing.length > 0) throw notAvailable(ctx, `is only partly in the Hugging Face cache (${cached.dir}: no ${missing.join(', ')})`);

  const totalBytes = selected.reduce((s, f) => s + f.size, 0);
  progress.phase('checking', { totalBytes, doneBytes: 0, files: { done: 0, total: selected.length } });
  await removeDownloadRecord(dir);
  const files: SnapshotFile[] = [];
  for (const f of selected) {
    progress.current(f.path);
    const algorithm = f.etag === null ? null : algorithmOfEtag(f.etag);
    const recorded: DownloadedFile = { path: f.path, size: f.size };
    // A cache without links (Windows without symlink rights) names no hash: such files are taken by size.
    if (algorithm !== null) {
      const result = await verifyFile(f.file, { size: f.size, algorithm, digest: f.etag! }, { signal: ctx.signal });
      if (!result.ok) {
        throw new HubError('corrupt', `${f.path} in the Hugging Face cache (${f.file}) is damaged (${result.reason}); delete it from the cache, or turn offline mode off to download it again.`);
      }
      if (algorithm === 'sha256') recorded.sha256 = f.etag!;
      else recorded.gitOid = f.etag!;
    }
    await linkOrCopy(f.file, path.join(dir, f.path));
    progress.present(f.size);
    progress.fileDone(f.path);
    files.push({ ...recorded, source: 'hf-cache' });
  }
  progress.phase('verifying');
  await writeDownloadRecord(dir, { repo, revision, commit: cached.commit, endpoint: ctx.endpoint, files: files.map(({ source: _source, ...f }) => f) });
  progress.phase('done');
  return { dir, commit: cached.commit, files };
}
