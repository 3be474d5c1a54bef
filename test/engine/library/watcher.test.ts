import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rename, rm, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fingerprintFile } from '../../../electron/engine/library/node/fingerprint.ts';
import { scanRootToList } from '../../../electron/engine/library/node/scanner.ts';
import { watchRoot, type KnownFile, type RootWatcher, type WatchChange, type WatcherEvent, type WatchRootOptions } from '../../../electron/engine/library/node/watcher.ts';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A watcher on a temp root with a tiny in-memory "store" that applies batches as the engine would. */
async function harness(setup: (root: string) => Promise<void> = async () => undefined, timing: Partial<WatchRootOptions> = {}) {
  const root = await mkdtemp(path.join(tmpdir(), 'trove-watch-'));
  await setup(root);
  const store = new Map<string, KnownFile>();
  for (const file of (await scanRootToList(root)).files) store.set(file.path, { size: file.size, fingerprint: await fingerprintFile(file.path) });
  const events: WatcherEvent[] = [];
  const watcher: RootWatcher = watchRoot({
    root,
    batchIntervalMs: 100,
    writeStableMs: 150,
    writePollMs: 50,
    moveWindowMs: 800,
    rootCheckIntervalMs: 250,
    ...timing,
    knownFiles: (paths) => new Map(paths.filter((p) => store.has(p)).map((p) => [p, store.get(p)!])),
    onEvent: async (event) => {
      events.push(event);
      if (event.type !== 'batch') return;
      for (const change of event.changes) {
        if (change.type === 'removed') store.delete(change.path);
        else if (change.type === 'moved') {
          store.delete(change.from);
          store.set(change.path, { size: change.size, fingerprint: change.fingerprint });
        } else store.set(change.path, { size: change.size, fingerprint: await fingerprintFile(change.path).catch(() => null) });
      }
    },
  });
  await watcher.ready;
  const changes = (): WatchChange[] => events.flatMap((e) => (e.type === 'batch' ? e.changes : []));
  const waitFor = async (what: string, predicate: () => boolean, timeoutMs = 8000): Promise<void> => {
    const until = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > until) {
        const seen = new Set(changes().map((c) => c.path)).size;
        assert.fail(`timed out waiting for ${what}; ${events.length} events, ${seen} distinct paths; last: ${JSON.stringify(events.slice(-3)).slice(0, 1500)}`);
      }
      await sleep(25);
    }
  };
  const done = async (): Promise<void> => {
    await watcher.close();
    await rm(root, { recursive: true, force: true });
    await rm(`${root}.away`, { recursive: true, force: true });
  };
  return { root, store, events, changes, waitFor, watcher, done };
}

test('a created file arrives once, after its write finished, as added', async () => {
  const h = await harness();
  try {
    const file = path.join(h.root, 'note.md');
    await writeFile(file, '# first part\n');
    await sleep(60); // still being written: less than the 150 ms stability threshold
    await appendFile(file, 'second part\n'.repeat(100));
    await h.waitFor('added note.md', () => h.changes().some((c) => c.type === 'added'));
    await sleep(300);
    const all = h.changes();
    assert.equal(all.length, 1, JSON.stringify(all));
    assert.equal(all[0].type, 'added');
    assert.equal(all[0].path, file);
    if (all[0].type === 'added') {
      assert.equal(all[0].kind, 'text');
      assert.equal(all[0].size, '# first part\n'.length + 'second part\n'.length * 100);
      assert.equal(all[0].relativePath, 'note.md');
    }
  } finally {
    await h.done();
  }
});

test('modify, rename (a move with the same fingerprint) and delete', async () => {
  const h = await harness(async (root) => {
    await writeFile(path.join(root, 'a.txt'), 'alpha content');
    await writeFile(path.join(root, 'b.txt'), 'bravo content');
    await writeFile(path.join(root, 'ignored.bin'), 'not indexed');
  });
  try {
    const before = await fingerprintFile(path.join(h.root, 'b.txt'));
    await appendFile(path.join(h.root, 'a.txt'), ' and more');
    await h.waitFor('changed a.txt', () => h.changes().some((c) => c.type === 'changed'));
    const changed = h.changes().find((c) => c.type === 'changed')!;
    assert.equal(changed.path, path.join(h.root, 'a.txt'));
    assert.equal(changed.type === 'changed' && changed.size, 'alpha content and more'.length);

    await rename(path.join(h.root, 'b.txt'), path.join(h.root, 'b-renamed.txt'));
    await h.waitFor('moved b', () => h.changes().some((c) => c.type === 'moved'));
    const moved = h.changes().find((c) => c.type === 'moved');
    assert.ok(moved?.type === 'moved');
    assert.equal(moved.from, path.join(h.root, 'b.txt'));
    assert.equal(moved.path, path.join(h.root, 'b-renamed.txt'));
    assert.equal(moved.fingerprint, before);

    await rm(path.join(h.root, 'a.txt'));
    await rm(path.join(h.root, 'ignored.bin'));
    await h.waitFor('removed a.txt', () => h.changes().some((c) => c.type === 'removed'));
    await sleep(300);
    const all = h.changes();
    assert.deepEqual(
      all.map((c) => c.type),
      ['changed', 'moved', 'removed'],
      'no added/removed pair for the rename, nothing for the unindexed file',
    );
    assert.deepEqual([...h.store.keys()], [path.join(h.root, 'b-renamed.txt')]);
  } finally {
    await h.done();
  }
});

