// worker_threads entry: the owner of one shard of a model's ANN index (ann-handle.ts starts one per
// shard). Everything that costs seconds at a million items happens here, off the engine's thread:
// verifying and reading the saved file, catching up with SQLite (on this worker's own read-only
// connection), rebuilding from SQLite a step at a time, and saving (the graph is written on this
// thread, the fsync and the hash on the libuv pool while messages go on). Messages are handled in
// order.
import { parentPort, workerData } from 'node:worker_threads';
import { AnnIndex, type AnnHit, type AnnOpenReport, type AnnParams, type AnnRebuild } from './ann-index.ts';
import { AnnShardSource } from './ann-shard-source.ts';
import { openQueryOnly } from './database.ts';
import type { AnnFromWorker, AnnToWorker, AnnWorkerData, AnnWorkerState, RescoredHit } from './ann-protocol.ts';
import { int8Dot } from './vector-codec.ts';

const data = workerData as AnnWorkerData;
const port = parentPort!;
const db = openQueryOnly(data.database);
const source = new AnnShardSource(db, data.shard, data.shards);
const opts = {
  dir: data.annDir,
  modelId: data.modelId,
  dims: data.dims,
  source,
  params: data.params as Partial<AnnParams> | undefined,
  compactAt: data.compactAt,
  seed: data.seed,
  stem: `ann-${data.modelId}-${data.shard}of${data.shards}`,
};

/** The index searches use; null while the first one is built from nothing. */
let serving: AnnIndex | null = null;
/** The index a rebuild writes into (the serving one when compacting) and the rebuild itself. */
let building: { target: AnnIndex; rebuild: AnnRebuild; reason: string; started: number } | null = null;
let saving = false;
let closing = false;
let report: AnnOpenReport | null = null;
let lastSave = { endedAt: 0, ms: 0 };
let failure: string | null = null;

const send = (message: AnnFromWorker): void => port.postMessage(message);

function state(): AnnWorkerState {
  if (failure !== null) return 'failed';
  if (building && !serving) return 'building';
  if (building) return 'compacting';
  return serving ? 'ready' : 'loading';
}

let statePosted = '';
/** Tells the engine where this shard stands (only when something changed). */
function postState(): void {
  const ann = serving ?? building?.target ?? null;
  const message: AnnFromWorker = {
    type: 'state',
    state: state(),
    count: serving?.count ?? 0,
    deleted: serving?.deleted ?? 0,
    progress: building ? { done: building.rebuild.nodes, total: building.rebuild.total } : null,
    report,
    saving,
    error: failure,
    capacity: ann?.capacity ?? 0,
  };
  const key = JSON.stringify(message);
  if (key === statePosted) return;
  statePosted = key;
  send(message);
}

function fail(error: unknown): void {
  failure = error instanceof Error ? error.message : String(error);
  building = null;
  postState();
}

/** Opens the saved index (verified, caught up or repaired) or starts building one. */
function open(): void {
  const t0 = performance.now();
  const ann = AnnIndex.create(opts);
  // One read transaction: every count and row read while reconciling sees the same snapshot.
  db.exec('BEGIN');
  let outcome;
  try {
    outcome = ann.load();
  } finally {
    db.exec('COMMIT');
  }
  if ('report' in outcome) {
    serving = ann;
    report = outcome.report;
    postState();
    if (report.action !== 'loaded') void save(true);
    return;
  }
  report = { action: 'rebuilt', reason: outcome.rebuild, added: 0, deleted: 0, ms: performance.now() - t0 };
  startRebuild(ann, outcome.rebuild);
}

function startRebuild(target: AnnIndex, reason: string): void {
  building = { target, rebuild: target.startRebuild(data.rebuildStep), reason, started: performance.now() };
  postState();
  setImmediate(rebuildStep);
}

/** One step of the rebuild per turn of the event loop: messages (searches, deletions) get in between. */
function rebuildStep(): void {
  if (!building || closing) return;
  try {
    const done = building.rebuild.step();
    if (!done) {
      postState();
      setImmediate(rebuildStep);
      return;
    }
    const live = building.rebuild.finish();
    const compacted = serving !== null;
    serving = building.target;
    report = { action: 'rebuilt', reason: building.reason, added: live, deleted: 0, ms: performance.now() - building.started };
    serving.openReport = report;
    building = null;
    postState();
    void save(true, compacted ? 'compacted' : 'built');
  } catch (error) {
    fail(error);
  }
}

function add(labels: Uint32Array, codes: Int8Array): void {
  const dims = data.dims;
  const entries = Array.from(labels, (label, i) => ({ label, values: codes.subarray(i * dims, (i + 1) * dims) }));
  building?.rebuild.added(entries);
  const ann = serving;
  if (!ann) return;
  // Labels only grow, so one at or below the high-water mark is already in (read while opening).
  ann.add(entries.filter((e) => e.label > ann.highWater));
}

function remove(labels: Uint32Array): void {
  serving?.markDelete(labels);
  building?.rebuild.deleted(labels);
}

