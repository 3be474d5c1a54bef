// Child process for indexer-attempts.test.ts: indexes a data folder's pending files (no model)
// with an extractor that never returns for files named `crash-*`, saying on stdout which file it
// started, so the parent can SIGKILL it there, as a decoder crash would end the engine. Prints
// `idle` when the queue is empty.
import { writeSync } from 'node:fs';
import path from 'node:path';
import { prepareFile } from '../../../electron/engine/jobs/node/file-items.ts';
import { Indexer } from '../../../electron/engine/jobs/node/indexer.ts';
import { Store } from '../../../electron/engine/store/node/store.ts';

const [dataDir] = process.argv.slice(2);
if (!dataDir) throw new Error('usage: indexer-attempts-child.ts <data-dir>');
const report = (line: string): void => void writeSync(1, `${line}\n`);

const store = Store.open(dataDir);
let started = false;
const indexer: Indexer = new Indexer({
  store,
  models: { embedder: null, embed: () => Promise.reject(new Error('no model here')) },
  fileTimeoutMs: 600_000,
  extract: (file, tokenizer, options) => {
    const name = path.basename(file.path);
    report(`extracting ${name}`);
    return name.startsWith('crash-') ? new Promise(() => undefined) : prepareFile(file, tokenizer, options);
  },
  onRound: () => undefined,
  onActivity: () => {
    if (started && !indexer.busy) {
      report('idle');
      store.close();
      process.exit(0);
    }
  },
});
indexer.wake();
started = true;
