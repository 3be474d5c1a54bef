// `node --import tsx bench/model-cpu-arena.ts`: what onnxruntime's CPU memory arena costs in memory
// and saves in time, at the real 2B widths (random weights; vision hidden 1024, 16 heads, MLP 4096,
// BENCH_ARENA_DEPTH blocks; text hidden 2048, 16 / 8 heads, head_dim 128, MLP 6144,
// BENCH_ARENA_DEPTH layers; default 3 each; the plain graphs the packages ship).
// Sessions are created as the runtime creates them (sessionOptions: memory patterns off for the
// vision session) with the arena on or off:
// - time: one child process holds the four sessions (vision and decoder, arena on and off), warms
//   each on its input, then runs the inputs BENCH_ARENA_ROUNDS times (default 3) alternating which
//   arena setting goes first; the median call per setting, as CPU time (user + system: what the
//   arena saves is allocation and page faults) and as wall time. The sessions run on
//   BENCH_ARENA_THREADS intra-op threads (default 1): on a shared machine the CPU time of one
//   thread barely moves with the load, while the wall time of a thread pool does.
// - memory: one child per setting of the two sessions (both on, as before; both off; off for one
//   of them) runs the same sequence (a 1024×768 image, an 8-row text batch, a 512×512 image, the
//   batch again); its peak RSS and its RSS at the end, above the RSS after the sessions were
//   created and warmed on a 64-patch image and a 16-token row.
// TROVE_EP picks the EP (default cpu; the arena setting only matters there); BENCH_ARENA_PARTS=time
// or =memory runs one table.
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
import { buildTextDecoder } from '../native-models/graphs/node/text-decoder-graph.ts';
import { buildVisionEncoder } from '../native-models/graphs/node/vision-encoder-graph.ts';
import { midSizeConfigJson } from '../scripts/fixtures/mid-size-checkpoint.ts';
import { writeRandomCheckpoint } from '../scripts/fixtures/random-checkpoint.ts';
import { textDecoderFeeds } from './support/decoder-feeds.ts';

const run = promisify(execFile);
const EP = (process.env.TROVE_EP ?? 'cpu') as ExecutionProviderName;
const DEPTH = Number(process.env.BENCH_ARENA_DEPTH ?? 3);
const ROUNDS = Number(process.env.BENCH_ARENA_ROUNDS ?? 3);
const THREADS = Number(process.env.BENCH_ARENA_THREADS ?? 1);
const PARTS = process.env.BENCH_ARENA_PARTS ?? 'time,memory';
const VISION_HIDDEN = 1024;
const VISION_HEADS = 16;
const VISION_HEAD_DIM = VISION_HIDDEN / VISION_HEADS;
const PATCH_DIM = 1536;
const TEXT_HIDDEN = 2048;
const VOCAB_ROWS = 16000;

type Input = { readonly label: string; readonly kind: 'image'; readonly h: number; readonly w: number } | { readonly label: string; readonly kind: 'text'; readonly rows: readonly number[] };

const spread = (count: number, longest: number) => Array.from({ length: count }, (_, i) => Math.round(longest * (1 - i / (2 * count))));
const IMAGE_LARGE: Input = { label: 'image 1024×768 (3,072 patches)', kind: 'image', h: 48, w: 64 };
const IMAGE_SMALL: Input = { label: 'image 512×512 (1,024 patches)', kind: 'image', h: 32, w: 32 };
const TEXT_BATCH: Input = { label: 'text 8 rows × ≤ 256 tokens, padded', kind: 'text', rows: spread(8, 256) };
const TIMED: Input[] = [IMAGE_LARGE, TEXT_BATCH];
const MEMORY_SEQUENCE: Input[] = [IMAGE_LARGE, TEXT_BATCH, IMAGE_SMALL, TEXT_BATCH];

function randomPixels(h: number, w: number): Float32Array {
  const pixels = new Float32Array(h * w * PATCH_DIM);
  let state = 7;
  for (let i = 0; i < pixels.length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    pixels[i] = state / 2 ** 31 - 1;
  }
  return pixels;
}

/** Right-padded text-only decoder feeds for rows of the given lengths (seeded token ids). */
function textFeeds(lengths: readonly number[]): Record<string, ort.Tensor> {
  return textDecoderFeeds(lengths, { hidden: TEXT_HIDDEN, vocabRows: VOCAB_ROWS });
}

