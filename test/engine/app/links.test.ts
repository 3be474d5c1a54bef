// The link rule on the real engine (docs/file-kinds.md, "Links"): links are never followed — not by
// the scan, not by the watcher, not when a file is read for indexing, not when it is opened — so
// nothing outside the library's folders reaches search results, items or the system's opener.
// Each scenario puts a marker word in a file outside the library (and uses /etc/passwd's
// "nologin"); searching for it must find nothing. Keyword search only (no model): the text is
// what would leak.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, realpath, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ApiError, dispatchApiCall } from '../../../electron/contract/common/trove-api.ts';
import type { Root, SearchResponse, Status } from '../../../electron/contract/common/entities.ts';
import { openTroveEngine } from '../../../electron/engine/app/node/trove-engine.ts';
import type { TroveEngine } from '../../../electron/engine/app/node/trove-engine-types.ts';

let dir = '';
let outside = '';
/** In files outside every root: must never be searchable. */
const SECRETS = ['zanzibarsecret', 'quokkadiary', 'nologin'];

const call = <T>(engine: TroveEngine, method: string, params: unknown) => dispatchApiCall(engine.handlers, method, params) as Promise<T>;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function paths(engine: TroveEngine, text: string): Promise<string[]> {
  const r = await call<SearchResponse>(engine, 'search.run', { text, rerank: false });
  return r.results.map((x) => x.path);
}

async function assertNoSecrets(engine: TroveEngine, when: string): Promise<void> {
  for (const word of SECRETS) assert.deepEqual(await paths(engine, word), [], `${when}: '${word}' comes from a file outside the library`);
}

