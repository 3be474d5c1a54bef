// The background half of a model switch: every item that has a vector from the active embedder
// gets one from the target embedder too, file by file, while search keeps using the active
// model's vectors. Items are not rewritten (their ids, text and thumbnails stay); only vector rows
// under the target's model id are added, each batch in one transaction followed by the ANN add, so
// a kill loses at most the batch in flight and a restart carries on from the vectors already
// stored. A file that changed meanwhile is left to the indexer (its commit replaces every vector
// of the file) and picked up again afterwards.
import { errorMessage } from '../../base/common/error-message.ts';
import { fingerprintFile } from '../../library/node/fingerprint.ts';
import { readLibraryFile } from '../../library/node/library-file.ts';
import { int8Encode, l2Normalize } from '../../store/common/embedding-codes.ts';
import type { EmbedInput } from '../../model-inputs/node/embed-inputs.ts';
import type { Store } from '../../store/node/store.ts';
import type { FileKind } from '../../../contract/common/entities.ts';
import type { EngineModels } from '../../inference/node/engine-models.ts';
import { sharedExtractionPool } from './extraction-pool.ts';
import type { DeferredItems, PreparedItem } from './file-items.ts';

/** Inputs per embed call, as the indexer uses. */
const BATCH_INPUTS = 16;
/** Files looked at per pass. */
const FILES_PER_PASS = 8;
/** How long a progress count is reused (the UI asks up to four times a second). */
const PROGRESS_MAX_AGE_MS = 1000;

export interface BackfillProgress {
  /** Items that have an active-model vector and already one from the target. */
  readonly done: number;
  /** Items that have an active-model vector. */
  readonly total: number;
}

interface CandidateFile {
  id: number;
  path: string;
  kind: FileKind;
  mtime_ms: number;
  fingerprint: string | null;
}

export interface VectorBackfillOptions {
  readonly store: Store;
  readonly models: EngineModels;
  /** True while the indexer has files to do: the switch waits for them (they get active-model vectors first). */
  readonly indexerBusy: () => boolean;
  readonly onProgress: (progress: BackfillProgress) => void;
  /** Every item with an active-model vector has a target vector and the indexer is idle. */
  readonly onComplete: () => Promise<void>;
  /** Tests: awaited before each file (the count of files done so far), to stop a switch at a chosen point. */
  readonly beforeFile?: (filesDone: number, signal: AbortSignal) => Promise<void>;
}

export class VectorBackfill {
  private running: Promise<void> | null = null;
  private closed = false;
  private readonly abort = new AbortController();
  /** Files whose target embedding failed this session (with why); they are not retried until restart. */
  private readonly skipped = new Map<number, string>();
  private wakeRequested = false;
  private counted: { key: string; at: number; value: BackfillProgress } | null = null;
  private filesDone = 0;

  constructor(private readonly options: VectorBackfillOptions) {}

  /** Work may exist (a switch started, the indexer committed files, the indexer went idle). */
  wake(): void {
    if (this.closed) return;
    if (this.running) {
      this.wakeRequested = true;
      return;
    }
    this.running = this.loop()
      .catch((error: unknown) => console.error(`trove: re-embedding for the model switch stopped: ${errorMessage(error)}`))
      .finally(() => {
        this.running = null;
        if (this.wakeRequested && !this.closed) {
          this.wakeRequested = false;
          this.wake();
        }
      });
  }

  /**
   * Counts for the progress display. A count over every vector costs tens of milliseconds on a
   * large library and the UI asks a few times a second, so an answer is reused for a moment.
   */
  progress(maxAgeMs = PROGRESS_MAX_AGE_MS): BackfillProgress | null {
    const { models, store } = this.options;
    const active = models.embedder;
    const target = models.target;
    if (!active || !target) return null;
    const key = `${active.modelId}:${target.modelId}`;
    const cached = this.counted;
    if (cached && cached.key === key && Date.now() - cached.at <= maxAgeMs) return cached.value;
    const row = store.db
      .prepare<{ total: number; done: number }>(
        `SELECT count(*) AS total, count(t.item_id) AS done FROM vectors a
           LEFT JOIN vectors t ON t.item_id = a.item_id AND t.model_id = ?
          WHERE a.model_id = ?`,
      )
      .get(target.modelId, active.modelId)!;
    const value = { done: row.done, total: row.total };
    this.counted = { key, at: Date.now(), value };
    return value;
  }

  /** Whether any file still has items to re-embed (files skipped this session excluded). */
  hasCandidates(): boolean {
    const { models } = this.options;
    if (!models.embedder || !models.target) return false;
    return this.candidates(models.embedder.modelId, models.target.modelId).length > 0;
  }

  /** Files the failures were recorded for (for diagnostics and tests). */
  get skippedFiles(): ReadonlyMap<number, string> {
    return this.skipped;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.abort.abort(new Error('Trove is closing'));
    await this.running;
  }

  private candidates(activeId: number, targetId: number): CandidateFile[] {
    const skipped = [...this.skipped.keys()];
    return this.options.store.db
      .prepare<CandidateFile>(
        `SELECT DISTINCT f.id, f.path, f.kind, f.mtime_ms, f.fingerprint FROM files f
           JOIN items i ON i.file_id = f.id
           JOIN vectors a ON a.item_id = i.id AND a.model_id = ?
          WHERE f.status = 'indexed'
            AND NOT EXISTS (SELECT 1 FROM vectors t WHERE t.item_id = i.id AND t.model_id = ?)
            AND f.id NOT IN (SELECT value FROM json_each(?))
          ORDER BY f.id LIMIT ?`,
      )
      .all(activeId, targetId, JSON.stringify(skipped), FILES_PER_PASS);
  }

