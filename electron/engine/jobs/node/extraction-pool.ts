// File extraction on worker threads (extraction-worker-main.ts), as promises on the engine's thread.
// The engine's thread only waits: a 10 MiB line of text tokenized for a minute, a 2,000-page PDF
// opened by MuPDF or an Office file's XML walked never delays a search, `status.get` or a progress
// event (bench/engine-lag.ts measures it).
//
// - Each worker runs one file's task at a time; tasks wait in one queue for a free worker. A task's
//   clock (WorkClock) is stopped while it waits and runs from the moment its worker starts it, so
//   a file's time limit measures its own work, never the files ahead of it.
// - Aborting a task (its time limit, Trove closing) rejects at once and tells the worker, which
//   stops at its next check (a PDF between pages, ffmpeg children killed). A worker that does not
//   answer within `abortGraceMs` is stuck in synchronous work and is terminated; a fresh one takes
//   its place for the next task.
// - A PDF opened for drawing its pages stays open in the worker that opened it, and its pages are
//   drawn there (if that worker is gone, another opens the file again).
// - Workers start on demand, up to `size`, and stop after `idleMs` without work: their memory (a
//   tokenizer, MuPDF's WebAssembly heap, which never shrinks) goes back to the system. A worker
//   whose MuPDF memory grew past `retireAboveBytes` stops right after its task. Idle workers do
//   not keep the process alive.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { deserializeError } from '../../base/common/serialized-error.ts';
import { startWorkerBeside } from '../../base/node/worker-beside.ts';
import type { ChunkTokenizerRef } from '../../extract/common/text-chunker.ts';
import type { CompletedItem, CompleteOptions, DeferredItems, PreparedFile, WorkClock } from '../../extract/node/prepared-file.ts';
import type { EmbedInput } from '../../model-inputs/node/embed-inputs.ts';
import type { ExtractionFile, ExtractionReply, ExtractionRequest, ExtractionTask, ExtractionWorkerData } from './extraction-protocol.ts';

/** Two workers on small machines (one file may take a worker for a minute), up to four on large ones. */
export const DEFAULT_EXTRACTION_WORKERS = Math.max(2, Math.min(4, Math.floor(availableParallelism() / 2)));
/** A worker with nothing to do for this long stops (it starts again in ~0.2 s when needed). */
export const DEFAULT_WORKER_IDLE_MS = 30_000;
/** After an abort, how long a worker may take to stop before it is terminated. */
export const DEFAULT_ABORT_GRACE_MS = 2_000;
/**
 * MuPDF's WebAssembly memory above which a worker is retired after its task (it never shrinks).
 * Ordinary PDFs stay far below (at most 66 MB over pdf.js's 146 samples and a 2,000-page file);
 * a document that needed more gives it back at once instead of keeping it until the worker idles.
 */
export const DEFAULT_RETIRE_ABOVE_BYTES = 192 * 1024 * 1024;

export interface ExtractOptions {
  readonly signal?: AbortSignal;
  readonly clock?: WorkClock;
  /** See PrepareFileOptions.deferred; default 'embed'. */
  readonly deferred?: 'defer' | 'embed' | 'display';
  readonly maxTextChunks?: number;
}

/** What the indexer and the model switch need to read files. */
export interface FileExtractor {
  prepare(file: ExtractionFile, tokenizer: ChunkTokenizerRef, options?: ExtractOptions): Promise<PreparedFile>;
  openDeferred(file: ExtractionFile, options?: { readonly signal?: AbortSignal; readonly clock?: WorkClock }): Promise<DeferredItems>;
}

export interface ExtractionPoolOptions {
  readonly size?: number;
  readonly idleMs?: number;
  readonly abortGraceMs?: number;
  /** See DEFAULT_RETIRE_ABOVE_BYTES. */
  readonly retireAboveBytes?: number;
  /** Tests of a bundle: the built worker file to start instead of the one beside this module. */
  readonly workerFile?: string;
}

interface Job {
  readonly id: number;
  readonly task: ExtractionTask;
  readonly clock?: WorkClock;
  readonly signal?: AbortSignal;
  /** The worker holding the task's open file (draws), while it lives. */
  pin?: PoolWorker;
  settled: boolean;
  resolve(reply: ExtractionReply): void;
  reject(error: unknown): void;
  onAbort?: () => void;
}

interface PoolWorker {
  readonly worker: Worker;
  job: Job | null;
  /** Open handles in this worker: it does not stop for idleness while it holds any. */
  readonly handles: Set<number>;
  idleTimer?: NodeJS.Timeout;
  graceTimer?: NodeJS.Timeout;
  /** It asked to be retired (its memory grew): stopped as soon as it holds no task and no handle. */
  retiring?: boolean;
  dead: boolean;
}

const abortReason = (signal: AbortSignal): unknown => signal.reason ?? new DOMException('The operation was aborted.', 'AbortError');

