// HTTP to a vLLM OpenAI-compatible server: JSON requests with a per-attempt timeout, retries with
// exponential back-off on 5xx / 429 / network errors (Retry-After honoured), a concurrency limit
// shared by every request of one client, and AbortSignal cancellation that rejects at once and
// closes the connection. Errors are RemoteInferenceError with a message that says what to do.

export type RemoteErrorKind = 'auth' | 'model' | 'timeout' | 'network' | 'server' | 'rejected' | 'protocol';

export class RemoteInferenceError extends Error {
  constructor(
    message: string,
    readonly kind: RemoteErrorKind,
    /** HTTP status when the server answered. */
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RemoteInferenceError';
  }
}

export type RemotePriority = 'interactive' | 'background';

/**
 * At most `max` tasks run at once; waiting 'interactive' tasks (a search someone waits for) start
 * before waiting 'background' ones (indexing). A waiting task whose signal aborts leaves the queue.
 */
export class ConcurrencyLimiter {
  private active = 0;
  private peakActive = 0;
  private readonly queue: { priority: RemotePriority; start: () => void }[] = [];

  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`concurrency must be a positive integer, got ${max}`);
  }

  get inFlight(): number {
    return this.active;
  }

  /** Most tasks ever running at once. */
  get peak(): number {
    return this.peakActive;
  }

  async run<T>(task: () => Promise<T>, options: { signal?: AbortSignal; priority?: RemotePriority } = {}): Promise<T> {
    await this.acquire(options.signal, options.priority ?? 'background');
    try {
      return await task();
    } finally {
      this.active--;
      this.queue.shift()?.start();
    }
  }

  private acquire(signal: AbortSignal | undefined, priority: RemotePriority): Promise<void> {
    signal?.throwIfAborted();
    const take = (): void => {
      this.active++;
      this.peakActive = Math.max(this.peakActive, this.active);
    };
    if (this.active < this.max) {
      take();
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        priority,
        start: () => {
          signal?.removeEventListener('abort', onAbort);
          take();
          resolve();
        },
      };
      const onAbort = (): void => {
        const i = this.queue.indexOf(waiter);
        if (i >= 0) this.queue.splice(i, 1);
        reject(abortReason(signal!));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      // Interactive work goes after other interactive work but before all background work.
      const at = priority === 'interactive' ? this.queue.findIndex((w) => w.priority !== 'interactive') : -1;
      if (at < 0) this.queue.push(waiter);
      else this.queue.splice(at, 0, waiter);
    });
  }
}

export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted.', 'AbortError');
}

export interface VllmHttpOptions {
  readonly timeoutMs: number;
  readonly retries: number;
  readonly backoffMs: number;
  readonly apiKey?: string;
  readonly limiter: ConcurrencyLimiter;
}

export interface RequestOptions {
  readonly signal?: AbortSignal;
  readonly priority?: RemotePriority;
}

const MAX_BACKOFF_MS = 8_000;
const MAX_RETRY_AFTER_MS = 30_000;

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortReason(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The message inside a vLLM / FastAPI error body: {error:{message}}, {error:"…"}, {message}, {detail}. */
export function serverMessage(body: string): string {
  try {
    const json = JSON.parse(body) as Record<string, unknown>;
    const error = json.error;
    if (typeof error === 'string') return error;
    if (error && typeof error === 'object' && typeof (error as { message?: unknown }).message === 'string') return (error as { message: string }).message;
    if (typeof json.message === 'string') return json.message;
    if (json.detail !== undefined) return typeof json.detail === 'string' ? json.detail : JSON.stringify(json.detail);
  } catch {
    // not JSON: fall through to the raw text
  }
  return body.trim().slice(0, 500) || '(empty body)';
}

function retryAfterMs(header: string | null): number | null {
  if (header === null) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, MAX_RETRY_AFTER_MS);
  const date = Date.parse(header);
  return Number.isFinite(date) ? Math.min(Math.max(0, date - Date.now()), MAX_RETRY_AFTER_MS) : null;
}

function networkCode(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message ?? String(error);
}

/** One attempt's outcome: an answer, or an error and whether another attempt may help. */
type Attempt = { ok: true; status: number; body: string } | { ok: false; error: RemoteInferenceError; retry: boolean; waitMs?: number };

export class VllmHttpClient {
  constructor(
    /** Server root without /v1, e.g. http://gpu-box:8000. */
    readonly root: string,
    private readonly options: VllmHttpOptions,
  ) {}

  getJson<T>(path: string, options: RequestOptions = {}): Promise<T> {
    return this.request<T>('GET', path, undefined, options);
  }