interface Sessions {
  readonly vision: ort.InferenceSession;
  readonly decoder: ort.InferenceSession;
}

/** Sessions as the runtime makes them, with the CPU arena of each set as asked. */
async function openSessions(visionFile: string, decoderFile: string, arena: { vision: boolean; decoder: boolean }, threads?: number): Promise<Sessions> {
  return {
    vision: await ort.InferenceSession.create(visionFile, { ...sessionOptions(EP, threads, false), enableCpuMemArena: arena.vision }),
    decoder: await ort.InferenceSession.create(decoderFile, { ...sessionOptions(EP, threads), enableCpuMemArena: arena.decoder }),
  };
}

const ARENA_SETTINGS = [
  { label: 'on for both (before)', vision: true, decoder: true },
  { label: 'off for both', vision: false, decoder: false },
  { label: 'off for vision, on for the decoder', vision: false, decoder: true },
  { label: 'on for vision, off for the decoder', vision: true, decoder: false },
] as const;

/** A runner per input: the feeds are made once, outside the timed call. */
function runner(sessions: Sessions, input: Input): () => Promise<unknown> {
  if (input.kind === 'image') {
    const pixelValues = randomPixels(input.h, input.w);
    const tables = visionTables([1, input.h, input.w], VISION_HEAD_DIM);
    return () => runVisionEncoder(sessions.vision, { gridThw: [1, input.h, input.w], pixelValues }, tables, VISION_HEAD_DIM, TEXT_HIDDEN);
  }
  const feeds = textFeeds(input.rows);
  return () => sessions.decoder.run(feeds);
}

async function warm(sessions: Sessions): Promise<void> {
  await runner(sessions, { label: 'warm-up', kind: 'image', h: 8, w: 8 })();
  await runner(sessions, { label: 'warm-up', kind: 'text', rows: [16] })();
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** Child: both settings in one process, calls alternating; seconds per input and setting. */
async function timeChild(visionFile: string, decoderFile: string): Promise<void> {
  const settings = [await openSessions(visionFile, decoderFile, { vision: true, decoder: true }, THREADS), await openSessions(visionFile, decoderFile, { vision: false, decoder: false }, THREADS)];
  const calls = TIMED.map((input) => settings.map((s) => runner(s, input)));
  for (const pair of calls) for (const call of pair) await call();
  const wall = TIMED.map(() => [[] as number[], [] as number[]]);
  const cpu = TIMED.map(() => [[] as number[], [] as number[]]);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, pair] of calls.entries()) {
      for (const which of round % 2 === 0 ? [0, 1] : [1, 0]) {
        const started = performance.now();
        const cpuStarted = process.cpuUsage();
        await pair[which]!();
        const used = process.cpuUsage(cpuStarted);
        wall[i]![which]!.push((performance.now() - started) / 1000);
        cpu[i]![which]!.push((used.user + used.system) / 1e6);
      }
    }
  }
  console.log(JSON.stringify(TIMED.map((_, i) => [0, 1].map((which) => ({ cpu: median(cpu[i]![which]!), wall: median(wall[i]![which]!) })))));
}

/** Child: one setting, the memory sequence; MiB above the warmed sessions. */
async function memoryChild(visionFile: string, decoderFile: string, arena: { vision: boolean; decoder: boolean }): Promise<void> {
  const sessions = await openSessions(visionFile, decoderFile, arena);
  await warm(sessions);
  const calls = MEMORY_SEQUENCE.map((input) => runner(sessions, input));
  const loadRss = process.memoryUsage().rss;
  for (const call of calls) await call();
  const endRss = process.memoryUsage().rss;
  const peak = process.resourceUsage().maxRSS * 1024;
  console.log(JSON.stringify({ peakAboveMiB: (peak - loadRss) / 2 ** 20, endAboveMiB: (endRss - loadRss) / 2 ** 20 }));
}

