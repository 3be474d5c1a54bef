// `node --import tsx bench/model-quantized.ts`: which MatMulNBits settings int8/int4 packages should
// use on CPU (docs/model-precision.md#int8-and-int4-on-cpu). For each setting (bits × accuracy_level ×
// block size) against fp32 in the same run:
//   speed    — the embedding decoder of a random checkpoint at the real 2B text widths (hidden 2048,
//              16/8 heads, head_dim 128, MLP 6144; BENCH_QUANT_LAYERS layers, default 3; a 16384-row
//              table), text rows of 64 tokens at batch 1 and 8 and one 256-token row; best of
//              two interleaved rounds;
//   fidelity — that random 2B-width decoder: 48 rows of seeded random token ids, each row's cosine
//              to its fp32 embedding, and top-1 / top-5 agreement when every row queries the others.
// Fidelity against the official goldens: bench/model-quantized-goldens.ts. TROVE_EP picks the EP
// (default cpu); BENCH_QUANT_QUICK=1 shrinks the widths (for checking bench/device-run.sh only).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { sessionOptions, type ExecutionProviderName } from '../electron/engine/inference/node/runtime/execution-providers.ts';
import { openCheckpoint } from '../native-models/checkpoint/node/safetensors-reader.ts';
import { buildTextDecoder } from '../native-models/graphs/node/text-decoder-graph.ts';
import { midSizeConfigJson } from '../scripts/fixtures/mid-size-checkpoint.ts';
import { writeRandomCheckpoint } from '../scripts/fixtures/random-checkpoint.ts';
import { fidelity, QUANT_SETTINGS as SETTINGS, settingLabel as label } from './model-quantized-settings.ts';

const EP = (process.env.TROVE_EP ?? 'cpu') as ExecutionProviderName;
const LAYERS = Number(process.env.BENCH_QUANT_LAYERS ?? 3);
/** BENCH_QUANT_QUICK=1 (bench/device-run.sh --quick): a quarter of the widths, to check the script only. */
const QUICK = process.env.BENCH_QUANT_QUICK === '1';
const HIDDEN = QUICK ? 512 : 2048;
const MLP = QUICK ? 1536 : 6144;
const ROUNDS = 2;
const SECONDS_PER_ROUND = 0.3;
/** Rows × tokens of the speed cases. */
const SHAPES: [number, number][] = [[1, 64], [1, 256], [8, 64]];
const RETRIEVAL_ROWS = 48;
/** Text-only decoder feeds for rows of token ids (no padding: all rows the same length). */
function textFeeds(rows: readonly number[][]): Record<string, ort.Tensor> {
  const batch = rows.length;
  const seq = rows[0]!.length;
  const count = batch * seq;
  return {
    input_ids: new ort.Tensor('int64', BigInt64Array.from(rows.flat(), (v) => BigInt(v)), [batch, seq]),
    attention_mask: new ort.Tensor('int64', new BigInt64Array(count).fill(1n), [batch, seq]),
    position_ids: new ort.Tensor('int64', BigInt64Array.from({ length: 3 * count }, (_, i) => BigInt(i % seq)), [3, batch, seq]),
    visual_embeds: new ort.Tensor('float32', new Float32Array(0), [0, HIDDEN]),
    deepstack_embeds: new ort.Tensor('float32', new Float32Array(0), [3, 0, HIDDEN]),
    visual_index: new ort.Tensor('int64', new BigInt64Array(count).fill(-1n), [batch, seq]),
    last_index: new ort.Tensor('int64', new BigInt64Array(batch).fill(BigInt(seq - 1)), [batch]),
  };
}

/** `count` rows of `length` seeded token ids below the vocabulary's special tokens. */
function tokenRows(count: number, length: number, seed: number): number[][] {
  let state = seed;
  return Array.from({ length: count }, () => Array.from({ length }, () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state % 16000;
  }));
}

async function rowsPerSecond(session: ort.InferenceSession, feeds: Record<string, ort.Tensor>, rows: number): Promise<number> {
  await session.run(feeds);
  let runs = 0;
  const started = performance.now();
  while (runs < 1 || performance.now() - started < SECONDS_PER_ROUND * 1000) {
    await session.run(feeds);
    runs++;
  }
  return (rows * runs) / ((performance.now() - started) / 1000);
}

