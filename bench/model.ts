// `node --import tsx bench/model.ts`: the model graphs per precision × variant. For each, a child
// process builds the vision + embedding-decoder graphs (build time, peak RSS of that process,
// size on disk), then this process loads the decoder on the chosen execution provider (load
// time) and measures text-only embedding throughput at batch 1/4/16 (64 tokens per row). Two
// checkpoints: the tiny one (docs/qwen3-vl-model.md#tiny-test-checkpoint) and a 4-layer mid-size random one (hidden 512) where the
// linear layers, not the 151936-row embedding table, dominate. Baseline: fp32 plain in the same run;
// throughput is the best of three interleaved rounds.
//
// TROVE_EP=cuda|webgpu|dml|coreml picks the onnxruntime-node EP (default cpu); see
// docs/model-precision.md for running it on a GPU machine. BENCH_MODEL_QUICK=1 skips the mid-size one.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as ort from 'onnxruntime-node';
import type { GraphVariant, Precision } from '../native-models/manifest/common/model-manifest.ts';
import { openCheckpoint } from '../native-models/checkpoint/node/safetensors-reader.ts';
import { buildTextDecoder } from '../native-models/graphs/node/text-decoder-graph.ts';
import { buildVisionEncoder } from '../native-models/graphs/node/vision-encoder-graph.ts';
import { generateTinyCheckpoint } from '../native-models/tiny/node/generate-tiny-checkpoint.ts';
import { copyQwenTokenizer, midSizeConfigJson } from '../scripts/fixtures/mid-size-checkpoint.ts';
import { writeRandomCheckpoint } from '../scripts/fixtures/random-checkpoint.ts';

const run = promisify(execFile);
/** How to start this file again as a child: from source with tsx, or as bench/device-run.sh's bundle. */
const selfArgs = (self: string) => (self.endsWith('.ts') ? ['--import', 'tsx', self] : [self]);
const PRECISIONS: Precision[] = ['fp32', 'fp16', 'int8', 'int4'];
const VARIANTS: GraphVariant[] = ['plain', 'fused'];
const BATCHES = [1, 4, 16];
const SEQ = 64;
const ROUNDS = 3;
const SECONDS_PER_ROUND = 0.4;
const EP = process.env.TROVE_EP ?? 'cpu';
const DECODER_FILE = 'text_decoder.onnx';

/** Child mode: build one precision × variant and print what it cost. */
async function buildChild(checkpointDir: string, outDir: string, precision: Precision, variant: GraphVariant): Promise<void> {
  const started = performance.now();
  const checkpoint = await openCheckpoint(checkpointDir);
  try {
    await mkdir(outDir, { recursive: true });
    await buildVisionEncoder(checkpoint, outDir, { precision, variant });
    await buildTextDecoder(checkpoint, path.join(outDir, DECODER_FILE), { head: 'embedding', precision, variant });
  } finally {
    await checkpoint.close();
  }
  console.log(JSON.stringify({ seconds: (performance.now() - started) / 1000, maxRssKiB: process.resourceUsage().maxRSS }));
}

/** The mid-size random checkpoint: 4 decoder layers of hidden 512 (GQA 8/4, head_dim 64), a 16384-row vocabulary, a small vision tower. */
function midSizeBenchConfig(): Record<string, unknown> {
  return midSizeConfigJson(
    { hidden_size: 512, intermediate_size: 1536, num_hidden_layers: 4, num_attention_heads: 8, num_key_value_heads: 4 },
    { hidden_size: 128, intermediate_size: 256, num_heads: 2, depth: 4, out_hidden_size: 512, deepstack_visual_indexes: [1, 2, 3] },
  );
}

async function writeMidSizeCheckpoint(dir: string): Promise<string> {
  await writeRandomCheckpoint(dir, midSizeBenchConfig());
  await copyQwenTokenizer(dir);
  return dir;
}

async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(dir)) total += (await stat(path.join(dir, name))).size;
  return total;
}

/** Text-only decoder feeds: `batch` rows of SEQ synthetic token ids, no padding, pooled at the last token. */
function textFeeds(batch: number, hidden: number, vocab: number): Record<string, ort.Tensor> {
  const count = batch * SEQ;
  const ids = BigInt64Array.from({ length: count }, (_, i) => BigInt((i * 7919 + 13) % Math.min(vocab, 16000)));
  const positions = BigInt64Array.from({ length: 3 * count }, (_, i) => BigInt(i % SEQ));
  return {
    input_ids: new ort.Tensor('int64', ids, [batch, SEQ]),
    attention_mask: new ort.Tensor('int64', new BigInt64Array(count).fill(1n), [batch, SEQ]),
    position_ids: new ort.Tensor('int64', positions, [3, batch, SEQ]),
    visual_embeds: new ort.Tensor('float32', new Float32Array(0), [0, hidden]),
    deepstack_embeds: new ort.Tensor('float32', new Float32Array(0), [3, 0, hidden]),
    visual_index: new ort.Tensor('int64', new BigInt64Array(count).fill(-1n), [batch, SEQ]),
    last_index: new ort.Tensor('int64', new BigInt64Array(batch).fill(BigInt(SEQ - 1)), [batch]),
  };
}

