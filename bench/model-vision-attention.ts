// `node --import tsx bench/model-vision-attention.ts`: peak memory and time of the vision encoder
// per input size, for three graphs built from the same random checkpoint at the real 2B vision
// widths (hidden 1024, 16 heads, MLP 4096, out 2048; BENCH_VISION_DEPTH blocks, default 3):
//   plain, unblocked: the earlier graph, one [S, heads, L, L] score tensor per layer (baseline);
//   plain, blocked:   query rows in blocks of ≤ 64 MiB of scores (native-models/graphs/node/vision-attention.ts);
//   fused:            com.microsoft.MultiHeadAttention (a flash-attention kernel on onnxruntime's CPU EP).
// The "now" rows run as the runtime does (GraphRunner: memory patterns off for the vision session,
// a video's groups in calls of ≤ 8,192 patches); "before" as it did (patterns on, one call).
// Each (graph, input) runs in its own child process: "peak above weights" is the child's peak RSS
// minus its RSS after the session was created, a 64-patch warm-up call ran and the inputs were
// made, so the weights, the runtime and the inputs are not counted. Inputs: a 256- and a 768-token image, the 12 MP photo at the
// 1,800-token budget (1536×1152, 6,912 patches) and a 16 s video moment at its pixel budget
// (8 temporal groups of 640×1152 = 8 × 2,880 patches). Random pixels: memory and time do not
// depend on the values. TROVE_EP picks the EP (default cpu); BENCH_VISION_QUICK=1 runs the small
// inputs only; BENCH_VISION_CASES=name,name picks inputs by label.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as ort from 'onnxruntime-node';
import { visionTables } from '../electron/engine/model-inputs/common/vision-tables.ts';
import { sessionOptions, type ExecutionProviderName } from '../electron/engine/inference/node/runtime/execution-providers.ts';
import { runVisionEncoder } from '../electron/engine/inference/node/runtime/graph-runner.ts';
import { openCheckpoint } from '../native-models/checkpoint/node/safetensors-reader.ts';
import { buildVisionEncoder, type BuildVisionEncoderOptions } from '../native-models/graphs/node/vision-encoder-graph.ts';
import { midSizeConfigJson } from '../scripts/fixtures/mid-size-checkpoint.ts';
import { writeRandomCheckpoint } from '../scripts/fixtures/random-checkpoint.ts';

const run = promisify(execFile);
const EP = (process.env.TROVE_EP ?? 'cpu') as ExecutionProviderName;
const DEPTH = Number(process.env.BENCH_VISION_DEPTH ?? 3);
const HIDDEN = 1024;
const HEADS = 16;
const HEAD_DIM = HIDDEN / HEADS;
const PATCH_DIM = 1536;
const OUT_HIDDEN = 2048;

interface Case {
  readonly label: string;
  /** Segments (temporal groups) and patches per side. */
  readonly t: number;
  readonly h: number;
  readonly w: number;
  readonly quick: boolean;
}

const CASES: Case[] = [
  { label: 'image 512×512 (256 tokens)', t: 1, h: 32, w: 32, quick: true },
  { label: 'image 1024×768 (768 tokens)', t: 1, h: 48, w: 64, quick: true },
  { label: '12 MP photo → 1536×1152 (1,728 tokens)', t: 1, h: 72, w: 96, quick: false },
  { label: 'video 16 s → 8 × 640×1152 (5,760 tokens)', t: 8, h: 40, w: 72, quick: false },
];

interface Graph {
  readonly label: string;
  readonly options: BuildVisionEncoderOptions;
  readonly runtime: 'before' | 'now';
}

const GRAPHS: Graph[] = [
  { label: 'plain, unblocked, one call (before)', options: { variant: 'plain', attentionBlockBytes: 'unblocked' }, runtime: 'before' },
  { label: 'plain, blocked (now)', options: { variant: 'plain' }, runtime: 'now' },
  { label: 'fused (MultiHeadAttention)', options: { variant: 'fused' }, runtime: 'now' },
];

interface Measured {
  loadRssMiB: number;
  peakAboveMiB: number;
  seconds: number;
  error?: string;
}

/** Seeded random pixel rows (values in [−1, 1)) for `t` segments of h×w patches. */
function randomPixels(t: number, h: number, w: number): Float32Array {
  const pixels = new Float32Array(t * h * w * PATCH_DIM);
  let state = 7;
  for (let i = 0; i < pixels.length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    pixels[i] = state / 2 ** 31 - 1;
  }
  return pixels;
}

/**
 * Child mode: load one graph, run a 64-patch image once (so that every weight page is touched and
 * the kernels are set up), then run the input `reps` times; memory and the fastest run. `runtime`
 * 'before' is the earlier runtime (memory patterns on, all segments in one call); 'now' is
 * GraphRunner's (memory patterns off for the vision session, ≤ VISION_CALL_PATCHES per call).
 */
