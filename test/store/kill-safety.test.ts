// SIGKILL a writer at random moments, several times over one data folder; after each kill the
// store must reopen consistent: integrity ok, no orphans, keyword rows = items, and the ANN index
// (verified, caught up, repaired or rebuilt) holding exactly the live vector rows.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Store } from '../../electron/engine/store/node/store.ts';
import { consistencyProblems, dequantise, seededRandom, tempDir } from './store-fixtures.ts';
import { KILL_TEST_PARAMS } from './kill-test-params.ts';

const CHILD = fileURLToPath(new URL('./kill-writer-child.ts', import.meta.url));
const ROUNDS = 6;

function runAndKill(dataDir: string, seed: number, afterReadyMs: number): Promise<{ ready: string; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dataDir, String(seed)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let stderr = '';
    let ready = '';
    const guard = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the writer never became ready: ${stderr}`));
    }, 20000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!ready && out.includes('\n')) {
        ready = out.split('\n')[0]!;
        setTimeout(() => child.kill('SIGKILL'), afterReadyMs);
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (_code, signal) => {
      clearTimeout(guard);
      resolve({ ready, signal, stderr });
    });
  });
}

describe('kill safety', () => {
  it(`stays consistent after ${ROUNDS} SIGKILLs at random moments`, async () => {
    const { dir, cleanup } = tempDir('kill');
    const rand = seededRandom(Date.now() % 100000);
    const log: string[] = [];
    try {
      const dataDir = path.join(dir, 'data');
      for (let round = 0; round < ROUNDS; round++) {
        const wait = 150 + Math.floor(rand() * 1200);
        const run = await runAndKill(dataDir, round + 1, wait);
        assert.equal(run.signal, 'SIGKILL', `the writer died on its own instead of being killed: ${run.stderr}`);
        const store = Store.open(dataDir);
        try {
          assert.deepEqual(consistencyProblems(store.db), [], `after kill ${round + 1}`);
          // The writer embeds every item it commits, so an item without a vector is a torn commit.
          const unembedded = store.db.prepare('SELECT count(*) FROM items WHERE id NOT IN (SELECT item_id FROM vectors)').pluck().get();
          assert.equal(unembedded, 0, `items without a vector after kill ${round + 1}`);
          const model = store.vectors.models()[0]!;
          const ann = store.ann(model.id, KILL_TEST_PARAMS);
          const rows = store.vectors.count(model.id);
          assert.equal(ann.count, rows, `ANN count after kill ${round + 1} (${ann.openReport.action}: ${ann.openReport.reason})`);
          // Every live vector is findable as itself (spot check).
          const sample = store.db.prepare<{ item_id: number }>('SELECT item_id FROM vectors ORDER BY random() LIMIT 5').all();
          const stored = store.vectors.byItemIds(model.id, sample.map((s) => s.item_id));
          for (const v of stored.values()) assert.equal(ann.search(dequantise(v), 1)[0]!.label, v.label);
          const files = store.db.prepare('SELECT count(*) FROM files').pluck().get();
          log.push(`kill ${round + 1} after ${wait} ms: ${files} files, ${rows} vectors, ANN ${ann.openReport.action}${ann.openReport.reason ? ` (${ann.openReport.reason})` : ''}`);
        } finally {
          store.close();
        }
      }
      console.log(log.join('\n'));
    } finally {
      cleanup();
    }
  });
});
