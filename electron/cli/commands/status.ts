// `trove status`: what is indexed, what failed (and why), what is pending, and which model runs.
import type { FileFailure, FileFailures, Status } from '../../contract/common/entities.ts';
import { dispatchApiCall } from '../../contract/common/trove-api.ts';
import { openTroveEngine } from '../../engine/app/node/trove-engine.ts';
import type { TroveEngine } from '../../engine/app/node/trove-engine-types.ts';
import { defineCommand } from '../command-line.ts';
import { assertChosenModelsLoaded, ENGINE_OPTIONS, prepareEngine } from '../engine-options.ts';

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
    // A snapshot: the library as stored (no scan, no indexing), so an idle library reads 'idle'.
    const engine = await openTroveEngine({ ...prepared.options, snapshot: true });
    try {
      const status = await assertChosenModelsLoaded(engine, prepared);
      const limit = values.failed ? Number.POSITIVE_INFINITY : values.json ? FAILURES_IN_JSON : FAILURES_SHOWN;
      const failures = await failuresUpTo(engine, limit);
      if (values.json) console.log(JSON.stringify({ ...status, failures }));
      else printStatus(status, failures, values.failed === true);
    } finally {
      await engine.close();
    }
    return 0;
  },
});

async function failuresUpTo(engine: TroveEngine, limit: number): Promise<FileFailures> {
  const out: FileFailure[] = [];
  let total = 0;
  for (let offset = 0; out.length < limit; offset += FAILURES_PAGE) {
    const page = (await dispatchApiCall(engine.handlers, 'files.failures', { limit: Math.min(FAILURES_PAGE, limit - out.length), offset })) as FileFailures;
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

function printStatus(s: Status, failures: FileFailures, all: boolean): void {
  const f = s.files;
  console.log(`files    ${f.total} (${f.indexed} indexed, ${f.failed} failed, ${f.pending} pending)`);
  if (s.unreadableFolders.count > 0) {
    console.log(`         ${s.unreadableFolders.count} folder${s.unreadableFolders.count === 1 ? '' : 's'} could not be read (${s.unreadableFolders.files} files in them)`);
  }
  console.log(`items    ${s.items}`);
  console.log(`vectors  ${s.vectors} (ANN ${s.ann.count})`);
  console.log(`model    ${s.model.statement}`);
  console.log(`data     ${s.dataDir}`);
  if (failures.total === 0) return;
  console.log('');
  console.log(`Not indexed (${failures.total}):`);
  for (const failure of failures.failures) console.log(describeFailure(failure));
  const more = failures.total - failures.failures.length;
  if (more > 0 && !all) console.log(`  … and ${more} more: 'trove status --failed' lists them all.`);
  console.log("'trove index --retry-failed' tries them again (a file that changed is retried by itself).");
}