function benchConfig(): Record<string, unknown> {
  const config = midSizeConfigJson(
    { hidden_size: TEXT_HIDDEN, intermediate_size: 6144, num_hidden_layers: DEPTH, num_attention_heads: 16, num_key_value_heads: 8 },
    { hidden_size: VISION_HIDDEN, intermediate_size: 4096, num_heads: VISION_HEADS, depth: DEPTH, out_hidden_size: TEXT_HIDDEN, deepstack_visual_indexes: [DEPTH - 3, DEPTH - 2, DEPTH - 1] },
  );
  // head_dim 128 and the interleaved M-RoPE sections of the 2B (midSizeConfigJson sets 64).
  (config.text_config as Record<string, unknown>).head_dim = 128;
  (config.text_config as Record<string, unknown>).rope_scaling = { mrope_interleaved: true, mrope_section: [24, 20, 20], rope_type: 'default' };
  return config;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--time') return timeChild(argv[1]!, argv[2]!);
  if (argv[0] === '--memory') return memoryChild(argv[1]!, argv[2]!, { vision: argv[3] === 'on', decoder: argv[4] === 'on' });
  if (!Number.isInteger(THREADS) || THREADS < 0) throw new Error(`BENCH_ARENA_THREADS=${process.env.BENCH_ARENA_THREADS}: use an integer ≥ 0 (0: the runtime's count)`);
  if (!Number.isInteger(DEPTH) || DEPTH < 3) throw new Error(`BENCH_ARENA_DEPTH=${process.env.BENCH_ARENA_DEPTH}: use an integer ≥ 3 (three DeepStack taps)`);
  const root = await mkdtemp(path.join(tmpdir(), 'trove-bench-arena-'));
  try {
    const checkpoint = await openCheckpoint(await writeRandomCheckpoint(path.join(root, 'checkpoint'), benchConfig()));
    let visionFile: string;
    let decoderFile: string;
    try {
      visionFile = (await buildVisionEncoder(checkpoint, path.join(root, 'vision'))).onnxFile;
      decoderFile = (await buildTextDecoder(checkpoint, path.join(root, 'decoder.onnx'), { head: 'embedding' })).onnxFile;
    } finally {
      await checkpoint.close();
    }
    const self = fileURLToPath(import.meta.url);
    const child = async (args: string[]): Promise<unknown> => {
      const { stdout } = await run(process.execPath, ['--import', 'tsx', self, ...args], { maxBuffer: 1 << 24 });
      return JSON.parse(stdout.trim().split('\n').at(-1)!);
    };
    console.log(`onnxruntime-node ${ort.env.versions.common}, EP ${EP}; random weights at the 2B widths, ${DEPTH} vision blocks and ${DEPTH} decoder layers; plain graphs\n`);
    if (PARTS.includes('time')) await timeTable(child, visionFile, decoderFile);
    if (PARTS.includes('memory')) await memoryTable(child, visionFile, decoderFile);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

type Child = (args: string[]) => Promise<unknown>;

async function timeTable(child: Child, visionFile: string, decoderFile: string): Promise<void> {
  const times = (await child(['--time', visionFile, decoderFile])) as { cpu: number; wall: number }[][];
  console.log(`Median of ${ROUNDS} calls per setting, ${THREADS} intra-op thread(s):\n`);
  console.log(`| input | arena on: CPU / wall s | arena off: CPU / wall s | off ÷ on (CPU) | off ÷ on (wall) |`);
  console.log('|---|---:|---:|---:|---:|');
  for (const [i, input] of TIMED.entries()) {
    const [on, off] = times[i]!;
    console.log(`| ${input.label} | ${on!.cpu.toFixed(2)} / ${on!.wall.toFixed(2)} | ${off!.cpu.toFixed(2)} / ${off!.wall.toFixed(2)} | ${(off!.cpu / on!.cpu).toFixed(2)}× | ${(off!.wall / on!.wall).toFixed(2)}× |`);
  }
}

async function memoryTable(child: Child, visionFile: string, decoderFile: string): Promise<void> {
  console.log(`\nMemory over ${MEMORY_SEQUENCE.map((i) => i.label).join(', ')} (MiB above the warmed sessions):\n`);
  console.log('| CPU arena | peak | held at the end |');
  console.log('|---|---:|---:|');
  for (const setting of ARENA_SETTINGS) {
    const onOff = (on: boolean) => (on ? 'on' : 'off');
    const m = (await child(['--memory', visionFile, decoderFile, onOff(setting.vision), onOff(setting.decoder)])) as { peakAboveMiB: number; endAboveMiB: number };
    console.log(`| ${setting.label} | ${m.peakAboveMiB.toFixed(0)} | ${m.endAboveMiB.toFixed(0)} |`);
  }
}

await main();