/** Structured clone turns Buffers into Uint8Arrays; the model inputs are Buffers (encoders, base64). */
function asBuffer(bytes: string | Buffer | Uint8Array): string | Buffer {
  return typeof bytes === 'string' || Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function reviveEmbed(input: EmbedInput | null): EmbedInput | null {
  return input?.images ? { ...input, images: input.images.map(asBuffer) } : input;
}

export class ExtractionPool implements FileExtractor {
  private readonly size: number;
  private readonly idleMs: number;
  private readonly abortGraceMs: number;
  private readonly queue: Job[] = [];
  private readonly workers: PoolWorker[] = [];
  /** Which worker holds each open handle now. */
  private readonly handleOwner = new Map<number, PoolWorker>();
  private nextId = 1;
  private nextHandle = 1;
  private closed = false;
  /** Workers started so far (tests: a stuck worker is replaced). */
  started = 0;

  constructor(private readonly options: ExtractionPoolOptions = {}) {
    this.size = Math.max(1, options.size ?? DEFAULT_EXTRACTION_WORKERS);
    this.idleMs = options.idleMs ?? DEFAULT_WORKER_IDLE_MS;
    this.abortGraceMs = options.abortGraceMs ?? DEFAULT_ABORT_GRACE_MS;
  }

  /** Workers running now. */
  get liveWorkers(): number {
    return this.workers.length;
  }

  async prepare(file: ExtractionFile, tokenizer: ChunkTokenizerRef, options: ExtractOptions = {}): Promise<PreparedFile> {
    const reply = await this.submit({ type: 'prepare', file, tokenizer, deferred: options.deferred ?? 'embed', maxTextChunks: options.maxTextChunks }, options);
    if (reply.type !== 'prepared') throw new Error(`the extraction worker answered '${reply.type}' to a prepare task`);
    const { result } = reply;
    return { ...result, items: result.items.map((pi) => ({ ...pi, embed: reviveEmbed(pi.embed) })) };
  }

  async openDeferred(file: ExtractionFile, options: { readonly signal?: AbortSignal; readonly clock?: WorkClock } = {}): Promise<DeferredItems> {
    const handle = this.nextHandle++;
    await this.submit({ type: 'open', file, handle }, options);
    let open = true;
    return {
      complete: async (item, drawOptions: CompleteOptions): Promise<CompletedItem> => {
        if (!open) throw new Error(`'${file.path}' was closed before ${JSON.stringify(item.locator)} was drawn`);
        const reply = await this.submit({ type: 'draw', file, handle, item: { kind: item.kind, locator: item.locator }, embed: drawOptions.embed }, drawOptions, this.handleOwner.get(handle));
        if (reply.type !== 'drawn') throw new Error(`the extraction worker answered '${reply.type}' to a draw task`);
        return { ...reply.result, embed: reviveEmbed(reply.result.embed) };
      },
      close: () => {
        if (!open) return;
        open = false;
        const owner = this.handleOwner.get(handle);
        this.handleOwner.delete(handle);
        if (!owner || owner.dead) return;
        owner.handles.delete(handle);
        owner.worker.postMessage({ type: 'close-handle', handle } satisfies ExtractionRequest);
        this.scheduleIdle(owner);
      },
    };
  }

  /** Stops every worker; queued and running tasks reject. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) this.settle(job, () => job.reject(new Error('the extraction workers were closed')));
    await Promise.all(this.workers.map((w) => this.retire(w, new Error('the extraction workers were closed'))));
  }

  private submit(task: ExtractionTask, options: { readonly signal?: AbortSignal; readonly clock?: WorkClock }, pin?: PoolWorker): Promise<ExtractionReply> {
    const { signal, clock } = options;
    if (this.closed) return Promise.reject(new Error('the extraction workers were closed'));
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    return new Promise<ExtractionReply>((resolve, reject) => {
      const job: Job = { id: this.nextId++, task, clock, signal, pin, settled: false, resolve, reject };
      if (signal) {
        job.onAbort = () => this.abortJob(job);
        signal.addEventListener('abort', job.onAbort, { once: true });
      }
      // Waiting for a worker is not the file's own time.
      clock?.waiting();
      this.queue.push(job);
      this.pump();
    });
  }

  private settle(job: Job, done: () => void): void {
    if (job.settled) return;
    job.settled = true;
    if (job.onAbort) job.signal?.removeEventListener('abort', job.onAbort);
    done();
  }

  private abortJob(job: Job): void {
    const queued = this.queue.indexOf(job);
    if (queued >= 0) this.queue.splice(queued, 1);
    this.settle(job, () => job.reject(abortReason(job.signal!)));
    const owner = this.workers.find((w) => w.job === job);
    if (!owner) return;
    owner.worker.postMessage({ type: 'abort', id: job.id } satisfies ExtractionRequest);
    // A worker busy in synchronous code (a tokenizer loop, a MuPDF call) reads no message until it
    // returns; if it is still on this job after the grace period, it is stopped for good.
    owner.graceTimer = setTimeout(() => {
      if (owner.job === job) void this.retire(owner, new Error('the extraction worker was stopped'));
    }, this.abortGraceMs);
  }

  /** Gives waiting jobs to free workers, in queue order; a job pinned to a busy live worker waits for it. */
  private pump(): void {
    if (this.closed) return;
    for (let i = 0; i < this.queue.length; ) {
      const job = this.queue[i]!;
      if (job.pin?.dead) job.pin = undefined;
      let target: PoolWorker | undefined;
      if (job.pin) target = job.pin.job === null ? job.pin : undefined;
      else target = this.workers.find((w) => w.job === null && !w.retiring) ?? (this.workers.filter((w) => !w.retiring).length < this.size ? this.spawn() : undefined);
      if (!target) {
        i += 1;
        continue;
      }
      this.queue.splice(i, 1);
      this.dispatch(target, job);
    }
  }

  private dispatch(w: PoolWorker, job: Job): void {
    clearTimeout(w.idleTimer);
    w.job = job;
    w.worker.ref(); // a task in flight keeps the process alive (`trove index --once` waits for it)
    if (job.task.type !== 'prepare') {
      // This worker holds the handle from now on (the open task, or a draw that reopens it here).
      const previous = this.handleOwner.get(job.task.handle);
      if (previous && previous !== w) previous.handles.delete(job.task.handle);
      this.handleOwner.set(job.task.handle, w);
      w.handles.add(job.task.handle);
    }
    w.worker.postMessage({ ...job.task, id: job.id } satisfies ExtractionRequest);
  }

  private spawn(): PoolWorker {
    const workerData: ExtractionWorkerData = { retireAboveBytes: this.options.retireAboveBytes ?? DEFAULT_RETIRE_ABOVE_BYTES };
    const worker = this.options.workerFile ? new Worker(this.options.workerFile, { workerData }) : startWorkerBeside(import.meta.url, 'extraction-worker-main', { workerData });
    this.started += 1;
    const w: PoolWorker = { worker, job: null, handles: new Set(), dead: false };
    worker.on('message', (reply: ExtractionReply) => this.onReply(w, reply));
    worker.on('error', (error) => {
      const words = (error as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'ran out of memory' : `failed: ${error.message}`;
      void this.retire(w, new Error(`reading the file ${words}`, { cause: error }));
    });
    worker.on('exit', (code) => void this.retire(w, new Error(`the extraction worker stopped (exit code ${code}) while reading the file; try again`)));
    this.workers.push(w);
    return w;
  }

  private onReply(w: PoolWorker, reply: ExtractionReply): void {
    const job = w.job;
    if (!job || job.id !== reply.id) return; // an answer to a task already given up
    if (reply.type === 'started') {
      if (!job.settled) job.clock?.working();
      return;
    }
    clearTimeout(w.graceTimer);
    w.job = null;
    if (job.task.type === 'open' && reply.type === 'error') {
      w.handles.delete(job.task.handle);
      this.handleOwner.delete(job.task.handle);
    }
    this.settle(job, () => (reply.type === 'error' ? job.reject(deserializeError(reply.error)) : job.resolve(reply)));
    if (reply.retire) w.retiring = true;
    w.worker.unref();
    this.scheduleIdle(w);
    this.pump();
  }

  private scheduleIdle(w: PoolWorker): void {
    clearTimeout(w.idleTimer);
    if (w.dead || w.job !== null || w.handles.size > 0) return;
    if (w.retiring) {
      // Its memory goes back to the system now; a fresh worker takes the next task.
      void this.retire(w, new Error('retired'));
      return;
    }
    w.idleTimer = setTimeout(() => {
      if (w.job === null && w.handles.size === 0) void this.retire(w, new Error('idle'));
    }, this.idleMs);
    w.idleTimer.unref();
  }

  /** Takes a worker out of the pool (stuck, crashed, idle or closing); its task, if any, fails with `why`. */
  private async retire(w: PoolWorker, why: Error): Promise<void> {
    if (w.dead) return;
    w.dead = true;
    clearTimeout(w.idleTimer);
    clearTimeout(w.graceTimer);
    const at = this.workers.indexOf(w);
    if (at >= 0) this.workers.splice(at, 1);
    for (const handle of w.handles) if (this.handleOwner.get(handle) === w) this.handleOwner.delete(handle);
    const job = w.job;
    w.job = null;
    if (job) this.settle(job, () => job.reject(why));
    this.pump();
    await w.worker.terminate();
  }
}

let shared: ExtractionPool | null = null;

/** The process's extraction workers (the indexer and the model switch share them). */
export function sharedExtractionPool(): ExtractionPool {
  shared ??= new ExtractionPool();
  return shared;
}
