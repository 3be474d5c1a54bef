// SIGKILL a writer at random moments, several times over one data folder; after each kill the
// store must reopen consistent: integrity ok, no orphans, keyword rows = items, kept counts = a
// recount, and the ANN index (verified, caught up, repaired or rebuilt in its workers) holding
// exactly the live vector rows. Two kills are aimed: one the moment the writer sees its ANN workers
// saving in the background, one the moment they compact (rebuild without deletion marks) beside
// the serving index.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Store } from '../../../electron/engine/store/node/store.ts';
import { consistencyProblems, dequantise, seededRandom, tempDir } from './store-fixtures.ts';
import { KILL_TEST_PARAMS, KILL_TEST_TUNING } from './kill-test-params.ts';

const CHILD = fileURLToPath(new URL('./kill-writer-child.ts', import.meta.url));

interface Round {
  readonly mode: 'random' | 'compact';
  /** Kill when the child prints this line (else at `afterReadyMs`). */
  readonly killOn?: 'saving' | 'compacting';
  readonly afterReadyMs: number;
}

function runAndKill(dataDir: string, seed: number, round: Round): Promise<{ ready: string; signal: NodeJS.Signals | null; stderr: string; killedOn: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dataDir, String(seed), round.mode], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let stderr = '';
    let ready = '';
    let killedOn = `${round.afterReadyMs} ms after ready`;
    const guard = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the writer never became ready: ${stderr}`));
    }, 60000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const lines = out.split('\n');
      if (!ready && lines.length > 1) {
        ready = lines[0]!;
        setTimeout(() => child.kill('SIGKILL'), round.afterReadyMs);
      }
      if (round.killOn && lines.slice(1).includes(round.killOn) && child.exitCode === null) {
        killedOn = `when its workers were ${round.killOn}`;
        child.kill('SIGKILL');
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (_code, signal) => {
      clearTimeout(guard);
      resolve({ ready, signal, stderr, killedOn });
    });
  });
}

describe('kill safety', () => {
  it('stays consistent after 8 SIGKILLs, two of them during a background ANN save and rebuild', async () => {
    const { dir, cleanup } = tempDir('kill');
    const rand = seededRandom(Date.now() % 100000);
    const rounds: Round[] = [
      { mode: 'random', afterReadyMs: 600 },
      { mode: 'random', killOn: 'saving', afterReadyMs: 5000 },
      { mode: 'compact', killOn: 'compacting', afterReadyMs: 5000 },
      ...Array.from({ length: 5 }, (): Round => ({ mode: 'random', afterReadyMs: 150 + Math.floor(rand() * 1200) })),
    ];
    const log: string[] = [];
    try {
      const dataDir = path.join(dir, 'data');
      for (const [i, round] of rounds.entries()) {
        const run = await runAndKill(dataDir, i + 1, round);
        assert.equal(run.signal, 'SIGKILL', `the writer died on its own instead of being killed: ${run.stderr}`);
        const store = Store.open(dataDir);
        try {
          assert.deepEqual(consistencyProblems(store.db), [], `after kill ${i + 1}`);
          // The writer embeds every item it commits, so an item without a vector is a torn commit.
          const unembedded = store.db.prepare('SELECT count(*) FROM items WHERE id NOT IN (SELECT item_id FROM vectors)').pluck().get();
          assert.equal(unembedded, 0, `items without a vector after kill ${i + 1}`);
          const model = store.vectors.models()[0]!;
          const ann = store.ann(model.id, KILL_TEST_PARAMS, KILL_TEST_TUNING);
          await ann.whenReady();
          await ann.settled();
          const rows = store.vectors.count(model.id);
          const opened = ann.openReports.map((r) => `${r?.action}${r?.reason ? ` (${r.reason})` : ''}`).join('; ');
          assert.equal(ann.count, rows, `ANN count after kill ${i + 1} (${opened})`);
          // Every live vector is findable as itself (spot check).
          const sample = store.db.prepare<{ item_id: number }>('SELECT item_id FROM vectors ORDER BY random() LIMIT 5').all();
          const stored = store.vectors.byItemIds(model.id, sample.map((s) => s.item_id));
          for (const v of stored.values()) assert.equal((await ann.search(dequantise(v), 1))![0]!.label, v.label);
          const files = store.db.prepare('SELECT count(*) FROM files').pluck().get();
          log.push(`kill ${i + 1} (${round.mode}) ${run.killedOn}: ${files} files, ${rows} vectors, ANN shards ${opened}`);
          await store.closeAnn();
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
