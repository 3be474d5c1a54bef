// `trove status`: what is indexed, what failed (and why), what is pending, and which model runs.
// While another Trove holds the library (the app, `trove serve`), a read-only look at its counts
// and failures instead (engine/app/node/library-glance.ts).
import { hostname } from 'node:os';
import type { FileFailure, FileFailures, Status } from '../../../contract/common/entities.ts';
import { dispatchApiCall } from '../../../contract/common/trove-api.ts';
import { glanceAtLibrary, type LibraryGlance } from '../../../engine/app/node/library-glance.ts';
import { openTroveEngine } from '../../../engine/app/node/trove-engine.ts';
import { dataDirHolder, type LockOwner } from '../../../engine/store/node/data-dir.ts';
import { defineCommand } from '../command-line/command-line.ts';
import { assertChosenModelsLoaded, ENGINE_OPTIONS, prepareEngine } from './engine-options.ts';

/** Failures shown without --failed (the rest are counted). */
export const FAILURES_SHOWN = 5;
/** Failures in --json without --failed. */
const FAILURES_IN_JSON = 20;
const FAILURES_PAGE = 1000;

export const statusCommand = defineCommand({
  name: 'status',
  summary: 'Files indexed, failed (and why) and pending; items, vectors, the model in use.',
  usage: '[options]',
  description:
    'Counts of files (total, indexed, failed, pending), items, vectors and the ANN index, the model in\n' +
    `use, and the files that are not indexed with the reason (the first ${FAILURES_SHOWN}; --failed: all).\n` +
    'Reads the library; never creates one.',
  options: {
    ...ENGINE_OPTIONS,
    failed: { type: 'boolean', help: 'list every file that is not indexed, with the reason' },
    json: { type: 'boolean', help: 'print the status as one JSON object (docs/cli.md)' },
  },
  footer: `--json prints status.get's object plus "failures": { "total", "failures": [{ "path", "reason", … }] }\n(the first ${FAILURES_IN_JSON}; with --failed, all). Shapes: docs/cli.md.`,
  async run({ values }) {
    const prepared = await prepareEngine(values, { watch: false, readOnly: true });
    const limit = values.failed ? Number.POSITIVE_INFINITY : values.json ? FAILURES_IN_JSON : FAILURES_SHOWN;
    // The app, `trove serve` or `trove index` holds the library: a read-only look, without its lock.
    const heldBy = dataDirHolder(prepared.options.dataDir);
    if (heldBy !== null) {
      const glancer = glanceAtLibrary(prepared.options.dataDir, heldBy);
      try {
        const glance = glancer.glance();
        const failures = await failuresUpTo((page) => glancer.failures(page.limit, page.offset), limit);
        if (values.json) console.log(JSON.stringify({ ...glance, failures }));
        else printGlance(glance, failures, values.failed === true);
      } finally {
        glancer.close();
      }
      return 0;
    }
    // A snapshot: the library as stored (no scan, no indexing), so an idle library reads 'idle'.
    const engine = await openTroveEngine({ ...prepared.options, snapshot: true });
    try {
      const status = await assertChosenModelsLoaded(engine, prepared);
      const failures = await failuresUpTo((page) => dispatchApiCall(engine.handlers, 'files.failures', page) as Promise<FileFailures>, limit);
      if (values.json) console.log(JSON.stringify({ ...status, failures }));
      else printStatus(status, failures, values.failed === true);
    } finally {
      await engine.close();
    }
    return 0;
  },
});

async function failuresUpTo(read: (page: { limit: number; offset: number }) => FileFailures | Promise<FileFailures>, limit: number): Promise<FileFailures> {
  const out: FileFailure[] = [];
  let total = 0;
  for (let offset = 0; out.length < limit; offset += FAILURES_PAGE) {
    const page = await read({ limit: Math.min(FAILURES_PAGE, limit - out.length), offset });
    total = page.total;
    out.push(...page.failures);
    if (page.failures.length === 0 || out.length >= total) break;
  }
  return { total, failures: out };
}

function describeFailure(f: FileFailure): string {
  const what = f.what === 'folder' ? ` (folder${f.files !== null ? `, ${f.files} file${f.files === 1 ? '' : 's'}` : ''})` : '';
  return `  ${f.path}${what}\n      ${f.reason}`;
}

function printCounts(f: Status['files'], unreadable: Status['unreadableFolders'], items: number): void {
  console.log(`files    ${f.total} (${f.indexed} indexed, ${f.failed} failed, ${f.pending} pending)`);
  if (unreadable.count > 0) {
    console.log(`         ${unreadable.count} folder${unreadable.count === 1 ? '' : 's'} could not be read (${unreadable.files} files in them)`);
  }
  console.log(`items    ${items}`);
}

function printFailures(failures: FileFailures, all: boolean): void {
  if (failures.total === 0) return;
  console.log('');
  console.log(`Not indexed (${failures.total}):`);
  for (const failure of failures.failures) console.log(describeFailure(failure));
  const more = failures.total - failures.failures.length;
  if (more > 0 && !all) console.log(`  … and ${more} more: 'trove status --failed' lists them all.`);
}

function printStatus(s: Status, failures: FileFailures, all: boolean): void {
  printCounts(s.files, s.unreadableFolders, s.items);
  console.log(`vectors  ${s.vectors} (ANN ${s.ann.count})`);
  console.log(`model    ${s.model.statement}`);
  console.log(`data     ${s.dataDir}`);
  printFailures(failures, all);
  if (failures.total > 0) console.log("'trove index --retry-failed' tries them again (a file that changed is retried by itself).");
}

/** Who holds the library, in words: "Trove (process 4242, running since 14:02)". */
export function holderWords(holder: LockOwner, now = Date.now()): string {
  const here = holder.host === hostname() ? '' : ` on ${holder.host}`;
  if (holder.since <= 0) return `another Trove (process ${holder.pid}${here})`;
  const since = new Date(holder.since);
  const sameDay = new Date(now).toDateString() === since.toDateString();
  const time = since.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' });
  return `another Trove (process ${holder.pid}${here}, running since ${sameDay ? time : `${since.toLocaleDateString('en-CA')} ${time}`})`;
}

function printGlance(g: LibraryGlance, failures: FileFailures, all: boolean): void {
  console.log(`The library is open in ${holderWords(g.heldBy)}, so this is a read-only look: the counts may be moving while it works.`);
  console.log('');
  printCounts(g.files, g.unreadableFolders, g.items);
  const vectors = g.vectorsByModel.map((m) => `${m.vectors} (${m.name})`).join(', ');
  console.log(`vectors  ${vectors || '0'}`);
  console.log(`model    The one that Trove runs; its Settings say which (or 'trove status' once it has stopped).`);
  console.log(`data     ${g.dataDir}`);
  printFailures(failures, all);
  if (failures.total > 0) console.log("Retry them from that Trove (Indexing → Retry all), or with 'trove index --retry-failed' once it has stopped.");
}
