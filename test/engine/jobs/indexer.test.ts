// The indexer on real parts (SQLite store, mupdf, sharp, the tiny embedding model in its worker),
// driven directly so each test can shape the queue: a long PDF is indexed in slices that share
// every round with other files and never holds more than a few page images; a file whose
// extraction hangs fails alone after the per-file timeout, and its extraction is told to stop; a
// path that is not a regular file fails at once instead of blocking a thread.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { ExtractionPool, sharedExtractionPool, type FileExtractor } from '../../../electron/engine/jobs/node/extraction-pool.ts';
import { locateFfmpeg } from '../../../electron/engine/media/node/ffmpeg-locate.ts';
import { mulberry32 } from '../../../scripts/fixtures/seeded-random.ts';
import { EMBED_BATCH_INPUTS, Indexer, type IndexerModels, type IndexerOptions } from '../../../electron/engine/jobs/node/indexer.ts';
import type { EmbedInput } from '../../../electron/engine/model-inputs/node/embed-inputs.ts';
import { ModelClient } from '../../../electron/engine/inference/node/runtime/model-client.ts';
import { openModelPackage } from '../../../electron/engine/inference/node/runtime/model-package.ts';
import type { FileKind } from '../../../electron/contract/common/entities.ts';
import { Store } from '../../../electron/engine/store/node/store.ts';
import { handWrittenPdf } from '../../../scripts/fixtures/text-pdf.ts';
import { buildTinyPackage } from '../../support/tiny-package.ts';

process.env.TROVE_EP = 'cpu';

let dir = '';
let packageDir = '';
let client: ModelClient | null = null;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'trove-indexer-'));
  ({ packageDir } = await buildTinyPackage(dir, 'embedding'));
});
after(async () => {
  await client?.close();
  await rm(dir, { recursive: true, force: true });
});

interface EmbedCall {
  /** Encoded page images among the inputs. */
  readonly pageImages: number;
  /** Page images drawn in this process when the call started. */
  readonly drawnAtCall: number;
}

/** The tiny model behind the indexer's model interface, recording every embed call. */
async function tinyModels(store: Store, calls: EmbedCall[]): Promise<IndexerModels> {
  const pkg = await openModelPackage(packageDir, 'embedding');
  client ??= await ModelClient.start({ embeddingPackage: pkg.dir });
  const record = store.vectors.ensureModel({ name: 'tiny', packagePath: pkg.dir, manifestSha: 'tiny-indexer-test', dims: pkg.manifest.text.hidden });
  const running = client;
  return {
    embedder: { modelId: record.id, tokenizer: { kind: 'model', dir: pkg.dir } },
    embed(inputs: readonly EmbedInput[], options) {
      calls.push({ pageImages: inputs.filter((i) => i.images?.some((img) => Buffer.isBuffer(img))).length, drawnAtCall: pdfPageImagesRendered() });
      return running.embed(inputs, options ?? {});
    },
  };
}

/** Model-size page images drawn so far (the extraction workers draw them, on their own threads). */
let pageImagesDrawn = 0;
const pdfPageImagesRendered = (): number => pageImagesDrawn;

/** The shared extraction workers, counting the page images they hand back. */
const countingExtractor: FileExtractor = {
  prepare: (file, tokenizer, options) => sharedExtractionPool().prepare(file, tokenizer, options),
  async openDeferred(file, options) {
    const items = await sharedExtractionPool().openDeferred(file, options);
    return {
      async complete(item, completeOptions) {
        const done = await items.complete(item, completeOptions);
        if (done.embed?.images?.length) pageImagesDrawn += 1;
        return done;
      },
      close: () => items.close(),
    };
  },
};

const NO_MODEL: IndexerModels = { embedder: null, embed: () => Promise.reject(new Error('no model in this test')) };

/** Adds `files` (in this order, so the first is oldest in the queue) under one root as pending. */
async function queue(store: Store, root: string, files: readonly { name: string; kind: FileKind }[]): Promise<void> {
  const rootId = store.roots.byPath(root)?.id ?? store.roots.add({ path: root }).id;
  for (const f of files) {
    const file = path.join(root, f.name);
    const s = await stat(file);
    store.files.upsertScanned({ rootId, path: file, size: s.size, mtimeMs: s.mtimeMs, kind: f.kind });
  }
}

