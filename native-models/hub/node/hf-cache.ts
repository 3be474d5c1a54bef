// Finds files the user already has in a Hugging Face cache (the one huggingface_hub, transformers
// and `hf download` fill): `models--{owner}--{name}/refs/{revision}` holds a commit sha,
// `snapshots/{sha}/{path}` links into `blobs/{etag}`, and a blob's name is its etag — the SHA-256
// for LFS files, the git blob sha1 for the rest — so a cached file can be verified even offline.
import { readFile, readdir, readlink, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { checkRepoId, checkRevision, isCommitSha, type Env } from './hub-endpoint.ts';

/** huggingface_hub's cache folder: HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub. */
export function hfCacheDir(env: Env = process.env): string {
  if (env.HF_HUB_CACHE) return env.HF_HUB_CACHE;
  if (env.HUGGINGFACE_HUB_CACHE) return env.HUGGINGFACE_HUB_CACHE; // the older spelling, still honoured by huggingface_hub
  const home = env.HF_HOME || path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'huggingface');
  return path.join(home, 'hub');
}

/** `models--Qwen--Qwen3-VL-Embedding-2B` for `Qwen/Qwen3-VL-Embedding-2B`. */
export function hfRepoFolder(cacheDir: string, repo: string): string {
  return path.join(cacheDir, `models--${repo.split('/').join('--')}`);
}

export interface HfCacheFile {
  /** Repo path, `/`-separated. */
  path: string;
  /** The file in the snapshot folder (usually a link into blobs/). */
  file: string;
  size: number;
  /** The blob's name when the snapshot entry links to one: the hash to verify against. */
  etag: string | null;
}

export interface HfCacheSnapshot {
  repoDir: string;
  commit: string;
  dir: string;
  files: HfCacheFile[];
}

export interface HfCacheOptions {
  /** Cache folder; default from the environment (see hfCacheDir). */
  cacheDir?: string;
  env?: Env;
}

async function readText(file: string): Promise<string | null> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    return null;
  }
}

/** The blob name a snapshot link points at, or null for a plain copy (Windows without symlinks). */
async function etagOf(file: string): Promise<string | null> {
  try {
    const name = path.basename(await readlink(file));
    return /^[0-9a-f]{40}([0-9a-f]{24})?$/.test(name) ? name : null;
  } catch {
    return null;
  }
}

async function walk(dir: string, prefix: string, out: HfCacheFile[]): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    const repoPath = prefix ? `${prefix}/${entry.name}` : entry.name;
    let info;
    try {
      info = await stat(full); // follows the link into blobs/
    } catch {
      continue; // a dangling link: its blob was deleted or never finished
    }
    if (info.isDirectory()) await walk(full, repoPath, out);
    else if (info.isFile()) out.push({ path: repoPath, file: full, size: info.size, etag: await etagOf(full) });
  }
}

/** The commit `revision` names in the cache: itself when it is a full sha, else refs/{revision}. */
export async function cachedCommit(repoDir: string, revision: string): Promise<string | null> {
  if (isCommitSha(revision)) return revision;
  const sha = await readText(path.join(repoDir, 'refs', ...revision.split('/')));
  return sha !== null && isCommitSha(sha) ? sha : null;
}

/** The cached snapshot of `repo` at `revision` (default main) with every file it holds, or null when there is none. */
export async function findInHfCache(request: { repo: string; revision?: string }, options: HfCacheOptions = {}): Promise<HfCacheSnapshot | null> {
  const revision = request.revision ?? 'main';
  checkRepoId(request.repo);
  checkRevision(revision);
  const repoDir = hfRepoFolder(options.cacheDir ?? hfCacheDir(options.env), request.repo);
  const commit = await cachedCommit(repoDir, revision);
  if (commit === null) return null;
  const dir = path.join(repoDir, 'snapshots', commit);
  const files: HfCacheFile[] = [];
  try {
    await walk(dir, '', files);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { repoDir, commit, dir, files };
}

/** A cached blob by its etag (content hash), whatever snapshot it belongs to; null when absent. */
export async function findCachedBlob(cacheDir: string, repo: string, etag: string): Promise<string | null> {
  const file = path.join(hfRepoFolder(cacheDir, repo), 'blobs', etag);
  try {
    return (await stat(file)).isFile() ? file : null;
  } catch {
    return null;
  }
}
