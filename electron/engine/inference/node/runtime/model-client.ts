// The embedder and reranker as promises on the caller's thread, running in a worker thread
// (model-worker-main.ts). Cancellation: an AbortSignal rejects the caller's promise at once and tells
// the worker, which stops at its next check between batches. Back-pressure: at most `maxInFlight`
// requests are with the worker; further calls wait for a free slot (a slot is freed only when the
// worker has answered, so a cancelled request still holds its slot until the worker lets go).
import type { Worker } from 'node:worker_threads';
import { deserializeError } from '../../../base/common/serialized-error.ts';
import { startWorkerBeside } from '../../../base/node/worker-beside.ts';
import type { EmbedInput } from '../../../model-inputs/node/embed-inputs.ts';
import type { ProviderChoice } from './execution-providers.ts';
import type { ModelWorkerInit, ModelWorkerReply, ModelWorkerRequest, RequestPriority } from './model-protocol.ts';

/** Default bound on requests with the worker: enough to keep it busy, small enough to keep memory flat. */
export const DEFAULT_MAX_IN_FLIGHT = 4;

export interface ModelClientOptions extends ModelWorkerInit {
  readonly maxInFlight?: number;
}

export interface ClientEmbedOptions {
  readonly instruction?: string;
  readonly dims?: number;
  readonly signal?: AbortSignal;
  /**
   * 'interactive' (a search someone is waiting for) skips the back-pressure queue and runs before
   * queued background work; default 'background'.
   */
  readonly priority?: RequestPriority;
}

export interface ClientRerankOptions {
  readonly instruction?: string;
  readonly signal?: AbortSignal;
  readonly priority?: RequestPriority;
}

interface Pending {
  /** Whether it counts against maxInFlight (background requests do). */
  holdsSlot: boolean;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  /** Set once the caller's promise is settled early (cancelled); the worker's answer is then dropped. */
  settled: boolean;
}

type RequestBody =
  | { type: 'embed'; priority: RequestPriority; inputs: readonly EmbedInput[]; instruction?: string; dims?: number }
  | { type: 'rerank'; priority: RequestPriority; query: EmbedInput; documents: readonly EmbedInput[]; instruction?: string };

const abortReason = (signal: AbortSignal): unknown => signal.reason ?? new DOMException('The operation was aborted.', 'AbortError');

/** Starts model-worker-main.ts (model-worker-main.js beside a bundle). */
function spawnWorker(init: ModelWorkerInit): Worker {
  return startWorkerBeside(import.meta.url, 'model-worker-main', { workerData: init });
}

export class ModelClient {
  private readonly pending = new Map<number, Pending>();
  private readonly waiting: { start: () => void; cancel: (error: unknown) => void }[] = [];
  private nextId = 1;
  private active = 0;
  private peak = 0;
  private failure: Error | null = null;
  private closed = false;
  /** Requests the worker answered with AbortError (it stopped early), for diagnostics and tests. */
  cancelledByWorker = 0;

  private constructor(
    private readonly worker: Worker,
    readonly maxInFlight: number,
    /** Execution-provider choice of each opened package (statement says which EP runs and why). */
    readonly providers: { embedding: ProviderChoice | null; reranker: ProviderChoice | null },
  ) {
    worker.on('message', (reply: ModelWorkerReply) => this.onReply(reply));
    worker.on('error', (error) => this.fail(new Error(`the model worker crashed: ${error.message}`, { cause: error })));
    worker.on('exit', (code) => {
      if (!this.closed) this.fail(new Error(`the model worker exited (code ${code}); start a new ModelClient`));
    });
  }

  /** Starts a worker, opens the packages there and resolves once they are loaded. */
  static async start(options: ModelClientOptions): Promise<ModelClient> {
    const maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
    if (!Number.isInteger(maxInFlight) || maxInFlight < 1) throw new RangeError(`maxInFlight must be a positive integer, got ${maxInFlight}`);
    if (options.embeddingPackage === undefined && options.rerankerPackage === undefined) {
      throw new Error('ModelClient.start needs embeddingPackage and/or rerankerPackage (model package folders)');
    }
    const { maxInFlight: _ignored, ...init } = options;
    const worker = spawnWorker(init);
    // Only our own listeners are removed afterwards: Worker keeps internal 'newListener' hooks
    // that start its message port, and removeAllListeners() would silence it for good.
    let onMessage = (_reply: ModelWorkerReply): void => {};
    let onError = (_error: Error): void => {};
    let onExit = (_code: number): void => {};
    const ready = await new Promise<Extract<ModelWorkerReply, { type: 'ready' }>>((resolve, reject) => {
      onMessage = (reply) => {
        if (reply.type === 'ready') resolve(reply);
        else if (reply.type === 'init-error') reject(deserializeError(reply.error));
      };
      onError = reject;
      onExit = (code) => reject(new Error(`the model worker exited (code ${code}) while loading the model packages`));
      worker.on('message', onMessage).on('error', onError).on('exit', onExit);
    })
      .catch(async (error: unknown) => {
        await worker.terminate();
        throw error;
      })
      .finally(() => worker.off('message', onMessage).off('error', onError).off('exit', onExit));
    return new ModelClient(worker, maxInFlight, { embedding: ready.embedding, reranker: ready.reranker });
  }

