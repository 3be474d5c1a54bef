// Where the hub is and who we are to it: endpoint, token and offline mode, each from an option,
// else the environment variables huggingface_hub reads, so a user's existing setup just works.
// Also builds the three URLs the downloader uses and checks repo ids and revisions before they
// are put into a URL.
import { HubError } from '../common/hub-errors.ts';

export const DEFAULT_ENDPOINT = 'https://huggingface.co';

export type Env = Readonly<Record<string, string | undefined>>;

export interface HubSettingsOptions {
  endpoint?: string;
  token?: string;
  offline?: boolean;
  /** Environment to read (default `process.env`); tests pass their own. */
  env?: Env;
}

export interface HubSettings {
  endpoint: string;
  token: string | null;
  offline: boolean;
}

/** huggingface_hub's truthy spellings for boolean environment variables. */
function envFlag(value: string | undefined): boolean {
  return value !== undefined && ['1', 'true', 'yes', 'on'].includes(value.trim().toLowerCase());
}

export function isOfflineEnv(env: Env): boolean {
  return envFlag(env.HF_HUB_OFFLINE) || envFlag(env.TROVE_OFFLINE);
}

export function resolveHubSettings(options: HubSettingsOptions): HubSettings {
  const env = options.env ?? process.env;
  const endpoint = (options.endpoint ?? (env.HF_ENDPOINT || DEFAULT_ENDPOINT)).replace(/\/+$/, '');
  try {
    const url = new URL(endpoint);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('not http(s)');
  } catch {
    throw new HubError('invalid', `hub endpoint ${JSON.stringify(endpoint)} is not an http(s) URL; fix HF_ENDPOINT (or unset it to use ${DEFAULT_ENDPOINT}).`);
  }
  const token = options.token ?? (env.HF_TOKEN || env.HUGGING_FACE_HUB_TOKEN || null);
  return { endpoint, token: token === '' ? null : token, offline: options.offline ?? isOfflineEnv(env) };
}

const REPO_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*\/[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Repo ids are `owner/name`; anything else would build a wrong URL or cache path. */
export function checkRepoId(repo: string): void {
  if (!REPO_ID.test(repo) || repo.includes('..')) {
    throw new HubError('invalid', `${JSON.stringify(repo)} is not a Hugging Face repo id; write it as owner/name, e.g. Qwen/Qwen3-VL-Embedding-2B.`);
  }
}

export function checkRevision(revision: string): void {
  if (revision.length === 0 || revision.length > 255 || revision.includes('..') || /[\s\\]/.test(revision)) {
    throw new HubError('invalid', `${JSON.stringify(revision)} is not a revision; give a branch, tag or commit sha, e.g. main.`);
  }
}

/** A full commit sha: the only revision that can never move. */
export function isCommitSha(revision: string): boolean {
  return /^[0-9a-f]{40}$/.test(revision);
}

/** Repo file paths come from the server; refuse ones that could escape the destination folder. */
export function checkRepoPath(file: string): void {
  const parts = file.split('/');
  if (file.length === 0 || file.startsWith('/') || file.includes('\\') || file.includes('\0') || parts.some((p) => p === '' || p === '.' || p === '..')) {
    throw new HubError('invalid', `the hub listed a file named ${JSON.stringify(file)}, which is not a safe relative path; this is a hub or mirror bug (check HF_ENDPOINT).`);
  }
}

function encodePath(file: string): string {
  return file.split('/').map(encodeURIComponent).join('/');
}

export function revisionUrl(endpoint: string, repo: string, revision: string): string {
  return `${endpoint}/api/models/${repo}/revision/${encodeURIComponent(revision)}`;
}

export function treeUrl(endpoint: string, repo: string, revision: string): string {
  return `${endpoint}/api/models/${repo}/tree/${encodeURIComponent(revision)}?recursive=true`;
}

export function resolveUrl(endpoint: string, repo: string, revision: string, file: string): string {
  return `${endpoint}/${repo}/resolve/${encodeURIComponent(revision)}/${encodePath(file)}`;
}
