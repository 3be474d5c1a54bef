// `npm run bench [name…]`: runs the benchmarks one after another (they share two cores, so never
// in parallel). Each prints its own table with ratios against a baseline measured in the same run.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const BENCHES = ['preprocess-images', 'preprocess-video', 'fast-path-cosine', 'model', 'model-vision-attention', 'model-decoder-attention', 'model-cpu-arena', 'model-quantized', 'ann', 'ann-corpus', 'store-million', 'store-reconcile', 'ingest', 'ingest-long-pdf', 'watcher-storm', 'package-build-stall', 'preview-render', 'engine-lag', 'memory-peak'];

const root = path.dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const chosen = wanted.length ? BENCHES.filter((b) => wanted.some((w) => b.includes(w))) : BENCHES;
if (chosen.length === 0) {
  console.error(`no benchmark matches ${wanted.join(' ')}; known: ${BENCHES.join(', ')}`);
  process.exit(2);
}
let failed = 0;
for (const name of chosen) {
  console.log(`\n## ${name}\n`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, `${name}.ts`)], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
