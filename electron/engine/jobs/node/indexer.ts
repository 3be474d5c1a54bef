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
import type { FileKind, IndexingProgress } from '../../../contract/common/entities.ts';
import { fingerprintFile } from '../../library/node/fingerprint.ts';
import { int8Encode, l2Normalize } from '../../models/common/embedding-codes.ts';
import type { EmbedInput } from '../../models/node/embed-inputs.ts';
import type { Int8Vector } from '../../store/node/vector-codec.ts';
import type { FileRecord } from '../../store/node/files-repo.ts';
import { StaleFileError, type IndexedItem } from '../../store/node/indexed-file-writer.ts';
import type { Store } from '../../store/node/store.ts';
import type { EngineModels } from './engine-models.ts';
import { CHARACTER_ESTIMATE_TOKENIZER, prepareFile, type PreparedFile } from './file-items.ts';
import { RateMeter } from './progress-meter.ts';

/** Files per round: enough to fill a model batch, few enough that pause and close answer quickly. */
export const DEFAULT_ROUND_SIZE = 8;
/** Inputs per embed call: the runtime batches inside a call; 16 keeps one call's memory small. */
export const EMBED_BATCH_INPUTS = 16;
/** Extraction (decode, thumbnail, read, chunk) of one file; a file that hangs a decoder fails. */
export const DEFAULT_FILE_TIMEOUT_MS = 120_000;
/** Embedding time allowed per input (the real 2B model on a CPU needs seconds per image). */
export const EMBED_TIMEOUT_PER_INPUT_MS = 60_000;
export const SAVE_ANN_EVERY_MS = 30_000;
/** A file picked this many times in one session without reaching indexed/failed is failed. */
const MAX_PICKS = 4;

export interface IndexerOptions {
  readonly store: Store;
  readonly models: EngineModels;
  readonly concurrency?: number;
  readonly roundSize?: number;
  readonly fileTimeoutMs?: number;
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
  /** The items came from the staging journal (the file was `embedded`): nothing to extract or embed. */
  readonly fromJournal?: boolean;
}

