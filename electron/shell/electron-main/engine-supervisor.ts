// Keeps one engine host running: spawns it, restarts it with back-off when it exits unexpectedly,
// and tells the window what is happening (an `engine.status` event) instead of taking it down.
// Calls made while the engine is (re)starting wait for it, up to a limit, then answer 'unavailable'.
import type { ApiCallOutcome } from '../../contract/common/api-call-outcome.ts';
import type { EngineStatus } from '../common/shell-events.ts';
import { EngineClient, NOT_SENT, type EngineClientOptions, type EngineProcessPort, type EngineStartOptions, type ThumbnailData } from '../common/engine-protocol.ts';

export interface EngineSupervisorOptions {
  /** Starts a fresh engine host process (utilityProcess.fork in the app, a fake in tests). */
  spawn(): EngineProcessPort;
  readonly startOptions: EngineStartOptions;
  readonly clientOptions?: EngineClientOptions;
  /** Delays before each successive restart; the last one repeats. */
  readonly backoffMs?: readonly number[];
  /** A process that stayed up this long resets the back-off. */
  readonly stableAfterMs?: number;
  /** How long a call waits for a (re)starting engine before answering 'unavailable'. */
  readonly readyWaitMs?: number;
  onStatus?(status: EngineStatus): void;
  onEvent?(event: string, payload: unknown): void;
  /** Diagnostics (main's log). */
  log?(message: string): void;
}

export const DEFAULT_BACKOFF_MS = [500, 1_000, 2_000, 5_000, 10_000, 30_000] as const;

export class EngineSupervisor {
  private client: EngineClient | null = null;
  private attempt = 0;
  private stopped = false;
  private restartTimer: ReturnType<typeof setTimeout> | null = null;
  private lastError = '';
  private waiters: (() => void)[] = [];
  private current: EngineStatus = { state: 'stopped', message: 'The engine has not been started.' };

  constructor(private readonly options: EngineSupervisorOptions) {}

  get status(): EngineStatus {
    return this.current;
  }

  start(): void {
    this.stopped = false;
    this.launch();
  }

  private setStatus(status: EngineStatus): void {
    this.current = status;
    this.options.onStatus?.(status);
  }

  private launch(): void {
    this.restartTimer = null;
    if (this.stopped) return;
    this.setStatus({ state: 'starting', message: this.attempt === 0 ? 'Starting the engine…' : `Restarting the engine (attempt ${this.attempt})…` });
    let port: EngineProcessPort;
    try {
      port = this.options.spawn();
    } catch (error) {
      this.lastError = error instanceof Error ? error.message : String(error);
      this.scheduleRestart(null);
      return;
    }
    const client = new EngineClient(port, this.options.startOptions, this.options.clientOptions);
    this.client = client;
    const startedAt = Date.now();
    client.onEvent((event, payload) => this.options.onEvent?.(event, payload));
    client.ready.then(
      () => {
        if (this.client !== client) return;
        this.setStatus({ state: 'ready', message: 'The engine is running.' });
        const waiters = this.waiters;
        this.waiters = [];
        for (const wake of waiters) wake();
      },
      (error: unknown) => {
        this.lastError = error instanceof Error ? error.message : String(error);
        this.options.log?.(`engine failed to start: ${this.lastError}`);
      },
    );
    void client.exit.then((code) => {
      if (this.client !== client) return;
      this.client = null;
      if (this.stopped) return;
      if (Date.now() - startedAt >= (this.options.stableAfterMs ?? 60_000)) this.attempt = 0;
      this.scheduleRestart(code);
    });
  }

  private scheduleRestart(code: number | null): void {
    if (this.stopped) return;
    const backoff = this.options.backoffMs ?? DEFAULT_BACKOFF_MS;
    const delay = backoff[Math.min(this.attempt, backoff.length - 1)] ?? 1_000;
    this.attempt += 1;
    const why = this.lastError ? `: ${this.lastError}` : code === null ? '' : ` (exit code ${code})`;
    this.options.log?.(`engine stopped${why}; restarting in ${delay} ms`);
    this.setStatus({
      state: 'restarting',
      message: `The engine stopped unexpectedly${why}. Restarting in ${Math.ceil(delay / 1000)} s; searches and indexing resume after that.`,
      attempt: this.attempt,
      retryInMs: delay,
    });
    this.lastError = '';
    this.restartTimer = setTimeout(() => this.launch(), delay);
  }

  /** The running, ready client, waiting up to readyWaitMs for a (re)start. */
  private async readyClient(): Promise<EngineClient | null> {
    const deadline = Date.now() + (this.options.readyWaitMs ?? 30_000);
    while (!this.stopped) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) return null;
      const client = this.client;
      if (client && !client.isExited) {
        const outcome = await withTimeout(client.ready.then(() => 'ready' as const, () => 'failed' as const), remaining);
        if (outcome === 'ready' && !client.isExited) return client;
        if (outcome === 'timeout') return null;
        // It failed to start: its exit schedules the next attempt; wait for that exit, then loop.
        if ((await withTimeout(client.exit, deadline - Date.now())) === 'timeout') return null;
      } else {
        const woken = await withTimeout(new Promise<void>((resolve) => this.waiters.push(resolve)), remaining);
        if (woken === 'timeout') return null;
      }
    }
    return null;
  }

  async call(method: string, params: unknown): Promise<ApiCallOutcome> {
    // A request that could not be sent (the process died just before) is retried on the next one.
    for (let tries = 0; tries < 3; tries++) {
      const client = await this.readyClient();
      if (!client) break;
      const outcome = await client.trySend(method, params);
      if (outcome !== NOT_SENT) return outcome;
      // Its exit (already under way) hands over to the next process; wait for that, then retry.
      await withTimeout(client.exit, this.options.readyWaitMs ?? 30_000);
    }
    return { ok: false, error: { code: 'unavailable', message: `the engine is not running (${this.current.message}); try again in a moment` } };
  }

  async thumbnail(itemId: number): Promise<ThumbnailData> {
    const client = await this.readyClient();
    return client ? client.thumbnail(itemId) : null;
  }

  async preview(itemId: number): Promise<ThumbnailData> {
    const client = await this.readyClient();
    return client ? client.preview(itemId) : null;
  }

  async filePath(itemId: number): Promise<string | null> {
    const client = await this.readyClient();
    return client ? client.filePath(itemId) : null;
  }

  async rootPaths(): Promise<string[]> {
    const client = await this.readyClient();
    return client ? client.rootPaths() : [];
  }

  /** Stops restarting and shuts the engine down (the store is flushed by the host). */
  async stop(graceMs?: number): Promise<void> {
    this.stopped = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
    const client = this.client;
    if (client) await client.shutdown(graceMs);
    this.client = null;
    this.setStatus({ state: 'stopped', message: 'The engine was stopped.' });
  }
}

/** The promise's value, or 'timeout' after ms (the timer is cleared either way, so nothing lingers). */
async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), Math.max(0, ms));
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
