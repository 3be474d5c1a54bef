// Child process for kill-safety.test.ts: indexes, re-indexes, moves and removes files in a loop
// (with the ANN index kept up to date in its workers and saved in the background now and then)
// until it is SIGKILLed. It prints a line when it sees its ANN workers start a background save
// ('saving') or a rebuild without deletion marks ('compacting'), so the test can kill right then.
// Mode 'compact': first removes a third of the files and saves, which starts a compaction.
import path from 'node:path';
import { setImmediate as turn } from 'node:timers/promises';
import { Store } from '../../../electron/engine/store/node/store.ts';
import { randomInt8Vector, seededRandom } from './store-fixtures.ts';
import { KILL_TEST_DIMS, KILL_TEST_PARAMS, KILL_TEST_TUNING } from './kill-test-params.ts';

const [dataDir, seedArg, mode] = process.argv.slice(2);
if (!dataDir) throw new Error('usage: kill-writer-child.ts <data-dir> <seed> [random|compact]');
const rand = seededRandom(Number(seedArg ?? 1));
const store = Store.open(dataDir);
const model = store.vectors.ensureModel({ name: 'tiny', packagePath: '/m', manifestSha: 'kill-test', dims: KILL_TEST_DIMS });
const root = store.roots.byPath('/kill-root') ?? store.roots.add({ path: '/kill-root' });
const ann = store.ann(model.id, KILL_TEST_PARAMS, KILL_TEST_TUNING);
await ann.whenReady();
process.stdout.write(`ready ${ann.openReports.map((r) => r?.action).join('/')}\n`);

let seen = '';
const watch = (): void => {
  const now = ann.state === 'compacting' ? 'compacting' : ann.saving ? 'saving' : '';
  if (now && now !== seen) process.stdout.write(`${now}\n`);
  seen = now;
};

if (mode === 'compact') {
  const ids = store.db.prepare('SELECT id FROM files ORDER BY random()').pluck().all() as number[];
  for (const id of ids.slice(0, Math.ceil(ids.length / 3))) store.forgetLabels(store.files.remove(id));
  store.saveAnn();
}

let n = 0;
for (;;) {
  n++;
  const op = rand();
  if (op < 0.65) {
    const name = `f-${process.pid}-${n}.txt`;
    const fp = `fp-${process.pid}-${n}`;
    const f = store.files.upsertScanned({ rootId: root.id, path: path.posix.join('/kill-root', name), size: n, mtimeMs: n, kind: 'text', fingerprint: fp }).file;
    const items = Array.from({ length: 1 + Math.floor(rand() * 3) }, (_, i) => ({
      kind: 'text' as const,
      locator: { type: 'text' as const, start: i * 10, end: i * 10 + 10, snippet: '' },
      text: `chunk ${i} of ${name} harbour`,
      date: n,
      thumbnail: { mime: 'image/webp', width: 2, height: 2, bytes: new Uint8Array(64).fill(i) },
      vector: randomInt8Vector(KILL_TEST_DIMS, rand),
    }));
    if (rand() < 0.3) store.staging.stageExtracted(f.id, fp, items);
    store.commitIndexedFile({ fileId: f.id, modelId: model.id, fingerprint: fp, items });
  } else {
    const pick = store.db.prepare<{ id: number; path: string }>('SELECT id, path FROM files ORDER BY random() LIMIT 1').get();
    if (!pick) continue;
    if (op < 0.8) {
      store.forgetLabels(store.files.remove(pick.id));
    } else if (op < 0.9) {
      store.files.move(pick.id, `${pick.path}.moved${n}`);
    } else {
      store.commitIndexedFile({
        fileId: pick.id,
        modelId: model.id,
        items: [{ kind: 'text', locator: { type: 'whole' }, text: 'rewritten', date: n, vector: randomInt8Vector(KILL_TEST_DIMS, rand) }],
      });
    }
  }
  if (n % 40 === 0) store.saveAnn();
  // A turn of the event loop now and then: the workers' state messages arrive (as in the engine).
  if (n % 4 === 0) {
    await turn();
    watch();
  }
}
