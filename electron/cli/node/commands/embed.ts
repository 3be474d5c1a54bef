// `trove embed`: shows what the embedding model receives for one input. The output shape of
// `--json` is a stable interface (docs/cli.md); scripts and tests read it.
import path from 'node:path';
import { existsSync } from 'node:fs';
import { CliUsageError } from '../command-line/cli-error.ts';
import { defineCommand } from '../command-line/command-line.ts';
import { checkPackageArgument } from './engine-options.ts';
import { loadQwenTokenizer } from '../../../engine/model-inputs/node/qwen-tokenizer.ts';
import { prepareEmbedBatch, type EmbedInput } from '../../../engine/model-inputs/node/embed-inputs.ts';
import { ModelClient } from '../../../engine/inference/node/runtime/model-client.ts';

export interface EmbedJson {
  prompt: string;
  input_ids: number[];
  images: { original: [number, number]; resized: [number, number]; grid_thw: [number, number, number] }[];
  videos: { frame_indices: number[]; timestamps: string[]; fps: number; total_frames: number; resized: [number, number]; grid_thw: [number, number, number] }[];
  embedding?: number[];
}

export const embedCommand = defineCommand({
  name: 'embed',
  summary: 'Show what the embedding model receives for these inputs (prompt, token ids, grids) and the embedding.',
  usage: '[--text T]… [--image FILE]… [--video FILE]… --model DIR [options]',
  description:
    'Without --inputs-only, --model must be an embedding model package (trove model build) and the\n' +
    'embedding is computed; with --inputs-only a checkpoint folder is enough.',
  options: {
    text: { type: 'string', multiple: true, value: 'T', help: 'text to embed (joined with no separator, as the reference does)' },
    image: { type: 'string', multiple: true, value: 'FILE', help: 'image file' },
    video: { type: 'string', multiple: true, value: 'FILE', help: 'video file' },
    instruction: { type: 'string', value: 'I', help: `task instruction (default "Represent the user's input.")` },
    dims: { type: 'string', value: 'N', help: 'Matryoshka size of the embedding, 32 … hidden size (default: full)' },
    model: { type: 'string', value: 'DIR', help: 'a model package folder (or, with --inputs-only, a checkpoint folder); else TROVE_MODEL' },
    'inputs-only': { type: 'boolean', help: 'print the preprocessing only (prompt, token ids, grids, frame choices)' },
    'fast-images': { type: 'boolean', help: 'shrink large photos on load before the exact resize' },
    json: { type: 'boolean', help: 'machine-readable output (shape: docs/cli.md)' },
  },
  async run({ values }) {
    const modelFrom = values.model !== undefined ? '--model' : 'TROVE_MODEL';
    values.model ??= process.env.TROVE_MODEL || undefined;
    if (!values.model) {
      throw new CliUsageError('embed needs --model DIR (or TROVE_MODEL): a checkpoint or model package folder with tokenizer.json. For a test model: trove model tiny --out DIR.');
    }
    if (values.dims !== undefined && !/^[1-9]\d*$/.test(values.dims)) throw new CliUsageError(`--dims must be a positive integer, got '${values.dims}'.`);

    if (!values['inputs-only'] && !existsSync(path.join(path.resolve(values.model), 'manifest.json'))) {
      throw new CliUsageError(`${values.model} is not a model package (no manifest.json): build one with 'trove model build <checkpoint-dir> --out <package-dir>', or add --inputs-only to see the preprocessing only.`);
    }
    if (!values['inputs-only']) await checkPackageArgument({ dir: path.resolve(values.model), from: modelFrom }, 'embedding', { otherOption: false });
    const tokenizer = await loadQwenTokenizer(path.resolve(values.model));
    const input: EmbedInput = { texts: values.text ?? [], images: (values.image ?? []).map((p) => path.resolve(p)), videos: (values.video ?? []).map((p) => path.resolve(p)) };
    const prepared = await prepareEmbedBatch(tokenizer, [input], { instruction: values.instruction, fastImages: values['fast-images'] });
    const ids = prepared.batch.inputIds[0]!.slice(0, prepared.batch.lastIndex[0]! + 1);
    const result: EmbedJson = {
      prompt: prepared.prompts[0]!,
      input_ids: ids,
      images: prepared.images[0]!.map((i) => ({ original: i.original, resized: i.resized, grid_thw: [...i.gridThw] })),
      videos: prepared.videos[0]!.map((v) => ({
        frame_indices: v.frameIndices,
        timestamps: v.timestamps,
        fps: v.fps,
        total_frames: v.totalFrames,
        resized: v.resized,
        grid_thw: [...v.gridThw],
      })),
    };
    let statement = '';
    if (!values['inputs-only']) {
      const client = await ModelClient.start({ embeddingPackage: path.resolve(values.model), fastImages: values['fast-images'] });
      try {
        statement = client.providers.embedding?.statement ?? '';
        const [embedding] = await client.embed([input], { instruction: values.instruction, dims: values.dims === undefined ? undefined : Number(values.dims) });
        result.embedding = Array.from(embedding!);
      } finally {
        await client.close();
      }
    }
    if (values.json) {
      console.log(JSON.stringify(result));
    } else {
      console.log(`prompt (${ids.length} tokens):\n${result.prompt}`);
      for (const [n, i] of result.images.entries()) console.log(`image ${n + 1}: ${i.original[1]}×${i.original[0]} → ${i.resized[1]}×${i.resized[0]}, grid ${i.grid_thw.join('×')}`);
      for (const [n, v] of result.videos.entries()) console.log(`video ${n + 1}: ${v.total_frames} frames @ ${v.fps} fps → frames ${v.frame_indices.join(',')}, grid ${v.grid_thw.join('×')}, at ${v.timestamps.join(', ')} s`);
      if (result.embedding !== undefined) {
        console.error(statement);
        const shown = result.embedding.slice(0, 8).map((x) => x.toFixed(4)).join(', ');
        console.log(`embedding (${result.embedding.length} dims, L2-normalised): [${shown}${result.embedding.length > 8 ? ', …' : ''}]`);
      }
    }
    return 0;
  },
});
