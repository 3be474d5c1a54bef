// Child process for kill-safety.test.ts: opens the engine on a data folder (tiny embedding model,
// no watcher), adds the library root if it is not there yet and indexes it. `until-killed` waits
// for the parent's SIGKILL (also after finishing, so a kill may land at any moment); `complete`
// closes cleanly once idle and exits; `retry:<id>,<id>…` also retries those failed files
// (`files.retry`, as the app's Retry does) once idle, indexes them, and exits. Every embed call is reported on stdout before it starts
// (written synchronously, so the parent sees every call that could have done work before a kill).
import { writeSync } from 'node:fs';
import { dispatchApiCall } from '../../../electron/contract/common/trove-api.ts';
import type { Root } from '../../../electron/contract/common/entities.ts';
import { openTroveEngine } from '../../../electron/engine/app/node/trove-engine.ts';

const [dataDir, library, embeddingPackage, mode] = process.argv.slice(2);
if (!dataDir || !library || !embeddingPackage || (mode !== 'until-killed' && mode !== 'complete' && !mode?.startsWith('retry:'))) {
  throw new Error('usage: kill-indexer-child.ts <data-dir> <library> <embedding-package> until-killed|complete|retry:<file ids>');
}
process.env.TROVE_EP = 'cpu';
const report = (line: string): void => void writeSync(1, `${line}\n`);

const engine = await openTroveEngine(
  { dataDir, embeddingModel: embeddingPackage, rerankerModel: null, watch: false },
  { observeModelCalls: (call, inputs) => call === 'embed' && report(`embed ${inputs}`) },
);
const roots = (await dispatchApiCall(engine.handlers, 'roots.list', {})) as Root[];
if (!roots.some((r) => r.path === library)) await dispatchApiCall(engine.handlers, 'roots.add', { path: library });
report('ready');
await engine.idle();
report('idle');
if (mode.startsWith('retry:')) {
  const fileIds = mode.slice('retry:'.length).split(',').map(Number);
  const { queued } = (await dispatchApiCall(engine.handlers, 'files.retry', { fileIds })) as { queued: number };
  report(`retried ${queued}`);
  await engine.idle();
  await engine.close();
  report('closed');
} else if (mode === 'complete') {
  await engine.close();
  report('closed');
} else {
  // Keep the process (and its engine) alive until killed: a kill after the work is done is a case too.
  setInterval(() => undefined, 60_000);
}
