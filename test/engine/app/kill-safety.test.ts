// The indexer survives SIGKILL at any moment: a child process (kill-indexer-child.ts) indexes a
// mixed library with the tiny embedding model and is killed at a seeded random moment, again and
// again over one data folder. After every kill the store must be consistent (integrity, no
// orphans, a file's items all-or-nothing, the ANN index equal to the vector rows). Kills that land
// on the same file three times make it fail on purpose (MAX_INDEX_ATTEMPTS: a file that crashed
// Trove three times is left alone until it changes or is retried, docs/store.md "Failures and
// retries"): a final run to completion must equal a clean run in a fresh folder except for exactly
// those files, failed with that reason, and after `files.retry` of them it must equal the clean run.
// Thanks to the job journal, the runs together embed no more than a clean run plus the one embed
// call each kill interrupted (plus, for a file failed that way, the inputs whose journal it lost).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { EMBED_BATCH_INPUTS } from '../../../electron/engine/jobs/node/indexer.ts';
import { MAX_INDEX_ATTEMPTS } from '../../../electron/engine/store/node/files-repo.ts';
import { Store } from '../../../electron/engine/store/node/store.ts';
import { handWrittenPdf } from '../extract/pdf-fixtures.ts';
import { seededRandom } from '../store/store-fixtures.ts';
import { buildTinyPackage } from '../../support/tiny-package.ts';

const CHILD = path.join(import.meta.dirname, 'kill-indexer-child.ts');
const KILLS = 8;
const SEED = 20261127;

let dir = '';
let library = '';
let embeddingPackage = '';
let libraryFiles: string[] = [];

async function makeLibrary(folder: string): Promise<string[]> {
  const files: string[] = [];
  const put = async (rel: string, bytes: Buffer | string): Promise<void> => {
    const file = path.join(folder, rel);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, bytes);
    files.push(file);
  };
  for (let i = 0; i < 40; i++) {
    // Every image differs (distinct fingerprints), and some are big enough to take real decode time.
    const side = 64 + (i % 5) * 96;
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${side}" height="${side}"><rect width="${side}" height="${side}" fill="rgb(${(i * 37) % 256},${(i * 91) % 256},${(i * 53) % 256})"/>
      <circle cx="${side / 3}" cy="${side / 2}" r="${side / 5 + i}" fill="#fff"/></svg>`;
    const image = sharp(Buffer.from(svg));
    await put(`photos/${i % 4}/photo-${i}.${i % 3 === 0 ? 'jpg' : 'png'}`, await (i % 3 === 0 ? image.jpeg() : image.png()).toBuffer());
  }
  for (let i = 0; i < 20; i++) {
    const paragraphs = Array.from({ length: 1 + (i % 6) * 4 }, (_, p) => `Note ${i}, paragraph ${p}: the harbour ferry leaves at ${p + 6} o'clock, weather permitting.`);
    await put(`notes/note-${i}.md`, `# Note ${i}\n\n${paragraphs.join('\n\n')}\n`);
  }
  // The second PDF has more pages than one embed call takes, so its round spans several calls.
  for (let i = 0; i < 2; i++) {
    const pages = Array.from({ length: i ? EMBED_BATCH_INPUTS + 6 : 3 }, (_, p) => ({ width: 300, height: 200, content: `BT /F1 18 Tf 30 100 Td (Report ${i} page ${p + 1} lighthouse) Tj ET` }));
    await put(`docs/report-${i}.pdf`, handWrittenPdf(pages));
  }
  await put('photos/corrupt.jpg', Buffer.from('this is not a jpeg at all'));
  return files.sort();
}

interface ChildRun {
  /** Inputs of every embed call the child started, in order. */
  readonly embedCalls: number[];
  readonly finished: boolean;
  readonly readyAfterMs: number;
}

/**
 * When to kill the child: a delay after it reports ready and, with `afterFullBatch`, earlier if it
 * starts an embed call that follows a full batch (a round with more inputs than one call takes,
 * whose first call has returned and been journaled: the kill that must leave staged vectors).
 * Null: let it complete.
 */
type KillAt = { readonly afterReadyMs: number; readonly afterFullBatch?: boolean; readonly atEmbedCall?: number } | null;

function describe(killAt: KillAt): string {
  if (killAt === null) return 'never';
  const when = killAt.afterFullBatch ? 'at the call after a full batch, ' : killAt.atEmbedCall ? `at embed call ${killAt.atEmbedCall}, ` : '';
  return `${when}at the latest ${killAt.afterReadyMs} ms after ready`;
}

