// ANN options on embeddings of a real corpus, made by a random-weight checkpoint (the pessimistic
// case for a Matryoshka prefix: a trained model puts more in the leading dimensions, random weights
// spread it evenly). The tiny checkpoint widened to a 1024-wide text model (4 layers) indexes the
// shared corpora (Qwen examples, PNG suite, pdf.js sample pages) through the engine; its vectors
// are the seeds, and the data set is made from them up to --n, one of two ways (--mix):
//   noise        a seed + isotropic Gaussian noise (each copy keeps ~84 % of its seed's direction):
//                neighbours among copies of one seed differ by noise spread evenly over all
//                dimensions, which no prefix can see — the worst case, for any prefix;
//   interpolate  a random mix of two or three seeds + a little noise: points spread along the
//                corpus's own directions, closer to how real items of a library relate.
// Truth: exact float32 search over that set.
// Compared: the configuration before issue 14 (prefix 512, M 16, one index, ef 256, K' 100) against
// the store's layout now (prefix 256, M 16, two shards by label, each rescoring its own K'
// candidates) over a grid of search breadths (ef) and K' per shard; the shipped defaults are marked.
//
// Run: node --import tsx bench/ann-corpus.ts [--n 100000] [--queries 100] [--mix interpolate|noise] [--cache DIR]
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import hnswlib from 'hnswlib-node';
import { openTroveEngine } from '../electron/engine/app/node/trove-engine.ts';
import { dispatchApiCall } from '../electron/contract/common/trove-api.ts';
import { buildModelPackageInWorker } from '../native-models/package/node/build-in-worker.ts';
import { generateTinyCheckpoint } from '../native-models/tiny/node/generate-tiny-checkpoint.ts';
import { Store } from '../electron/engine/store/node/store.ts';
import { DEFAULT_ANN_PARAMS, DEFAULT_RESCORE_CANDIDATES } from '../electron/engine/store/node/ann-index.ts';
import { DEFAULT_ANN_SHARDS } from '../electron/engine/store/node/ann-handle.ts';
import { normalisedPrefix } from '../electron/engine/store/node/vector-codec.ts';
import { seededRandom } from '../scripts/fixtures/seeded-random.ts';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const N = arg('n', 100_000);
const Q = arg('queries', 100);
const WIDTH = 1024;
const mixAt = process.argv.indexOf('--mix');
const MIX = mixAt >= 0 ? process.argv[mixAt + 1]! : 'interpolate';
if (MIX !== 'noise' && MIX !== 'interpolate') throw new Error(`--mix is noise or interpolate, got ${MIX}`);
const cacheAt = process.argv.indexOf('--cache');
const CACHE = cacheAt >= 0 ? process.argv[cacheAt + 1]! : path.join(tmpdir(), 'trove-bench-ann-corpus');
const CORPORA = path.resolve(import.meta.dirname, '../../shared/corpora');

const ms = (t0: number): number => performance.now() - t0;
const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))] ?? 0;

/** The seeds: every vector the engine stored for the corpora (cached as JSON). */
async function seeds(): Promise<Float32Array[]> {
  const file = path.join(CACHE, `seeds-${WIDTH}.json`);
  if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as number[][]).map((v) => Float32Array.from(v));
  mkdirSync(CACHE, { recursive: true });
  const t0 = performance.now();
  const checkpoint = await generateTinyCheckpoint({ out: path.join(CACHE, 'checkpoint'), kind: 'embedding', widening: { textHiddenSize: WIDTH } });
  const modelDir = path.join(CACHE, 'package');
  await buildModelPackageInWorker({ checkpointDir: checkpoint, outDir: modelDir, kind: 'embedding', precision: 'fp32' });
  const library = path.join(CACHE, 'library');
  for (const corpus of ['qwen-examples', 'pngsuite', 'pdfjs-sample']) cpSync(path.join(CORPORA, corpus), path.join(library, corpus), { recursive: true });
  const dataDir = path.join(CACHE, 'data');
  const engine = await openTroveEngine({ dataDir, embeddingModel: modelDir, watch: false });
  try {
    await dispatchApiCall(engine.handlers, 'roots.add', { path: library });
    await engine.idle();
  } finally {
    await engine.close();
  }
  const store = Store.open(dataDir);
  const out: Float32Array[] = [];
  try {
    const model = store.vectors.models()[0]!;
    for (const v of store.vectors.iterateCodes(model.id)) out.push(Float32Array.from(v.codes, (c) => c));
  } finally {
    store.close();
  }
  writeFileSync(file, JSON.stringify(out.map((v) => Array.from(v))));
  console.error(`${out.length} corpus vectors from a ${WIDTH}-wide random-weight model in ${(ms(t0) / 1000).toFixed(0)} s`);
  return out;
}

