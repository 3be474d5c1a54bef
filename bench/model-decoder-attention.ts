// `node --import tsx bench/model-decoder-attention.ts`: peak memory and time of the text decoder per
// sequence length, for four graphs built from the same random checkpoint at the real 2B text widths
// (hidden 2048, 16 heads / 8 kv heads, head_dim 128, MLP 6144; BENCH_DECODER_LAYERS layers, default
// 3; a 16,384-row table):
//   plain, single product (before): graph revision 2, one [B, heads, S, S] score tensor per layer
//                                   with the whole [B, 1, 1, S, S] bias (the baseline);
//   plain, blocked (now):           query rows in blocks of ≤ 64 MiB of scores, the mask made per
//                                   block, keys cut at the block's causal limit
//                                   (native-models/graphs/node/decoder-attention.ts);
//   fused, single product (before): com.microsoft.MultiHeadAttention with the [B, 1, S, S] bias;
//   fused, blocked (now):           MultiHeadAttention per block of query rows.
// Inputs: one row of 256, 1,800, 4,096, 8,192 and 10,245 tokens (the longest the embedder and the
// reranker accept; the reranker's graph differs only in its head), and right-padded batches as the runtime packs them (≤ 8,192 padded tokens, ≤ 2²⁴
// scores per head: 32 × 256, 4 × 1,800), plus 2 × 4,096 for the graphs alone (the runtime runs a
// 4,096-token row by itself today). Each (graph, input) runs in its own child process: "peak above
// weights" is the child's peak RSS minus its RSS after the session was created, a 16-token warm-up
// ran and the inputs were made. The pooled outputs of each "now" graph are compared with its
// "before" graph on the same input (max |Δ|). A single-product run whose scores alone would not
// fit in the memory available is skipped and says so.
// A second table times the attention alone (one layer's, 2B widths, batch 1) for the four graphs
// interleaved in one child process per length, best of three, so that the load of a shared
// machine shifts all four alike (the whole-decoder times above run one after another).
// TROVE_EP picks the EP (default cpu); BENCH_DECODER_QUICK=1 runs the 256- and 1,800-token rows
// only; BENCH_DECODER_CASES='label;label' picks inputs by label (and skips the attention table).
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as ort from 'onnxruntime-node';
import { sessionOptions, type ExecutionProviderName } from '../electron/engine/inference/node/runtime/execution-providers.ts';
import { openCheckpoint } from '../native-models/checkpoint/node/safetensors-reader.ts';
import { buildTextDecoder, type TextDecoderBuildOptions } from '../native-models/graphs/node/text-decoder-graph.ts';
import { blockedDecoderAttention, decoderAttentionPlan, DECODER_ATTENTION_BLOCK_BYTES, singleProductAttentionBias, singleProductDecoderAttention } from '../native-models/graphs/node/decoder-attention.ts';
import { fusedAttention } from '../native-models/graphs/node/fused-ops.ts';
import { GraphBuilder } from '../native-models/onnx/node/graph-builder.ts';
import { midSizeConfigJson } from '../scripts/fixtures/mid-size-checkpoint.ts';
import { writeRandomCheckpoint } from '../scripts/fixtures/random-checkpoint.ts';
import { textDecoderFeeds } from './support/decoder-feeds.ts';

const run = promisify(execFile);
const EP = (process.env.TROVE_EP ?? 'cpu') as ExecutionProviderName;
const LAYERS = Number(process.env.BENCH_DECODER_LAYERS ?? 3);
const HIDDEN = 2048;
const HEADS = 16;
const KV_HEADS = 8;
const MLP = 6144;
const VOCAB_ROWS = 16000;
const HEAD_DIM = 128;
const ATTENTION_LENGTHS = [256, 1800, 4096, 8192];

interface Case {
  readonly label: string;
  /** Token count of each row; the first is the longest (right padding). */
  readonly rows: number[];
  readonly quick: boolean;
}

const spread = (count: number, longest: number) => Array.from({ length: count }, (_, i) => Math.round(longest * (1 - i / (2 * count))));
const CASES: Case[] = [
  { label: '1 × 256', rows: [256], quick: true },
  { label: '32 × 256 padded', rows: spread(32, 256), quick: true },
  { label: '1 × 1,800', rows: [1800], quick: true },
  { label: '4 × 1,800 padded', rows: spread(4, 1800), quick: true },
  { label: '1 × 4,096', rows: [4096], quick: false },
  { label: '2 × 4,096 padded', rows: spread(2, 4096), quick: false },
  { label: '1 × 8,192', rows: [8192], quick: false },
  { label: '1 × 10,245', rows: [10245], quick: false },
];

