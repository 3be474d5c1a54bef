// Attempts and the retry policy in the indexer (issue 13, point 3): a file that crashes the
// engine is tried alone at the next start and left failed after MAX_INDEX_ATTEMPTS crashes, without
// taking the files of its round with it; a file that times out is tried again at the next starts,
// MAX_INDEX_ATTEMPTS times in all; a close is no attempt; a file too large, or with a name that is
// not valid UTF-8, is refused before anything reads it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FileKind } from '../../../electron/contract/common/entities.ts';
import { prepareFile } from '../../../electron/engine/jobs/node/file-items.ts';
import { Indexer, type IndexerModels, type IndexerOptions } from '../../../electron/engine/jobs/node/indexer.ts';
import { MAX_INDEX_ATTEMPTS } from '../../../electron/engine/store/node/files-repo.ts';
import { Store } from '../../../electron/engine/store/node/store.ts';

let dir = '';
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'trove-attempts-'));
});
after(() => rm(dir, { recursive: true, force: true }));

const NO_MODEL: IndexerModels = { embedder: null, embed: () => Promise.reject(new Error('no model in this test')) };

async function library(name: string, files: Record<string, string>): Promise<string> {
  const root = path.join(dir, name);
  await mkdir(root, { recursive: true });
  for (const [rel, text] of Object.entries(files)) await writeFile(path.join(root, rel), text);
  return root;
}

/** Records the files under `root` as pending, in name order (the first is oldest in the queue). */
async function queue(store: Store, root: string, names: readonly string[], kind: FileKind = 'text'): Promise<void> {
  const rootId = store.roots.byPath(root)?.id ?? store.roots.add({ path: root }).id;
  for (const name of names) {
    const file = path.join(root, name);
    const s = await stat(file);
    store.files.upsertScanned({ rootId, path: file, size: s.size, mtimeMs: s.mtimeMs, kind });
  }
}

/** One engine start: a fresh Indexer on the store, run until its queue is empty. */
function runIndexer(options: Omit<IndexerOptions, 'onRound' | 'onActivity'>): Promise<void> {
  return new Promise((resolve) => {
    let started = false;
    const indexer: Indexer = new Indexer({
      ...options,
      onRound: () => undefined,
      onActivity: () => {
        if (started && !indexer.busy) resolve();
      },
    });
    indexer.wake();
    started = true;
  });
}

const child = fileURLToPath(new URL('./indexer-attempts-child.ts', import.meta.url));

/**
 * Runs the child on `dataDir` until it starts extracting a `crash-*` file (then SIGKILLs it) or
 * reports idle. Returns what it extracted, in order, and how it ended.
 */
function runChild(dataDir: string): Promise<{ extracted: string[]; ended: 'killed' | 'idle' }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', child, dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
    const extracted: string[] = [];
    let ended: 'killed' | 'idle' | null = null;
    let buffered = '';
    proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      let nl;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line === 'idle') ended = 'idle';
        else if (line.startsWith('extracting ')) {
          const name = line.slice('extracting '.length);
          extracted.push(name);
          if (name.startsWith('crash-') && ended === null) {
            ended = 'killed';
            proc.kill('SIGKILL');
          }
        }
      }
    });
    proc.on('error', reject);
    proc.on('exit', (code, signal) => {
      if (ended === 'idle' && code === 0) resolve({ extracted, ended });
      else if (ended === 'killed' && signal === 'SIGKILL') resolve({ extracted, ended });
      else reject(new Error(`the indexer child ended with code ${code}, signal ${signal} (${ended ?? 'no report'})`));
    });
  });
}

test('a file that crashes the engine runs alone at the next starts and is left failed after MAX_INDEX_ATTEMPTS crashes; its round is indexed', { timeout: 240_000 }, async () => {
  const notes = ['a-notes.md', 'b-notes.md', 'c-notes.md'];
  const root = await library('crash', { 'crash-decoder.md': '# boom', ...Object.fromEntries(notes.map((n) => [n, `# ${n}`])) });
  const dataDir = path.join(dir, 'data-crash');
  const store = Store.open(dataDir);
  await queue(store, root, ['crash-decoder.md', ...notes]);
  store.close();

  const runs = [];
  for (let start = 1; start <= MAX_INDEX_ATTEMPTS + 1; start++) {
    const run = await runChild(dataDir);
    runs.push(run);
    if (run.ended === 'idle') break;
  }
  // Start 1 took the whole round (the crash cost every file in it an attempt); from then on the
  // files an earlier start began run one by one, the crasher alone each time.
  assert.deepEqual(
    runs.map((r) => r.ended),
    ['killed', 'killed', 'killed', 'idle'],
  );
  assert.ok(runs[0]!.extracted.includes('crash-decoder.md'));
  for (const run of runs.slice(1, MAX_INDEX_ATTEMPTS)) assert.equal(run.extracted.at(-1), 'crash-decoder.md');
  assert.ok(!runs.at(-1)!.extracted.includes('crash-decoder.md'), 'the last start does not read the crasher again');

  const after = Store.open(dataDir);
  try {
    for (const n of notes) assert.equal(after.files.byPath(path.join(root, n))?.status, 'indexed', n);
    const { total, failures } = after.files.failures();
    assert.equal(total, 1);
    assert.equal(failures[0]!.path, path.join(root, 'crash-decoder.md'));
    assert.equal(failures[0]!.attempts, MAX_INDEX_ATTEMPTS);
    assert.equal(failures[0]!.nextTry, 'on-change');
    assert.match(failures[0]!.reason, new RegExp(`^Trove stopped ${MAX_INDEX_ATTEMPTS} times while indexing this file .*until the file changes or you retry it\\.$`));
    // Asked for: tried again (and, in this test, crashes again: one attempt).
    assert.equal(after.files.retryFailed(), 1);
    assert.equal(after.files.byPath(path.join(root, 'crash-decoder.md'))!.attempts, 0);
  } finally {
    after.close();
  }
});