  postJson<T>(path: string, body: unknown, options: RequestOptions = {}): Promise<T> {
    return this.request<T>('POST', path, JSON.stringify(body), options);
  }

  private async request<T>(method: string, path: string, body: string | undefined, options: RequestOptions): Promise<T> {
    const { signal } = options;
    const attempts = this.options.retries + 1;
    let last: RemoteInferenceError | null = null;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      signal?.throwIfAborted();
      const outcome = await this.options.limiter.run(() => this.attempt(method, path, body, signal), options);
      if (outcome.ok) {
        try {
          return JSON.parse(outcome.body) as T;
        } catch (error) {
          throw new RemoteInferenceError(
            `The server at ${this.root} answered ${method} ${path} with something that is not JSON; is the URL pointing at a vLLM server (not a web page or proxy login)?`,
            'protocol',
            outcome.status,
            { cause: error },
          );
        }
      }
      last = outcome.error;
      if (!outcome.retry || attempt === attempts) break;
      const backoff = Math.min(this.options.backoffMs * 2 ** (attempt - 1), MAX_BACKOFF_MS);
      await sleep(outcome.waitMs ?? backoff, signal);
    }
    if (last !== null && attempts > 1 && (last.kind === 'server' || last.kind === 'network')) {
      throw new RemoteInferenceError(`${last.message} (gave up after ${attempts} attempts)`, last.kind, last.status, { cause: last.cause ?? last });
    }
    throw last!;
  }

  private async attempt(method: string, path: string, body: string | undefined, signal: AbortSignal | undefined): Promise<Attempt> {
    signal?.throwIfAborted();
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.options.timeoutMs);
    const onAbort = (): void => controller.abort(abortReason(signal!));
    signal?.addEventListener('abort', onAbort, { once: true });
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.options.apiKey !== undefined) headers.authorization = `Bearer ${this.options.apiKey}`;
    const url = `${this.root}${path}`;
    try {
      const response = await fetch(url, { method, headers, body, signal: controller.signal });
      const text = await response.text();
      if (response.ok) return { ok: true, status: response.status, body: text };
      return this.httpFailure(method, path, response.status, text, response.headers.get('retry-after'));
    } catch (error) {
      if (signal?.aborted) throw abortReason(signal);
      if (timedOut) {
        const seconds = this.options.timeoutMs / 1000;
        return {
          ok: false,
          retry: false,
          error: new RemoteInferenceError(
            `The server at ${this.root} did not answer ${method} ${path} within ${seconds} s (timeoutMs); it may be overloaded or the input too large. ` +
              'Raise timeoutMs in the remote settings or check the server.',
            'timeout',
            undefined,
            { cause: error },
          ),
        };
      }
      return {
        ok: false,
        retry: true,
        error: new RemoteInferenceError(
          `Could not reach the inference server at ${this.root} (${networkCode(error)}); check that vLLM is running there and that the URL and port are right.`,
          'network',
          undefined,
          { cause: error },
        ),
      };
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  private httpFailure(method: string, path: string, status: number, text: string, retryAfter: string | null): Attempt {
    const message = serverMessage(text);
    if (status === 401 || status === 403) {
      const what =
        this.options.apiKey === undefined
          ? `The server at ${this.root} requires an API key (HTTP ${status}: ${message}); set apiKey in the remote settings to the key vLLM was started with (--api-key).`
          : `The server at ${this.root} refused the API key (HTTP ${status}: ${message}); check apiKey in the remote settings against the key vLLM was started with (--api-key).`;
      return { ok: false, retry: false, error: new RemoteInferenceError(what, 'auth', status) };
    }
    if (status === 429 || status >= 500) {
      return {
        ok: false,
        retry: true,
        waitMs: retryAfterMs(retryAfter) ?? undefined,
        error: new RemoteInferenceError(
          `The server at ${this.root} failed ${method} ${path} (HTTP ${status}: ${message}); it may be overloaded or restarting — check its log.`,
          'server',
          status,
        ),
      };
    }
    if (status === 404 && /model/i.test(message)) {
      return { ok: false, retry: false, error: new RemoteInferenceError(`The server at ${this.root} does not serve the requested model (${message}).`, 'model', status) };
    }
    if (status === 404) {
      return {
        ok: false,
        retry: false,
        error: new RemoteInferenceError(
          `The server at ${this.root} has no ${path} endpoint (HTTP 404); start vLLM with --runner pooling for this model, and check that the URL is the server's root.`,
          'rejected',
          status,
        ),
      };
    }
    return {
      ok: false,
      retry: false,
      error: new RemoteInferenceError(`The server at ${this.root} rejected ${method} ${path} (HTTP ${status}): ${message}`, 'rejected', status),
    };
  }
}