interface Row {
  checkpoint: string;
  precision: Precision;
  variant: GraphVariant;
  buildSeconds: number;
  buildRssMiB: number;
  packageMiB: number;
  loadMs: number;
  throughput: number[];
  error?: string;
}

/** Runs `feeds` for at least `seconds` (3 runs minimum) after a warm-up; embeddings per second. */
async function throughput(session: ort.InferenceSession, feeds: Record<string, ort.Tensor>, batch: number, seconds: number): Promise<number> {
  await session.run(feeds); // warm-up: first-run allocations and kernel selection
  let runs = 0;
  const started = performance.now();
  while (runs < 3 || performance.now() - started < seconds * 1000) {
    await session.run(feeds);
    runs++;
  }
  return (batch * runs) / ((performance.now() - started) / 1000);
}

/**
 * Builds every precision × variant, loads them all, then measures throughput in ROUNDS interleaved
 * rounds and keeps each one's best: on a shared machine the load changes over a run, and
 * interleaving lets every graph see the same conditions.
 */
async function measure(label: string, checkpointDir: string, root: string, hidden: number, vocab: number): Promise<Row[]> {
  const rows: Row[] = [];
  const sessions = new Map<Row, ort.InferenceSession>();
  const self = fileURLToPath(import.meta.url);
  try {
    for (const precision of PRECISIONS) {
      for (const variant of VARIANTS) {
        const out = path.join(root, `${label}-${precision}-${variant}`);
        const row: Row = { checkpoint: label, precision, variant, buildSeconds: NaN, buildRssMiB: NaN, packageMiB: NaN, loadMs: NaN, throughput: BATCHES.map(() => 0) };
        rows.push(row);
        try {
          const { stdout } = await run(process.execPath, [...selfArgs(self), '--build-child', checkpointDir, out, precision, variant], { maxBuffer: 1 << 24 });
          const built = JSON.parse(stdout.trim().split('\n').at(-1)!) as { seconds: number; maxRssKiB: number };
          row.buildSeconds = built.seconds;
          row.buildRssMiB = built.maxRssKiB / 1024;
          row.packageMiB = (await folderBytes(out)) / 2 ** 20;
          const loadStart = performance.now();
          sessions.set(row, await ort.InferenceSession.create(path.join(out, DECODER_FILE), { executionProviders: [EP] }));
          row.loadMs = performance.now() - loadStart;
        } catch (error) {
          row.error = String(error instanceof Error ? error.message : error).split('\n')[0].slice(0, 160);
        }
      }
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const [b, batch] of BATCHES.entries()) {
        const feeds = textFeeds(batch, hidden, vocab);
        for (const [row, session] of sessions) row.throughput[b] = Math.max(row.throughput[b], await throughput(session, feeds, batch, SECONDS_PER_ROUND));
      }
    }
  } finally {
    for (const session of sessions.values()) await session.release();
  }
  return rows;
}

function table(rows: Row[]): string {
  const base = rows.find((r) => r.precision === 'fp32' && r.variant === 'plain')!;
  const ratio = (value: number, reference: number) => (Number.isFinite(value) && Number.isFinite(reference) ? ` (${(value / reference).toFixed(2)}×)` : '');
  const lines = [
    `| precision | variant | build s | build peak RSS MiB | package MiB | load ms | ${BATCHES.map((b) => `emb/s b=${b}`).join(' | ')} |`,
    `|---|---|---|---|---|---|${BATCHES.map(() => '---').join('|')}|`,
  ];
  for (const r of rows) {
    if (r.error) {
      lines.push(`| ${r.precision} | ${r.variant} | failed: ${r.error} |`);
      continue;
    }
    lines.push(`| ${r.precision} | ${r.variant} | ${r.buildSeconds.toFixed(2)} | ${r.buildRssMiB.toFixed(0)} | ${r.packageMiB.toFixed(1)}${ratio(r.packageMiB, base.packageMiB)} | ${r.loadMs.toFixed(0)} | ${r.throughput.map((t, i) => `${t.toFixed(1)}${ratio(t, base.throughput[i])}`).join(' | ')} |`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--build-child') {
    await buildChild(argv[1], argv[2], argv[3] as Precision, argv[4] as GraphVariant);
    return;
  }
  if (!['cpu', 'cuda', 'webgpu', 'dml', 'coreml'].includes(EP)) throw new Error(`TROVE_EP=${EP}: use cpu, cuda, webgpu, dml or coreml`);
  const root = await mkdtemp(path.join(tmpdir(), 'trove-bench-model-'));
  try {
    console.log(`model graphs on onnxruntime-node ${ort.env.versions.common} EP ${EP}; text-only rows of ${SEQ} tokens; ratios against fp32 plain of the same checkpoint\n`);
    const tiny = await generateTinyCheckpoint({ out: path.join(root, 'tiny'), kind: 'embedding' });
    console.log('### tiny checkpoint (hidden 32, 4 layers, 151936-row embedding table)\n');
    console.log(table(await measure('tiny', tiny, root, 32, 151936)));
    if (process.env.BENCH_MODEL_QUICK !== '1') {
      const mid = await writeMidSizeCheckpoint(path.join(root, 'mid'));
      console.log('\n### mid-size random checkpoint (hidden 512, 4 layers, GQA 8/4, head_dim 64, intermediate 1536, 16384-row table)\n');
      console.log(table(await measure('mid', mid, root, 512, 16384)));
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

await main();
