// What the image fast path (sharp shrink-on-load before the exact resize) costs in the final
// embedding: cosine between the exact-path and fast-path embeddings of large photos, computed by
// the naive float64 reference forward on the tiny checkpoint, next to the time each path takes.
// Photos: the Qwen examples upscaled to 12 MP (a camera-sized input); target 256 tokens so the
// fast path applies (it needs a source ≥ 2.5× the target on both axes).
import { mkdtemp, rm, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { embedderPrompt } from '../electron/engine/model-inputs/common/embedder-prompt.ts';
import { expandVisionPlaceholders } from '../electron/engine/model-inputs/common/placeholder-expansion.ts';
import { buildEmbedderBatch } from '../electron/engine/model-inputs/common/sequence-batch.ts';
import { preprocessImage, type PreprocessedImage } from '../electron/engine/model-inputs/node/image-preprocess.ts';
import { loadQwenTokenizer } from '../electron/engine/model-inputs/node/qwen-tokenizer.ts';
import { generateTinyCheckpoint } from '../native-models/tiny/node/generate-tiny-checkpoint.ts';
import { loadNaiveWeights } from '../native-models/reference/node/naive-weights.ts';
import { naiveEmbed } from '../native-models/reference/node/naive-forward.ts';

const EXAMPLES = fileURLToPath(new URL('../../shared/corpora/qwen-examples/', import.meta.url));
const MAX_PIXELS = 256 * 32 * 32;
const PHOTOS = 4;

function cosine(a: Float64Array, b: Float64Array): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return ab / Math.sqrt(aa * bb);
}

async function timed<T>(fn: () => Promise<T>, runs = 3): Promise<{ value: T; ms: number }> {
  const times: number[] = [];
  let value!: T;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    value = await fn();
    times.push(performance.now() - t);
  }
  times.sort((x, y) => x - y);
  return { value, ms: times[Math.floor(runs / 2)]! };
}

async function main() {
  const dir = await mkdtemp(path.join(tmpdir(), 'trove-bench-'));
  try {
    const model = path.join(dir, 'tiny');
    await generateTinyCheckpoint({ out: model, kind: 'embedding' });
    const weights = await loadNaiveWeights(model);
    const tokenizer = await loadQwenTokenizer(model);
    const embed = (image: PreprocessedImage) => {
      const parts = expandVisionPlaceholders(embedderPrompt({ texts: [], imageCount: 1, videoCount: 0 }), [image.gridThw], []);
      const batch = buildEmbedderBatch([{ ids: tokenizer.encode(parts), images: [image.gridThw] }]);
      return naiveEmbed(weights, { ...batch, images: [{ pixelValues: image.pixelValues, gridThw: image.gridThw }] }).embedding[0]!;
    };

    const photos = (await readdir(EXAMPLES)).filter((f) => f.startsWith('photo_')).sort().slice(0, PHOTOS);
    const rows: string[][] = [];
    for (const name of photos) {
      const big = await sharp(path.join(EXAMPLES, name)).resize(4000, 3000, { fit: 'fill', kernel: 'lanczos3' }).jpeg({ quality: 92 }).toBuffer();
      const exact = await timed(() => preprocessImage(big, { maxPixels: MAX_PIXELS }));
      const fast = await timed(() => preprocessImage(big, { maxPixels: MAX_PIXELS, fast: true }));
      let maxDiff = 0;
      let sumDiff = 0;
      for (let i = 0; i < exact.value.pixelValues.length; i++) {
        const d = Math.abs(exact.value.pixelValues[i]! - fast.value.pixelValues[i]!) * 127.5;
        maxDiff = Math.max(maxDiff, d);
        sumDiff += d;
      }
      const cos = cosine(embed(exact.value), embed(fast.value));
      rows.push([
        name,
        `${exact.value.resized[1]}×${exact.value.resized[0]}`,
        exact.ms.toFixed(0),
        fast.ms.toFixed(0),
        (exact.ms / fast.ms).toFixed(2),
        maxDiff.toFixed(0),
        (sumDiff / exact.value.pixelValues.length).toFixed(3),
        cos.toFixed(7),
      ]);
    }
    const header = ['photo (4000×3000)', 'target', 'exact ms', 'fast ms', 'exact÷fast', 'max Δ (levels)', 'mean Δ', 'embedding cosine'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (r: string[]) => r.map((c, i) => c.padStart(widths[i]!)).join(' | ');
    console.log(line(header));
    console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
    for (const r of rows) console.log(line(r));
    console.log('\nΔ: |exact − fast| of pixel values in 8-bit levels; cosine from the naive float64 forward on the tiny checkpoint (random weights).');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