test('a file that times out is tried again at the next starts, MAX_INDEX_ATTEMPTS times in all, then waits for a change', async () => {
  const root = await library('timeout', { 'slow.md': '# slow', 'quick.md': '# quick' });
  const store = Store.open(path.join(dir, 'data-timeout'));
  const slow = path.join(root, 'slow.md');
  let slowReads = 0;
  const extract: IndexerOptions['extract'] = (file, tokenizer, options) => {
    if (file.path !== slow) return prepareFile(file, tokenizer, options);
    slowReads += 1;
    return new Promise((_, reject) => options?.signal?.addEventListener('abort', () => reject(options.signal!.reason as Error)));
  };
  try {
    await queue(store, root, ['slow.md', 'quick.md']);
    for (let start = 1; start <= MAX_INDEX_ATTEMPTS + 1; start++) await runIndexer({ store, models: NO_MODEL, fileTimeoutMs: 200, extract });
    assert.equal(slowReads, MAX_INDEX_ATTEMPTS, 'read once per start, until its attempts are spent');
    assert.equal(store.files.byPath(path.join(root, 'quick.md'))?.status, 'indexed');
    const [failure] = store.files.failures().failures;
    assert.equal(failure!.attempts, MAX_INDEX_ATTEMPTS);
    assert.equal(failure!.nextTry, 'on-change');
    assert.match(failure!.reason, new RegExp(`took longer than 200 ms.*Tried ${MAX_INDEX_ATTEMPTS} times; Trove tries again when the file changes, or when you retry it\\.$`));
  } finally {
    store.close();
  }
});

test('closing Trove while a file is read is no attempt of the file', async () => {
  const root = await library('close', { 'long.md': '# long' });
  const store = Store.open(path.join(dir, 'data-close'));
  try {
    await queue(store, root, ['long.md']);
    let reading!: () => void;
    const started = new Promise<void>((resolve) => (reading = resolve));
    const indexer = new Indexer({
      store,
      models: NO_MODEL,
      extract: (_file, _tokenizer, options) => {
        reading();
        return new Promise((_, reject) => options?.signal?.addEventListener('abort', () => reject(options.signal!.reason as Error)));
      },
      onRound: () => undefined,
      onActivity: () => undefined,
    });
    indexer.wake();
    await started;
    assert.equal(store.files.byPath(path.join(root, 'long.md'))!.attempts, 1, 'counted when the work started');
    await indexer.close();
    const file = store.files.byPath(path.join(root, 'long.md'))!;
    assert.deepEqual([file.status, file.attempts], ['pending', 0]);
  } finally {
    store.close();
  }
});

test('a pending file too large for its kind, or named in bytes that are not UTF-8, is refused with its reason before anything reads it', async () => {
  const root = await library('refused', { 'fine.md': '# fine' });
  // Sparse: 2 GiB on disk cost nothing.
  await writeFile(path.join(root, 'huge.pdf'), '');
  await truncate(path.join(root, 'huge.pdf'), 2 ** 31);
  await writeFile(Buffer.concat([Buffer.from(root + path.sep), Buffer.from('Stra\xdfe.md', 'latin1')]), '# street');
  const store = Store.open(path.join(dir, 'data-refused'));
  const read: string[] = [];
  try {
    await queue(store, root, ['huge.pdf'], 'pdf');
    await queue(store, root, ['fine.md']);
    // As a store written before the scan checked names holds it: the path Node decodes, with U+FFFD.
    const rootId = store.roots.byPath(root)!.id;
    store.files.upsertScanned({ rootId, path: path.join(root, 'Stra\uFFFDe.md'), size: 8, mtimeMs: 1, kind: 'text' });
    await runIndexer({
      store,
      models: NO_MODEL,
      extract: (file, tokenizer, options) => {
        read.push(path.basename(file.path));
        return prepareFile(file, tokenizer, options);
      },
    });
    assert.deepEqual(read, ['fine.md']);
    const reasons = Object.fromEntries(store.files.failures().failures.map((f) => [path.basename(f.path), [f.reason, f.attempts]]));
    assert.deepEqual(reasons, {
      'huge.pdf': ['This PDF is 2,147,483,648 bytes, more than the 2,147,483,647 bytes Trove can read of one PDF file; split it into smaller PDFs (for example with qpdf --split-pages) to index them.', 0],
      'Stra\uFFFDe.md': [
        'The file name is not valid UTF-8 (shown here with � where its bytes are), so Trove cannot open it by its name. Rename it to a UTF-8 name (for example with convmv, or in a file manager); it is indexed after the rename.',
        0,
      ],
    });
  } finally {
    store.close();
  }
});