/**
 * The candidates scored exactly against their full int8 vectors, read on this worker's connection
 * (so the engine's thread neither reads nor scores them), best first, the best k. A label deleted
 * since the index had it is simply not found.
 */
function rescore(query: Float32Array, hits: readonly AnnHit[], k: number): RescoredHit[] {
  if (hits.length === 0) return [];
  const scored = source.vectorsByLabels(data.modelId, hits.map((h) => h.label)).map((v) => ({ itemId: v.itemId, label: v.label, similarity: int8Dot(query, v) }));
  scored.sort((a, b) => b.similarity - a.similarity);
  return scored.slice(0, k);
}

/** Labels whose item passes a filter, sorted: binary search. */
function allows(sorted: Uint32Array, label: number): boolean {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = sorted[mid]!;
    if (v === label) return true;
    if (v < label) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

/**
 * Saves off this thread. Unforced saves are rate-limited to 10 % of the time (a save that took
 * 3 s waits 30 s before the next): SQLite holds every change, and whatever a kill loses is caught
 * up from it at the next open. A save waits for a rebuild (which saves when it finishes); an index
 * past the deletion threshold is compacted instead.
 */
let saveInFlight: Promise<boolean> | null = null;

async function save(force: boolean, why = 'saved'): Promise<boolean> {
  // One at a time; a request made during a save looks again once it is done.
  while (saveInFlight) await saveInFlight;
  saveInFlight = saveOnce(force, why);
  try {
    return await saveInFlight;
  } finally {
    saveInFlight = null;
  }
}

async function saveOnce(force: boolean, why: string): Promise<boolean> {
  const ann = serving;
  // A read-only look (`trove status`, `trove search`) writes nothing: what it caught up or built
  // lives in memory only.
  if (!ann || building || closing || failure !== null || data.readOnly) return false;
  if (!force && !ann.dirty) return false;
  if (!force && Date.now() - lastSave.endedAt < lastSave.ms * 10) return false;
  if (ann.needsCompaction) {
    startRebuild(ann, `${ann.deleted} of ${ann.count + ann.deleted} nodes are deletion marks`);
    return false;
  }
  saving = true;
  postState();
  const t0 = performance.now();
  try {
    await ann.saveAsync();
    lastSave = { endedAt: Date.now(), ms: performance.now() - t0 };
    send({ type: 'log', message: `${why} in ${Math.round(lastSave.ms)} ms` });
    return true;
  } catch (error) {
    send({ type: 'log', message: `the ANN index (${source.description}) could not be saved: ${error instanceof Error ? error.message : String(error)}; SQLite has every vector and the next start catches up` });
    return false;
  } finally {
    saving = false;
    postState();
  }
}

function handle(message: AnnToWorker): void {
  try {
    switch (message.op) {
      case 'add':
        add(message.labels, message.codes);
        break;
      case 'delete':
        remove(message.labels);
        break;
      case 'search': {
        if (!serving) {
          send({ type: 'reply', id: message.id, hits: null });
          break;
        }
        const allowed = message.allowed;
        const hits = serving.search(message.query, message.k, { ef: message.ef, filter: allowed ? (label) => allows(allowed, label) : undefined });
        send({ type: 'reply', id: message.id, hits });
        break;
      }
      case 'nearest': {
        if (!serving) {
          send({ type: 'reply', id: message.id, nearest: null });
          break;
        }
        const allowed = message.allowed;
        const hits = serving.search(message.query, message.candidates, { ef: message.ef, filter: allowed ? (label) => allows(allowed, label) : undefined });
        send({ type: 'reply', id: message.id, nearest: rescore(message.query, hits, message.k) });
        break;
      }
      case 'save':
        void save(message.force).then((saved) => send({ type: 'reply', id: message.id, saved }));
        break;
      case 'compact':
        if (serving && !building && !data.readOnly) startRebuild(serving, 'asked to compact');
        send({ type: 'reply', id: message.id });
        break;
      case 'ping':
        postState();
        send({ type: 'reply', id: message.id });
        break;
      case 'close':
        void closeWorker(message.id, message.save);
        return;
    }
  } catch (error) {
    fail(error);
    if ('id' in message) send({ type: 'reply', id: message.id, error: failure ?? 'failed' });
  }
  setImmediate(postState);
}

async function closeWorker(id: number, withSave: boolean): Promise<void> {
  // A save in flight finishes first (its file is complete or never named by a meta).
  while (saveInFlight) await saveInFlight;
  if (withSave && serving && !building && serving.dirty && failure === null && !data.readOnly) await save(true, 'saved at close');
  closing = true;
  building = null;
  db.close();
  send({ type: 'reply', id });
  port.close();
}

postState();
// Open before taking messages: the port queues what arrives meanwhile (changes committed while
// this loaded, which the rules in add() and remove() sort out against what the load read).
try {
  open();
} catch (error) {
  fail(error);
}
port.on('message', handle);
