// What a revision holds: its commit sha (revision API) and every file with its size and hash
// (tree API, paginated with a Link header). Downloads then address files by the commit, so a
// branch that moves mid-pull cannot mix two versions of the model.
import { checkRepoPath, revisionUrl, treeUrl } from './hub-endpoint.ts';
import { HubError, type RequestSubject } from '../common/hub-errors.ts';
import { expectOk, networkError, type HubHttp } from './hub-http.ts';
import { TransientFailure, withRetries, type RetryPolicy } from '../common/retry-policy.ts';

/** One file of a repo as the tree API describes it. */
export interface HubFileEntry {
  path: string;
  size: number;
  /** Git blob sha1 of the file (for LFS files: of the pointer file). */
  oid: string;
  /** Present for LFS files: SHA-256 and size of the real content. */
  lfs: { sha256: string; size: number } | null;
}

interface ListContext {
  http: HubHttp;
  subject: RequestSubject;
  retry: RetryPolicy;
  signal: AbortSignal;
}

/** `<url>; rel="next"` from a Link header (several links may be comma-separated). */
export function nextLink(header: string | null): string | null {
  if (!header) return null;
  for (const part of header.split(',')) {
    const match = /<([^>]+)>\s*;(.*)/.exec(part.trim());
    if (match && /rel\s*=\s*"?next"?/.test(match[2])) return match[1];
  }
  return null;
}

async function getJson(url: string, ctx: ListContext): Promise<{ json: unknown; next: string | null }> {
  try {
    return await withRetries(ctx.retry, ctx.signal, async () => {
      const response = await ctx.http.get(url, { signal: ctx.signal, headers: { accept: 'application/json' } });
      await expectOk(response, ctx.subject);
      let text: string;
      try {
        text = await response.text();
      } catch (error) {
        if (ctx.signal.aborted) throw ctx.signal.reason;
        throw new TransientFailure(`the connection broke while reading ${url}`, null, { cause: error });
      }
      try {
        return { json: JSON.parse(text) as unknown, next: nextLink(response.headers.get('link')) };
      } catch {
        throw new HubError('invalid', `${url} did not answer JSON; check HF_ENDPOINT points at a Hugging Face hub (or a mirror of it).`);
      }
    });
  } catch (error) {
    if (error instanceof TransientFailure) throw networkError(error, ctx.subject);
    throw error;
  }
}

function malformed(url: string, what: string): HubError {
  return new HubError('invalid', `${url} answered an unexpected ${what}; check HF_ENDPOINT points at a Hugging Face hub (or a mirror of it).`);
}

/** Resolves a branch, tag or sha to the commit sha it names right now. */
export async function resolveCommit(repo: string, revision: string, ctx: ListContext): Promise<string> {
  const url = revisionUrl(ctx.subject.endpoint, repo, revision);
  const { json } = await getJson(url, ctx);
  const sha = (json as { sha?: unknown } | null)?.sha;
  if (typeof sha !== 'string' || !/^[0-9a-f]{40}$/.test(sha)) throw malformed(url, 'revision description (no commit sha)');
  return sha;
}

function parseEntry(raw: unknown, url: string): HubFileEntry | null {
  const e = raw as { type?: unknown; path?: unknown; size?: unknown; oid?: unknown; lfs?: { oid?: unknown; size?: unknown } | null };
  if (e === null || typeof e !== 'object') throw malformed(url, 'tree entry');
  if (e.type !== 'file') return null; // directories are listed too when recursive
  if (typeof e.path !== 'string' || typeof e.size !== 'number' || typeof e.oid !== 'string') throw malformed(url, 'tree entry');
  checkRepoPath(e.path);
  let lfs: HubFileEntry['lfs'] = null;
  if (e.lfs) {
    if (typeof e.lfs.oid !== 'string' || !/^[0-9a-f]{64}$/.test(e.lfs.oid) || typeof e.lfs.size !== 'number') throw malformed(url, 'LFS entry');
    lfs = { sha256: e.lfs.oid, size: e.lfs.size };
  }
  return { path: e.path, size: lfs ? lfs.size : e.size, oid: e.oid, lfs };
}

/** Every file of the repo at `commit`, following the hub's pagination. */
export async function listRepoFiles(repo: string, commit: string, ctx: ListContext): Promise<HubFileEntry[]> {
  const origin = new URL(ctx.subject.endpoint).origin;
  const files: HubFileEntry[] = [];
  const seen = new Set<string>();
  let url: string | null = treeUrl(ctx.subject.endpoint, repo, commit);
  while (url !== null) {
    const page: { json: unknown; next: string | null } = await getJson(url, ctx);
    if (!Array.isArray(page.json)) throw malformed(url, 'tree listing (not a list)');
    for (const raw of page.json) {
      const entry = parseEntry(raw, url);
      if (entry && !seen.has(entry.path)) {
        seen.add(entry.path);
        files.push(entry);
      }
    }
    const next: string | null = page.next === null ? null : new URL(page.next, url).href;
    // The token goes with every request, so never follow a pagination link to another host.
    if (next !== null && new URL(next).origin !== origin) throw malformed(url, `pagination link to another host (${new URL(next).host})`);
    url = next;
  }
  return files;
}
