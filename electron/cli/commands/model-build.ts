// `trove model build`: turns a Qwen3-VL safetensors checkpoint into a Trove model package.
import { parseArgs } from 'node:util';
import path from 'node:path';
import { CliUsageError } from '../cli-error.ts';
import { GRAPH_VARIANTS, PRECISIONS, type GraphVariant, type Precision } from '../../engine/models/common/model-manifest.ts';
import { buildModelPackage, type PackageBuildProgress } from '../../../native-models/package/build-package.ts';

const HELP = `Usage: trove model build <checkpoint-dir> --out <package-dir> [--kind embedding|reranker]
                         [--precision fp32|fp16|int8|int4] [--variant plain|fused]
                         [--repo R] [--revision SHA] [--overwrite]

Builds a Trove model package (vision_encoder.onnx, text_decoder.onnx or rerank_decoder.onnx with
their weight files, tokenizer files, manifest.json with SHA-256 hashes) from a Hugging Face
Qwen3-VL-Embedding or Qwen3-VL-Reranker checkpoint folder (config.json + safetensors + tokenizer).

  --kind        embedding (default) or reranker: which decoder head to build
  --precision   fp32 (default, the reference); fp16 (GPU EPs; fp32 islands where fp16
                overflows); int8 or int4 (weight-only MatMulNBits decoder weights, smallest)
  --variant     plain (default: standard ONNX ops) or fused (onnxruntime contrib attention/norm ops)
  --repo, --revision   Hub repo id and commit to record in the manifest
  --overwrite   replace <package-dir> if it holds a previous package (never anything else)

The package appears under <package-dir> only when it is complete; an interrupted build leaves
nothing behind.`;

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

export async function runModelBuild(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string' },
      kind: { type: 'string', default: 'embedding' },
      precision: { type: 'string', default: 'fp32' },
      variant: { type: 'string', default: 'plain' },
      repo: { type: 'string' },
      revision: { type: 'string' },
      overwrite: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new CliUsageError(`model build takes one checkpoint folder, got ${positionals.length}. Usage: trove model build <checkpoint-dir> --out <package-dir>`);
  if (!values.out) throw new CliUsageError('model build needs --out <package-dir> (the folder to write the package into).');
  if (values.kind !== 'embedding' && values.kind !== 'reranker') throw new CliUsageError(`--kind must be 'embedding' or 'reranker', got '${values.kind}'.`);
  if (!(PRECISIONS as readonly string[]).includes(values.precision)) throw new CliUsageError(`--precision must be one of ${PRECISIONS.join(', ')}, got '${values.precision}'.`);
  if (!(GRAPH_VARIANTS as readonly string[]).includes(values.variant)) throw new CliUsageError(`--variant must be one of ${GRAPH_VARIANTS.join(', ')}, got '${values.variant}'.`);

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
      checkpointDir: positionals[0],
      outDir: out,
      kind: values.kind,
      precision: values.precision as Precision,
      variant: values.variant as GraphVariant,
      repo: values.repo ?? null,
      revision: values.revision ?? null,
      overwrite: values.overwrite,
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
}
