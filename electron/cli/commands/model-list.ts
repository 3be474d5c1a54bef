// `trove model list`: the catalog (with what this machine should run), the installed packages and
// the task in flight, from the same `models.state` the app's settings show.
import { parseArgs } from 'node:util';
import { dispatchApiCall } from '../../contract/common/trove-api.ts';
import type { ModelsState } from '../../contract/common/model-setup.ts';
import { openTroveEngine } from '../../engine/app/node/trove-engine.ts';
import { ENGINE_ARG_OPTIONS, engineOptionsFrom } from '../engine-options.ts';
import { formatBytes } from '../../contract/common/display-units.ts';

const HELP = `Usage: trove model list [--json] [--data DIR]

The models Trove can download (catalog id, size, memory, precision for this machine), the one
recommended for this machine and why, and the packages installed in the data folder (* = in use).
Install one with 'trove model pull <id>'.`;

export async function runModelList(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { data: ENGINE_ARG_OPTIONS.data, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, strict: true });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const engine = await openTroveEngine(engineOptionsFrom(values, false));
  try {
    const state = (await dispatchApiCall(engine.handlers, 'models.state', {})) as ModelsState;
    if (values.json) console.log(JSON.stringify(state));
    else printModels(state);
  } finally {
    await engine.close();
  }
  return 0;
}

function printModels(state: ModelsState): void {
  const { hardware, recommendation } = state;
  const gpu = hardware.gpus.length ? hardware.gpus.map((g) => `${g.name}${g.memoryBytes ? ` (${formatBytes(g.memoryBytes)})` : ''}`).join(', ') : 'no GPU found';
  console.log(`This machine: ${gpu}; ${formatBytes(hardware.ramBytes)} RAM; runs on ${hardware.executionProvider}${hardware.freeDiskBytes !== null ? `; ${formatBytes(hardware.freeDiskBytes)} free` : ''}.`);
  console.log('');
  console.log('Available (trove model pull <id>):');
  const rows = state.catalog.map((m) => {
    const isRecommended = m.id === recommendation.embedding || m.id === recommendation.reranker;
    // The recommended pair, pulled together, runs at the recommendation's precision (it may be stepped down to fit).
    const precision = isRecommended ? recommendation.precision : (state.fits[m.id]?.precision ?? recommendation.precision);
    const recommended = isRecommended ? 'recommended' : '';
    return [m.id, m.title, formatBytes(m.downloadBytes), `${precision}, needs ${formatBytes(m.memoryBytes[precision] ?? 0)}`, recommended];
  });
  printTable([['id', 'model', 'download', 'runs as', ''], ...rows]);
  console.log(`\n${recommendation.reason}`);
  console.log('');
  if (state.installed.length === 0) console.log('Installed: none yet.');
  else {
    console.log('Installed:');
    printTable(state.installed.map((p) => [p.active ? '*' : ' ', p.id, p.name, p.precision, formatBytes(p.sizeBytes)]));
  }
  if (state.backend.type === 'remote') console.log(`\nUsing the inference server ${state.backend.url}: file contents are sent there.`);
  if (state.switching) console.log(`\nSwitching from ${state.switching.from} to ${state.switching.to}: ${state.switching.done} of ${state.switching.total} items re-embedded.`);
  if (state.task && state.task.phase !== 'done') console.log(`\nSetup: ${state.task.phase} — ${state.task.step}${state.task.error ? `: ${state.task.error}` : ''}`);
  if (state.offline) console.log('\nOffline mode is on: nothing is downloaded.');
  const unfinished = state.downloads.filter((d) => !d.inUse);
  if (unfinished.length > 0) {
    const bytes = unfinished.reduce((sum, d) => sum + d.bytes, 0);
    console.log(`\nUnfinished downloads: ${formatBytes(bytes)} (${unfinished.map((d) => d.repo).join(', ')}); 'trove model pull' of the same model continues them, Settings → Models deletes them.`);
  }
}

function printTable(rows: string[][]): void {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  for (const row of rows) console.log(`  ${row.map((cell, c) => cell.padEnd(widths[c]!)).join('  ')}`.trimEnd());
}
