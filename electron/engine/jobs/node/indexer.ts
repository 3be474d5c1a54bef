// Indexes pending files: a round of up to `roundSize` files (kinds interleaved, oldest first) is
// extracted with bounded concurrency, its items embedded together in a few batched model calls,
// and each file committed in one transaction (items, thumbnails, vectors, status) followed by the
// ANN update. Any failure marks just that file failed with a reason a person can act on; nothing
// a file does can stop the loop. Runs on the engine's thread but only awaits I/O and the model
// worker, so searches interleave freely.
// With an embedding model every step is journaled (docs/store.md, "Crash safety"): extraction is
// staged (`extracted`), each embed call's vectors are staged as soon as it returns, a file whose
// vectors are all staged is `embedded`, and the commit moves the staging into items/vectors. After
// a kill an `embedded` file is committed from its staging without being read again, and an
// `extracted` one is re-extracted but embeds only the items without a staged vector: the only
// work a kill can cost twice is the one embed call in flight (≤ EMBED_BATCH_INPUTS inputs).
// Deferred items (PDF pages) are drawn only just before their embed call and at most
// `pagesPerRound` of a file per round: a 2,000-page PDF stays `extracted` across rounds, sharing
// each with other files, and is committed (from its staging) once every page is settled.
import { existsSync } from 'node:fs';
import pLimit from 'p-limit';
import { errorMessage } from '../../base/common/error-message.ts';
import type { FileKind, IndexingProgress } from '../../../contract/common/entities.ts';
import { fingerprintFile } from '../../library/node/fingerprint.ts';
import { readLibraryFile } from '../../library/node/library-file.ts';
import { int8Encode, l2Normalize } from '../../store/common/embedding-codes.ts';
import type { ChunkTokenizerRef } from '../../extract/common/text-chunker.ts';
import { noteWithProblem, type WorkClock } from '../../extract/node/prepared-file.ts';
import type { EmbedInput } from '../../model-inputs/node/embed-inputs.ts';
import type { Int8Vector } from '../../store/node/vector-codec.ts';
import { MAX_INDEX_ATTEMPTS, type FileRecord } from '../../store/node/files-repo.ts';
import { invalidNameReason, mayBeUndecodableName, sizeRefusal } from '../../library/common/file-refusals.ts';
import { StaleFileError, type IndexedItem } from '../../store/node/indexed-file-writer.ts';
import type { NewItem } from '../../store/node/items-repo.ts';
import type { Store } from '../../store/node/store.ts';
import { sharedExtractionPool, type FileExtractor } from './extraction-pool.ts';
import { hasDeferredItems, type DeferredItems, type PreparedFile } from './file-items.ts';
import { RateMeter } from './progress-meter.ts';

/** Files per round: enough to fill a model batch, few enough that pause and close answer quickly. */
export const DEFAULT_ROUND_SIZE = 8;
/** Inputs per embed call: the runtime batches inside a call; 16 keeps one call's memory small. */
export const EMBED_BATCH_INPUTS = 16;
/**
 * Extraction (decode, thumbnail, read, chunk) of one file, or drawing one PDF page; a file that hangs
 * a decoder fails. Measures the file's own work: time waiting for a free extraction worker is not counted.
 */
export const DEFAULT_FILE_TIMEOUT_MS = 120_000;
/**
 * Deferred items (PDF pages) one file contributes to a round: one embed call's worth, so a long
 * PDF takes a slot of every round until it is done instead of the whole queue for an hour.
 */
export const DEFAULT_PAGES_PER_ROUND = EMBED_BATCH_INPUTS;
/** Embedding time allowed per input (the real 2B model on a CPU needs seconds per image). */
export const EMBED_TIMEOUT_PER_INPUT_MS = 60_000;
export const SAVE_ANN_EVERY_MS = 30_000;
/** A file picked this many times in one session without reaching indexed/failed is failed. */
const MAX_PICKS = 4;

/** What the indexer needs of the models (EngineModels has it): the active embedder and its embed call. */
export interface IndexerModels {
  /** `tokenizer` cuts text chunks (loaded by the extraction workers, not on this thread). */
  readonly embedder: { readonly modelId: number; readonly tokenizer: ChunkTokenizerRef } | null;
  embed(inputs: readonly EmbedInput[], options?: { signal?: AbortSignal }): Promise<Float32Array[]>;
}