interface Graph {
  readonly label: string;
  readonly options: Pick<TextDecoderBuildOptions, 'variant' | 'attentionBlockBytes'>;
  /** Index of the graph this one is compared with (itself for a baseline). */
  readonly before: number;
}

const GRAPHS: Graph[] = [
  { label: 'plain, single product (before)', options: { variant: 'plain', attentionBlockBytes: 'unblocked' }, before: 0 },
  { label: 'plain, blocked (now)', options: { variant: 'plain' }, before: 0 },
  { label: 'fused, single product (before)', options: { variant: 'fused', attentionBlockBytes: 'unblocked' }, before: 2 },
  { label: 'fused, blocked (now)', options: { variant: 'fused' }, before: 2 },
];

interface Measured {
  peakAboveMiB: number;
  seconds: number;
  pooled?: number[];
  error?: string;
}

/** Right-padded text-only decoder feeds for rows of the given lengths (seeded token ids). */
function feeds(lengths: readonly number[]): Record<string, ort.Tensor> {
  return textDecoderFeeds(lengths, { hidden: HIDDEN, vocabRows: VOCAB_ROWS });
}

/** Child mode: load one graph, warm up on 16 tokens, run the input `reps` times; memory, the fastest run, the pooled rows. */
async function child(onnxFile: string, lengths: number[], reps: number): Promise<void> {
  const session = await ort.InferenceSession.create(onnxFile, sessionOptions(EP));
  await session.run(feeds([16]));
  const input = feeds(lengths);
  const loadRss = process.memoryUsage().rss;
  let best = Infinity;
  let pooled: Float32Array | undefined;
  for (let r = 0; r < reps; r++) {
    const started = performance.now();
    const out = await session.run(input);
    best = Math.min(best, (performance.now() - started) / 1000);
    pooled = out.pooled_hidden!.data as Float32Array;
  }
  const peak = process.resourceUsage().maxRSS * 1024;
  await session.release();
  console.log(JSON.stringify({ peakAboveMiB: (peak - loadRss) / 2 ** 20, seconds: best, pooled: [...pooled!] }));
}

/** One layer's attention alone, as each graph computes it: inputs q, k, v after the rotary. */
async function attentionGraph(file: string, graph: Graph): Promise<void> {
  const g = new GraphBuilder('attention');
  g.input('input_ids', 'int64', ['batch', 'seq']);
  g.input('attention_mask', 'int64', ['batch', 'seq']);
  g.input('q', 'float32', ['batch', 'seq', HEADS, HEAD_DIM]);
  g.input('k', 'float32', ['batch', 'seq', KV_HEADS, HEAD_DIM]);
  g.input('v', 'float32', ['batch', 'seq', KV_HEADS, HEAD_DIM]);
  const fused = graph.options.variant === 'fused';
  const shapes = { heads: HEADS, kvHeads: KV_HEADS, headDim: HEAD_DIM };
  let out: string;
  if (graph.options.attentionBlockBytes === 'unblocked') {
    const bias = singleProductAttentionBias(g, 'input_ids', 'attention_mask', fused);
    out = fused ? fusedAttention(g, { q: 'q', k: 'k', v: 'v', ...shapes, bias }) : singleProductDecoderAttention(g, { q: 'q', k: 'k', v: 'v', bias, ...shapes });
  } else {
    const plan = decoderAttentionPlan(g, { ...shapes, blockBytes: DECODER_ATTENTION_BLOCK_BYTES, inputIds: 'input_ids', attentionMask: 'attention_mask' });
    out = blockedDecoderAttention(g, plan, { q: 'q', k: 'k', v: 'v', fused });
  }
  g.output('context', 'float32', ['batch', 'seq', HEADS * HEAD_DIM], out);
  await g.save(file);
}

/**
 * Child mode: the four attention graphs at `seq` tokens, interleaved `reps` times; the best time of
 * each (null: skipped for memory). Each timed run follows a warm-up run in the same session (the
 * allocator holds its blocks, as in the runtime), and the session is released before the next
 * graph runs, so a single product's gigabytes of scores go back before the others run.
 */
