// Settings of the remote inference backend: an existing vLLM server (or two: vLLM serves one model
// per process) running Qwen3-VL-Embedding and/or Qwen3-VL-Reranker. Validated with zod so a bad
// setting fails when Trove starts, with a message naming the setting, not on the first request.
import { z } from 'zod';

/** Defaults: generous enough for a 64-frame video on a busy server, small enough to notice a dead one. */
export const REMOTE_DEFAULTS = {
  timeoutMs: 120_000,
  retries: 3,
  concurrency: 4,
  backoffMs: 500,
  videoFrameFormat: 'png',
} as const;

const httpUrl = z
  .string()
  .trim()
  .refine((value) => {
    try {
      const url = new URL(value);
      return url.protocol === 'http:' || url.protocol === 'https:';
    } catch {
      return false;
    }
  }, 'must be an http:// or https:// URL, e.g. http://gpu-box:8000');

export const RemoteConfigSchema = z
  .object({
    /** Base URL of the vLLM server (with or without a trailing /v1), e.g. http://gpu-box:8000. */
    url: httpUrl,
    /** Base URL of the reranker's server when it is another vLLM process; default `url`. */
    rerankerUrl: httpUrl.optional(),
    /** Model name the embedding server serves (GET /v1/models), e.g. Qwen/Qwen3-VL-Embedding-2B. */
    embeddingModel: z.string().trim().min(1).optional(),
    /** Model name the reranker server serves, e.g. Qwen/Qwen3-VL-Reranker-2B. */
    rerankerModel: z.string().trim().min(1).optional(),
    /** Sent as `Authorization: Bearer <apiKey>` (vLLM's --api-key). */
    apiKey: z.string().min(1).optional(),
    /** Limit for one HTTP request, in milliseconds; a slower answer fails (it is not retried). */
    timeoutMs: z.number().int().min(1).max(3_600_000).default(REMOTE_DEFAULTS.timeoutMs),
    /** Extra attempts after a 5xx, 429 or network error (0 = no retry). */
    retries: z.number().int().min(0).max(10).default(REMOTE_DEFAULTS.retries),
    /** Requests in flight at once, per client (both servers together). */
    concurrency: z.number().int().min(1).max(64).default(REMOTE_DEFAULTS.concurrency),
    /** First back-off delay; it doubles per attempt (capped at 8 s) unless the server sends Retry-After. */
    backoffMs: z.number().int().min(0).max(60_000).default(REMOTE_DEFAULTS.backoffMs),
    /**
     * How sampled video frames travel: 'png' (lossless; the server sees exactly the pixels Trove
     * would embed locally) or 'jpeg' (quality 95; roughly 5–10× smaller, small pixel errors).
     */
    videoFrameFormat: z.enum(['png', 'jpeg']).default(REMOTE_DEFAULTS.videoFrameFormat),
  })
  .strict()
  .refine((c) => c.embeddingModel !== undefined || c.rerankerModel !== undefined, {
    message: 'set embeddingModel and/or rerankerModel: the names the vLLM server lists at GET /v1/models',
    path: ['embeddingModel'],
  });

export type RemoteConfigInput = z.input<typeof RemoteConfigSchema>;
export type RemoteConfig = z.output<typeof RemoteConfigSchema>;

/** A setting the user has to fix; the message names it. */
export class RemoteConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RemoteConfigError';
  }
}

/** Validates settings; throws RemoteConfigError listing every bad field ("remote.timeoutMs: …"). */
export function parseRemoteConfig(input: unknown): RemoteConfig {
  const result = RemoteConfigSchema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `remote.${issue.path.join('.') || '(settings)'}: ${issue.message}`);
  throw new RemoteConfigError(`The remote inference settings are invalid — ${problems.join('; ')}.`);
}

/** `http://host:8000/v1/` → `http://host:8000` (paths are added per endpoint). */
export function serverRoot(url: string): string {
  let root = url.trim().replace(/\/+$/, '');
  if (root.endsWith('/v1')) root = root.slice(0, -3);
  return root;
}
