// The messages between the main process and the engine's utility process (engine-host-main.ts), and
// both ends of the conversation as plain classes over a port, so they run under Node in tests with
// a fake port. Requests carry an id; every reply settles exactly one request; events are pushed.
// Errors travel as ApiErrorData, never as thrown foreign objects.
import type { ApiCallOutcome } from '../../contract/common/api-call-outcome.ts';
import type { ApiErrorData } from '../../contract/common/trove-api.ts';
import type { MediaKind } from '../../contract/common/bridge.ts';

/** Options the engine is opened with (EngineOptions, as plain data that survives structured clone). */
export interface EngineStartOptions {
  readonly dataDir: string;
  readonly embeddingModel?: string | null;
  readonly rerankerModel?: string | null;
  readonly watch?: boolean;
}

export type ThumbnailData = { mime: string; bytes: Uint8Array } | null;

export type MainToHost =
  | { type: 'start'; options: EngineStartOptions }
  | { type: 'call'; id: number; method: string; params: unknown }
  | { type: 'media'; id: number; kind: MediaKind; itemId: number }
  /** The current roots' paths, to re-check a file path against (media, files.open). */
  | { type: 'roots'; id: number }
  | { type: 'shutdown' };

export type HostToMain =
  | { type: 'ready' }
  | { type: 'start-failed'; error: ApiErrorData }
  | { type: 'reply'; id: number; outcome: ApiCallOutcome }
  | { type: 'media-reply'; id: number; thumbnail?: ThumbnailData; path?: string | null; roots?: string[]; error?: ApiErrorData }
  | { type: 'event'; event: string; payload: unknown }
  | { type: 'closed' };

/** The main process's view of a running engine host (a utilityProcess, or a fake in tests). */
export interface EngineProcessPort {
  postMessage(message: MainToHost): void;
  onMessage(listener: (message: unknown) => void): void;
  onExit(listener: (code: number | null) => void): void;
  kill(): void;
}

function isHostMessage(message: unknown): message is HostToMain {
  return typeof message === 'object' && message !== null && typeof (message as { type?: unknown }).type === 'string';
}

function unavailable(message: string): ApiErrorData {
  return { code: 'unavailable', message };
}

interface Pending {
  settle(message: HostToMain | { type: 'lost'; error: ApiErrorData }): void;
  timer: ReturnType<typeof setTimeout>;
}

export interface EngineClientOptions {
  /** How long one request may take before it is answered 'unavailable' (searches with reranking are the slowest). */
  readonly timeoutMs?: number;
  /** Per-method overrides, e.g. a longer one for roots.add on a slow disk. */
  readonly timeoutsMs?: Readonly<Record<string, number>>;
}

export const DEFAULT_ENGINE_TIMEOUT_MS = 120_000;

/** A request that never left main because the process was already gone. */
export const NOT_SENT = Symbol('not-sent');

/**
 * Main side of one engine host's lifetime: starts it, correlates requests and replies, times out
 * requests that get no answer, and fails every pending request at once when the process exits.
 * One client per process; after an exit the supervisor makes a new one.
 */
export class EngineClient {
  private readonly pending = new Map<number, Pending>();
  private readonly eventListeners = new Set<(event: string, payload: unknown) => void>();
  private nextId = 1;
  private exited = false;
  private exitCode: number | null = null;
  readonly ready: Promise<void>;
  readonly exit: Promise<number | null>;

  constructor(
    private readonly port: EngineProcessPort,
    options: EngineStartOptions,
    private readonly clientOptions: EngineClientOptions = {},
  ) {
    let markReady!: () => void;
    let failReady!: (error: Error) => void;
    this.ready = new Promise((resolve, reject) => {
      markReady = resolve;
      failReady = reject;
    });
    // A rejection nobody awaited must not crash main: callers see the failure through call().
    this.ready.catch(() => undefined);
    let markExit!: (code: number | null) => void;
    this.exit = new Promise((resolve) => (markExit = resolve));

    port.onMessage((message) => {
      if (!isHostMessage(message)) return;
      switch (message.type) {
        case 'ready':
          markReady();
          return;
        case 'start-failed':
          failReady(new Error(message.error.message));
          return;
        case 'reply':
        case 'media-reply': {
          const pending = this.pending.get(message.id);
          if (!pending) return; // Timed out earlier; the late answer is dropped.
          this.pending.delete(message.id);
          clearTimeout(pending.timer);
          pending.settle(message);
          return;
        }
        case 'event':
          for (const listener of this.eventListeners) listener(message.event, message.payload);
          return;
        case 'closed':
          return;
      }
    });
    port.onExit((code) => {
      this.exited = true;
      this.exitCode = code;
      failReady(new Error(`the engine process exited (code ${code}) before it was ready`));
      const lost = unavailable(`the engine process stopped (exit code ${code}) while this request was running; it is restarting, try again in a moment`);
      for (const [id, pending] of this.pending) {
        clearTimeout(pending.timer);
        this.pending.delete(id);
        pending.settle({ type: 'lost', error: lost });
      }
      markExit(code);
    });
    port.postMessage({ type: 'start', options });
  }

