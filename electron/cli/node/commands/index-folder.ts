// `trove index <folder>`: add a folder and index it; with --once, return when done, else keep
// watching it for changes until interrupted. --retry-failed first puts the files that failed
// before back in the queue.
import path from 'node:path';
import { homedir } from 'node:os';
import { realpath, stat } from 'node:fs/promises';
import type { FileFailures, Root, Status } from '../../../contract/common/entities.ts';
import { dispatchApiCall } from '../../../contract/common/trove-api.ts';
import { openTroveEngine } from '../../../engine/app/node/trove-engine.ts';
import type { TroveEngine } from '../../../engine/app/node/trove-engine-types.ts';
import { CliUsageError } from '../command-line/cli-error.ts';
import { defineCommand } from '../command-line/command-line.ts';
import { assertChosenModelsLoaded, ENGINE_OPTIONS, prepareEngine } from './engine-options.ts';
import { IndexProgressPrinter } from './index-progress.ts';

/** files.failures pages and files.retry batches (the API's largest). */
const FAILURES_PAGE = 1000;
const RETRY_BATCH = 10_000;

/** `~` and `~/x` as the shell would expand them (a quoted '~/Pictures' reaches us unexpanded). */
function expandHome(folder: string): string {
  return folder === '~' || folder.startsWith('~/') ? path.join(homedir(), folder.slice(1)) : folder;
}

export const indexCommand = defineCommand({
  name: 'index',
  summary: 'Add a folder to the library and index it (--once: return when done; else keep watching).',
  usage: '<folder> [options]',
  description:
    'Adds the folder to the library (if it is not there yet; the library is created with the first\n' +
    'folder) and indexes it. Without --once, keeps watching for changes until Ctrl-C. Progress goes\n' +
    'to stderr: one updating line on a terminal, else a line every few seconds.\n' +
    'With --retry-failed, the files that failed before (in that folder; without a folder, in every\n' +
    'folder) are indexed again first.',
  positionals: true,
  options: {
    ...ENGINE_OPTIONS,
    once: { type: 'boolean', help: 'return when nothing is pending instead of watching' },
    include: { type: 'string', multiple: true, value: 'GLOB', help: 'index only files matching GLOB (when the folder is added)' },
    exclude: { type: 'string', multiple: true, value: 'GLOB', help: 'skip files matching GLOB (when the folder is added)' },
    'retry-failed': { type: 'boolean', help: "index the files that failed before again ('trove status' lists them)" },
  },
  async run({ values, positionals }) {
    if (positionals.length > 1) throw new CliUsageError(`index takes one folder, got ${positionals.length}: ${positionals.join(' ')}. Index them one at a time.`);
    if (positionals.length === 0 && !values['retry-failed']) throw new CliUsageError('index needs the folder to index. Example: trove index ~/Pictures --once');
    // Without a folder, --retry-failed retries every folder's failures once and returns.
    // By its real path, as the engine stores roots: a folder given through a link is the folder it leads to.
    const typed = positionals.length === 1 ? path.resolve(expandHome(positionals[0]!)) : null;
    const folder = typed === null ? null : await realpath(typed).catch(() => typed);
    if (folder !== null) {
      const info = await stat(folder).catch(() => null);
      if (info === null) throw new CliUsageError(`${folder} does not exist.`);
      if (!info.isDirectory()) throw new CliUsageError(`${folder} is a file; index the folder that holds it.`);
    }
    const once = values.once === true || folder === null;

    const prepared = await prepareEngine(values, { watch: !once, readOnly: folder === null });
    const engine = await openTroveEngine(prepared.options);
    const progress = new IndexProgressPrinter(process.stderr);
    const stopProgress = engine.on('indexing.progress', (p) => progress.update(p));
    try {
      await assertChosenModelsLoaded(engine, prepared);
      if (folder !== null) {
        const roots = (await dispatchApiCall(engine.handlers, 'roots.list', {})) as Root[];
        if (!roots.some((r) => r.path === folder)) {
          await dispatchApiCall(engine.handlers, 'roots.add', { path: folder, include: values.include ?? [], exclude: values.exclude ?? [] });
        } else if (values.include || values.exclude) {
          console.error(`trove: ${folder} is already in the library; its include and exclude patterns stay as they were.`);
        }
      }
      if (values['retry-failed']) {
        const queued = await retryFailed(engine, folder);
        console.error(queued === 0 ? `No failed files to retry${folder ? ` in ${folder}` : ''}.` : `Retrying ${queued} failed file${queued === 1 ? '' : 's'}.`);
      }
      await engine.idle();
      progress.end();
      const status = (await dispatchApiCall(engine.handlers, 'status.get', {})) as Status;
      const f = status.files;
      const failed = f.failed > 0 ? `${f.failed} failed: 'trove status --failed' lists them with the reason` : '0 failed';
      console.log(`indexed ${f.indexed} of ${f.total} files (${failed})`);
      if (status.model.embedding === null) {
        console.log("No embedding model in use: files are searchable by name, path and text only. 'trove model pull' sets one up; --model PKG uses a package for one run.");
      }
      if (!once) {
        console.log(`watching ${folder} for changes; Ctrl-C to stop`);
        await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
      }
    } finally {
      stopProgress();
      progress.end();
      await engine.close();
    }
    return 0;
  },
});

/** Puts failed files back in the queue: those under `folder`, or all of them. Returns how many. */
async function retryFailed(engine: TroveEngine, folder: string | null): Promise<number> {
  if (folder === null) return ((await dispatchApiCall(engine.handlers, 'files.retry', {})) as { queued: number }).queued;
  const inside = (file: string) => {
    const rel = path.relative(folder, file);
    return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
  };
  const fileIds: number[] = [];
  for (let offset = 0; ; offset += FAILURES_PAGE) {
    const page = (await dispatchApiCall(engine.handlers, 'files.failures', { limit: FAILURES_PAGE, offset })) as FileFailures;
    for (const failure of page.failures) if (failure.fileId !== null && inside(failure.path)) fileIds.push(failure.fileId);
    if (page.failures.length < FAILURES_PAGE) break;
  }
  let queued = 0;
  for (let i = 0; i < fileIds.length; i += RETRY_BATCH) {
    queued += ((await dispatchApiCall(engine.handlers, 'files.retry', { fileIds: fileIds.slice(i, i + RETRY_BATCH) })) as { queued: number }).queued;
  }
  return queued;
}