/** Runs an indexer until its loop stops (queue empty, or closed from `onRound`). */
function runIndexer(options: Omit<IndexerOptions, 'onRound' | 'onActivity'>, onRound: (indexer: Indexer) => void = () => undefined): Promise<void> {
  return new Promise((resolve) => {
    let started = false;
    const indexer: Indexer = new Indexer({
      ...options,
      onRound: () => onRound(indexer),
      onActivity: () => {
        if (started && !indexer.busy) resolve();
      },
    });
    indexer.wake();
    started = true;
  });
}

const statusOf = (store: Store, file: string): string | undefined => store.files.byPath(file)?.status;

async function writeImages(folder: string, count: number): Promise<string[]> {
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    const name = `photo-${i}.png`;
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="64" height="48"><rect width="64" height="48" fill="rgb(${(i * 40) % 256},${(i * 90) % 256},120)"/><circle cx="${10 + i * 6}" cy="24" r="9" fill="#fff"/></svg>`;
    await sharp(Buffer.from(svg)).png().toFile(path.join(folder, name));
    names.push(name);
  }
  return names;
}

const PAGES = 72;
const PAGES_PER_ROUND = 8;

test('a long PDF is indexed in slices: other files finish first, few page images live at once, the result equals one go', async () => {
  const library = path.join(dir, 'lib-pdf');
  await mkdir(library, { recursive: true });
  const pdf = path.join(library, 'manual.pdf');
  await writeFile(pdf, handWrittenPdf(Array.from({ length: PAGES }, (_, i) => ({ width: 240, height: 120, text: `Manual page ${i + 1}` }))));
  const images = await writeImages(library, 6);
  const notes: string[] = [];
  for (let i = 0; i < 6; i++) {
    notes.push(`note-${i}.md`);
    await writeFile(path.join(library, `note-${i}.md`), `# Note ${i}\n\nThe lighthouse keeper logs ship ${i} at dawn.\n`);
  }
  const others = [...images, ...notes].map((n) => path.join(library, n));

  const store = Store.open(path.join(dir, 'data-slices'));
  const calls: EmbedCall[] = [];
  try {
    const models = await tinyModels(store, calls);
    // The PDF is queued first: it is the oldest file and is picked in every round until done.
    await queue(store, library, [{ name: 'manual.pdf', kind: 'pdf' }, ...images.map((name) => ({ name, kind: 'image' as const })), ...notes.map((name) => ({ name, kind: 'text' as const }))]);
    const drawnBefore = pdfPageImagesRendered();
    const rounds: { pdf: string | undefined; stagedVectors: number; othersIndexed: number }[] = [];
    const snapshot = (): void => {
      const id = store.files.byPath(pdf)!.id;
      rounds.push({
        pdf: statusOf(store, pdf),
        stagedVectors: store.db.prepare('SELECT count(*) FROM staged_items WHERE file_id = ? AND codes IS NOT NULL').pluck().get(id) as number,
        othersIndexed: others.filter((f) => statusOf(store, f) === 'indexed').length,
      });
    };
    const options = { store, models, roundSize: 4, concurrency: 2, pagesPerRound: PAGES_PER_ROUND, extractor: countingExtractor };
    // First run: stopped cleanly after three rounds, as closing the app would; the second resumes.
    await runIndexer(options, (indexer) => {
      snapshot();
      if (rounds.length === 3) void indexer.close();
    });
    assert.equal(rounds.length, 3);
    await runIndexer(options, snapshot);

    // (a) Interleaving: the PDF started in the first round, yet every other file was committed
    // while it was still `extracted` with some of its pages' vectors journaled.
    assert.equal(rounds[0]!.pdf, 'extracted');
    assert.ok(rounds[0]!.stagedVectors > 0 && rounds[0]!.stagedVectors <= PAGES_PER_ROUND, `first round embedded ${rounds[0]!.stagedVectors} pages`);
    const othersDone = rounds.findIndex((r) => r.othersIndexed === others.length);
    const pdfDone = rounds.findIndex((r) => r.pdf === 'indexed');
    assert.ok(othersDone >= 0 && pdfDone > othersDone, `other files done in round ${othersDone + 1}, the PDF in round ${pdfDone + 1}`);
    assert.equal(rounds[othersDone]!.pdf, 'extracted');
    assert.ok(rounds[othersDone]!.stagedVectors > 0 && rounds[othersDone]!.stagedVectors < PAGES);
    assert.equal(pdfDone + 1, Math.ceil(PAGES / PAGES_PER_ROUND), 'one slice per round, none lost to the stop and restart');

    // (b) Bounded memory: when any embed call starts, the pages drawn so far minus the pages
    // already embedded (the images alive) are at most one slice; all 72 up front would fail this.
    let embedded = 0;
    let peakAlive = 0;
    for (const call of calls) {
      peakAlive = Math.max(peakAlive, call.drawnAtCall - drawnBefore - embedded);
      embedded += call.pageImages;
    }
    assert.ok(peakAlive > 0 && peakAlive <= Math.min(PAGES_PER_ROUND, EMBED_BATCH_INPUTS), `at most ${peakAlive} page images alive at an embed call`);
    // Every page drawn and embedded exactly once across the stop and restart: staged pages are not redone.
    assert.equal(pdfPageImagesRendered() - drawnBefore, PAGES);
    assert.equal(embedded, PAGES);

    // (c) The result: every page an item with its text, thumbnail and vector; no staging left.
    const pages = store.db
      .prepare<{ locator_json: string; text: string | null; thumb: number; vec: number }>(
        `SELECT i.locator_json, i.text, (SELECT count(*) FROM thumbnails t WHERE t.item_id = i.id) AS thumb, (SELECT count(*) FROM vectors v WHERE v.item_id = i.id) AS vec
           FROM items i JOIN files f ON f.id = i.file_id WHERE f.path = ? ORDER BY i.ordinal`,
      )
      .all(pdf);
    assert.equal(pages.length, PAGES);
    pages.forEach((p, i) => {
      assert.deepEqual(JSON.parse(p.locator_json), { type: 'page', page: i + 1 });
      assert.equal(p.text, `Manual page ${i + 1}`);
      assert.equal(p.thumb, 1, `page ${i + 1} has a thumbnail`);
      assert.equal(p.vec, 1, `page ${i + 1} has a vector`);
    });
    assert.equal(store.db.prepare('SELECT count(*) FROM staged_items').pluck().get(), 0);
    assert.ok(others.every((f) => statusOf(store, f) === 'indexed'));

    // Indexed in one go (the whole file in one round), the PDF gives the same items and vectors.
    const oneGo = Store.open(path.join(dir, 'data-one-go'));
    try {
      const oneGoModels = await tinyModels(oneGo, []);
      await queue(oneGo, library, [{ name: 'manual.pdf', kind: 'pdf' }]);
      await runIndexer({ store: oneGo, models: oneGoModels, pagesPerRound: PAGES });
      const dump = (s: Store): unknown[] =>
        s.db
          .prepare(
            `SELECT i.ordinal, i.kind, i.locator_json, i.text, i.date, t.bytes AS thumb, v.codes, v.scale FROM items i JOIN files f ON f.id = i.file_id
               LEFT JOIN thumbnails t ON t.item_id = i.id LEFT JOIN vectors v ON v.item_id = i.id WHERE f.path = ? ORDER BY i.ordinal`,
          )
          .all(pdf);
      const sliced = dump(store);
      const whole = dump(oneGo);
      assert.equal(sliced.length, PAGES);
      assert.deepEqual(sliced, whole);
      assert.deepEqual(store.files.byPath(pdf)!.metadata, oneGo.files.byPath(pdf)!.metadata);
    } finally {
      oneGo.close();
    }
  } finally {
    store.close();
  }
});

