// `trove status`: what is indexed, what failed, what is pending, and which model runs.
import { parseArgs } from 'node:util';
import { dispatchApiCall } from '../../contract/common/trove-api.ts';
import type { Status } from '../../contract/common/entities.ts';
import { openTroveEngine } from '../../engine/app/node/trove-engine.ts';
import { ENGINE_ARG_OPTIONS, engineOptionsFrom } from '../engine-options.ts';

const HELP = `Usage: trove status [--json] [--data DIR] [--model PKG] [--reranker PKG]

Counts of files (total, indexed, failed, pending), items, vectors and the ANN index, and the
model in use. --json prints { "files": {…}, "items", "vectors", "ann": { "count" }, … }.`;

export async function runStatus(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { ...ENGINE_ARG_OPTIONS, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, strict: true });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const engine = await openTroveEngine(engineOptionsFrom(values, false));
  try {
    const status = (await dispatchApiCall(engine.handlers, 'status.get', {})) as Status;
    if (values.json) console.log(JSON.stringify(status));
    else printStatus(status);
  } finally {
    await engine.close();
  }
  return 0;
}

function printStatus(s: Status): void {
  const f = s.files;
  console.log(`files    ${f.total} (${f.indexed} indexed, ${f.failed} failed, ${f.pending} pending)`);
  console.log(`items    ${s.items}`);
  console.log(`vectors  ${s.vectors} (ANN ${s.ann.count})`);
  console.log(`model    ${s.model.statement}`);
  console.log(`data     ${s.dataDir}`);
}