function normalise(x: Float32Array): Float32Array {
  let n = 0;
  for (const v of x) n += v * v;
  const inv = 1 / Math.sqrt(n);
  return x.map((v) => v * inv);
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const base = (await seeds()).map(normalise);
  const D = base[0]!.length;
  // How spread the seeds are: random weights give one dominant direction.
  let meanCos = 0;
  for (let i = 0; i < 200; i++) {
    const a = base[i % base.length]!;
    const b = base[(i * 7 + 3) % base.length]!;
    let s = 0;
    for (let d = 0; d < D; d++) s += a[d]! * b[d]!;
    meanCos += s / 200;
  }
  const rand = seededRandom(5);
  const gauss = (): number => Math.sqrt(-2 * Math.log(rand() || 1e-12)) * Math.cos(2 * Math.PI * rand());
  // Perturbation: noise of norm 1 against a unit seed, scaled to the seeds' spread so copies of one
  // seed stay nearer each other than to other seeds.
  const sigma = Math.sqrt(Math.max(0.05, 1 - meanCos)) * 0.7;
  const pick = (): Float32Array => base[Math.floor(rand() * base.length)]!;
  const make = (): Float32Array => {
    if (MIX === 'noise') {
      const seed = pick();
      return normalise(Float32Array.from(seed, (v) => v + (sigma * gauss()) / Math.sqrt(D)));
    }
    const parts = [pick(), pick(), ...(rand() < 0.5 ? [pick()] : [])];
    const weights = parts.map(() => rand());
    const out = new Float32Array(D);
    parts.forEach((p, j) => p.forEach((v, d) => (out[d]! += weights[j]! * v)));
    const norm = Math.hypot(...out);
    return normalise(out.map((v) => v / norm + (0.1 * gauss()) / Math.sqrt(D)));
  };
  const data = Array.from({ length: N }, make);
  const queries = Array.from({ length: Q }, make);
  const codes = data.map((x) => {
    let max = 0;
    for (const v of x) max = Math.max(max, Math.abs(v));
    const scale = max / 127;
    return { codes: Int8Array.from(x, (v) => Math.round(v / scale)), scale };
  });
  const truth = queries.map((q) => {
    const s = data.map((x, i) => {
      let dot = 0;
      for (let d = 0; d < D; d++) dot += q[d]! * x[d]!;
      return { i, dot };
    });
    return new Set(s.sort((a, b) => b.dot - a.dot).slice(0, 10).map((h) => h.i));
  });
  const how = MIX === 'noise' ? `seed + noise (σ ${sigma.toFixed(2)})` : 'mixes of 2-3 seeds + noise (σ 0.1)';
  console.log(`${base.length} seeds (mean cosine between seeds ${meanCos.toFixed(3)}), ${N} vectors made as ${how}, ${Q} queries, ${D}-d; data ready in ${(ms(t0) / 1000).toFixed(0)} s\n`);

  const rows: string[] = [];
  {
    // The ceiling: exact search over the stored int8 codes (what rescoring compares).
    let recall = 0;
    const times: number[] = [];
    for (let q = 0; q < Q; q++) {
      const qv = queries[q]!;
      const t = performance.now();
      const scored = codes.map((c, i) => {
        let dot = 0;
        for (let d = 0; d < D; d++) dot += qv[d]! * c.codes[d]!;
        return { i, s: dot * c.scale };
      });
      const got = scored.sort((a, b) => b.s - a.s).slice(0, 10);
      times.push(ms(t));
      recall += got.filter((h) => truth[q]!.has(h.i)).length / 10;
    }
    rows.push(`| exact int8 brute force (the ceiling) | all | ${(recall / Q).toFixed(3)} | ${pct(times, 50).toFixed(2)} | ${pct(times, 99).toFixed(2)} | — | ${D} (the codes) | |`);
  }
  // One configuration: `shards` graphs over the prefix (vector i in shard i mod shards), each
  // searched for its K' nearest at breadth ef and rescored exactly; the shards' best merged.
  const measure = (prefix: number, shards: number, grid: ReadonlyArray<readonly [ef: number, kPrime: number]>, mark: (ef: number, kPrime: number) => string): void => {
    const indexes = Array.from({ length: shards }, () => {
      const index = new hnswlib.HierarchicalNSW('ip', prefix);
      index.initIndex(Math.ceil(N / shards), 16, 128, 100);
      return index;
    });
    const tb = performance.now();
    for (let i = 0; i < N; i++) indexes[i % shards]!.addPoint(normalisedPrefix(codes[i]!.codes, prefix), i);
    const buildMs = ms(tb);
    let bytes = 0;
    for (const [s, index] of indexes.entries()) {
      const file = path.join(CACHE, `p${prefix}-${s}.bin`);
      index.writeIndexSync(file);
      bytes += statSync(file).size;
    }
    for (const [ef, kPrime] of grid) {
      let recall = 0;
      const times: number[] = [];
      for (let q = 0; q < Q; q++) {
        const qv = queries[q]!;
        const qp = normalisedPrefix(qv, prefix);
        const t = performance.now();
        const scored: Array<{ i: number; s: number }> = [];
        for (const index of indexes) {
          index.setEf(Math.max(ef, kPrime));
          for (const i of index.searchKnn(qp, kPrime).neighbors) {
            const c = codes[i]!;
            let dot = 0;
            for (let d = 0; d < D; d++) dot += qv[d]! * c.codes[d]!;
            scored.push({ i, s: dot * c.scale });
          }
        }
        const got = scored.sort((a, b) => b.s - a.s).slice(0, 10);
        times.push(ms(t));
        recall += got.filter((h) => truth[q]!.has(h.i)).length / 10;
      }
      const layout = `prefix ${prefix}, M 16, ${shards === 1 ? 'one index' : `${shards} shards`}, ef ${ef}`;
      rows.push(`| ${layout} | ${kPrime}${shards > 1 ? ' per shard' : ''} | ${(recall / Q).toFixed(3)} | ${pct(times, 50).toFixed(2)} | ${pct(times, 99).toFixed(2)} | ${((buildMs / N) * 1000).toFixed(0)} | ${(bytes / N).toFixed(0)} | ${mark(ef, kPrime)} |`);
    }
  };
  measure(512, 1, [[256, 100]], () => 'before');
  const grid: Array<[number, number]> = [];
  for (const ef of [256, 384, 512]) for (const kPrime of [100, 200, 300, 400]) if (kPrime <= ef) grid.push([ef, kPrime]);
  measure(DEFAULT_ANN_PARAMS.prefix, DEFAULT_ANN_SHARDS, grid, (ef, kPrime) => (ef === DEFAULT_ANN_PARAMS.ef && kPrime === DEFAULT_RESCORE_CANDIDATES ? 'shipped' : ''));
  console.log(`| method | rescore K' | recall@10 | p50 ms | p99 ms | build µs/vector | bytes/vector on disk | |\n|---|---|---|---|---|---|---|---|`);
  for (const r of rows) console.log(r);
  for (const name of readdirSync(CACHE)) if (/^p\d+(-\d+)?\.bin$/.test(name)) rmSync(path.join(CACHE, name));
  console.log(`\ntotal ${(ms(t0) / 1000).toFixed(0)} s`);
}

await main();