export interface IndexerOptions {
  readonly store: Store;
  readonly models: IndexerModels;
  readonly concurrency?: number;
  readonly roundSize?: number;
  readonly fileTimeoutMs?: number;
  /** Deferred items (PDF pages) drawn and embedded per file per round (default DEFAULT_PAGES_PER_ROUND). */
  readonly pagesPerRound?: number;
  /** Reads files off this thread; default the process's shared extraction workers. */
  readonly extractor?: FileExtractor;
  /** Replaces `extractor.prepare` (tests inject one that hangs). */
  readonly extract?: FileExtractor['prepare'];
  /** Most text chunks of one text file or document (default DEFAULT_MAX_TEXT_CHUNKS). */
  readonly maxTextChunks?: number;
  /** After each round: files committed and failed (the library changed). */
  readonly onRound: (outcome: { indexed: number; failed: number }) => void;
  /** Progress changed (state, current file); the caller coalesces the events. */
  readonly onActivity: () => void;
}

interface Prepared {
  readonly file: FileRecord;
  readonly fingerprint: string;
  readonly prepared: PreparedFile;
  /** Per item: its int8 vector (staged by an earlier run or embedded in this one); undefined after a failed embed. */
  vectors?: (Int8Vector | null)[];
  /** Per item: a deferred item was drawn for this model (embedded, or found not embeddable), in this run or before. */
  readonly settled: boolean[];
  /** Deferred items settled in this round: the file is moving, even if not done. */
  settledNow: number;
  /** The items came from the staging journal (the file was `embedded`): nothing to extract or embed. */
  readonly fromJournal?: boolean;
  /** Committed from the staging, where drawn pages left their text and thumbnails. */
  readonly commitFromStaging?: boolean;
  /** Its staging vanished mid-round (the file changed or was removed): drop this round's work on it. */
  stale?: boolean;
}

interface EmbedJob {
  readonly owner: Prepared;
  readonly index: number;
  /** What to embed; for a deferred item only while it is drawn (between drawing and its embed call). */
  input: EmbedInput | null;
  /** A drawn deferred item's text and thumbnail, staged with its vector. */
  content: Pick<NewItem, 'text' | 'thumbnail'> | null;
}

/**
 * Whether a failure may pass by itself, so the next start tries the file again (while it has
 * attempts left): a timeout (its work's signal fired) or a system error reading it (EACCES, EIO,
 * EBUSY: a permission fixed, a disk woken up). What an extractor says about the content does not
 * pass: that file is tried again when it changes.
 */
function mayPass(error: unknown, workSignal: AbortSignal | undefined): boolean {
  if (workSignal?.aborted) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code);
}

/** Why a file is refused before it is read (a retried file, or one recorded before these checks), or null. */
function refusalOf(file: FileRecord): string | null {
  if (mayBeUndecodableName(file.path) && !existsSync(file.path)) return invalidNameReason('file');
  return sizeRefusal(file.kind, file.size);
}

/** A failure's reason when the error had no message (a file's row must still say something). */
const NO_MESSAGE = 'indexing failed without a message; try again or report the file';