async function child(onnxFile: string, runtime: 'before' | 'now', t: number, h: number, w: number, reps: number): Promise<void> {
  const session = await ort.InferenceSession.create(onnxFile, sessionOptions(EP, undefined, runtime === 'before'));
  const call = (gridThw: [number, number, number], pixelValues: Float32Array) =>
    runVisionEncoder(session, { gridThw, pixelValues }, visionTables([1, gridThw[1], gridThw[2]], HEAD_DIM), HEAD_DIM, OUT_HIDDEN, runtime === 'before' ? Infinity : undefined);
  await call([1, 8, 8], randomPixels(1, 8, 8));
  const pixels = randomPixels(t, h, w);
  const loadRss = process.memoryUsage().rss;
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    const started = performance.now();
    await call([t, h, w], pixels);
    best = Math.min(best, (performance.now() - started) / 1000);
  }
  const peak = process.resourceUsage().maxRSS * 1024;
  await session.release();
  console.log(JSON.stringify({ loadRssMiB: loadRss / 2 ** 20, peakAboveMiB: (peak - loadRss) / 2 ** 20, seconds: best }));
}

function visionBenchConfig(): Record<string, unknown> {
  // Text widths only matter for out_hidden (= text hidden 2048); no text weights are written.
  return midSizeConfigJson(
    { hidden_size: 2048, intermediate_size: 6144, num_hidden_layers: 1, num_attention_heads: 16, num_key_value_heads: 8 },
    { hidden_size: HIDDEN, intermediate_size: 4096, num_heads: HEADS, depth: DEPTH, out_hidden_size: 2048, deepstack_visual_indexes: [DEPTH - 3, DEPTH - 2, DEPTH - 1] },
  );
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--child') {
    await child(argv[1]!, argv[2] as 'before' | 'now', Number(argv[3]), Number(argv[4]), Number(argv[5]), Number(argv[6]));
    return;
  }
  if (!Number.isInteger(DEPTH) || DEPTH < 3) throw new Error(`BENCH_VISION_DEPTH=${process.env.BENCH_VISION_DEPTH}: use an integer ≥ 3 (three DeepStack taps)`);
  const wanted = process.env.BENCH_VISION_CASES?.split(',').map((s) => s.trim()).filter(Boolean);
  const cases = CASES.filter((c) => (wanted ? wanted.some((w) => c.label.includes(w)) : process.env.BENCH_VISION_QUICK !== '1' || c.quick));
  const root = await mkdtemp(path.join(tmpdir(), 'trove-bench-vision-'));
  try {
    const dir = await writeRandomCheckpoint(path.join(root, 'checkpoint'), visionBenchConfig(), { only: (name) => name.startsWith('model.visual.') });
    const files: string[] = [];
    const checkpoint = await openCheckpoint(dir);
    try {
      for (const [i, graph] of GRAPHS.entries()) files.push((await buildVisionEncoder(checkpoint, path.join(root, `graph-${i}`), graph.options)).onnxFile);
    } finally {
      await checkpoint.close();
    }
    console.log(`vision encoder on onnxruntime-node ${ort.env.versions.common} EP ${EP}; random weights at the 2B vision widths (hidden ${HIDDEN}, ${HEADS} heads, MLP 4096), ${DEPTH} blocks; ratios against the unblocked plain graph of the same input\n`);
    console.log('| input | patches | graph | peak above weights MiB | × before | s per call | × before |');
    console.log('|---|---|---|---|---|---|---|');
    const self = fileURLToPath(import.meta.url);
    for (const c of cases) {
      const patches = c.t * c.h * c.w;
      const reps = patches <= 4096 ? 3 : 1;
      const measured: Measured[] = [];
      for (const [i, graph] of GRAPHS.entries()) {
        let m: Measured;
        try {
          const { stdout } = await run(process.execPath, [...(self.endsWith('.ts') ? ['--import', 'tsx', self] : [self]), '--child', files[i]!, graph.runtime, String(c.t), String(c.h), String(c.w), String(reps)], { maxBuffer: 1 << 24 });
          m = JSON.parse(stdout.trim().split('\n').at(-1)!) as Measured;
        } catch (error) {
          m = { loadRssMiB: NaN, peakAboveMiB: NaN, seconds: NaN, error: String(error instanceof Error ? error.message : error).split('\n')[0]!.slice(0, 160) };
        }
        measured.push(m);
        const base = measured[0]!;
        const ratio = (a: number, b: number) => (Number.isFinite(a) && Number.isFinite(b) ? `${(a / b).toFixed(2)}×` : '');
        const size = c.t > 1 ? `${c.t} × ${c.h * c.w}` : `${patches}`;
        console.log(m.error
          ? `| ${c.label} | ${size} | ${graph.label} | failed: ${m.error} | | | |`
          : `| ${c.label} | ${size} | ${graph.label} | ${m.peakAboveMiB.toFixed(0)} | ${ratio(m.peakAboveMiB, base.peakAboveMiB)} | ${m.seconds.toFixed(2)} | ${ratio(m.seconds, base.seconds)} |`);
      }
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

await main();
