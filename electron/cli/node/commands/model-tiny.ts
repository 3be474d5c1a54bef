// `trove model tiny`: writes the tiny random-weight checkpoint every model test runs on.
import path from 'node:path';
import { defineCommand } from '../command-line/command-line.ts';
import { CliUsageError } from '../command-line/cli-error.ts';
import { choiceOption, integerOption } from '../command-line/option-values.ts';
import { generateTinyCheckpoint } from '../../../../native-models/tiny/node/generate-tiny-checkpoint.ts';

export const modelTinyCommand = defineCommand({
  name: 'model tiny',
  summary: 'Write a tiny random-weight Qwen3-VL checkpoint (real architecture and vocabulary) for tests.',
  usage: '--out DIR [--kind embedding|reranker] [--seed N]',
  description:
    'Writes a tiny Qwen3-VL checkpoint with seeded random weights, the real architecture and the real\n' +
    'Qwen vocabulary, in the Hugging Face hub layout (config.json, model.safetensors, tokenizer files,\n' +
    'preprocessor configs, chat template). The same seed gives the same bytes. Build a package from it\n' +
    "with 'trove model build DIR --out PKG' (a reranker checkpoint builds a reranker package).",
  options: {
    out: { type: 'string', value: 'DIR', help: 'the folder to write the checkpoint into' },
    kind: { type: 'string', value: 'KIND', help: 'embedding (default) or reranker' },
    seed: { type: 'string', value: 'N', help: 'the random seed (a non-negative integer)' },
  },
  async run({ values }) {
    if (!values.out) throw new CliUsageError('model tiny needs --out DIR (the folder to write the checkpoint into).');
    const kind = choiceOption(values.kind, '--kind', ['embedding', 'reranker'] as const, 'embedding');
    const seed = values.seed === undefined ? undefined : integerOption(values.seed, '--seed', { min: 0, max: Number.MAX_SAFE_INTEGER }, 0);
    const out = path.resolve(values.out);
    await generateTinyCheckpoint({ out, kind, seed });
    console.log(`wrote tiny ${kind} checkpoint to ${out}`);
    return 0;
  },
});