/** Polls until `condition` holds (the watcher and indexer run on their own time). */
async function until(engine: TroveEngine, what: string, condition: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    await engine.idle();
    if (await condition()) return;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** Writes a note with `word`, then waits until search finds it: every change made before it has been seen. */
async function sentinel(engine: TroveEngine, folder: string, word: string): Promise<void> {
  await writeFile(path.join(folder, `${word}.md`), `${word}\n`);
  await until(engine, `the note '${word}' to be indexed`, async () => (await paths(engine, word)).length === 1);
}

/** Replaces `file` with a link to `target` in one step (rename over it), as a swap attack would. */
async function swapForLink(file: string, target: string): Promise<void> {
  const temporary = path.join(path.dirname(file), `.swap-${path.basename(file)}`);
  await symlink(target, temporary);
  await rename(temporary, file);
}

before(async () => {
  dir = await realpath(await mkdtemp(path.join(tmpdir(), 'trove-links-')));
  outside = path.join(dir, 'outside');
  await mkdir(path.join(outside, 'private'), { recursive: true });
  await writeFile(path.join(outside, 'secret.md'), 'The launch code is zanzibarsecret.\n');
  await writeFile(path.join(outside, 'private', 'diary.md'), 'Dear diary, quokkadiary.\n');
  await writeFile(path.join(outside, 'private', 'b.md'), 'Outside twin of sub/b.md: quokkadiary.\n');
});
after(() => rm(dir, { recursive: true, force: true }));

test('watching: links made before start or while watching (files, folders, chains, inside links) are never indexed', async () => {
  const library = path.join(dir, 'watched');
  await mkdir(path.join(library, 'notes'), { recursive: true });
  await writeFile(path.join(library, 'notes', 'harbour.md'), 'A pelican on the harbour wall.\n');
  // Before start.
  await symlink(path.join(outside, 'secret.md'), path.join(library, 'leak.md'));
  await symlink('/etc/passwd', path.join(library, 'passwd.txt'));
  await symlink(path.join(outside, 'secret.md'), path.join(library, 'chain-b.md'));
  await symlink(path.join(library, 'chain-b.md'), path.join(library, 'chain-a.md'));
  await symlink(path.join(outside, 'private'), path.join(library, 'private-folder'));
  await symlink(path.join(library, 'notes', 'harbour.md'), path.join(library, 'same-harbour.md'));
  await symlink(path.join(library, 'notes'), path.join(library, 'notes-again'));

  const engine = await openTroveEngine({ dataDir: path.join(dir, 'data-watched'), watch: true });
  try {
    await call(engine, 'roots.add', { path: library });
    await engine.idle();
    assert.equal((await call<Status>(engine, 'status.get', {})).files.total, 1, 'only notes/harbour.md is a file of the library');
    await assertNoSecrets(engine, 'links made before start');
    assert.deepEqual(await paths(engine, 'pelican'), [path.join(library, 'notes', 'harbour.md')], 'a link inside the root adds no duplicate');

    // While watching: the same kinds of links, then two notes, so the watcher has gone past them.
    await symlink(path.join(outside, 'secret.md'), path.join(library, 'live-leak.md'));
    await symlink('/etc/passwd', path.join(library, 'live-passwd.txt'));
    await symlink(path.join(library, 'chain-a.md'), path.join(library, 'live-chain.md'));
    await symlink(path.join(outside, 'private'), path.join(library, 'live-folder'));
    await symlink(path.join(library, 'notes', 'harbour.md'), path.join(library, 'live-harbour.md'));
    await symlink(path.join(outside, 'private', 'diary.md'), path.join(library, 'notes', 'live-diary.md'));
    await sentinel(engine, library, 'firstsentinel');
    await sentinel(engine, library, 'secondsentinel');
    await assertNoSecrets(engine, 'links made while watching');
    assert.deepEqual(await paths(engine, 'pelican'), [path.join(library, 'notes', 'harbour.md')]);
    assert.equal((await call<Status>(engine, 'status.get', {})).files.total, 3, 'harbour.md and the two notes');
  } finally {
    await engine.close();
  }
});

test('watching: an indexed file swapped for a link to an outside file is removed, and the outside text never indexed', async () => {
  const library = path.join(dir, 'swapped-watched');
  await mkdir(library, { recursive: true });
  await writeFile(path.join(library, 'victim.md'), 'victimword lives here.\n');
  await writeFile(path.join(library, 'other.md'), 'otherword lives here.\n');
  const engine = await openTroveEngine({ dataDir: path.join(dir, 'data-swapped-watched'), watch: true });
  try {
    await call(engine, 'roots.add', { path: library });
    await engine.idle();
    assert.equal((await paths(engine, 'victimword')).length, 1);
    await swapForLink(path.join(library, 'victim.md'), path.join(outside, 'secret.md'));
    await swapForLink(path.join(library, 'other.md'), '/etc/passwd');
    await until(engine, 'the swapped files to leave the library', async () => (await paths(engine, 'victimword')).length + (await paths(engine, 'otherword')).length === 0);
    await sentinel(engine, library, 'afterswap');
    await assertNoSecrets(engine, 'files swapped for links while watching');
    assert.equal((await call<Status>(engine, 'status.get', {})).files.total, 1, 'only the sentinel note is left');
  } finally {
    await engine.close();
  }
});

test('a file or folder swapped for a link between the scan and the read is not read', async () => {
  const library = path.join(dir, 'swapped-before-read');
  await mkdir(path.join(library, 'sub'), { recursive: true });
  await writeFile(path.join(library, 'a.md'), 'alphaword\n');
  await writeFile(path.join(library, 'c.txt'), 'charlieword\n');
  await writeFile(path.join(library, 'sub', 'b.md'), 'betaword\n');
  await writeFile(path.join(library, 'kept.md'), 'keptword\n');
  const engine = await openTroveEngine({ dataDir: path.join(dir, 'data-swapped-before-read'), watch: false });
  try {
    await call(engine, 'indexing.pause', {});
    await call(engine, 'roots.add', { path: library });
    for (let i = 0; (await call<Status>(engine, 'status.get', {})).files.pending < 4; i++) {
      assert.ok(i < 300, 'the scan queues the four files');
      await sleep(50);
    }
    // Scanned as regular files; now, before the indexer reads them, they become links.
    await swapForLink(path.join(library, 'a.md'), path.join(outside, 'secret.md'));
    await swapForLink(path.join(library, 'c.txt'), '/etc/passwd');
    await rm(path.join(library, 'sub'), { recursive: true });
    await symlink(path.join(outside, 'private'), path.join(library, 'sub')); // sub/b.md now leads to outside/private/b.md
    await call(engine, 'indexing.resume', {});
    await engine.idle();
    await assertNoSecrets(engine, 'files swapped for links before they were read');
    assert.equal((await paths(engine, 'keptword')).length, 1);
    const status = await call<Status>(engine, 'status.get', {});
    assert.deepEqual([status.files.indexed, status.files.failed], [1, 3]);
    // Each failed file is listed beside its own path with a reason that says what it is (and does not repeat the path).
    const { failures } = await call<{ failures: Array<{ path: string; reason: string }> }>(engine, 'files.failures', {});
    const reasonOf = (name: string): string => failures.find((f) => f.path === path.join(library, name))?.reason ?? `no failure listed for ${name}`;
    assert.match(reasonOf('a.md'), /^This file is a link; Trove does not follow links, so it is not read/);
    assert.match(reasonOf('c.txt'), /^This file is a link; Trove does not follow links/);
    assert.match(reasonOf(path.join('sub', 'b.md')), /^This file leads outside the library's folders \(a folder on its way is a link\)/);
  } finally {
    await engine.close();
  }
});

test('files.open and files.reveal refuse an indexed file that became a link; a rescan drops it', async () => {
  const library = path.join(dir, 'opened');
  await mkdir(library, { recursive: true });
  await writeFile(path.join(library, 'delta.md'), 'deltaword\n');
  await writeFile(path.join(library, 'echo.md'), 'echoword\n');
  const dataDir = path.join(dir, 'data-opened');
  let engine = await openTroveEngine({ dataDir, watch: false });
  try {
    await call<Root>(engine, 'roots.add', { path: library });
    await engine.idle();
    const [delta] = (await call<SearchResponse>(engine, 'search.run', { text: 'deltaword', rerank: false })).results;
    const [echo] = (await call<SearchResponse>(engine, 'search.run', { text: 'echoword', rerank: false })).results;
    assert.ok(delta && echo);
    await swapForLink(path.join(library, 'delta.md'), '/etc/passwd');
    await swapForLink(path.join(library, 'echo.md'), path.join(library, 'deltaword.md')); // a dangling link inside the root
    for (const method of ['files.open', 'files.reveal']) {
      await assert.rejects(call(engine, method, { itemId: delta.itemId }), (error: unknown) => {
        assert.ok(error instanceof ApiError, String(error));
        assert.equal(error.code, 'failed', error.message);
        assert.match(error.message, /delta\.md' is a link; Trove does not follow links, so it is not read\. To index what it points to, add that folder to the library\./);
        return true;
      });
    }
    await assert.rejects(call(engine, 'files.open', { itemId: echo.itemId }), /echo\.md' is a link/);
    await engine.close();
    // Reopened: the start-up rescan reconciles the folder; links are not files of the library.
    engine = await openTroveEngine({ dataDir, watch: false });
    await engine.idle();
    assert.deepEqual(await paths(engine, 'deltaword'), []);
    assert.equal((await call<Status>(engine, 'status.get', {})).files.total, 0);
    await assertNoSecrets(engine, 'after a rescan');
  } finally {
    await engine.close();
  }
});