test('an extraction that hangs fails just that file after the per-file timeout, and is told to stop', async () => {
  const library = path.join(dir, 'lib-hang');
  await mkdir(library, { recursive: true });
  const images = await writeImages(library, 4);
  await writeFile(path.join(library, 'notes.md'), '# Notes\n\nNothing hangs here.\n');
  const store = Store.open(path.join(dir, 'data-hang'));
  let stopReason: unknown = null;
  try {
    // The first image's decoder never answers, as a decoder stuck on a damaged file or a stalled disk would.
    const stuck = path.join(library, images[0]!);
    await queue(store, library, [...images.map((name) => ({ name, kind: 'image' as const })), { name: 'notes.md', kind: 'text' as const }]);
    await runIndexer({
      store,
      models: NO_MODEL,
      fileTimeoutMs: 300,
      extract: (file, tokenizer, options) =>
        file.path === stuck
          ? new Promise((_, reject) =>
              options?.signal?.addEventListener('abort', () => {
                stopReason = options.signal!.reason;
                reject(options.signal!.reason as Error);
              }),
            )
          : sharedExtractionPool().prepare(file, tokenizer, options),
    });
    const failed = store.files.byPath(stuck)!;
    assert.equal(failed.status, 'failed');
    assert.match(failed.error ?? '', /^reading .*photo-0\.png took longer than 300 ms; .*check it, then rescan$/);
    assert.ok(stopReason instanceof Error && /took longer than 300 ms/.test(stopReason.message), 'the hung extraction was aborted with the same reason');
    for (const name of [...images.slice(1), 'notes.md']) assert.equal(statusOf(store, path.join(library, name)), 'indexed', name);
  } finally {
    store.close();
  }
});

