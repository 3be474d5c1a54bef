// `trove model pull <id>…`: download (or take from folders), build and activate catalog models,
// the same task the app's first-run flow runs, with its progress on the terminal. Ctrl-C cancels
// and keeps the downloaded bytes for the next pull.
import path from 'node:path';
import { dispatchApiCall } from '../../../contract/common/trove-api.ts';
import type { InstallRequest, ModelsState, SetupTask } from '../../../contract/common/model-setup.ts';
import { openTroveEngine } from '../../../engine/app/node/trove-engine.ts';
import { CliUsageError } from '../command-line/cli-error.ts';
import { defineCommand } from '../command-line/command-line.ts';
import { DATA_OPTION, dataDirFrom } from './engine-options.ts';
import { choiceOption } from '../command-line/option-values.ts';
import { closestName } from '../command-line/did-you-mean.ts';
import { formatByteRate, formatBytes, formatEta } from '../../../contract/common/display-units.ts';

export const modelPullCommand = defineCommand({
  name: 'model pull',
  summary: 'Download (resumable, verified), build and activate models; no id: the recommended ones.',
  usage: '[<id>…] [--precision P] [--from DIR]… [--data DIR]',
  description:
    'Downloads the models from the Hugging Face hub (HF_ENDPOINT and HF_TOKEN are honoured, an\n' +
    'existing Hugging Face cache is reused, interrupted downloads resume), verifies every file,\n' +
    'builds the model package for this machine and makes it the one in use. Ids come from\n' +
    "'trove model list' (e.g. embedding-2b reranker-2b); without an id the recommended models are pulled.\n" +
    'With --from, a checkpoint folder you already have is checked against the model (architecture,\n' +
    'kind, file sizes and, where known, hashes) and built instead of downloading.\n\n' +
    'Changing the embedding model re-embeds the library the next time Trove runs; search keeps using\n' +
    'the old model until that is done.',
  positionals: true,
  options: {
    ...DATA_OPTION,
    precision: { type: 'string', value: 'P', help: 'fp32, fp16, int8 or int4 instead of the choice for this machine' },
    from: { type: 'string', multiple: true, value: 'DIR', help: 'use a checkpoint folder you already have (one per id, in the same order)' },
  },
  async run({ values, positionals }) {
    const precision = choiceOption(values.precision, '--precision', ['fp32', 'fp16', 'int8', 'int4'] as const) ?? null;
    const folders = (values.from ?? []).map((f) => path.resolve(f));
    if (folders.length && folders.length !== positionals.length) {
      throw new CliUsageError(`give one --from folder per model id, in the same order (got ${positionals.length} id${positionals.length === 1 ? '' : 's'} and ${folders.length} folder${folders.length === 1 ? '' : 's'}). Example: trove model pull embedding-2b --from ~/models/Qwen3-VL-Embedding-2B`);
    }

    const engine = await openTroveEngine({ dataDir: dataDirFrom(values), watch: false });
    const onSigint = () => {
      void dispatchApiCall(engine.handlers, 'models.cancel', {}).catch(() => undefined);
    };
    process.once('SIGINT', onSigint);
    try {
      const state = (await dispatchApiCall(engine.handlers, 'models.state', {})) as ModelsState;
      const ids = positionals.length ? positionals : [state.recommendation.embedding, state.recommendation.reranker].filter((x): x is string => x !== null);
      const kindOf = (id: string) => {
        const model = state.catalog.find((m) => m.id === id);
        if (!model) {
          const guess = closestName(id, state.catalog.map((m) => m.id));
          const all = state.catalog.map((m) => m.id).join(', ');
          throw new CliUsageError(guess ? `there is no model '${id}'; did you mean '${guess}'? (all: ${all}; 'trove model list' describes them)` : `there is no model '${id}'; choose one of ${all} ('trove model list' describes them).`);
        }
        return model.kind;
      };
      const embedding = ids.filter((id) => kindOf(id) === 'embedding');
      const reranker = ids.filter((id) => kindOf(id) === 'reranker');
      if (embedding.length > 1 || reranker.length > 1) throw new CliUsageError('pull at most one embedding model and one reranker at a time');
      const request: InstallRequest = {
        embedding: embedding[0] ?? null,
        reranker: reranker[0] ?? null,
        // The recommendation may step the precision down to fit this machine's memory.
        precision: (precision ?? (positionals.length ? null : state.recommendation.precision)) as InstallRequest['precision'],
        source: folders.length ? { type: 'folders', folders: Object.fromEntries(positionals.map((id, i) => [id, folders[i]!])) } : { type: 'hub' },
      };
      const finished = waitForTask(engine.on.bind(engine));
      await dispatchApiCall(engine.handlers, 'models.install', request);
      const task = await finished;
      process.stderr.write('\n');
      if (task.phase === 'done') {
        const after = (await dispatchApiCall(engine.handlers, 'models.state', {})) as ModelsState;
        console.log(`Ready: ${after.installed.filter((p) => p.active).map((p) => `${p.name} (${p.precision})`).join(', ')}.`);
        if (after.switching) console.log(`The library is re-embedded with ${after.switching.to} the next time Trove runs; search uses ${after.switching.from} until then.`);
        return 0;
      }
      console.error(task.phase === 'cancelled' ? 'trove: cancelled; run the same pull again to resume the download.' : `trove: ${task.error ?? 'the setup stopped'}`);
      return 1;
    } finally {
      process.off('SIGINT', onSigint);
      await engine.close();
    }
  },
});

type Subscribe = (event: 'models.changed', listener: (state: ModelsState) => void) => () => void;

/** Resolves with the task when it ends; prints its progress on one terminal line meanwhile. */
function waitForTask(on: Subscribe): Promise<SetupTask> {
  return new Promise((resolve) => {
    let last = '';
    const off = on('models.changed', (state) => {
      const task = state.task;
      if (!task) return;
      const line = progressLine(task);
      if (line !== last) {
        process.stderr.write(process.stderr.isTTY ? `\r\x1b[2K${line}` : `${line}\n`);
        last = line;
      }
      if (task.phase === 'done' || task.phase === 'failed' || task.phase === 'cancelled') {
        off();
        resolve(task);
      }
    });
  });
}

function progressLine(task: SetupTask): string {
  if (task.phase === 'downloading' && task.bytes.total > 0) {
    const pct = Math.floor((100 * task.bytes.done) / task.bytes.total);
    const rate = task.bytesPerSecond > 0 ? `, ${formatByteRate(task.bytesPerSecond)}` : '';
    const eta = task.etaSeconds !== null && task.etaSeconds > 0 ? `, ${formatEta(task.etaSeconds)} left` : '';
    return `${task.step} — ${formatBytes(task.bytes.done)} of ${formatBytes(task.bytes.total)} (${pct}%${rate}${eta})`;
  }
  if (task.phase === 'building') return `${task.step} — ${Math.floor(task.fraction * 100)}%`;
  return task.step;
}