async function attentionChild(root: string, seq: number, reps: number): Promise<void> {
  const files: (string | null)[] = [];
  for (const [i, graph] of GRAPHS.entries()) {
    const needs = graph.options.attentionBlockBytes === 'unblocked' ? 3 * HEADS * seq * seq * 4 : 0;
    if (needs > availableBytes() - 3 * 2 ** 30) {
      files.push(null);
      continue;
    }
    const file = path.join(root, `attention-${i}.onnx`);
    await attentionGraph(file, graph);
    files.push(file);
  }
  let state = 5;
  const random = (n: number) => Float32Array.from({ length: n }, () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32 - 0.5));
  const input = {
    input_ids: new ort.Tensor('int64', new BigInt64Array(seq), [1, seq]),
    attention_mask: new ort.Tensor('int64', new BigInt64Array(seq).fill(1n), [1, seq]),
    q: new ort.Tensor('float32', random(seq * HEADS * HEAD_DIM), [1, seq, HEADS, HEAD_DIM]),
    k: new ort.Tensor('float32', random(seq * KV_HEADS * HEAD_DIM), [1, seq, KV_HEADS, HEAD_DIM]),
    v: new ort.Tensor('float32', random(seq * KV_HEADS * HEAD_DIM), [1, seq, KV_HEADS, HEAD_DIM]),
  };
  const best = files.map(() => Infinity);
  for (let r = 0; r < reps; r++) {
    for (const [i, file] of files.entries()) {
      if (!file) continue;
      const session = await ort.InferenceSession.create(file, sessionOptions(EP));
      await session.run(input);
      const started = performance.now();
      await session.run(input);
      best[i] = Math.min(best[i]!, (performance.now() - started) / 1000);
      await session.release();
    }
  }
  console.log(JSON.stringify(best.map((b) => (Number.isFinite(b) ? b : null))));
}

/** MemAvailable in bytes (Linux), else the OS's free memory. */
function availableBytes(): number {
  try {
    const match = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
    if (match) return Number(match[1]) * 1024;
  } catch {
    // not Linux
  }
  return Number.POSITIVE_INFINITY;
}