/** Runs the child over `dataDir` and kills it as `killAt` says; `retry`: file ids it retries once idle (then completes). */
function runChild(dataDir: string, killAt: KillAt, retry: readonly number[] = []): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const mode = killAt !== null ? 'until-killed' : retry.length ? `retry:${retry.join(',')}` : 'complete';
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dataDir, library, embeddingPackage, mode], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const embedCalls: number[] = [];
    let readyAfterMs = -1;
    let finished = false;
    let stderr = '';
    let pending = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      pending += d.toString();
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        if (line.startsWith('embed ')) {
          embedCalls.push(Number(line.slice(6)));
          if (killAt?.afterFullBatch && embedCalls.at(-2) === EMBED_BATCH_INPUTS) child.kill('SIGKILL');
          if (killAt?.atEmbedCall !== undefined && embedCalls.length >= killAt.atEmbedCall) child.kill('SIGKILL');
        } else if (line === 'idle' && !finished) {
          finished = true;
          if (killAt) child.kill('SIGKILL'); // nothing left to interrupt
        } else if (line === 'ready') {
          readyAfterMs = Date.now() - started;
          if (killAt) setTimeout(() => child.kill('SIGKILL'), killAt.afterReadyMs);
        }
      }
    });
    const guard = setTimeout(() => child.kill('SIGKILL'), 180_000); // a hung child fails the test, not the runner
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      const expected = killAt === null ? code === 0 : signal === 'SIGKILL';
      if (!expected || readyAfterMs < 0) reject(new Error(`child ended with code ${code} signal ${signal} (ready: ${readyAfterMs >= 0}):\n${stderr}`));
      else resolve({ embedCalls, finished, readyAfterMs });
    });
  });
}

interface FileState {
  readonly status: string;
  readonly items: number;
  readonly vectors: number;
}

/** Per library path: status, item count, vector count (the comparable state of a data folder). */
function fileStates(db: ReturnType<typeof Store.openReadOnly>, close = false): Map<string, FileState> {
  try {
    return fileStatesOf(db);
  } finally {
    if (close) db.close();
  }
}

function fileStatesOf(db: ReturnType<typeof Store.openReadOnly>): Map<string, FileState> {
  const rows = db
    .prepare<{ path: string; status: string; items: number; vectors: number }>(
      `SELECT f.path, f.status,
         (SELECT count(*) FROM items i WHERE i.file_id = f.id) AS items,
         (SELECT count(*) FROM vectors v JOIN items i ON i.id = v.item_id WHERE i.file_id = f.id) AS vectors
       FROM files f ORDER BY f.path`,
    )
    .all();
  return new Map(rows.map((r) => [r.path, { status: r.status, items: r.items, vectors: r.vectors }]));
}

/**
 * The invariants that must hold after any kill. `clean` is the finished clean run's state: a file
 * that is indexed must have exactly its items and vectors (a commit is all or nothing).
 * Returns a one-line summary and how many journaled vectors wait for the next run.
 */
async function checkAfterKill(dataDir: string, clean: Map<string, FileState>): Promise<{ summary: string; stagedVectors: number }> {
  const db = Store.openReadOnly(dataDir);
  let summary = '';
  let stagedVectors = 0;
  try {
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    assert.deepEqual(db.pragma('foreign_key_check'), []);
    const states = fileStates(db);
    const paths = db.prepare<{ path: string }>('SELECT path FROM files').all().map((r) => r.path);
    assert.equal(new Set(paths).size, paths.length, 'no file is listed twice');
    for (const p of paths) assert.ok(libraryFiles.includes(p), `${p} is a library file`);
    const one = (sql: string): number => db.prepare(sql).pluck().get() as number;
    assert.equal(one('SELECT count(*) FROM items WHERE file_id NOT IN (SELECT id FROM files)'), 0, 'no item without its file');
    assert.equal(one('SELECT count(*) FROM vectors WHERE item_id NOT IN (SELECT id FROM items)'), 0, 'no vector without its item');
    assert.equal(one('SELECT count(*) FROM thumbnails WHERE item_id NOT IN (SELECT id FROM items)'), 0, 'no thumbnail without its item');
    assert.equal(one('SELECT count(*) FROM items_fts'), one('SELECT count(*) FROM items'), 'keyword rows = items');
    assert.equal(one(`SELECT count(*) FROM staged_items s JOIN files f ON f.id = s.file_id WHERE f.status IN ('indexed', 'failed')`), 0, 'finished files keep no staging');
    for (const [p, state] of states) {
      if (state.status === 'indexed') assert.deepEqual(state, clean.get(p), `${p}: an indexed file has all its items and vectors`);
      else assert.deepEqual([state.items, state.vectors], [0, 0], `${p} (${state.status}): an unfinished file has no committed items`);
    }
    const byStatus = new Map<string, number>();
    for (const s of states.values()) byStatus.set(s.status, (byStatus.get(s.status) ?? 0) + 1);
    const staged = one('SELECT count(*) FROM staged_items');
    stagedVectors = one('SELECT count(*) FROM staged_items WHERE codes IS NOT NULL');
    summary = `${states.size} files (${[...byStatus].map(([s, n]) => `${n} ${s}`).join(', ')}), ${staged} staged items (${stagedVectors} with vectors)`;
  } finally {
    db.close();
  }
  // The ANN index as the next start will see it (verified, caught up, repaired or rebuilt).
  const store = Store.open(dataDir);
  try {
    const models = store.db.prepare<{ id: number }>('SELECT id FROM models').all();
    for (const { id } of models) {
      const ann = store.ann(id);
      await ann.whenReady();
      const rows = store.db.prepare('SELECT count(*) FROM vectors WHERE model_id = ?').pluck().get(id) as number;
      assert.equal(ann.count, rows, 'ANN count = vector rows');
      summary += `, ${rows} vectors, ANN ${[...new Set(ann.openReports.map((r) => r?.action))].join('/')}`;
    }
  } finally {
    store.close();
  }
  return { summary, stagedVectors };
}

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'trove-kill-indexer-'));
  library = path.join(dir, 'library');
  libraryFiles = await makeLibrary(library);
  ({ packageDir: embeddingPackage } = await buildTinyPackage(dir, 'embedding'));
});
after(() => rm(dir, { recursive: true, force: true }));