test('renaming a folder of 200 files yields 200 moves and no re-adds', async () => {
  const h = await harness(async (root) => {
    await mkdir(path.join(root, 'album', 'nested'), { recursive: true });
    for (let i = 0; i < 200; i += 1) {
      await writeFile(path.join(root, 'album', i % 2 === 0 ? '' : 'nested', `n${i}.txt`), `note number ${i}\n`.repeat(1 + (i % 7)));
    }
  });
  try {
    await rename(path.join(h.root, 'album'), path.join(h.root, 'album-2024'));
    // Generous: on a loaded 2-core CI machine 400 chokidar events plus fingerprints take a while.
    await h.waitFor('200 moves', () => h.changes().filter((c) => c.type === 'moved').length === 200, 40_000);
    await sleep(1000); // past the move window: any stray removal would show now
    const all = h.changes();
    assert.equal(all.length, 200, `only moves expected, got ${JSON.stringify(all.filter((c) => c.type !== 'moved')).slice(0, 500)}`);
    for (const change of all) {
      assert.ok(change.type === 'moved');
      assert.equal(change.from.replace(`${path.sep}album${path.sep}`, `${path.sep}album-2024${path.sep}`), change.path);
    }
    assert.equal(h.store.size, 200);
  } finally {
    await h.done();
  }
});

test('a vanished root is reported missing without removals, and present again when it returns', async () => {
  const h = await harness(async (root) => {
    await mkdir(path.join(root, 'sub'));
    for (let i = 0; i < 20; i += 1) await writeFile(path.join(root, 'sub', `f${i}.txt`), `file ${i}`);
  });
  try {
    await rename(h.root, `${h.root}.away`); // what an unplugged drive looks like from here
    await h.waitFor('root-missing', () => h.events.some((e) => e.type === 'root-missing'));
    assert.equal(h.watcher.state(), 'missing');
    await sleep(1000); // past the move window
    assert.deepEqual(h.changes(), [], 'files of a missing root are not removed');
    assert.equal(h.store.size, 20);

    await rename(`${h.root}.away`, h.root);
    await h.waitFor('root-present', () => h.events.some((e) => e.type === 'root-present'));
    const present = h.events.find((e) => e.type === 'root-present');
    assert.ok(present?.type === 'root-present' && present.rescan === true);
    assert.equal(h.watcher.state(), 'watching');
    await writeFile(path.join(h.root, 'sub', 'new.txt'), 'after the drive came back');
    await h.waitFor('added after return', () => h.changes().some((c) => c.type === 'added'));
    assert.deepEqual(h.events.map((e) => e.type), ['root-missing', 'root-present', 'batch']);
  } finally {
    await h.done();
  }
});

test('a burst of 2,000 new files arrives in few batches', async () => {
  const h = await harness();
  try {
    const dir = path.join(h.root, 'burst');
    await mkdir(dir);
    const names = Array.from({ length: 2000 }, (_, i) => path.join(dir, `f${String(i).padStart(4, '0')}.txt`));
    for (let i = 0; i < names.length; i += 100) await Promise.all(names.slice(i, i + 100).map((name, j) => writeFile(name, `burst file ${i + j}`)));
    await h.waitFor('2,000 adds', () => new Set(h.changes().map((c) => c.path)).size === 2000, 20_000);
    const batches = h.events.filter((e) => e.type === 'batch').length;
    assert.ok(batches <= 100, `${batches} batches for 2,000 files`);
    console.log(`# 2,000-file burst: ${batches} batches`);
    assert.ok(h.changes().every((c) => c.type === 'added'));
    assert.equal(h.changes().length, 2000, 'each file once');
  } finally {
    await h.done();
  }
});

test('a removal waits past its move window while its added half is still on its way', async () => {
  // The added half takes far longer than the move window to come through (as in a storm of
  // thousands of files): the removal must still pair with it, not go out as a removal + an add.
  const h = await harness(
    async (root) => {
      await writeFile(path.join(root, 'doc.txt'), 'a document that gets renamed');
    },
    { moveWindowMs: 100, writeStableMs: 1200, writePollMs: 50 },
  );
  try {
    await rename(path.join(h.root, 'doc.txt'), path.join(h.root, 'doc-renamed.txt'));
    await sleep(400); // well past the 100 ms window, well before the 1.2 s write-stable delay
    assert.deepEqual(h.changes(), [], 'nothing goes out while the addition is settling');
    assert.equal(h.watcher.busy(), true, 'the watcher says changes are still on their way');
    await h.waitFor('the move', () => h.changes().length > 0);
    await h.waitFor('quiet', () => !h.watcher.busy());
    assert.deepEqual(
      h.changes().map((c) => [c.type, path.basename(c.path)]),
      [['moved', 'doc-renamed.txt']],
    );
    assert.deepEqual([...h.store.keys()], [path.join(h.root, 'doc-renamed.txt')]);
  } finally {
    await h.done();
  }
});
