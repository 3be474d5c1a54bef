// The one error type the downloader throws. `code` lets the app pick a reaction (ask for a token,
// free disk space, retry later); `message` tells a person what happened and what to do next.
// Messages name the repo, revision, file and endpoint, never the token.

export type HubErrorCode = 'not-found' | 'unauthorized' | 'offline' | 'disk-full' | 'corrupt' | 'network' | 'cancelled' | 'invalid';

export class HubError extends Error {
  readonly code: HubErrorCode;

  constructor(code: HubErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HubError';
    this.code = code;
  }
}

/** What a failed request was for, so the message can name it. */
export interface RequestSubject {
  repo: string;
  revision: string;
  endpoint: string;
  /** Repo path of the file, for file downloads. */
  file?: string;
  /** Whether an Authorization header was sent (changes the advice, never reveals the token). */
  hadToken: boolean;
}

export const OFFLINE_ADVICE = 'offline mode is on (HF_HUB_OFFLINE / TROVE_OFFLINE); use files you already have or turn it off';

function subjectText(s: RequestSubject): string {
  return s.file ? `${s.file} of ${s.repo} at revision ${s.revision}` : `${s.repo} at revision ${s.revision}`;
}

/**
 * Maps a non-retryable HTTP status to a HubError. The hub answers 401 (not 404) for a repo that
 * does not exist when no token is sent, so it can hide private repos; its X-Error-Code header
 * says which case it is, and is used when present.
 */
export function errorForStatus(status: number, errorCode: string | null, s: RequestSubject): HubError {
  const where = `${subjectText(s)} (${s.endpoint})`;
  if (errorCode === 'GatedRepo') {
    return new HubError('unauthorized', `${s.repo} is gated: accept the model's licence on its hub page (${s.endpoint}/${s.repo}) with the account your token belongs to, set HF_TOKEN, then retry.`);
  }
  if (errorCode === 'RepoNotFound' || errorCode === 'RevisionNotFound' || errorCode === 'EntryNotFound' || status === 404) {
    let what = `${s.repo} (or its revision ${s.revision})`;
    if (errorCode === 'RepoNotFound') what = s.repo;
    else if (errorCode === 'RevisionNotFound') what = `revision ${s.revision} of ${s.repo}`;
    else if (s.file) what = `file ${s.file} of ${s.repo} at revision ${s.revision}`;
    const privateHint = s.hadToken ? '' : ' If it is a private repo, set HF_TOKEN to a token that can read it.';
    return new HubError('not-found', `${what} does not exist on ${s.endpoint}: check the repo name and revision (e.g. Qwen/Qwen3-VL-Embedding-2B, main).${privateHint}`);
  }
  if (status === 401 || status === 403) {
    const advice = s.hadToken
      ? 'the token was refused or cannot read this repo: check HF_TOKEN, and accept the model\'s licence on its hub page'
      : 'it needs a Hugging Face token: set HF_TOKEN (create one at https://huggingface.co/settings/tokens) or accept the model\'s licence on its hub page';
    return new HubError('unauthorized', `${where} answered ${status}: ${advice}, then retry.`);
  }
  if (status === 416) {
    return new HubError('network', `${where} refused the byte range asked for (416); retry the download.`);
  }
  return new HubError('network', `${where} answered HTTP ${status}; retry later, or check HF_ENDPOINT if you use a mirror.`);
}

/** The error a pull rejects with when its AbortSignal fires. */
export function cancelledError(repo: string): HubError {
  return new HubError('cancelled', `download of ${repo} cancelled; partial files were kept, so the next download resumes where this one stopped.`);
}

/** ENOSPC/EDQUOT while writing: the disk filled up despite the up-front check (other writers). */
export function isDiskFullError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

export function diskFullError(dir: string, cause?: unknown): HubError {
  return new HubError('disk-full', `the disk holding ${dir} is full; free some space or choose another models folder, then retry (the download resumes).`, { cause });
}