function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message || 'indexing failed without a message; try again or report the file';
}

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${Math.round(ms / 1000)} s; the file may be huge or damaged — check it, then rescan`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

async function mapBounded<T, R>(items: readonly T[], concurrency: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const run = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await work(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, run));
  return out;
}

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
 * model go back to pending, so they gain vectors. Returns how many.
 */
export function requeueFilesWithoutVectors(store: Store, modelId: number): number {
  return store.db
    .prepare(
      `UPDATE files SET status = 'pending' WHERE status = 'indexed' AND EXISTS (
         SELECT 1 FROM items i WHERE i.file_id = files.id
           AND (i.kind = 'image' OR json_extract(i.locator_json, '$.type') = 'text')
           AND NOT EXISTS (SELECT 1 FROM vectors v WHERE v.item_id = i.id AND v.model_id = ?))`,
    )
    .run(modelId).changes;
}

export class Indexer {
  readonly rate = new RateMeter();
  private paused = false;
  private closed = false;
  private running: Promise<void> | null = null;
  private current: string | null = null;
  private readonly abort = new AbortController();
  private readonly picks = new Map<number, number>();
  private lastSave = Date.now();
  private readonly concurrency: number;
  private readonly roundSize: number;
  private readonly fileTimeoutMs: number;

  constructor(private readonly options: IndexerOptions) {
    this.concurrency = options.concurrency ?? 4;
    this.roundSize = options.roundSize ?? DEFAULT_ROUND_SIZE;
    this.fileTimeoutMs = options.fileTimeoutMs ?? DEFAULT_FILE_TIMEOUT_MS;
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
    if (this.running || this.paused || this.closed) return;
    this.running = this.loop()
      .catch((error: unknown) => console.error(`trove: the indexer stopped on an unexpected error: ${reasonOf(error)}`))
      .finally(() => {
        this.running = null;
        this.current = null;
        this.rate.reset();
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

  /** Waits for the loop to stop (the round in flight is cancelled at its next model call). */
  async close(): Promise<void> {
    this.closed = true;
    this.abort.abort(new Error('Trove is closing'));
    await this.running;
  }

  private async loop(): Promise<void> {
    const { store } = this.options;
    while (!this.closed && !this.paused) {
      const round = fairRound(store.files.nextInProgress(this.roundSize * 32), this.roundSize);
      if (round.length === 0) break;
      await this.runRound(round);
      if (Date.now() - this.lastSave > SAVE_ANN_EVERY_MS) {
        store.saveAnn();
        this.lastSave = Date.now();
      }
    }
  }

  private markFailed(file: FileRecord, reason: string): void {
    try {
      this.options.store.files.markStatus(file.id, 'failed', reason);
      this.options.store.staging.clear(file.id);
    } catch {
      // The file was removed meanwhile: nothing to record.
    }
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
        this.markFailed(f, 'the file kept changing while it was being indexed; wait until it is written completely, then rescan');
        failed += 1;
      } else live.push(f);
    }
    const tokenizer = models.embedder?.tokenizer ?? CHARACTER_ESTIMATE_TOKENIZER;

    const prepared = (
      await mapBounded(live, this.concurrency, async (file): Promise<Prepared | null> => {
        this.current = file.path;
        this.options.onActivity();
        try {
          return await withTimeout(this.prepareJournaled(file, tokenizer), this.fileTimeoutMs, `reading ${file.path}`);
        } catch (error) {
          this.markFailed(file, reasonOf(error));
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
      if (models.embedder && !p.vectors) continue; // failed while embedding (already marked)
      const items: IndexedItem[] = p.prepared.items.map((pi, i) => ({ ...pi.item, vector: p.vectors?.[i] ?? null }));
      try {
        // Metadata first: a kill between the two writes must not leave an indexed file without
        // its date taken (an indexed file is never prepared again). Journaled files wrote it at staging.
        if (!p.fromJournal) store.files.setMetadata(p.file.id, p.prepared.dateTaken, p.prepared.metadata);
        store.commitIndexedFile({ fileId: p.file.id, modelId: models.embedder?.modelId ?? null, fingerprint: p.fingerprint, items });
        this.picks.delete(p.file.id);
        indexed += 1;
      } catch (error) {
        // Changed while indexed: it is pending again with its new facts and comes back in a later round.
        if (!(error instanceof StaleFileError)) {
          this.markFailed(p.file, `saving the index failed: ${reasonOf(error)}`);
          failed += 1;
        }
      }
      this.rate.record();
    }
    this.options.onRound({ indexed, failed });
  }

  /**
   * Fingerprints and extracts a file, resuming from the staging journal when an earlier run (killed
   * or closed) left work for this very content: an `embedded` file is taken whole from staging; an
   * `extracted` one is extracted again (the embed inputs are not journaled) and keeps its staged
   * vectors. Fresh extractions are staged before any embedding starts.
   */
  private async prepareJournaled(file: FileRecord, tokenizer: typeof CHARACTER_ESTIMATE_TOKENIZER): Promise<Prepared> {
    const { store, models } = this.options;
    const fingerprint = await fingerprintFile(file.path);
    const modelId = models.embedder?.modelId;
    if (modelId === undefined) return { file, fingerprint, prepared: await prepareFile(file, tokenizer) };
    const staged = store.staging.load(file.id, fingerprint, modelId);
    // Vectors staged under another model (the package changed between runs) are not this model's work.
    const otherModelVectors = store.db.prepare('SELECT count(*) FROM staged_items WHERE file_id = ? AND codes IS NOT NULL AND model_id != ?').pluck().get(file.id, modelId) as number;
    if (staged && file.status === 'embedded' && otherModelVectors === 0) {
      return {
        file,
        fingerprint,
        fromJournal: true,
        prepared: { items: staged.items.map((item) => ({ item, embed: null })), dateTaken: null, metadata: {} },
        vectors: staged.items.map((item) => item.vector ?? null),
      };
    }
    const prepared = await prepareFile(file, tokenizer);
    const sameItems =
      staged !== null &&
      staged.items.length === prepared.items.length &&
      staged.items.every((s, i) => s.kind === prepared.items[i]!.item.kind && JSON.stringify(s.locator) === JSON.stringify(prepared.items[i]!.item.locator));
    if (sameItems) return { file, fingerprint, prepared, vectors: staged.items.map((item) => item.vector ?? null) };
    store.files.setMetadata(file.id, prepared.dateTaken, prepared.metadata);
    store.staging.stageExtracted(
      file.id,
      fingerprint,
      prepared.items.map((pi) => pi.item),
    );
    return { file, fingerprint, prepared, vectors: prepared.items.map(() => null) };
  }

  /**
   * Files whose every embeddable item now has a staged vector move to `embedded`, so a kill before
   * their commit resumes without reading them again. Guarded by the staging's fingerprint: a file
   * that changed meanwhile lost its staging and stays `pending`.
   */
  private markEmbedded(prepared: readonly Prepared[]): void {
    const { db } = this.options.store;
    const mark = db.prepare(
      `UPDATE files SET status = 'embedded', updated_at = ? WHERE id = ? AND status = 'extracted'
         AND EXISTS (SELECT 1 FROM staged_items WHERE file_id = ? AND fingerprint = ?)`,
    );
    for (const p of prepared) {
      if (p.fromJournal || !p.vectors) continue;
      const complete = p.prepared.items.every((pi, i) => !pi.embed || p.vectors![i]);
      if (complete) mark.run(Date.now(), p.file.id, p.file.id, p.fingerprint);
    }
  }

  /** Journals one embedded vector; false when the file's staging is gone (changed or removed meanwhile). */
  private stageVector(p: Prepared, index: number, vector: Int8Vector): boolean {
    const modelId = this.options.models.embedder?.modelId;
    if (modelId === undefined) return false;
    try {
      this.options.store.staging.stageVector(p.file.id, index, modelId, vector);
      return true;
    } catch {
      return false; // the commit will see the stale fingerprint (or the missing file) and skip it
    }
  }

  /** Embeds every item of the round without a vector in batched calls; on a failed batch, isolates the bad file. */
  private async embedRound(prepared: Prepared[]): Promise<void> {
    const jobs: { owner: Prepared; index: number; input: EmbedInput }[] = [];
    for (const p of prepared) {
      p.vectors ??= p.prepared.items.map(() => null);
      p.prepared.items.forEach((pi, index) => {
        if (pi.embed && !p.vectors![index]) jobs.push({ owner: p, index, input: pi.embed });
      });
    }
    const embedJobs = async (batch: typeof jobs): Promise<void> => {
      for (let at = 0; at < batch.length; at += EMBED_BATCH_INPUTS) {
        const slice = batch.slice(at, at + EMBED_BATCH_INPUTS);
        const signal = AbortSignal.any([this.abort.signal, AbortSignal.timeout(EMBED_TIMEOUT_PER_INPUT_MS * slice.length)]);
        const vectors = await this.options.models.embed(
          slice.map((j) => j.input),
          { signal },
        );
        // Journaled as soon as the call returns, so a kill after it never pays for it again.
        this.options.store.db.transaction(() => {
          slice.forEach((j, i) => {
            const vector = int8Encode(l2Normalize(vectors[i]!));
            j.owner.vectors![j.index] = vector;
            this.stageVector(j.owner, j.index, vector);
          });
        })();
      }
    };
    try {
      await embedJobs(jobs);
    } catch {
      if (this.closed) return;
      // One bad input fails its whole call: embed file by file so only the culprit fails.
      for (const p of prepared) {
        try {
          await embedJobs(jobs.filter((j) => j.owner === p && !p.vectors?.[j.index]));
        } catch (error) {
          if (this.closed) return;
          p.vectors = undefined;
          this.markFailed(p.file, `the embedding model could not read it: ${reasonOf(error)}`);
          this.rate.record();
        }
      }
    }
  }
}