  /** Requests currently with the worker (≤ maxInFlight). */
  get inFlight(): number {
    return this.active;
  }

  /** Most requests ever with the worker at once. */
  get peakInFlight(): number {
    return this.peak;
  }

  embed(inputs: readonly EmbedInput[], options: ClientEmbedOptions = {}): Promise<Float32Array[]> {
    const priority = options.priority ?? 'background';
    return this.request({ type: 'embed', priority, inputs, instruction: options.instruction, dims: options.dims }, options.signal) as Promise<Float32Array[]>;
  }

  rerank(query: EmbedInput, documents: readonly EmbedInput[], options: ClientRerankOptions = {}): Promise<number[]> {
    const priority = options.priority ?? 'background';
    return this.request({ type: 'rerank', priority, query, documents, instruction: options.instruction }, options.signal) as Promise<number[]>;
  }

  private async request(body: RequestBody, signal: AbortSignal | undefined): Promise<unknown> {
    if (this.failure !== null) throw this.failure;
    if (this.closed) throw new Error('this ModelClient is closed');
    if (signal?.aborted) throw abortReason(signal);
    // Back-pressure bounds background work only; an interactive request never waits behind it.
    const holdsSlot = body.priority !== 'interactive';
    if (holdsSlot) await this.acquireSlot(signal);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const entry: Pending = { resolve, reject, settled: false, holdsSlot };
      this.pending.set(id, entry);
      const onAbort = (): void => {
        if (entry.settled) return;
        entry.settled = true;
        this.worker.postMessage({ type: 'cancel', id } satisfies ModelWorkerRequest);
        reject(abortReason(signal!));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      entry.resolve = (value) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(value);
      };
      entry.reject = (error) => {
        signal?.removeEventListener('abort', onAbort);
        reject(error);
      };
      this.worker.postMessage({ ...body, id } satisfies ModelWorkerRequest);
    });
  }

  private acquireSlot(signal: AbortSignal | undefined): Promise<void> {
    const take = (): void => {
      this.active++;
      this.peak = Math.max(this.peak, this.active);
    };
    if (this.active < this.maxInFlight) {
      take();
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        start: () => {
          signal?.removeEventListener('abort', onAbort);
          take();
          resolve();
        },
        cancel: reject,
      };
      const onAbort = (): void => {
        const index = this.waiting.indexOf(waiter);
        if (index >= 0) this.waiting.splice(index, 1);
        reject(abortReason(signal!));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(waiter);
    });
  }

  private releaseSlot(): void {
    this.active--;
    this.waiting.shift()?.start();
  }

  private onReply(reply: ModelWorkerReply): void {
    if (reply.type === 'ready' || reply.type === 'init-error' || reply.type === 'closed') return;
    const entry = this.pending.get(reply.id);
    if (entry === undefined) return;
    this.pending.delete(reply.id);
    if (entry.holdsSlot) this.releaseSlot();
    if (reply.type === 'error' && reply.error.name === 'AbortError') this.cancelledByWorker++;
    if (entry.settled) return;
    entry.settled = true;
    if (reply.type === 'embeddings') entry.resolve(reply.embeddings);
    else if (reply.type === 'scores') entry.resolve(reply.scores);
    else entry.reject(deserializeError(reply.error));
  }

  private fail(error: Error): void {
    this.failure = error;
    for (const entry of this.pending.values()) {
      if (!entry.settled) entry.reject(error);
      entry.settled = true;
    }
    this.pending.clear();
    for (const waiter of this.waiting.splice(0)) waiter.cancel(error);
  }

  /** Lets running requests finish, releases the sessions and stops the worker. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const waiter of this.waiting.splice(0)) waiter.cancel(new Error('the ModelClient was closed'));
    if (this.failure === null) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 30_000);
        this.worker.on('message', (reply: ModelWorkerReply) => {
          if (reply.type === 'closed') {
            clearTimeout(timer);
            resolve();
          }
        });
        this.worker.postMessage({ type: 'close' } satisfies ModelWorkerRequest);
      });
    }
    await this.worker.terminate();
  }
}
