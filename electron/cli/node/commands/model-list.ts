// `trove model list`: the catalog (with what this machine should run), the installed packages and
// the task in flight, from the same `models.state` the app's settings show.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { dispatchApiCall } from '../../../contract/common/trove-api.ts';
import type { ModelsState } from '../../../contract/common/model-setup.ts';
import { openTroveEngine } from '../../../engine/app/node/trove-engine.ts';
import { modelsLayout } from '../../../engine/model-setup/node/model-settings.ts';
import { defineCommand } from '../command-line/command-line.ts';
import { DATA_OPTION, dataDirFrom, libraryAt } from './engine-options.ts';
import { formatBytes } from '../../../contract/common/display-units.ts';

/**
 * An empty stand-in data folder on the same disk as `dataDir` would be (the free space the
 * recommendation weighs is measured there): beside its nearest existing parent, else in tmpdir.
 */
function standInDataDir(dataDir: string): string {
  let parent = path.dirname(dataDir);
  while (!existsSync(parent) && path.dirname(parent) !== parent) parent = path.dirname(parent);
  for (const base of [parent, tmpdir()]) {
    try {
      return mkdtempSync(path.join(base, '.trove-model-list-'));
    } catch {
      // not writable: try the next place
    }
  }
  return mkdtempSync(path.join(tmpdir(), 'trove-model-list-'));
}

export const modelListCommand = defineCommand({
  name: 'model list',
  summary: 'The models Trove can download, the one recommended for this machine, and those installed.',
  usage: '[--json] [--data DIR]',
  description:
    'The models Trove can download (catalog id, size, memory, precision for this machine), the one\n' +
    'recommended for this machine and why, and the packages installed in the data folder (* = in use).\n' +
    "Install one with 'trove model pull <id>'. Reads the data folder; never creates one.",
  options: {
    ...DATA_OPTION,
    json: { type: 'boolean', help: 'print the models.state object of docs/api.md' },
  },
  async run({ values }) {
    const dataDir = dataDirFrom(values);
    // A data folder that holds no library (nor models) is not created: the catalog and the
    // recommendation are read through an empty stand-in, removed afterwards.
    const existing = libraryAt(dataDir) === 'library' || existsSync(modelsLayout(dataDir).root);
    const openDir = existing ? dataDir : standInDataDir(dataDir);
    try {
      const engine = await openTroveEngine({ dataDir: openDir, watch: false, snapshot: true });
      try {
        const state = (await dispatchApiCall(engine.handlers, 'models.state', {})) as ModelsState;
        if (values.json) console.log(JSON.stringify(state));
        else printModels(state);
        if (!existing && !values.json) console.log(`\nThere is no Trove library at ${dataDir} yet, so nothing is installed there.`);
      } finally {
        await engine.close();
      }
    } finally {
      if (!existing) rmSync(openDir, { recursive: true, force: true });
    }
    return 0;
  },
});

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
    const updating = state.task?.purpose === 'update' && !['done', 'failed', 'cancelled'].includes(state.task.phase) ? state.task.models : [];
    printTable(
      state.installed.map((p) => {
        const update = !p.outdated ? '' : p.catalogId !== null && updating.includes(p.catalogId) ? 'updating now' : p.outdated.checkpointOnDisk ? 'update pending' : 'update needs a download';
        return [p.active ? '*' : ' ', p.id, p.name, p.precision, formatBytes(p.sizeBytes), update];
      }),
    );
    for (const p of state.installed) if (p.outdated) console.log(`\n${p.id}: ${p.outdated.note}`);
  }
  if (state.backend.type === 'remote') console.log(`\nUsing the inference server ${state.backend.url}: file contents are sent there.`);
  if (state.switching) console.log(`\nSwitching from ${state.switching.from} to ${state.switching.to}: ${state.switching.done} of ${state.switching.total} items re-embedded.`);
  if (state.task && state.task.phase !== 'done') console.log(`\n${state.task.purpose === 'update' ? 'Update' : 'Setup'}: ${state.task.phase} — ${state.task.step}${state.task.error ? `: ${state.task.error}` : ''}`);
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