test('a path that became a FIFO after the scan fails at once with a reason instead of blocking a thread', { skip: process.platform === 'win32', timeout: 120_000 }, async () => {
  const library = path.join(dir, 'lib-fifo');
  await mkdir(library, { recursive: true });
  const images = await writeImages(library, 2);
  await writeFile(path.join(library, 'x.jpg'), 'placeholder');
  const store = Store.open(path.join(dir, 'data-fifo'));
  try {
    await queue(store, library, [{ name: 'x.jpg', kind: 'image' }, ...images.map((name) => ({ name, kind: 'image' as const }))]);
    // Replaced by a pipe with no writer once the scanner has seen it: opening it to read would wait forever.
    await rm(path.join(library, 'x.jpg'));
    execFileSync('mkfifo', [path.join(library, 'x.jpg')]);
    // A timeout far longer than the test: only a fast, explicit refusal passes.
    await runIndexer({ store, models: NO_MODEL, fileTimeoutMs: 600_000 });
    const fifo = store.files.byPath(path.join(library, 'x.jpg'))!;
    assert.equal(fifo.status, 'failed');
    assert.match(fifo.error ?? '', /x\.jpg' is not a regular file \(a pipe, socket or device\); .*Remove it from the folder or exclude it\./);
    for (const name of images) assert.equal(statusOf(store, path.join(library, name)), 'indexed', name);
  } finally {
    store.close();
  }
});

test('a wake while the loop is on its way out is not lost: a file queued then is indexed without another wake', async () => {
  const root = path.join(dir, 'late-wake');
  await mkdir(root, { recursive: true });
  await writeFile(path.join(root, 'late.md'), '# Late\n\nQueued while the indexer was finishing.\n');
  const store = Store.open(path.join(dir, 'data-late-wake'));
  let rounds = 0;
  const indexer = new Indexer({ store, models: NO_MODEL, onRound: () => void (rounds += 1), onActivity: () => undefined });
  try {
    const file = path.join(root, 'late.md');
    const info = await stat(file);
    const rootId = store.roots.add({ path: root }).id;
    // Synchronously, one after the other: the first loop has looked, found nothing and is ending
    // (its promise settles on a later tick) when the file is queued and wake() is called again.
    indexer.wake();
    store.files.upsertScanned({ rootId, path: file, size: info.size, mtimeMs: info.mtimeMs, kind: 'text' });
    indexer.wake();
    const deadline = Date.now() + 30_000;
    while (store.files.counts().files.indexed === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(store.files.counts().files.indexed, 1, 'the late file was indexed');
    assert.equal(rounds, 1);
  } finally {
    await indexer.close();
    store.close();
  }
});

test('a text file or document past the chunk cap keeps its first chunks, with a note that says what was left out and why', async () => {
  const library = path.join(dir, 'lib-cap');
  await mkdir(library, { recursive: true });
  // ~60 KB of prose: about 30 chunks with the estimate tokenizer (no model here).
  const prose = Array.from({ length: 600 }, (_, i) => `Entry ${i}: the lighthouse keeper logged the ferry at dawn, in fog.`).join('\n');
  await writeFile(path.join(library, 'log.txt'), prose);
  await writeFile(path.join(library, 'short.md'), '# Short\n\nWell under the cap.\n');
  const store = Store.open(path.join(dir, 'data-cap'));
  try {
    await queue(store, library, [
      { name: 'log.txt', kind: 'text' },
      { name: 'short.md', kind: 'text' },
    ]);
    await runIndexer({ store, models: NO_MODEL, maxTextChunks: 3 });
    const log = store.files.byPath(path.join(library, 'log.txt'))!;
    assert.equal(log.status, 'indexed', 'indexed, not failed: the rest is left out');
    const items = store.db.prepare('SELECT count(*) FROM items WHERE file_id = ?').pluck().get(log.id);
    assert.equal(items, 3);
    assert.equal(log.metadata.chunks, 3);
    assert.match(
      String(log.metadata.note),
      /^Only the first [4-9]\.\d KB of 39 KB is indexed: the rest is past the limit of 3 text chunks per file \(about 1,536 tokens\) and is found by the file's name only\. Split the file to search all of it\.$/,
    );
    const short = store.files.byPath(path.join(library, 'short.md'))!;
    assert.equal(short.status, 'indexed');
    assert.equal(short.metadata.note ?? null, null, 'a file under the cap has no note');
  } finally {
    store.close();
  }
});

test('a file waiting for a free worker behind a slow one does not time out: the limit counts its own work', { timeout: 600_000 }, async () => {
  const library = path.join(dir, 'lib-waiting');
  await mkdir(library, { recursive: true });
  // 6 MiB of letters without a space: tens of seconds of tokenizing with the model's tokenizer.
  const next = mulberry32(11);
  const letters = Buffer.alloc(6 * 1024 * 1024);
  for (let i = 0; i < letters.length; i++) letters[i] = 97 + (next() % 26);
  await writeFile(path.join(library, 'wall.txt'), letters);
  // A valid 2 s clip: ffprobe and ffmpeg children, a second or so of its own work.
  const { ffmpeg } = await locateFfmpeg();
  execFileSync(ffmpeg, ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=64x48:rate=8:duration=2', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', path.join(library, 'clip.mp4')]);
  const store = Store.open(path.join(dir, 'data-waiting'));
  // One worker: the clip waits for it while the wall of text is read.
  const pool = new ExtractionPool({ size: 1, abortGraceMs: 500 });
  const clocks: string[] = [];
  let wallStarted: () => void = () => undefined;
  const wallRuns = new Promise<void>((resolve) => (wallStarted = resolve));
  const extractor: FileExtractor = {
    prepare: async (file, tokenizer, options = {}) => {
      const name = path.basename(file.path);
      const clock = options.clock;
      // The clip joins the queue only once the wall has the worker (fingerprinting the wall takes
      // longer, so the clip would otherwise go first). Until then it waits, its clock stopped.
      if (name === 'clip.mp4') {
        clock?.waiting();
        await wallRuns;
      }
      return pool.prepare(file, tokenizer, {
        ...options,
        clock: {
          waiting: () => (clocks.push(`${name} waiting`), clock?.waiting()),
          working: () => {
            clocks.push(`${name} working`);
            if (name === 'wall.txt') wallStarted();
            clock?.working();
          },
        },
      });
    },
    openDeferred: (file, options) => pool.openDeferred(file, options),
  };
  const indexer = new Indexer({
    store,
    models: await tinyModels(store, []),
    extractor,
    fileTimeoutMs: 5_000,
    maxTextChunks: Number.MAX_SAFE_INTEGER, // no cap: the wall's own work passes the limit
    onRound: () => undefined,
    onActivity: () => undefined,
  });
  const wall = path.join(library, 'wall.txt');
  const clip = path.join(library, 'clip.mp4');
  try {
    await queue(store, library, [
      { name: 'wall.txt', kind: 'text' },
      { name: 'clip.mp4', kind: 'video' },
    ]);
    indexer.wake();
    const settled = (file: string): boolean => ['indexed', 'failed'].includes(statusOf(store, file) ?? '');
    while (!(settled(clip) && settled(wall))) await new Promise((r) => setTimeout(r, 50));
    assert.equal(statusOf(store, clip), 'indexed', `the clip ended ${statusOf(store, clip)}: ${store.files.byPath(clip)?.error}`);
    const blocked = store.files.byPath(wall)!;
    assert.equal(blocked.status, 'failed');
    assert.match(blocked.error ?? '', /^reading .*wall\.txt took longer than 5 s; /);
    // The clip did wait: its clock ran only after the wall's worker was given up.
    assert.deepEqual(clocks, ['wall.txt waiting', 'wall.txt working', 'clip.mp4 waiting', 'clip.mp4 working']);
  } finally {
    await indexer.close();
    await pool.close();
    store.close();
  }
});