async function randomWidthPart(root: string): Promise<void> {
  const config = midSizeConfigJson(
    { hidden_size: HIDDEN, intermediate_size: MLP, num_hidden_layers: LAYERS, num_attention_heads: 16, num_key_value_heads: 8 },
    { hidden_size: 32, intermediate_size: 64, num_heads: 2, depth: 3, out_hidden_size: HIDDEN, deepstack_visual_indexes: [0, 1, 2] },
  );
  // head_dim 128 as in the 2B (midSizeConfigJson sets 64).
  (config.text_config as Record<string, unknown>).head_dim = 128;
  (config.text_config as Record<string, unknown>).rope_scaling = { mrope_interleaved: true, mrope_section: [24, 20, 20], rope_type: 'default' };
  const dir = await writeRandomCheckpoint(path.join(root, 'checkpoint'), config, { only: (name) => !name.startsWith('model.visual.') });
  const sessions: ort.InferenceSession[] = [];
  const megabytes: number[] = [];
  const checkpoint = await openCheckpoint(dir);
  try {
    for (const [i, setting] of SETTINGS.entries()) {
      const file = path.join(root, `decoder-${i}.onnx`);
      const built = await buildTextDecoder(checkpoint, file, { head: 'embedding', precision: setting.precision, nbits: setting.nbits });
      megabytes.push(built.dataBytes / 2 ** 20);
      sessions.push(await ort.InferenceSession.create(file, sessionOptions(EP)));
    }
  } finally {
    await checkpoint.close();
  }
  try {
    const speeds = SETTINGS.map(() => SHAPES.map(() => 0));
    for (let round = 0; round < ROUNDS; round++) {
      for (const [k, [rows, length]] of SHAPES.entries()) {
        const feeds = textFeeds(tokenRows(rows, length, 99 + k));
        for (const [i, session] of sessions.entries()) speeds[i]![k] = Math.max(speeds[i]![k]!, await rowsPerSecond(session, feeds, rows));
      }
    }
    const retrieval = tokenRows(RETRIEVAL_ROWS, 48, 4242);
    const embeddings: Float32Array[][] = [];
    for (const session of sessions) {
      const out = await session.run(textFeeds(retrieval));
      const pooled = out.pooled_hidden!.data as Float32Array;
      embeddings.push(Array.from({ length: RETRIEVAL_ROWS }, (_, r) => pooled.slice(r * HIDDEN, (r + 1) * HIDDEN)));
    }
    const queries = Array.from({ length: RETRIEVAL_ROWS }, (_, i) => i);
    console.log(`### random checkpoint at ${QUICK ? "a quarter of" : "the real"} 2B text widths (hidden ${HIDDEN}, ${LAYERS} layers, 16/8 heads, head_dim 128, MLP ${MLP}), EP ${EP}\n`);
    console.log(`| setting | weights MiB | ${SHAPES.map(([r, t]) => `rows/s ${r}×${t}`).join(' | ')} | min cosine | mean cosine | top-1 | top-5 |`);
    console.log(`|---|---|${SHAPES.map(() => '---').join('|')}|---|---|---|---|`);
    for (const [i, setting] of SETTINGS.entries()) {
      const f = fidelity(embeddings[0]!, embeddings[i]!, queries);
      const speed = speeds[i]!.map((v, k) => `${v.toFixed(1)} (${(v / speeds[0]![k]!).toFixed(2)}×)`).join(' | ');
      console.log(`| ${label(setting)} | ${megabytes[i]!.toFixed(0)} | ${speed} | ${f.minCosine.toFixed(6)} | ${f.meanCosine.toFixed(6)} | ${f.top1.toFixed(3)} | ${f.top5.toFixed(3)} |`);
    }
  } finally {
    for (const session of sessions) await session.release();
  }
}

async function main(): Promise<void> {
  if (!Number.isInteger(LAYERS) || LAYERS < 3) throw new Error(`BENCH_QUANT_LAYERS=${process.env.BENCH_QUANT_LAYERS}: use an integer ≥ 3 (three DeepStack adds)`);
  console.log(`MatMulNBits settings on onnxruntime-node ${ort.env.versions.common}; speed ratios and fidelity against fp32 of the same run\n`);
  const root = await mkdtemp(path.join(tmpdir(), 'trove-bench-quant-'));
  try {
    await randomWidthPart(root);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

await main();
