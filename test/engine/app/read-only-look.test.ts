// `trove status` and `trove search` look at the library through a snapshot engine, which must write
// nothing to it: with a model the library has never used (`trove status --model NEW`) no model row
// is added and no index is saved, and with the library's own model nothing is saved either (the
// ANN index it catches up lives in memory). The data folder is byte for byte as it was, with no
// -wal or -shm file left behind.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { SearchResponse, Status } from '../../../electron/contract/common/entities.ts';
import { dispatchApiCall } from '../../../electron/contract/common/trove-api.ts';
import { openTroveEngine } from '../../../electron/engine/app/node/trove-engine.ts';
import { MANIFEST_FILE } from '../../../electron/engine/inference/node/runtime/model-package.ts';
import { buildTinyPackage } from '../../support/tiny-package.ts';

process.env.TROVE_EP = 'cpu';
let dir = '';
let modelA = '';
let modelB = '';
let library = '';

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'trove-read-only-look-'));
  ({ packageDir: modelA } = await buildTinyPackage(dir, 'embedding'));
  // Another package of the same kind: the same weights under another manifest, so another model.
  modelB = path.join(dir, 'embedding-package-b');
  await cp(modelA, modelB, { recursive: true });
  const manifest = JSON.parse(await readFile(path.join(modelB, MANIFEST_FILE), 'utf8')) as { source: Record<string, unknown> };
  manifest.source = { ...manifest.source, revision: 'another-revision' };
  await writeFile(path.join(modelB, MANIFEST_FILE), JSON.stringify(manifest, null, 2));
  library = path.join(dir, 'library');
  await mkdir(library);
  for (let i = 0; i < 6; i++) await writeFile(path.join(library, `note-${i}.md`), `# Note ${i}\n\nThe harbour ferry leaves at ${i + 6} o'clock.\n`);
});
after(() => rm(dir, { recursive: true, force: true }));

/** Every file of the data folder with its size and content hash. */
function folderState(dataDir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dataDir, { recursive: true }).map(String).sort()) {
    const file = path.join(dataDir, name);
    if (statSync(file).isFile()) out[name] = `${statSync(file).size} ${createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 16)}`;
  }
  return out;
}

test('a snapshot engine (trove status, trove search) writes nothing to the library, whatever model it is given', async () => {
  const dataDir = path.join(dir, 'data');
  const engine = await openTroveEngine({ dataDir, embeddingModel: modelA });
  try {
    await dispatchApiCall(engine.handlers, 'roots.add', { path: library });
    await engine.idle();
  } finally {
    await engine.close();
  }
  const before = folderState(dataDir);
  assert.ok(Object.keys(before).some((n) => n.startsWith('ann/')), 'the index was saved by the engine that built it');

  // `trove status --model NEW`: the new model is named, it has no vectors yet, and no row is added for it.
  const withNew = await openTroveEngine({ dataDir, embeddingModel: modelB, snapshot: true });
  try {
    const status = (await dispatchApiCall(withNew.handlers, 'status.get', {})) as Status;
    assert.equal(status.vectors, 0, 'the new model has no vectors');
    assert.equal(status.ann.count, 0);
    assert.ok(status.model.embedding !== null, 'the new model loaded');
    assert.match(status.model.statement, /also holds 6 vectors from/, "the library's own vectors are named as not in use");
    const found = (await dispatchApiCall(withNew.handlers, 'search.run', { text: 'harbour', limit: 10 })) as SearchResponse;
    assert.equal(found.results.length, 6, 'keyword search still finds the notes');
  } finally {
    await withNew.close();
  }
  assert.deepEqual(folderState(dataDir), before, 'status with a new model wrote nothing');

  // `trove status` / `trove search` with the library's own model.
  const withOwn = await openTroveEngine({ dataDir, embeddingModel: modelA, snapshot: true });
  try {
    const status = (await dispatchApiCall(withOwn.handlers, 'status.get', {})) as Status;
    assert.equal(status.vectors, 6);
    const found = (await dispatchApiCall(withOwn.handlers, 'search.run', { text: 'ferry', limit: 10 })) as SearchResponse;
    assert.equal(found.results.length, 6);
  } finally {
    await withOwn.close();
  }
  assert.deepEqual(folderState(dataDir), before, 'status and search with the library model wrote nothing');
});