  private async loop(): Promise<void> {
    const { models, indexerBusy } = this.options;
    for (;;) {
      if (this.closed) return;
      const active = models.embedder;
      const target = models.target;
      if (!active || !target) return;
      const files = this.candidates(active.modelId, target.modelId);
      if (files.length === 0) {
        // The indexer's files get active-model vectors first; the switch waits for them so the new
        // model starts complete. It wakes this loop again when it goes idle.
        if (indexerBusy()) return;
        if (this.closed) return;
        await this.options.onComplete();
        return;
      }
      for (const file of files) {
        if (this.closed || models.target !== target) return;
        try {
          await this.options.beforeFile?.(this.filesDone, this.abort.signal);
          await this.backfillFile(file, active.modelId, target.modelId);
          this.filesDone += 1;
        } catch (error) {
          if (this.closed || models.target !== target) return;
          this.skipped.set(file.id, errorMessage(error));
        }
        this.options.onProgress(this.progress() ?? { done: 0, total: 0 });
      }
    }
  }

  private async backfillFile(file: CandidateFile, activeId: number, targetId: number): Promise<void> {
    const { store, models } = this.options;
    const target = models.target!;
    // A file that changed on disk is the indexer's to redo; its commit replaces every vector.
    const fingerprint = await fingerprintFile(file.path);
    if (file.fingerprint && fingerprint !== file.fingerprint) {
      store.db.prepare(`UPDATE files SET status = 'pending' WHERE id = ? AND status = 'indexed'`).run(file.id);
      this.skipped.set(file.id, 'changed on disk; indexed again first');
      return;
    }
    // Deferred items (PDF pages) are drawn batch by batch just before they are embedded, as the
    // indexer does, so a 2,000-page PDF never holds every page's pixels at once.
    // Read only while it is a library file: never through a link (docs/file-kinds.md, "Links").
    const roots = store.roots.list().map((r) => r.path);
    const prepared = await readLibraryFile(file.path, roots, () =>
      // On the extraction workers, as the indexer reads files: never on the engine's thread.
      sharedExtractionPool().prepare({ path: file.path, kind: file.kind, mtimeMs: file.mtime_ms }, models.embedder?.tokenizer ?? target.tokenizer, {
        deferred: 'defer',
        signal: this.abort.signal,
      }),
    );
    const stored = store.db
      .prepare<{ id: number; ordinal: number; kind: string; locator_json: string; has_active: number; has_target: number }>(
        `SELECT i.id, i.ordinal, i.kind, i.locator_json,
                EXISTS (SELECT 1 FROM vectors a WHERE a.item_id = i.id AND a.model_id = ?) AS has_active,
                EXISTS (SELECT 1 FROM vectors t WHERE t.item_id = i.id AND t.model_id = ?) AS has_target
           FROM items i WHERE i.file_id = ? ORDER BY i.ordinal`,
      )
      .all(activeId, targetId, file.id);
    const jobs: { itemId: number; item: PreparedItem }[] = [];
    for (const row of stored) {
      if (!row.has_active || row.has_target) continue;
      const match = prepared.items[row.ordinal];
      if (!match || match.item.kind !== row.kind || JSON.stringify(match.item.locator) !== JSON.stringify(JSON.parse(row.locator_json)) || (!match.embed && !match.deferred)) {
        // The file reads differently now (another extractor version): index it again from scratch.
        store.db.prepare(`UPDATE files SET status = 'pending' WHERE id = ? AND status = 'indexed'`).run(file.id);
        this.skipped.set(file.id, 'its items changed; indexed again first');
        return;
      }
      jobs.push({ itemId: row.id, item: match });
    }
    let source: DeferredItems | null = null;
    let notEmbedded = 0;
    try {
      for (let at = 0; at < jobs.length; at += BATCH_INPUTS) {
        const ready: { itemId: number; input: EmbedInput }[] = [];
        for (const job of jobs.slice(at, at + BATCH_INPUTS)) {
          if (!job.item.deferred) {
            ready.push({ itemId: job.itemId, input: job.item.embed! });
            continue;
          }
          source ??= await readLibraryFile(file.path, roots, () => sharedExtractionPool().openDeferred({ path: file.path, kind: file.kind, mtimeMs: file.mtime_ms }, { signal: this.abort.signal }), (items) => items.close());
          const made = await source.complete(job.item.item, { embed: true, signal: this.abort.signal });
          if (made.embed) ready.push({ itemId: job.itemId, input: made.embed });
          else notEmbedded += 1;
        }
        if (ready.length === 0) continue;
        const vectors = await models.embedWithTarget(
          ready.map((j) => j.input),
          { signal: this.abort.signal },
        );
        if (models.target?.modelId !== targetId) return;
        const added: { label: number; values: Int8Array }[] = [];
        store.db.transaction(() => {
          const stillThere = store.db.prepare<{ ok: number }>(`SELECT 1 AS ok FROM items i JOIN files f ON f.id = i.file_id WHERE i.id = ? AND f.fingerprint IS ?`);
          ready.forEach((job, i) => {
            // The indexer may have replaced the file's items meanwhile: its new items come back in a later pass.
            if (!stillThere.get(job.itemId, file.fingerprint)) return;
            const vector = int8Encode(l2Normalize(vectors[i]!));
            added.push({ label: store.vectors.put(targetId, job.itemId, vector), values: vector.codes });
          });
        }).immediate();
        if (added.length) store.ann(targetId).add(added);
      }
    } finally {
      source?.close();
    }
    // Items the old model could embed but the new one cannot get now: the switch goes on without them.
    if (notEmbedded > 0) this.skipped.set(file.id, `${notEmbedded} item(s) could not be prepared for the new model`);
  }
}
