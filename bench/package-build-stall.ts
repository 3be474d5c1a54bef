// How long the engine's thread stalls while a model package is built (issue 7: "progress they can
// see"): the build converts and quantizes a checkpoint a tensor at a time, each tensor one long
// synchronous loop. On the engine's thread every search, status call and progress event waits
// behind the tensor in flight; on a worker thread (what the engine does) they do not.
//
// A tiny checkpoint widened to a real model's embedding table size (text hidden size 1,024 here;
// the 2B's is 2,048 and the 8B's 4,096, so their longest tensor is 2× and 4× this one's) is built
// at fp16 and int8, once on this thread and once in the worker, while a 10 ms timer on this thread
// records how late it fires: the longest delay is the longest a call to the engine would have waited.
//
// Run: node --import tsx bench/package-build-stall.ts [hidden-size]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildModelPackage } from '../native-models/package/node/build-package.ts';
import { buildModelPackageInWorker } from '../native-models/package/node/build-in-worker.ts';
import { generateTinyCheckpoint } from '../native-models/tiny/node/generate-tiny-checkpoint.ts';
import type { Precision } from '../native-models/manifest/common/model-manifest.ts';

const TICK_MS = 10;
const hidden = Number(process.argv[2] ?? 1024);

interface Stalls {
  worstMs: number;
  p99Ms: number;
  over100: number;
}

/** Runs `work` while a timer on this thread measures how late each of its ticks comes. */
async function measureStalls(work: () => Promise<unknown>): Promise<{ stalls: Stalls; seconds: number }> {
  const lateness: number[] = [];
  let expected = performance.now() + TICK_MS;
  const timer = setInterval(() => {
    const now = performance.now();
    lateness.push(Math.max(0, now - expected));
    expected = now + TICK_MS;
  }, TICK_MS);
  const started = performance.now();
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  const seconds = (performance.now() - started) / 1000;
  const sorted = [...lateness].sort((a, b) => a - b);
  return {
    seconds,
    stalls: { worstMs: sorted.at(-1) ?? 0, p99Ms: sorted[Math.floor(sorted.length * 0.99)] ?? 0, over100: lateness.filter((l) => l > 100).length },
  };
}

const dir = await mkdtemp(path.join(tmpdir(), 'trove-bench-build-stall-'));
try {
  const started = performance.now();
  const checkpoint = await generateTinyCheckpoint({ out: path.join(dir, 'checkpoint'), kind: 'embedding', widening: { textHiddenSize: hidden } });
  console.log(`Widened tiny embedding checkpoint: text hidden size ${hidden} (embedding table 151,936 × ${hidden}), generated in ${((performance.now() - started) / 1000).toFixed(0)} s.`);
  console.log(`Ticks every ${TICK_MS} ms on the calling thread; a tick's delay is how long a call to the engine would have waited.`);
  console.log('');
  console.log('| precision | where the build runs | build (s) | worst stall (ms) | p99 stall (ms) | stalls > 100 ms | worst stall vs on this thread |');
  console.log('|---|---|---:|---:|---:|---:|---:|');
  let run = 0;
  for (const precision of ['fp16', 'int8'] as Precision[]) {
    let baseline = 0;
    for (const where of ['this thread', 'worker thread'] as const) {
      const options = { checkpointDir: checkpoint, outDir: path.join(dir, `pkg-${++run}`), precision };
      const build = where === 'this thread' ? () => buildModelPackage(options) : () => buildModelPackageInWorker(options);
      const { stalls, seconds } = await measureStalls(build);
      if (where === 'this thread') baseline = stalls.worstMs;
      await rm(options.outDir, { recursive: true, force: true });
      const ratio = where === 'this thread' ? '1' : (stalls.worstMs / baseline).toFixed(3);
      console.log(`| ${precision} | ${where} | ${seconds.toFixed(1)} | ${stalls.worstMs.toFixed(0)} | ${stalls.p99Ms.toFixed(0)} | ${stalls.over100} | ${ratio} |`);
    }
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
