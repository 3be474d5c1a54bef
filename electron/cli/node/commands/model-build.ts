// `trove model build`: turns a Qwen3-VL safetensors checkpoint into a Trove model package.
import path from 'node:path';
import { CliUsageError } from '../command-line/cli-error.ts';
import { defineCommand } from '../command-line/command-line.ts';
import { choiceOption } from '../command-line/option-values.ts';
import { GRAPH_VARIANTS, PRECISIONS, type PackageKind } from '../../../../native-models/manifest/common/model-manifest.ts';
import { buildModelPackage, type PackageBuildProgress } from '../../../../native-models/package/node/build-package.ts';
import { detectCheckpointKind } from '../../../../native-models/checkpoint/node/checkpoint-kind.ts';

/** Redraws at most this often on a terminal: hashing reports every 4 MB. */
const TTY_REDRAW_MS = 100;
/** Without a terminal, one line per stage plus a heartbeat this often. */
const PLAIN_HEARTBEAT_MS = 10_000;

function amount(done: number, total: number, unit: PackageBuildProgress['unit']): string {
  if (unit === 'bytes') return `${(done / 2 ** 20).toFixed(1)}/${(total / 2 ** 20).toFixed(1)} MiB`;
  return `${done}/${total} ${unit}`;
}

/** A progress printer: one live line on a TTY, plain lines (stage starts, ends, heartbeat) otherwise. */
function progressPrinter(stream: NodeJS.WriteStream, started: number): { update: (e: PackageBuildProgress) => void; end: () => void } {
  const tty = stream.isTTY === true;
  let lastDraw = 0;
  let lastStage = '';
  let lastEnded = '';
  let drawn = false;
  const line = (e: PackageBuildProgress) => `${e.stage.padEnd(15)} ${amount(e.done, e.total, e.unit).padEnd(24)} ${((performance.now() - started) / 1000).toFixed(1)} s`;
  return {
    update(e) {
      const now = performance.now();
      const stageChanged = e.stage !== lastStage;
      const finished = e.done === e.total;
      if (tty) {
        if (stageChanged || finished || now - lastDraw >= TTY_REDRAW_MS) {
          stream.write(`\r\x1b[2K${line(e)}`);
          drawn = true;
          lastDraw = now;
        }
      } else if (stageChanged || (finished && lastEnded !== e.stage) || now - lastDraw >= PLAIN_HEARTBEAT_MS) {
        stream.write(`${line(e)}\n`);
        lastDraw = now;
        if (finished) lastEnded = e.stage;
      }
      lastStage = e.stage;
    },
    end() {
      if (tty && drawn) stream.write('\n');
    },
  };
}

const KINDS = ['embedding', 'reranker'] as const;

/**
 * The kind to build: --kind when given (with a warning when the checkpoint says otherwise), else
 * what the checkpoint says; when it says nothing, an embedding package, and the user is told so.
 */
async function kindToBuild(checkpointDir: string, given: PackageKind | undefined): Promise<PackageKind> {
  const detected = await detectCheckpointKind(checkpointDir).catch(() => null);
  if (given !== undefined) {
    if (detected?.kind && detected.kind !== given && detected.fromWeights) {
      console.error(`trove: warning: ${checkpointDir} looks like ${detected.kind === 'reranker' ? 'a reranker' : 'an embedding model'} checkpoint (${detected.reason}); building ${given === 'reranker' ? 'a reranker' : 'an embedding'} package as --kind asks.`);
    }
    return given;
  }
  if (detected === null) return 'embedding'; // unreadable: the build reports what is wrong with it
  if (detected.kind !== null) {
    console.error(`Building ${detected.kind === 'reranker' ? 'a reranker' : 'an embedding'} package: ${detected.reason} (--kind chooses).`);
    return detected.kind;
  }
  console.error(`Building an embedding package: ${checkpointDir} does not say which kind it is: ${detected.reason}. If it is a reranker, build it with --kind reranker.`);
  return 'embedding';
}

export const modelBuildCommand = defineCommand({
  name: 'model build',
  summary: 'Build a model package (ONNX graphs, tokenizer, manifest with hashes) from a checkpoint.',
  usage: '<checkpoint-dir> --out <package-dir> [options]',
  description:
    'Builds a Trove model package (vision_encoder.onnx, text_decoder.onnx or rerank_decoder.onnx with\n' +
    'their weight files, tokenizer files, manifest.json with SHA-256 hashes) from a Hugging Face\n' +
    'Qwen3-VL-Embedding or Qwen3-VL-Reranker checkpoint folder (config.json + safetensors + tokenizer).\n' +
    'The package appears under <package-dir> only when it is complete; an interrupted build leaves\n' +
    'nothing behind.',
  positionals: true,
  options: {
    out: { type: 'string', value: 'DIR', help: 'the folder to write the package into' },
    kind: {
      type: 'string',
      value: 'KIND',
      help: 'embedding or reranker: which decoder head to build (default: what the checkpoint is; a reranker stores lm_head.weight; when it does not say, embedding)',
    },
    precision: { type: 'string', value: 'P', help: 'fp32 (default, the reference); fp16 (GPU EPs); int8 or int4 (weight-only, smallest)' },
    variant: { type: 'string', value: 'V', help: 'plain (default: standard ONNX ops) or fused (onnxruntime contrib attention/norm ops)' },
    repo: { type: 'string', value: 'R', help: 'the hub repo id to record in the manifest' },
    revision: { type: 'string', value: 'SHA', help: 'the hub commit to record in the manifest' },
    overwrite: { type: 'boolean', help: 'replace <package-dir> if it holds a previous package (never anything else)' },
  },
  async run({ values, positionals }) {
    if (positionals.length !== 1) throw new CliUsageError(`model build takes one checkpoint folder, got ${positionals.length}.`);
    if (!values.out) throw new CliUsageError('model build needs --out <package-dir> (the folder to write the package into).');
    const givenKind = choiceOption(values.kind, '--kind', KINDS);
    const precision = choiceOption(values.precision, '--precision', PRECISIONS, 'fp32');
    const variant = choiceOption(values.variant, '--variant', GRAPH_VARIANTS, 'plain');
    const checkpointDir = path.resolve(positionals[0]!);
    const kind = await kindToBuild(checkpointDir, givenKind);

    const out = path.resolve(values.out);
    const started = performance.now();
    const printer = progressPrinter(process.stderr, started);
    // Ctrl-C aborts the build, which removes its partial folder before the process exits.
    const controller = new AbortController();
    const onInterrupt = () => controller.abort();
    process.once('SIGINT', onInterrupt);
    process.once('SIGTERM', onInterrupt);
    try {
      const manifest = await buildModelPackage({
        checkpointDir,
        outDir: out,
        kind,
        precision,
        variant,
        repo: values.repo ?? null,
        revision: values.revision ?? null,
        overwrite: values.overwrite === true,
        onProgress: printer.update,
        signal: controller.signal,
      });
      printer.end();
      const bytes = manifest.files.reduce((a, f) => a + f.bytes, 0);
      console.log(`wrote ${manifest.kind} package (${manifest.precision}, ${manifest.variant}) to ${out}: ${manifest.files.length + 1} files, ${(bytes / 2 ** 20).toFixed(1)} MiB, ${((performance.now() - started) / 1000).toFixed(1)} s`);
      return 0;
    } catch (error) {
      printer.end();
      if (controller.signal.aborted) {
        console.error(`trove: build of ${out} cancelled; nothing was written.`);
        return 130;
      }
      throw error;
    } finally {
      process.off('SIGINT', onInterrupt);
      process.off('SIGTERM', onInterrupt);
    }
  },
});
