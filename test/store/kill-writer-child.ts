// Child process for kill-safety.test.ts: indexes, re-indexes, moves and removes files in a loop
// (with the ANN index kept up to date and saved now and then) until it is SIGKILLed.
import path from 'node:path';
import { Store } from '../../electron/engine/store/node/store.ts';
import { randomInt8Vector, seededRandom } from './store-fixtures.ts';
import { KILL_TEST_DIMS, KILL_TEST_PARAMS } from './kill-test-params.ts';

const [dataDir, seedArg] = process.argv.slice(2);
if (!dataDir) throw new Error('usage: kill-writer-child.ts <data-dir> <seed>');
const rand = seededRandom(Number(seedArg ?? 1));
const store = Store.open(dataDir);
const model = store.vectors.ensureModel({ name: 'tiny', packagePath: '/m', manifestSha: 'kill-test', dims: KILL_TEST_DIMS });
const root = store.roots.byPath('/kill-root') ?? store.roots.add({ path: '/kill-root' });
const ann = store.ann(model.id, KILL_TEST_PARAMS);
process.stdout.write(`ready ${ann.openReport.action}\n`);

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
}