test('SIGKILL at random moments: consistent after every kill; the final state equals a clean run but for the files stopped 3 times, failed with that reason until a retry; nothing embedded twice', { timeout: 420_000 }, async () => {
  const cleanDir = path.join(dir, 'data-clean');
  const cleanStarted = Date.now();
  const cleanRun = await runChild(cleanDir, null);
  const cleanMs = Date.now() - cleanStarted - cleanRun.readyAfterMs;
  const cleanEmbedded = cleanRun.embedCalls.reduce((a, b) => a + b, 0);
  const cleanDb = Store.openReadOnly(cleanDir);
  const clean = fileStates(cleanDb);
  cleanDb.close();
  assert.deepEqual([...clean.keys()].sort(), libraryFiles, 'the clean run lists every library file');
  assert.equal(clean.get(path.join(library, 'photos/corrupt.jpg'))?.status, 'failed');
  assert.ok(cleanEmbedded > 60, `the clean run embedded ${cleanEmbedded} inputs`);
  console.log(`clean run: ${cleanEmbedded} inputs in ${cleanRun.embedCalls.length} embed calls, indexing took ${cleanMs} ms after ready`);

  const killedDir = path.join(dir, 'data-killed');
  const rand = seededRandom(SEED);
  let embeddedAcrossRuns = 0;
  let interruptedCallInputs = 0;
  let killsMidWork = 0;
  let stagedVectorsSeen = 0;
  for (let k = 1; k <= KILLS; k++) {
    // At a random time within a clean run's indexing (scanning, extraction, embedding, commits).
    // The first kill waits for nothing but the moment that must leave journaled vectors: the call
    // after a full batch in the long PDF's round (the timer is only a backstop), so the check below
    // does not depend on how fast this machine happens to be.
    // The others: as the child starts its first or second embed call (mid-round: extraction done,
    // earlier calls journaled), or at a random moment before that (scan, extraction), whichever
    // comes first; tied to progress, not to this machine's speed.
    const killAt: KillAt =
      k === 1 ? { afterReadyMs: 170_000, afterFullBatch: true } : { afterReadyMs: Math.round((0.2 + rand()) * cleanMs), atEmbedCall: 1 + Math.floor(rand() * 2) };
    const run = await runChild(killedDir, killAt);
    embeddedAcrossRuns += run.embedCalls.reduce((a, b) => a + b, 0);
    // Only the last call a killed run started can have been cut off before its vectors were journaled.
    if (!run.finished) {
      interruptedCallInputs += run.embedCalls.at(-1) ?? 0;
      killsMidWork += 1;
    }
    const { summary, stagedVectors } = await checkAfterKill(killedDir, clean);
    stagedVectorsSeen += stagedVectors;
    console.log(`kill ${k} ${describe(killAt)} (ready after ${run.readyAfterMs} ms, ${run.embedCalls.length} embed calls${run.finished ? ', already idle' : ''}): ${summary}`);
  }
  assert.ok(killsMidWork >= KILLS / 2, `${killsMidWork} of ${KILLS} kills landed while work was left`);
  assert.ok(stagedVectorsSeen > 0, 'some kill left journaled vectors for the next run to resume from');

  // The files the kills stopped MAX_INDEX_ATTEMPTS times: started that often without finishing
  // (the final run's first round fails them), or already failed so by a killed run.
  const beforeFinal = attemptsOf(killedDir);
  const stoppedOften = [...beforeFinal]
    .filter(([, f]) => (f.status !== 'indexed' && f.status !== 'failed' && f.attempts >= MAX_INDEX_ATTEMPTS) || (f.status === 'failed' && STOPPED_REASON.test(f.error ?? '')))
    .map(([p]) => p)
    .sort();

  const finalRun = await runChild(killedDir, null);
  embeddedAcrossRuns += finalRun.embedCalls.reduce((a, b) => a + b, 0);
  const finalSummary = (await checkAfterKill(killedDir, clean)).summary;
  console.log(`final run: ${finalSummary}; stopped ${MAX_INDEX_ATTEMPTS} times by the kills: ${stoppedOften.map((p) => path.relative(library, p)).join(', ') || 'none'}`);
  const afterFinal = attemptsOf(killedDir);
  const stoppedNow = [...afterFinal].filter(([, f]) => f.status === 'failed' && STOPPED_REASON.test(f.error ?? '')).map(([p]) => p);
  assert.deepEqual(stoppedNow.sort(), stoppedOften, `the files the kills stopped ${MAX_INDEX_ATTEMPTS} times are failed, saying so`);
  for (const p of stoppedOften) assert.ok(afterFinal.get(p)!.attempts >= MAX_INDEX_ATTEMPTS, `${p} was started ${afterFinal.get(p)!.attempts} times`);
  const final1 = fileStates(Store.openReadOnly(killedDir), true);
  for (const [p, state] of final1) {
    if (!stoppedOften.includes(p)) assert.deepEqual(state, clean.get(p), `${p}: the kills lost nothing (as in a clean run)`);
  }

  // The user's Retry (files.retry) of those files: then the index equals a clean run.
  let retriedInputs = 0;
  if (stoppedOften.length > 0) {
    const retryRun = await runChild(killedDir, null, stoppedOften.map((p) => afterFinal.get(p)!.id));
    embeddedAcrossRuns += retryRun.embedCalls.reduce((a, b) => a + b, 0);
    // Failing a file clears its journal, so what the killed runs embedded for it is embedded again.
    retriedInputs = stoppedOften.reduce((n, p) => n + clean.get(p)!.vectors, 0);
    console.log(`retry run: ${(await checkAfterKill(killedDir, clean)).summary}`);
  }
  const db = Store.openReadOnly(killedDir);
  const final = fileStates(db);
  const stagedLeft = db.prepare('SELECT count(*) FROM staged_items').pluck().get() as number;
  db.close();
  assert.deepEqual(final, clean, 'after the kills (and a retry of the files they stopped) the index equals a clean run: files, statuses, items and vectors per file');
  assert.equal(stagedLeft, 0, 'no staging is left once everything is committed');

  console.log(
    `embedded across ${KILLS} killed runs + the final one${stoppedOften.length ? ' + the retry' : ''}: ${embeddedAcrossRuns} inputs; clean run ${cleanEmbedded}; inputs of interrupted calls ${interruptedCallInputs}; of retried files ${retriedInputs}`,
  );
  assert.ok(embeddedAcrossRuns >= cleanEmbedded, 'every input was embedded at least once');
  assert.ok(
    embeddedAcrossRuns <= cleanEmbedded + interruptedCallInputs + retriedInputs,
    `resumed work re-embedded only the calls cut off by a kill and the retried files (${embeddedAcrossRuns - cleanEmbedded} extra inputs > ${interruptedCallInputs} + ${retriedInputs})`,
  );
});

/** The reason a file gets when Trove stopped MAX_INDEX_ATTEMPTS times while indexing it (jobs/node/indexer.ts). */
const STOPPED_REASON = /^Trove stopped \d+ times while indexing this file \(it crashed or was killed each time\)/;

/** Per library path: id, status, attempts and the stored reason. */
function attemptsOf(dataDir: string): Map<string, { id: number; status: string; attempts: number; error: string | null }> {
  const db = Store.openReadOnly(dataDir);
  try {
    const rows = db.prepare<{ id: number; path: string; status: string; attempts: number; error: string | null }>('SELECT id, path, status, attempts, error FROM files').all();
    return new Map(rows.map((r) => [r.path, { id: r.id, status: r.status, attempts: r.attempts, error: r.error }]));
  } finally {
    db.close();
  }
}