const duration = (ms: number): string => (ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`);

/** Oldest first, kinds interleaved: a folder of 10,000 photos does not hold back the notes. */
export function fairRound(candidates: readonly FileRecord[], size: number): FileRecord[] {
  const byKind = new Map<FileKind, FileRecord[]>();
  for (const f of candidates) {
    const list = byKind.get(f.kind) ?? [];
    list.push(f);
    byKind.set(f.kind, list);
  }
  const queues = [...byKind.values()];
  const out: FileRecord[] = [];
  while (out.length < size && queues.some((q) => q.length)) {
    for (const q of queues) if (q.length && out.length < size) out.push(q.shift()!);
  }
  return out;
}

/**
 * Files indexed before this embedding model was available (keyword-only items) or with another
 * model go back to pending, so they gain vectors. Returns how many. O(1) at a start where nothing
 * changed (the store keeps a mark: FilesRepo.requeueWithoutVectors).
 */
export function requeueFilesWithoutVectors(store: Store, modelId: number): number {
  return store.files.requeueWithoutVectors(modelId);
}

export class Indexer {
  readonly rate = new RateMeter();
  private paused = false;
  private closed = false;
  /** wake() was called while a loop ran (files may have arrived after its last look). */
  private wakeAgain = false;
  private running: Promise<void> | null = null;
  private current: string | null = null;
  private readonly abort = new AbortController();
  private readonly picks = new Map<number, number>();
  private requeuedAtStart = false;
  private lastSave = Date.now();
  private readonly concurrency: number;
  private readonly roundSize: number;
  private readonly fileTimeoutMs: number;
  private readonly pagesPerRound: number;
  private readonly extractor: FileExtractor;

  constructor(private readonly options: IndexerOptions) {
    this.extractor = options.extractor ?? sharedExtractionPool();
    this.concurrency = Math.max(1, options.concurrency ?? 4);
    this.roundSize = options.roundSize ?? DEFAULT_ROUND_SIZE;
    this.fileTimeoutMs = options.fileTimeoutMs ?? DEFAULT_FILE_TIMEOUT_MS;
    this.pagesPerRound = Math.max(1, options.pagesPerRound ?? DEFAULT_PAGES_PER_ROUND);
  }

  get state(): Exclude<IndexingProgress['state'], 'scanning'> {
    if (this.paused) return 'paused';
    return this.running ? 'indexing' : 'idle';
  }

  get isPaused(): boolean {
    return this.paused;
  }

  get currentFile(): string | null {
    return this.current;
  }

  /** True while a round is being worked on. */
  get busy(): boolean {
    return this.running !== null;
  }

  /** New pending files may exist: start working if not already. */
  wake(): void {
    if (this.paused || this.closed) return;
    if (this.running) {
      // The loop may already have found nothing to do and be on its way out: look again after it.
      this.wakeAgain = true;
      return;
    }
    this.wakeAgain = false;
    this.running = this.loop()
      .catch((error: unknown) => console.error(`trove: the indexer stopped on an unexpected error: ${errorMessage(error, { ifEmpty: NO_MESSAGE })}`))
      .finally(() => {
        this.running = null;
        this.current = null;
        this.rate.reset();
        if (this.wakeAgain) this.wake();
        this.options.onActivity();
      });
    this.options.onActivity();
  }

  pause(): void {
    this.paused = true;
    this.options.onActivity();
  }

  resume(): void {
    this.paused = false;
    this.wake();
    this.options.onActivity();
  }

  /** Waits for the loop to stop (extraction and the model call in flight are cancelled). */
  async close(): Promise<void> {
    this.closed = true;
    this.abort.abort(new Error('Trove is closing'));
    await this.running;
  }

  private async loop(): Promise<void> {
    const { store } = this.options;
    if (!this.requeuedAtStart) {
      // Once a run: failures that may have passed by themselves (a timeout, a read error) get
      // another try while they have attempts left (docs/store.md, "Failures and retries").
      this.requeuedAtStart = true;
      store.files.requeueRetryableFailures();
    }
    while (!this.closed && !this.paused) {
      const candidates = store.files.nextInProgress(this.roundSize * 32);
      // A file an earlier run started and never finished (it may have crashed the engine, or timed
      // out) runs alone: a crash then counts against it only, and its time is its own.
      const suspect = candidates.find((f) => f.attempts > 0 && !this.picks.has(f.id));
      const round = suspect ? [suspect] : fairRound(candidates, this.roundSize);
      if (round.length === 0) break;
      const admitted = this.admit(round);
      try {
        await this.runRound(admitted);
      } finally {
        // Stopped on purpose (Trove closing): that was no attempt of the files'.
        if (this.closed) store.files.undoAttempts(admitted.map((f) => f.id));
      }
      if (Date.now() - this.lastSave > SAVE_ANN_EVERY_MS) {
        store.saveAnn();
        this.lastSave = Date.now();
      }
    }
  }

  /**
   * The round's files that may be worked on, each with one attempt counted (written before any
   * work, so a crash in the middle still counts). Refused now: a file too large or with a name that
   * is not valid UTF-8 (retried, or recorded before the scan checked), and a file that stopped
   * Trove MAX_INDEX_ATTEMPTS times in a row (attempts are cleared by any progress).
   */
  private admit(round: readonly FileRecord[]): FileRecord[] {
    const admitted: FileRecord[] = [];
    let refused = 0;
    for (const f of round) {
      const refusal = refusalOf(f);
      if (refusal === null && f.attempts < MAX_INDEX_ATTEMPTS) {
        admitted.push(f);
        continue;
      }
      const interrupted = `Trove stopped ${f.attempts} times while indexing this file (it crashed or was killed each time), so it is left alone until the file changes or you retry it.`;
      this.markFailed(f, refusal ?? interrupted, false);
      refused += 1;
    }
    this.options.store.files.beginAttempts(admitted.map((f) => f.id));
    if (refused > 0) this.options.onRound({ indexed: 0, failed: refused });
    return admitted;
  }

  /** `retryAtStart`: the cause may pass by itself (see mayPass); the next start tries it again. */
  private markFailed(file: FileRecord, reason: string, retryAtStart: boolean): void {
    try {
      this.options.store.files.markFailed(file.id, reason, { retryAtStart });
      this.options.store.staging.clear(file.id);
    } catch {
      // The file was removed meanwhile: nothing to record.
    }
  }

  /**
   * Runs one file's extraction (or one page's drawing) with the per-file time limit. On timeout the
   * work's signal is aborted, so it is abandoned, not left running: decoder children are killed, a
   * PDF stops between pages, and nothing more is written for the file. Closing the indexer ends it
   * at once too. The limit counts the file's own work only: the clock stops while the work waits
   * for a free extraction worker (`clock.waiting()`, another file's turn) and runs again when it starts.
   */
  private async withFileTimeout<T>(what: string, work: (signal: AbortSignal, clock: WorkClock) => Promise<T>): Promise<T> {
    const timedOut = new AbortController();
    const signal = AbortSignal.any([this.abort.signal, timedOut.signal]);
    let timer: NodeJS.Timeout | undefined;
    let left = this.fileTimeoutMs;
    let since: number | null = null;
    let onAbort: (() => void) | undefined;
    let clock: WorkClock = { waiting: () => undefined, working: () => undefined };
    const stopped = new Promise<never>((_, reject) => {
      const expire = (): void => {
        const error = new Error(`${what} took longer than ${duration(this.fileTimeoutMs)}; the file may be huge or damaged, or its disk stopped answering — check it, then rescan`);
        timedOut.abort(error);
        reject(error);
      };
      clock = {
        working: () => {
          if (since !== null || signal.aborted) return;
          since = performance.now();
          timer = setTimeout(expire, Math.max(0, left));
        },
        waiting: () => {
          if (since === null) return;
          clearTimeout(timer);
          left -= performance.now() - since;
          since = null;
        },
      };
      onAbort = () => reject(signal.reason as Error);
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
    clock.working(); // fingerprinting and the link checks are the file's own work
    try {
      return await Promise.race([work(signal, clock), stopped]);
    } finally {
      clearTimeout(timer);
      if (onAbort) signal.removeEventListener('abort', onAbort);
    }
  }

  /** Every item done: embedded (or nothing to embed), and every deferred item settled. */
  private isComplete(p: Prepared): boolean {
    return p.prepared.items.every((pi, i) => (pi.deferred ? p.settled[i] : !pi.embed || p.vectors?.[i]));
  }

  private async runRound(files: FileRecord[]): Promise<void> {
    const { store, models } = this.options;
    let failed = 0;
    let indexed = 0;
    const live: FileRecord[] = [];
    for (const f of files) {
      const picks = (this.picks.get(f.id) ?? 0) + 1;
      this.picks.set(f.id, picks);
      if (picks > MAX_PICKS) {
        this.markFailed(f, 'The file kept changing while it was being indexed; it is indexed once it has been written completely.', true);
        failed += 1;
      } else live.push(f);
    }
    const tokenizer: ChunkTokenizerRef = models.embedder?.tokenizer ?? { kind: 'estimate' };

    const prepared = (
      await pLimit(this.concurrency).map(live, async (file): Promise<Prepared | null> => {
        if (this.closed) return null;
        this.current = file.path;
        this.options.onActivity();
        let workSignal: AbortSignal | undefined;
        try {
          return await this.withFileTimeout(`reading ${file.path}`, (signal, clock) => this.prepareJournaled(file, tokenizer, (workSignal = signal), clock));
        } catch (error) {
          if (this.closed) return null; // stopped, not failed: it resumes at the next start
          this.markFailed(file, errorMessage(error, { ifEmpty: NO_MESSAGE }), mayPass(error, workSignal));
          failed += 1;
          this.rate.record();
          return null;
        }
      })
    ).filter((p): p is Prepared => p !== null);

    if (models.embedder && !this.closed) {
      await this.embedRound(prepared);
      this.markEmbedded(prepared);
    }

    for (const p of prepared) {
      if (this.closed) break;
      if (p.stale) continue; // changed or removed meanwhile: it is pending again (or gone)
      if (models.embedder && !p.vectors) continue; // failed while embedding (already marked)
      if (models.embedder && !this.isComplete(p)) {
        // A long PDF: more pages next round. Moving files are not "picked without finishing", and
        // their attempts start over (a crash further on is a new attempt's).
        if (p.settledNow > 0) {
          this.picks.delete(p.file.id);
          store.files.clearAttempts([p.file.id]);
        }
        continue;
      }
      try {
        let items: IndexedItem[];
        if (p.commitFromStaging && models.embedder) {
          const staged = store.staging.load(p.file.id, p.fingerprint, models.embedder.modelId);
          if (!staged) continue; // its staging was cleared: the file changed and is pending again
          items = staged.items;
        } else {
          items = p.prepared.items.map((pi, i) => ({ ...pi.item, vector: p.vectors?.[i] ?? null }));
          // Metadata first: a kill between the two writes must not leave an indexed file without
          // its date taken (an indexed file is never prepared again). Journaled files wrote it at staging.
          if (!models.embedder) store.files.setMetadata(p.file.id, p.prepared.dateTaken, p.prepared.metadata);
        }
        store.commitIndexedFile({ fileId: p.file.id, modelId: models.embedder?.modelId ?? null, fingerprint: p.fingerprint, items });
        this.picks.delete(p.file.id);
        indexed += 1;
      } catch (error) {
        // Changed while indexed: it is pending again with its new facts and comes back in a later round.
        if (!(error instanceof StaleFileError)) {
          this.markFailed(p.file, `saving the index failed: ${errorMessage(error, { ifEmpty: NO_MESSAGE })}`, true);
          failed += 1;
        }
      }
      this.rate.record();
    }
    this.options.onRound({ indexed, failed });
  }

  /**
   * Fingerprints and extracts a file, resuming from the staging journal when an earlier round or
   * run left work for this very content: an `embedded` file is taken whole from staging; a file
   * with deferred items (a PDF) resumes from its staged pages without being extracted again; any
   * other `extracted` file is extracted again (the embed inputs are not journaled) and keeps its
   * staged vectors. Fresh extractions are staged before any embedding starts.
   */
  private async prepareJournaled(file: FileRecord, tokenizer: ChunkTokenizerRef, signal: AbortSignal, clock: WorkClock): Promise<Prepared> {
    const { store, models } = this.options;
    // Read only while it is a library file: never through a link (docs/file-kinds.md, "Links").
    const roots = store.roots.list().map((r) => r.path);
    const extractFile = this.options.extract ?? ((ref, chunkTokenizer, options) => this.extractor.prepare(ref, chunkTokenizer, options));
    const extract: FileExtractor['prepare'] = (ref, chunkTokenizer, options) =>
      readLibraryFile(file.path, roots, () => extractFile(ref, chunkTokenizer, { ...options, signal, clock, maxTextChunks: this.options.maxTextChunks }));
    const fingerprint = await fingerprintFile(file.path);
    signal.throwIfAborted();
    const modelId = models.embedder?.modelId;
    if (modelId === undefined) {
      // No model, no journal: deferred items get their text and thumbnails now, in one go.
      const prepared = await extract(file, tokenizer, { deferred: 'display' });
      return { file, fingerprint, prepared, settled: [], settledNow: 0 };
    }
    const staged = store.staging.progress(file.id, fingerprint, modelId);
    // Vectors staged under another model (the package changed between runs) are not this model's work.
    const otherModelVectors = store.db.prepare('SELECT count(*) FROM staged_items WHERE file_id = ? AND codes IS NOT NULL AND model_id != ?').pluck().get(file.id, modelId) as number;
    const fromStaging = (journal: typeof staged & object, fromJournal: boolean): Prepared => ({
      file,
      fingerprint,
      fromJournal,
      commitFromStaging: true,
      prepared: {
        items: journal.items.map((s) => ({ item: { kind: s.kind, locator: s.locator, date: s.date }, embed: null, deferred: !fromJournal })),
        dateTaken: null,
        metadata: {},
      },
      vectors: journal.items.map((s) => s.vector ?? null),
      settled: journal.items.map((s) => s.settled),
      settledNow: 0,
    });
    if (staged && file.status === 'embedded' && otherModelVectors === 0) return fromStaging(staged, true);
    // Deferred items are drawn from the file when they are embedded, so this content's staged
    // pages are all there is to resume from: the file is not extracted again (once per round).
    if (staged && hasDeferredItems(file.kind)) return fromStaging(staged, false);
    const prepared = await extract(file, tokenizer, { deferred: 'defer' });
    signal.throwIfAborted(); // timed out meanwhile: it is already failed; stage nothing
    const commitFromStaging = prepared.items.some((pi) => pi.deferred);
    const sameItems =
      staged !== null &&
      staged.items.length === prepared.items.length &&
      staged.items.every((s, i) => s.kind === prepared.items[i]!.item.kind && JSON.stringify(s.locator) === JSON.stringify(prepared.items[i]!.item.locator));
    if (sameItems) return { file, fingerprint, prepared, commitFromStaging, vectors: staged.items.map((s) => s.vector ?? null), settled: staged.items.map((s) => s.settled), settledNow: 0 };
    store.files.setMetadata(file.id, prepared.dateTaken, prepared.metadata);
    store.staging.stageExtracted(
      file.id,
      fingerprint,
      prepared.items.map((pi) => pi.item),
    );
    return { file, fingerprint, prepared, commitFromStaging, vectors: prepared.items.map(() => null), settled: prepared.items.map(() => false), settledNow: 0 };
  }

  /**
   * Files whose every embeddable item now has a staged vector (and every deferred item is settled)
   * move to `embedded`, so a kill before their commit resumes without reading them again. Guarded
   * by the staging's fingerprint: a file that changed meanwhile lost its staging and stays `pending`.
   */
  private markEmbedded(prepared: readonly Prepared[]): void {
    const { db } = this.options.store;
    const mark = db.prepare(
      `UPDATE files SET status = 'embedded', updated_at = ? WHERE id = ? AND status = 'extracted'
         AND EXISTS (SELECT 1 FROM staged_items WHERE file_id = ? AND fingerprint = ?)`,
    );
    for (const p of prepared) {
      if (p.fromJournal || !p.vectors || p.stale) continue;
      if (this.isComplete(p)) mark.run(Date.now(), p.file.id, p.file.id, p.fingerprint);
    }
  }

  /**
   * Journals one embedded vector (with a drawn page's text and thumbnail); false when the file's
   * staging is gone (changed or removed meanwhile).
   */
  private stageVector(p: Prepared, index: number, vector: Int8Vector, content: EmbedJob['content']): boolean {
    const modelId = this.options.models.embedder?.modelId;
    if (modelId === undefined) return false;
    try {
      if (content) this.options.store.staging.completeItem(p.file.id, index, content);
      // Promoted to `embedded` once per file per embed call (embedJobs), not per vector.
      this.options.store.staging.stageVector(p.file.id, index, modelId, vector, { promote: false });
      return true;
    } catch {
      return false; // the commit will see the stale fingerprint (or the missing file) and skip it
    }
  }

  /**
   * Draws the deferred items of `slice` (their files are opened on first use), so their pixels
   * exist only from here until their embed call returns. An item with nothing to embed is settled
   * at once. A file that cannot be opened or drawn in time fails. Returns the jobs ready to embed.
   */
  private async drawDeferred(slice: readonly EmbedJob[], sources: Map<Prepared, Promise<DeferredItems>>): Promise<EmbedJob[]> {
    const { store, models } = this.options;
    const modelId = models.embedder!.modelId;
    const ready: EmbedJob[] = [];
    for (const job of slice) {
      const p = job.owner;
      if (!p.vectors || p.stale || this.closed) continue; // its file failed or changed meanwhile
      const { item, deferred } = p.prepared.items[job.index]!;
      if (!deferred) {
        ready.push(job);
        continue;
      }
      this.current = p.file.path;
      let done;
      let workSignal: AbortSignal | undefined;
      try {
        done = await this.withFileTimeout(`drawing ${JSON.stringify(item.locator)} of ${p.file.path}`, async (signal, clock) => {
          workSignal = signal;
          let source = sources.get(p);
          if (!source) {
            const roots = this.options.store.roots.list().map((r) => r.path);
            sources.set(p, (source = readLibraryFile(p.file.path, roots, () => this.extractor.openDeferred(p.file, { signal, clock }), (items) => items.close())));
          }
          return (await source).complete(item, { embed: true, signal, clock });
        });
      } catch (error) {
        if (this.closed) return [];
        p.vectors = undefined;
        this.markFailed(p.file, errorMessage(error, { ifEmpty: NO_MESSAGE }), mayPass(error, workSignal));
        this.rate.record();
        continue;
      }
      if (done.embed) {
        job.input = done.embed;
        job.content = { text: done.text, thumbnail: done.thumbnail };
        ready.push(job);
        continue;
      }
      // Drawn, nothing to embed (a strip-shaped or broken page): journal it so it is never drawn again.
      try {
        store.db.transaction(() => {
          store.staging.completeItem(p.file.id, job.index, { text: done.text, thumbnail: done.thumbnail });
          store.staging.settleItem(p.file.id, job.index, modelId);
          if (done.unforeseen && done.problem) {
            const row = store.files.get(p.file.id);
            if (row) store.files.setMetadata(p.file.id, row.dateTaken, { ...row.metadata, note: noteWithProblem(row.metadata.note, done.problem) });
          }
        })();
        p.settled[job.index] = true;
        p.settledNow += 1;
      } catch {
        p.stale = true; // its staging is gone: the file changed or was removed
      }
    }
    return ready;
  }

  /**
   * Embeds every item of the round without a vector in batched calls (at most `pagesPerRound`
   * deferred items per file, each drawn just before its call); on a failed batch, isolates the bad file.
   */
  private async embedRound(prepared: Prepared[]): Promise<void> {
    const jobs: EmbedJob[] = [];
    for (const p of prepared) {
      p.vectors ??= p.prepared.items.map(() => null);
      let deferred = 0;
      p.prepared.items.forEach((pi, index) => {
        if (pi.deferred) {
          if (!p.settled[index] && deferred < this.pagesPerRound) {
            deferred += 1;
            jobs.push({ owner: p, index, input: null, content: null });
          }
        } else if (pi.embed && !p.vectors![index]) jobs.push({ owner: p, index, input: pi.embed, content: null });
      });
    }
    const sources = new Map<Prepared, Promise<DeferredItems>>();
    const embedJobs = async (batch: readonly EmbedJob[]): Promise<void> => {
      for (let at = 0; at < batch.length; at += EMBED_BATCH_INPUTS) {
        const ready = await this.drawDeferred(batch.slice(at, at + EMBED_BATCH_INPUTS), sources);
        if (ready.length === 0) continue;
        try {
          const signal = AbortSignal.any([this.abort.signal, AbortSignal.timeout(EMBED_TIMEOUT_PER_INPUT_MS * ready.length)]);
          const vectors = await this.options.models.embed(
            ready.map((j) => j.input!),
            { signal },
          );
          // Journaled as soon as the call returns, so a kill after it never pays for it again.
          this.options.store.db.transaction(() => {
            ready.forEach((j, i) => {
              const vector = int8Encode(l2Normalize(vectors[i]!));
              const owner = j.owner;
              owner.vectors![j.index] = vector;
              // Its staging is gone: the file changed (pending again) or was removed; drop its round.
              if (!this.stageVector(owner, j.index, vector, j.content)) owner.stale = true;
              if (owner.prepared.items[j.index]!.deferred) {
                owner.settled[j.index] = true;
                owner.settledNow += 1;
              }
            });
            for (const owner of new Set(ready.map((j) => j.owner))) if (!owner.stale) this.options.store.staging.promoteIfEmbedded(owner.file.id, this.options.models.embedder!.modelId);
          })();
        } finally {
          // A drawn page's pixels live only until its call returns (or fails; a retry draws it again).
          for (const j of ready) {
            if (j.content) {
              j.input = null;
              j.content = null;
            }
          }
        }
      }
    };
    try {
      await embedJobs(jobs);
    } catch {
      if (this.closed) return;
      // One bad input fails its whole call: embed file by file so only the culprit fails.
      for (const p of prepared) {
        if (!p.vectors || p.stale) continue;
        try {
          await embedJobs(jobs.filter((j) => j.owner === p && !(p.prepared.items[j.index]!.deferred ? p.settled[j.index] : p.vectors?.[j.index])));
        } catch (error) {
          if (this.closed) return;
          p.vectors = undefined;
          // The model (or its worker) may have failed, not the file: worth another try at the next start.
          this.markFailed(p.file, `the embedding model could not read it: ${errorMessage(error, { ifEmpty: NO_MESSAGE })}`, true);
          this.rate.record();
        }
      }
    } finally {
      for (const source of sources.values()) source.then((s) => s.close(), () => undefined);
    }
  }
}
