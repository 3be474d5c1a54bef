// `trove index <folder>`: add a folder and index it; with --once, return when done, else keep
// watching it for changes until interrupted.
import { parseArgs } from 'node:util';
import path from 'node:path';
import { stat } from 'node:fs/promises';
import type { IndexingProgress, Root } from '../../contract/common/entities.ts';
import { dispatchApiCall } from '../../contract/common/trove-api.ts';
import { openTroveEngine } from '../../engine/app/node/trove-engine.ts';
import { CliUsageError } from '../cli-error.ts';
import { ENGINE_ARG_OPTIONS, engineOptionsFrom } from '../engine-options.ts';

const HELP = `Usage: trove index <folder> [--once] [--include GLOB]… [--exclude GLOB]… [--data DIR] [--model PKG]

Adds the folder to the library (if it is not there yet) and indexes it. Without --once, keeps
watching for changes until Ctrl-C.`;

export async function runIndex(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...ENGINE_ARG_OPTIONS,
      once: { type: 'boolean' },
      include: { type: 'string', multiple: true },
      exclude: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new CliUsageError('index needs exactly one folder. Example: trove index ~/Pictures --once');
  const folder = path.resolve(positionals[0]!);
  const info = await stat(folder).catch(() => null);
  if (!info?.isDirectory()) throw new CliUsageError(`'${folder}' is not a folder.`);

  const engine = await openTroveEngine(engineOptionsFrom(values, !values.once));
  const live = process.stdout.isTTY;
  const stopProgress = engine.on('indexing.progress', (p) => report(p, live));
  try {
    const roots = (await dispatchApiCall(engine.handlers, 'roots.list', {})) as Root[];
    if (!roots.some((r) => r.path === folder)) {
      await dispatchApiCall(engine.handlers, 'roots.add', { path: folder, include: values.include ?? [], exclude: values.exclude ?? [] });
    }
    await engine.idle();
    const status = (await dispatchApiCall(engine.handlers, 'status.get', {})) as { files: { total: number; indexed: number; failed: number } };
    if (live) process.stdout.write('\n');
    console.log(`indexed ${status.files.indexed} of ${status.files.total} files (${status.files.failed} failed; 'trove status' for details)`);
    if (!values.once) {
      console.log(`watching ${folder} for changes; Ctrl-C to stop`);
      await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
    }
  } finally {
    stopProgress();
    await engine.close();
  }
  return 0;
}

function report(p: IndexingProgress, live: boolean): void {
  const done = p.files.indexed + p.files.failed;
  const eta = p.etaSeconds === null ? '' : `, ${Math.ceil(p.etaSeconds)} s left`;
  const line = `${p.state}: ${done}/${p.files.total} files (${p.files.failed} failed), ${p.rate.toFixed(1)}/s${eta}`;
  if (live) process.stdout.write(`\r${line.padEnd(78)}`);
}
