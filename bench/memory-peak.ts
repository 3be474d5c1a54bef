// Peak memory of indexing (issue 13): a library of real files (`corpus`: PngSuite, pdf.js's sample
// PDFs and the Qwen examples from ../shared/corpora plus 58 generated notes, 403 files), the Qwen
// examples alone (`photos`: 12 photos and 10 document pages of about 1.8 megapixels, the inputs
// that need the most model memory; what test/engine/app/memory-bound.test.ts indexes) and the hostile
// corpus (scripts/fixtures/make-hostile-corpus.ts), each indexed by the engine in its own child process
// with the tiny embedding package. Memory is the resident size of the engine's whole process tree
// (threads and ffmpeg children included), sampled every 25 ms, against the same engine idle with
// its model loaded (scripts/memory/indexing-memory.ts). `--variant NAME=VALUE` repeats a case with
// an environment variable set (e.g. MALLOC_ARENA_MAX=2), to see where memory goes.
//
// Run: node --import tsx bench/memory-peak.ts [corpus|photos|hostile]… [--variant NAME=VALUE]…  (default: all three)
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildModelPackage } from '../native-models/package/node/build-package.ts';
import { generateTinyCheckpoint } from '../native-models/tiny/node/generate-tiny-checkpoint.ts';
import { measureIndexingMemory, type IndexingMemory } from '../scripts/memory/indexing-memory.ts';
import { writeNotes } from '../scripts/memory/notes.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SHARED = path.join(ROOT, '..', 'shared', 'corpora');
const mb = (bytes: number): string => (bytes / 1024 / 1024).toFixed(0);

async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) total += entry.isDirectory() ? await folderBytes(path.join(dir, entry.name)) : (await stat(path.join(dir, entry.name))).size;
  return total;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const variants: (string | null)[] = [null];
  const cases: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--variant') variants.push(args[++i]!);
    else cases.push(args[i]!);
  }
  if (cases.length === 0) cases.push('photos', 'corpus', 'hostile');
  const dir = await mkdtemp(path.join(tmpdir(), 'trove-bench-memory-'));
  try {
    const checkpoint = await generateTinyCheckpoint({ out: path.join(dir, 'checkpoint'), kind: 'embedding' });
    const modelDir = path.join(dir, 'package');
    await buildModelPackage({ checkpointDir: checkpoint, outDir: modelDir, kind: 'embedding', precision: 'fp32' });
    const modelBytes = await folderBytes(modelDir);
    const roots: Record<string, string[]> = {};
    if ((cases.includes('corpus') || cases.includes('photos')) && !existsSync(SHARED)) throw new Error(`${SHARED} is missing: the corpus and photos cases read the shared corpora beside the checkout`);
    if (cases.includes('corpus')) {
      const notes = path.join(dir, 'notes');
      await writeNotes(notes, 58);
      roots.corpus = ['pngsuite', 'pdfjs-sample', 'qwen-examples'].map((name) => path.join(SHARED, name)).concat(notes);
    }
    if (cases.includes('photos')) roots.photos = [path.join(SHARED, 'qwen-examples')];
    if (cases.includes('hostile')) {
      await mkdir(path.join(dir, 'hostile'));
      execFileSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts/fixtures/make-hostile-corpus.ts'), path.join(dir, 'hostile')], { cwd: ROOT });
      roots.hostile = [path.join(dir, 'hostile', 'library')];
    }
    console.log(`Tiny embedding package: ${mb(modelBytes)} MB on disk. Tree RSS = the engine process, its worker threads and children.`);
    console.log('');
    console.log('| case | variant | files (indexed / failed) | idle tree RSS (MB) | peak tree RSS (MB) | peak over idle (MB) | peak over the model size (MB) | engine maxRSS (MB) | wall (s) |');
    console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|');
    let run = 0;
    for (const name of cases) {
      for (const variant of variants) {
        const env = variant ? Object.fromEntries([variant.split('=', 2) as [string, string]]) : {};
        const r: IndexingMemory = await measureIndexingMemory({ dataDir: path.join(dir, `data-${run++}`), modelDir, roots: roots[name]!, env });
        console.log(
          `| ${name} | ${variant ?? 'defaults'} | ${r.files.total} (${r.files.indexed} / ${r.files.failed}) | ${mb(r.idleBytes)} | ${mb(r.peakBytes)} | ${mb(r.peakBytes - r.idleBytes)} | ${mb(r.peakBytes - modelBytes)} | ${mb(r.engineMaxRssBytes)} | ${r.seconds.toFixed(0)} |`,
        );
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
