// One heavy file must not freeze the engine (issue 13): a long line of text without a space is the
// chunker's worst case (a minute or more of tokenizing with the model's tokenizer), and while it
// is read the engine keeps answering `status.get`, which reports it as the file being worked on.
// The real engine with the tiny embedding package, as `trove serve` runs it. No timings: the test
// counts answers that came while the file was still being read (before it was staged); reading it
// on the engine's thread would give none, since nothing else runs until the tokenizer returns.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { dispatchApiCall } from '../../../electron/contract/common/trove-api.ts';
import type { Status } from '../../../electron/contract/common/entities.ts';
import { openTroveEngine } from '../../../electron/engine/app/node/trove-engine.ts';
import { mulberry32 } from '../../../scripts/fixtures/seeded-random.ts';
import { buildTinyPackage } from '../../support/tiny-package.ts';

process.env.TROVE_EP = 'cpu';

/** Answers that must come while the file is read: 10 at 50 ms apart is half a second of answering. */
const ANSWERS_WHILE_READING = 10;

let dir = '';
let packageDir = '';

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'trove-heavy-'));
  ({ packageDir } = await buildTinyPackage(dir, 'embedding'));
});
after(() => rm(dir, { recursive: true, force: true }));

test('the engine answers status.get while a 3 MiB line of text is chunked, and names it as the file being read', { timeout: 600_000 }, async () => {
  const library = path.join(dir, 'library');
  await mkdir(library);
  const huge = path.join(library, 'dump.txt');
  const next = mulberry32(5);
  // 3 MiB: past the chunk cap (about 1.8 MiB of such text), and minutes of work read on one thread.
  const letters = Buffer.alloc(3 * 1024 * 1024);
  for (let i = 0; i < letters.length; i++) letters[i] = 97 + (next() % 26);
  await writeFile(huge, letters);

  const dataDir = path.join(dir, 'data');
  const engine = await openTroveEngine({ dataDir, embeddingModel: packageDir, watch: false });
  // The file's row, read through a connection of our own (not through the engine's thread).
  let db: Database.Database | null = null;
  try {
    await dispatchApiCall(engine.handlers, 'roots.add', { path: library });
    db = new Database(path.join(dataDir, 'trove.db'), { readonly: true });
    const rowStatus = db.prepare<string>('SELECT status FROM files WHERE path = ?').pluck();
    let whileReading = 0;
    let pickedUp = false;
    for (;;) {
      const status = rowStatus.get(huge);
      if (status !== undefined && status !== 'pending') break; // staged (or failed): reading is over
      const answer = (await dispatchApiCall(engine.handlers, 'status.get', {})) as Status;
      if (answer.indexing.current === huge && rowStatus.get(huge) === 'pending') {
        pickedUp = true;
        whileReading += 1;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(pickedUp, 'status.get named the file while it was read');
    assert.ok(whileReading >= ANSWERS_WHILE_READING, `${whileReading} answers came while the file was read`);
    // It goes on to be indexed with its first chunks, the rest left out with a note (the cap).
    const row = db.prepare<{ status: string; error: string | null }>('SELECT status, error FROM files WHERE path = ?').get(huge);
    assert.notEqual(row?.status, 'failed', row?.error ?? '');
  } finally {
    db?.close();
    await engine.close();
  }
});
