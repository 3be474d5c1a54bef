// Exponential back-off for transient failures (network errors, 5xx, 429, stalls). The hub and its
// CDN shed load with 429/503 + Retry-After, so a server-given delay wins over our own schedule.

export interface RetryPolicy {
  /** Attempts after the first one before giving up. */
  retries: number;
  /** First back-off delay; doubled per failed attempt. */
  baseDelayMs: number;
  /** No single wait is longer than this (Retry-After included), so a pull never hangs for hours. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { retries: 5, baseDelayMs: 1000, maxDelayMs: 60_000 };

/** A failure worth another attempt; `retryAfterMs` is the server's own request, when it gave one. */
export class TransientFailure extends Error {
  readonly retryAfterMs: number | null;

  constructor(message: string, retryAfterMs: number | null = null, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransientFailure';
    this.retryAfterMs = retryAfterMs;
  }
}

/** Retry-After is either delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  if (value === null || value.trim() === '') return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

/** Delay before attempt `attempt + 1` (attempt counts from 0), with ±20 % jitter so parallel files do not retry in lockstep. */
export function backoffDelay(attempt: number, policy: RetryPolicy, retryAfterMs: number | null): number {
  if (retryAfterMs !== null) return Math.min(retryAfterMs, policy.maxDelayMs);
  const base = policy.baseDelayMs * 2 ** attempt;
  return Math.min(policy.maxDelayMs, base * (0.8 + 0.4 * Math.random()));
}

/** setTimeout as a promise that rejects with the signal's reason as soon as it fires. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Runs `attempt` until it succeeds, throws something other than a TransientFailure, or the
 * retries run out (then the last TransientFailure is thrown, for the caller to turn into a
 * 'network' error). `attempt` gets the attempt number and a `madeProgress` callback; a failed
 * attempt that called it resets the count, so a download that keeps moving never runs out.
 */
export async function withRetries<T>(
  policy: RetryPolicy,
  signal: AbortSignal,
  attempt: (n: number, madeProgress: () => void) => Promise<T>,
): Promise<T> {
  let failures = 0;
  for (;;) {
    let progressed = false;
    try {
      return await attempt(failures, () => {
        progressed = true;
      });
    } catch (error) {
      if (!(error instanceof TransientFailure) || signal.aborted) throw error;
      if (progressed) failures = 0;
      if (failures >= policy.retries) throw error;
      await sleep(backoffDelay(failures, policy, error.retryAfterMs), signal);
      failures++;
    }
  }
}