function benchConfig(): Record<string, unknown> {
  const config = midSizeConfigJson(
    { hidden_size: HIDDEN, intermediate_size: MLP, num_hidden_layers: LAYERS, num_attention_heads: HEADS, num_key_value_heads: KV_HEADS },
    { hidden_size: 32, intermediate_size: 64, num_heads: 2, depth: 3, out_hidden_size: HIDDEN, deepstack_visual_indexes: [0, 1, 2] },
  );
  // head_dim 128 and the interleaved M-RoPE sections of the 2B (midSizeConfigJson sets 64).
  (config.text_config as Record<string, unknown>).head_dim = 128;
  (config.text_config as Record<string, unknown>).rope_scaling = { mrope_interleaved: true, mrope_section: [24, 20, 20], rope_type: 'default' };
  return config;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--child') {
    await child(argv[1]!, argv[2]!.split(',').map(Number), Number(argv[3]));
    return;
  }
  if (argv[0] === '--attention-child') {
    await attentionChild(argv[1]!, Number(argv[2]), Number(argv[3]));
    return;
  }
  if (!Number.isInteger(LAYERS) || LAYERS < 3) throw new Error(`BENCH_DECODER_LAYERS=${process.env.BENCH_DECODER_LAYERS}: use an integer ≥ 3 (three DeepStack adds)`);
  const wanted = process.env.BENCH_DECODER_CASES?.split(';').map((s) => s.trim()).filter(Boolean);
  const cases = CASES.filter((c) => (wanted ? wanted.some((w) => c.label === w) : process.env.BENCH_DECODER_QUICK !== '1' || c.quick));
  const root = await mkdtemp(path.join(tmpdir(), 'trove-bench-decoder-'));
  try {
    const dir = await writeRandomCheckpoint(path.join(root, 'checkpoint'), benchConfig(), { only: (name) => !name.startsWith('model.visual.') });
    const files: string[] = [];
    const checkpoint = await openCheckpoint(dir);
    try {
      for (const [i, graph] of GRAPHS.entries()) files.push((await buildTextDecoder(checkpoint, path.join(root, `decoder-${i}.onnx`), { head: 'embedding', ...graph.options })).onnxFile);
    } finally {
      await checkpoint.close();
    }
    console.log(`text decoder on onnxruntime-node ${ort.env.versions.common} EP ${EP}; random weights at the 2B text widths (hidden ${HIDDEN}, ${HEADS}/${KV_HEADS} heads, head_dim 128, MLP ${MLP}), ${LAYERS} layers; ratios against the single-product graph of the same variant and input\n`);
    console.log('| input | graph | peak above weights MiB | × before | s per call | × before | max \\|Δ\\| pooled vs before |');
    console.log('|---|---|---|---|---|---|---|');
    const self = fileURLToPath(import.meta.url);
    for (const c of cases) {
      const seq = c.rows[0]!;
      const reps = c.rows.length * seq <= 2048 ? 3 : 1;
      const measured: Measured[] = [];
      for (const [i, graph] of GRAPHS.entries()) {
        let m: Measured;
        // The single product holds scores, scaled scores and probabilities at once at worst.
        const needs = graph.options.attentionBlockBytes === 'unblocked' ? 3 * c.rows.length * HEADS * seq * seq * 4 : 0;
        const available = availableBytes();
        if (needs > available - 3 * 2 ** 30) {
          m = { peakAboveMiB: NaN, seconds: NaN, error: `skipped: needs ≈ ${(needs / 2 ** 30).toFixed(1)} GiB for the scores, ${(available / 2 ** 30).toFixed(1)} GiB available` };
        } else {
          try {
            const { stdout } = await run(process.execPath, [...(self.endsWith('.ts') ? ['--import', 'tsx', self] : [self]), '--child', files[i]!, c.rows.join(','), String(reps)], { maxBuffer: 1 << 26 });
            m = JSON.parse(stdout.trim().split('\n').at(-1)!) as Measured;
          } catch (error) {
            const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim().split('\n').filter((l) => l && !/^\s+at |^Node\.js v/.test(l));
            m = { peakAboveMiB: NaN, seconds: NaN, error: `failed: ${(stderr.at(-1) || String(error instanceof Error ? error.message : error).split('\n')[0]!).slice(0, 200)}` };
          }
        }
        measured.push(m);
        const base = measured[graph.before]!;
        const ratio = (a: number, b: number) => (Number.isFinite(a) && Number.isFinite(b) ? `${(a / b).toFixed(2)}×` : '');
        let delta = '';
        if (graph.before !== i && m.pooled && base.pooled) {
          let maxAbs = 0;
          for (let k = 0; k < m.pooled.length; k++) maxAbs = Math.max(maxAbs, Math.abs(m.pooled[k]! - base.pooled[k]!));
          delta = maxAbs.toExponential(1);
        }
        console.log(m.error
          ? `| ${c.label} | ${graph.label} | ${m.error} | | | | |`
          : `| ${c.label} | ${graph.label} | ${m.peakAboveMiB.toFixed(0)} | ${ratio(m.peakAboveMiB, base.peakAboveMiB)} | ${m.seconds.toFixed(2)} | ${ratio(m.seconds, base.seconds)} | ${delta} |`);
      }
    }
    if (wanted) return;
    console.log(`\nattention alone (one layer: q, k, v → context; batch 1, no padding), the four graphs interleaved in one process per length, best of 3 (1 at 8,192), each after a warm-up run; ratios against the single product of the same variant\n`);
    console.log(`| tokens | ${GRAPHS.map((g) => g.label).join(' | ')} |`);
    console.log(`|---|${GRAPHS.map(() => '---').join('|')}|`);
    for (const seq of ATTENTION_LENGTHS) {
      if (process.env.BENCH_DECODER_QUICK === '1' && seq > 1800) continue;
      let cells: string[];
      try {
        const { stdout } = await run(process.execPath, [...(self.endsWith('.ts') ? ['--import', 'tsx', self] : [self]), '--attention-child', root, String(seq), String(seq >= 8192 ? 1 : 3)], { maxBuffer: 1 << 20 });
        const best = JSON.parse(stdout.trim().split('\n').at(-1)!) as (number | null)[];
        cells = best.map((b, i) => {
          const base = best[GRAPHS[i]!.before];
          if (b === null) return 'skipped (memory)';
          return `${b.toFixed(2)} s${base !== null && base !== undefined && i !== GRAPHS[i]!.before ? ` (${(b / base).toFixed(2)}×)` : ''}`;
        });
      } catch (error) {
        cells = GRAPHS.map(() => `failed: ${String(error instanceof Error ? error.message : error).split('\n')[0]!.slice(0, 80)}`);
      }
      console.log(`| ${seq.toLocaleString('en-US')} | ${cells.join(' | ')} |`);
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

await main();
