// Image preprocessing throughput: exact (Pillow-bicubic) path vs sharp's own resize, and the
// fast path's speed and pixel cost. Run: node --import tsx bench/preprocess-images.ts
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { preprocessImage } from '../electron/engine/model-inputs/node/image-preprocess.ts';
import { smartResize } from '../electron/engine/model-inputs/common/smart-resize.ts';
import { decodeImage } from '../electron/engine/media/node/image-decode.ts';
import { pillowResizeUsesSimd, resizeBicubicPillow, resizeBicubicPillowScalar } from '../electron/engine/model-inputs/common/pillow-resize.ts';

/** A seeded photo-like JPEG: smooth gradients plus noise (pure noise would be unrealistically slow to decode). */
async function syntheticJpeg(width: number, height: number, seed: number): Promise<Buffer> {
  const data = Buffer.alloc(width * height * 3);
  let s = seed >>> 0;
  for (let y = 0, i = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++, i++) {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        const smooth = 128 + 100 * Math.sin((x * (c + 1)) / 300 + y / 500) * Math.cos(y / (200 + 50 * c));
        data[i] = Math.max(0, Math.min(255, smooth + ((s >>> 24) - 128) / 8));
      }
    }
  }
  return sharp(data, { raw: { width, height, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
}

async function median(runs: number, f: () => Promise<unknown>): Promise<number> {
  await f(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await f();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

async function sharpBaseline(jpeg: Buffer, maxPixels: number): Promise<void> {
  const meta = await sharp(jpeg).metadata();
  const [h, w] = smartResize(meta.height!, meta.width!, { maxPixels });
  await sharp(jpeg).resize(w, h, { fit: 'fill', kernel: 'cubic' }).raw().toBuffer();
}

function pixelDiff(a: Float32Array, b: Float32Array): { max: number; mean: number } {
  let max = 0;
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (d > max) max = d;
    sum += d;
  }
  return { max, mean: sum / a.length };
}

export async function main(): Promise<void> {
  const runs = 5;
  const cases = [
    { name: '12 MP → ≤1800 tokens', jpeg: await syntheticJpeg(4000, 3000, 1), maxPixels: 1800 * 32 * 32 },
    { name: '4 MP → 256 tokens', jpeg: await syntheticJpeg(2304, 1728, 2), maxPixels: 256 * 32 * 32 },
  ];
  console.log('case                   | sharp img/s | exact img/s | exact÷sharp (time) | fast img/s | fast÷sharp');
  for (const c of cases) {
    const base = await median(runs, () => sharpBaseline(c.jpeg, c.maxPixels));
    const exact = await median(runs, () => preprocessImage(c.jpeg, { maxPixels: c.maxPixels }));
    const fast = await median(runs, () => preprocessImage(c.jpeg, { maxPixels: c.maxPixels, fast: true }));
    console.log(
      `${c.name.padEnd(22)} | ${(1000 / base).toFixed(1).padStart(11)} | ${(1000 / exact).toFixed(1).padStart(11)} | ${(exact / base).toFixed(2).padStart(18)} | ${(1000 / fast).toFixed(1).padStart(10)} | ${(fast / base).toFixed(2).padStart(10)}`,
    );
  }
  console.log(`\nexact resize alone (decoded pixels in memory), ms; WebAssembly SIMD ${pillowResizeUsesSimd() ? 'available' : 'UNAVAILABLE (both rows are scalar)'}:`);
  console.log('case                   | scalar JS ms | SIMD ms | speed-up');
  for (const c of cases) {
    const { image } = await decodeImage(c.jpeg);
    const [h, w] = smartResize(image.height, image.width, { maxPixels: c.maxPixels });
    const scalar = await median(runs, async () => resizeBicubicPillowScalar(image, w, h));
    const simd = await median(runs, async () => resizeBicubicPillow(image, w, h));
    console.log(`${c.name.padEnd(22)} | ${scalar.toFixed(1).padStart(12)} | ${simd.toFixed(1).padStart(7)} | ${(scalar / simd).toFixed(1).padStart(8)}`);
  }
  console.log('\nfast-path pixel cost (|pixel_values fast − exact|, units of 1/127.5 = one uint8 step):');
  const dir = fileURLToPath(new URL('../../shared/corpora/qwen-examples/', import.meta.url));
  const inputs: Array<{ name: string; bytes: Buffer; maxPixels?: number }> = cases.map((c) => ({ name: c.name, bytes: c.jpeg, maxPixels: c.maxPixels }));
  try {
    for (const f of readdirSync(dir).filter((n) => /\.jpe?g$/.test(n))) inputs.push({ name: f, bytes: readFileSync(dir + f) });
  } catch {
    console.log(`(qwen-examples not found at ${dir}; only synthetic images)`);
  }
  for (const { name, bytes, maxPixels } of inputs) {
    const exact = await preprocessImage(bytes, { maxPixels });
    const fast = await preprocessImage(bytes, { maxPixels, fast: true });
    const d = pixelDiff(exact.pixelValues, fast.pixelValues);
    const used = exact.original[0] >= 2.5 * exact.resized[0] && exact.original[1] >= 2.5 * exact.resized[1];
    console.log(
      `${name.padEnd(22)} ${exact.original.join('×').padStart(10)} → ${exact.resized.join('×').padEnd(10)} fast path ${used ? 'used' : 'n/a '}  max ${(d.max * 127.5).toFixed(1)}  mean ${(d.mean * 127.5).toFixed(3)}`,
    );
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