  get isExited(): boolean {
    return this.exited;
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  onEvent(listener: (event: string, payload: unknown) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  /**
   * Sends one request. NOT_SENT when the process is gone before the request left (safe to retry on
   * the next process); a request lost in flight is answered through `lost` and never retried,
   * because the engine may have acted on it.
   */
  private send<T>(label: string, build: (id: number) => MainToHost, read: (reply: HostToMain) => T, lost: (error: ApiErrorData) => T): Promise<T | typeof NOT_SENT> {
    if (this.exited) return Promise.resolve(NOT_SENT);
    const id = this.nextId++;
    const timeoutMs = this.clientOptions.timeoutsMs?.[label] ?? this.clientOptions.timeoutMs ?? DEFAULT_ENGINE_TIMEOUT_MS;
    return new Promise<T | typeof NOT_SENT>((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve(lost(unavailable(`the engine did not answer ${label} within ${Math.round(timeoutMs / 1000)} s; it may be busy indexing, try again`)));
      }, timeoutMs);
      this.pending.set(id, { timer, settle: (reply) => resolve(reply.type === 'lost' ? lost(reply.error) : read(reply)) });
      try {
        this.port.postMessage(build(id));
      } catch {
        clearTimeout(timer);
        this.pending.delete(id);
        resolve(NOT_SENT);
      }
    });
  }

  private notRunning(): ApiErrorData {
    return unavailable(`the engine process is not running (exit code ${this.exitCode}); it is restarting, try again in a moment`);
  }

  /** One API call, or NOT_SENT when this process is already gone (the supervisor retries those). */
  trySend(method: string, params: unknown): Promise<ApiCallOutcome | typeof NOT_SENT> {
    return this.send<ApiCallOutcome>(
      method,
      (id) => ({ type: 'call', id, method, params }),
      (reply) => (reply.type === 'reply' ? reply.outcome : { ok: false, error: { code: 'failed', message: `the engine answered ${method} with '${reply.type}'` } }),
      (error) => ({ ok: false, error }),
    );
  }

  /** One API call; never rejects (errors come back as `ok: false`, as the bridge promises). */
  async call(method: string, params: unknown): Promise<ApiCallOutcome> {
    const outcome = await this.trySend(method, params);
    return outcome === NOT_SENT ? { ok: false, error: this.notRunning() } : outcome;
  }

  /** The stored thumbnail of an item, or null (also when the engine is unavailable). */
  async thumbnail(itemId: number): Promise<ThumbnailData> {
    const found = await this.send<ThumbnailData>(
      'media.thumbnail',
      (id) => ({ type: 'media', id, kind: 'thumb', itemId }),
      (reply) => (reply.type === 'media-reply' && reply.thumbnail ? reply.thumbnail : null),
      () => null,
    );
    return found === NOT_SENT ? null : found;
  }

  /** A preview-size picture of a PDF page or photo (drawn by the engine on demand), or null. */
  async preview(itemId: number): Promise<ThumbnailData> {
    const found = await this.send<ThumbnailData>(
      'media.preview',
      (id) => ({ type: 'media', id, kind: 'preview', itemId }),
      (reply) => (reply.type === 'media-reply' && reply.thumbnail ? reply.thumbnail : null),
      () => null,
    );
    return found === NOT_SENT ? null : found;
  }

  /** The engine's path for an item's file (indexed, inside a current root), or null. */
  async filePath(itemId: number): Promise<string | null> {
    const found = await this.send<string | null>(
      'media.file',
      (id) => ({ type: 'media', id, kind: 'file', itemId }),
      (reply) => (reply.type === 'media-reply' && typeof reply.path === 'string' ? reply.path : null),
      () => null,
    );
    return found === NOT_SENT ? null : found;
  }

  /** Paths of the current roots; empty (nothing is inside) when the engine cannot say. */
  async rootPaths(): Promise<string[]> {
    const found = await this.send<string[]>(
      'media.roots',
      (id) => ({ type: 'roots', id }),
      (reply) => (reply.type === 'media-reply' && Array.isArray(reply.roots) ? reply.roots.filter((r): r is string => typeof r === 'string') : []),
      () => [],
    );
    return found === NOT_SENT ? [] : found;
  }

  /** Asks the host to close the engine (flushes the store) and waits for the process to exit, then kills it. */
  async shutdown(graceMs = 5_000): Promise<void> {
    if (this.exited) return;
    try {
      this.port.postMessage({ type: 'shutdown' });
    } catch {
      // Already gone; fall through to kill.
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), graceMs)));
    const first = await Promise.race([this.exit, timedOut]);
    clearTimeout(timer);
    if (first === 'timeout') {
      this.port.kill();
      // Bounded: quitting the app must not hang on a process that ignores the kill.
      await Promise.race([this.exit, new Promise<void>((resolve) => setTimeout(resolve, 2_000).unref?.())]);
    }
  }
}
