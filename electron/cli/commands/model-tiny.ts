// `trove model tiny`: writes the tiny random-weight checkpoint every model test runs on.
import { parseArgs } from 'node:util';
import path from 'node:path';
import { CliUsageError } from '../cli-error.ts';
import { generateTinyCheckpoint } from '../../../native-models/tiny/generate-tiny-checkpoint.ts';

const HELP = `Usage: trove model tiny --out DIR [--kind embedding|reranker] [--seed N]

Writes a tiny Qwen3-VL checkpoint with seeded random weights, the real architecture and the real
Qwen vocabulary, in the Hugging Face hub layout (config.json, model.safetensors, tokenizer files,
preprocessor configs, chat template). The same seed gives the same bytes.`;

export async function runModelTiny(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string' },
      kind: { type: 'string', default: 'embedding' },
      seed: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (!values.out) throw new CliUsageError('model tiny needs --out DIR (the folder to write the checkpoint into).');
  if (values.kind !== 'embedding' && values.kind !== 'reranker') {
    throw new CliUsageError(`--kind must be 'embedding' or 'reranker', got '${values.kind}'.`);
  }
  let seed: number | undefined;
  if (values.seed !== undefined) {
    seed = Number(values.seed);
    if (!Number.isSafeInteger(seed) || seed < 0) throw new CliUsageError(`--seed must be a non-negative integer, got '${values.seed}'.`);
  }
  const out = path.resolve(values.out);
  await generateTinyCheckpoint({ out, kind: values.kind, seed });
  console.log(`wrote tiny ${values.kind} checkpoint to ${out}`);
  return 0;
}
