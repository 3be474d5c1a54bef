// What a preview-size picture costs (electron/engine/app/node/media-previews.ts), against the
// 320 px thumbnail indexing makes anyway, measured in the same run: PDF pages of real files
// (pdf.js's corpus) drawn at 1600 px, and real photos (the Qwen examples) at 2048 px. The answer
// decides where previews are made: on demand (paid per opened item) or at index time (paid for
// every page and photo, plus their bytes on disk). Run: node --import tsx bench/preview-render.ts
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { extractImage } from '../electron/engine/extract/node/image-extract.ts';
import { openPdfPages } from '../electron/engine/extract/node/pdf-extract.ts';
import { IMAGE_PREVIEW_SIZE, PAGE_PREVIEW_SIZE } from '../electron/engine/app/node/media-previews.ts';

const CORPORA = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../shared/corpora');

async function pageDraw(file: string, size: number): Promise<{ ms: number; bytes: number }> {
  const t = performance.now();
  const pages = await openPdfPages(file, { thumbnailSize: size });
  try {
    const drawn = await pages.complete({ kind: 'page', locator: { type: 'page', page: 1 } }, { embed: false });
    return { ms: performance.now() - t, bytes: drawn.thumbnail?.bytes.byteLength ?? 0 };
  } finally {
    pages.close();
  }
}

async function photoDraw(file: string, size: number): Promise<{ ms: number; bytes: number }> {
  const t = performance.now();
  const image = await extractImage(file, { thumbnailSize: size, quality: size > 320 ? 82 : 80 });
  return { ms: performance.now() - t, bytes: image.thumbnail.data.byteLength };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function measure(name: string, files: string[], draw: (file: string, size: number) => Promise<{ ms: number; bytes: number }>, previewSize: number) {
  const thumb: { ms: number; bytes: number }[] = [];
  const preview: { ms: number; bytes: number }[] = [];
  for (const file of files) {
    try {
      await draw(file, 320); // warm the file cache and the decoder
      thumb.push(await draw(file, 320));
      preview.push(await draw(file, previewSize));
    } catch {
      // Damaged corpus files are skipped: this measures drawing, not refusing.
    }
  }
  const t = median(thumb.map((x) => x.ms));
  const p = median(preview.map((x) => x.ms));
  const tb = median(thumb.map((x) => x.bytes));
  const pb = median(preview.map((x) => x.bytes));
  console.log(`| ${name} (${preview.length} files) | ${t.toFixed(0)} ms, ${(tb / 1024).toFixed(0)} KB | ${p.toFixed(0)} ms, ${(pb / 1024).toFixed(0)} KB | ${(p / t).toFixed(1)}× | ${(pb / tb).toFixed(1)}× |`);
}

const pdfs = readdirSync(path.join(CORPORA, 'pdfjs-sample'))
  .filter((f) => f.endsWith('.pdf'))
  .sort()
  .slice(0, 40)
  .map((f) => path.join(CORPORA, 'pdfjs-sample', f));
const photos = readdirSync(path.join(CORPORA, 'qwen-examples'))
  .filter((f) => /^(photo|example)_/.test(f))
  .sort()
  .map((f) => path.join(CORPORA, 'qwen-examples', f));

console.log('| what | 320 px thumbnail (baseline), median | preview, median | time ratio | bytes ratio |');
console.log('|---|---|---|---|---|');
await measure(`PDF page 1 at ${PAGE_PREVIEW_SIZE} px`, pdfs, pageDraw, PAGE_PREVIEW_SIZE);
await measure(`photo at ${IMAGE_PREVIEW_SIZE} px`, photos, photoDraw, IMAGE_PREVIEW_SIZE);
