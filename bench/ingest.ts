// Ingest throughput (issue 5): files per second by kind through the non-model part of the pipeline
// (scan, decode/render/extract, thumbnail, write to SQLite), measured by running the real engine
// with no embedding model on a folder of one kind, against reading the same bytes from disk in the
// same run; and, on a mixed library, the share of wall time spent outside the model when the tiny
// checkpoint embeds everything. Run: node --import tsx bench/ingest.ts
//
// The model's share is taken by difference (wall with the tiny model minus wall without a model,
// same library, same run), because the model-call hook only says when a call starts. Resizing to
// the model's input size happens inside the model call (the worker prepares its own inputs), so it
// is counted on the model side of that split, and not in the per-kind rates.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeZip } from '../scripts/fixtures/zip-writer.ts';
import { handWrittenPdf } from '../scripts/fixtures/text-pdf.ts';
import sharp from 'sharp';
import { dispatchApiCall } from '../electron/contract/common/trove-api.ts';
import type { Status } from '../electron/contract/common/entities.ts';
import { openTroveEngine } from '../electron/engine/app/node/trove-engine.ts';
import { buildModelPackage } from '../native-models/package/node/build-package.ts';
import { generateTinyCheckpoint } from '../native-models/tiny/node/generate-tiny-checkpoint.ts';

process.env.TROVE_EP = 'cpu';

const COUNTS = { image: 40, text: 200, pdf: 20, document: 50 } as const;
type Kind = keyof typeof COUNTS;
/** The part of each kind that goes into the mixed library indexed with the model. */
const MIXED_SHARE = 0.1;

const makeZip = writeZip;

const WORDS = ['harbour', 'lantern', 'meadow', 'glacier', 'orchard', 'canyon', 'violin', 'comet', 'pepper', 'falcon', 'quartz', 'tundra'];
const sentence = (n: number, words: number): string => Array.from({ length: words }, (_, i) => WORDS[(n * 7 + i * 5) % WORDS.length]).join(' ') + '.';

function docx(n: number): Buffer {
  const W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"';
  const paras = Array.from({ length: 12 }, (_, i) => `<w:p><w:r><w:t xml:space="preserve">Paragraph ${i} of report ${n}: ${sentence(n + i, 20)}</w:t></w:r></w:p>`).join('');
  return makeZip([
    {
      name: '[Content_Types].xml',
      data: '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
    },
    {
      name: '_rels/.rels',
      data: '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
    },
    { name: 'word/document.xml', data: `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document ${W}><w:body>${paras}<w:sectPr/></w:body></w:document>` },
  ]);
}

/** A text-only PDF of `texts.length` A4 pages. */
function textPdf(texts: readonly string[]): Buffer {
  return handWrittenPdf(texts.map((text) => ({ width: 595, height: 842, text })));
}

/** A photo-like 1024×768 JPEG (gradients plus noise), distinct per seed. */
async function photo(seed: number): Promise<Buffer> {
  const width = 1024;
  const height = 768;
  const data = Buffer.alloc(width * height * 3);
  let s = seed >>> 0;
  for (let y = 0, i = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++, i++) {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        data[i] = Math.max(0, Math.min(255, 128 + 100 * Math.sin((x * (c + 1)) / (200 + seed) + y / 400) + ((s >>> 24) - 128) / 8));
      }
    }
  }
  return sharp(data, { raw: { width, height, channels: 3 } }).jpeg({ quality: 88 }).toBuffer();
}

async function writeKind(folder: string, kind: Kind): Promise<void> {
  await mkdir(folder, { recursive: true });
  for (let n = 0; n < COUNTS[kind]; n++) {
    if (kind === 'image') await writeFile(path.join(folder, `photo-${n}.jpg`), await photo(n));
    else if (kind === 'text') await writeFile(path.join(folder, `note-${n}.md`), `# Note ${n}\n\n${Array.from({ length: 8 }, (_, i) => sentence(n + i, 24)).join('\n\n')}\n`);
    else if (kind === 'document') await writeFile(path.join(folder, `report-${n}.docx`), docx(n));
    else {
      const pages = Array.from({ length: 4 }, (_, p) => `Page ${p + 1} of leaflet ${n}: ${sentence(n + p, 8)}`);
      await writeFile(path.join(folder, `leaflet-${n}.pdf`), textPdf(pages));
    }
  }
}

/** Baseline: read every file's bytes from disk once (what any ingest must do at the least). */
async function readAll(folder: string): Promise<{ ms: number; bytes: number }> {
  const files = readdirSync(folder, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
  const t = performance.now();
  let bytes = 0;
  for (const f of files) bytes += (await readFile(path.join(f.parentPath ?? f.path, f.name))).length;
  return { ms: performance.now() - t, bytes };
}

/** Adds `folder` as a root of a fresh engine and times until everything is indexed. */
async function indexFolder(dataDir: string, folder: string, embeddingModel: string | null): Promise<{ ms: number; status: Status; embedCalls: number }> {
  let embedCalls = 0;
  const engine = await openTroveEngine({ dataDir, embeddingModel, watch: false }, { observeModelCalls: (kind) => void (kind === 'embed' && (embedCalls += 1)) });
  try {
    const t = performance.now();
    await dispatchApiCall(engine.handlers, 'roots.add', { path: folder });
    await engine.idle();
    const ms = performance.now() - t;
    const status = (await dispatchApiCall(engine.handlers, 'status.get', {})) as Status;
    return { ms, status, embedCalls };
  } finally {
    await engine.close();
  }
}

export async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'trove-bench-ingest-'));
  try {
    const checkpointDir = await generateTinyCheckpoint({ out: path.join(dir, 'embedding-checkpoint'), kind: 'embedding' });
    const packageDir = path.join(dir, 'embedding-package');
    await buildModelPackage({ checkpointDir, outDir: packageDir, kind: 'embedding', precision: 'fp32' });
    const kinds: Kind[] = ['image', 'text', 'pdf', 'document'];
    const rows: string[] = [];
    for (const kind of kinds) await writeKind(path.join(dir, 'lib', kind), kind);
    // Warm the page cache and the extractors' lazy loads (mupdf WASM, sharp) before timing.
    await readAll(path.join(dir, 'lib'));
    const warm = path.join(dir, 'warm');
    for (const kind of kinds) {
      await mkdir(path.join(warm, kind), { recursive: true });
      const first = readdirSync(path.join(dir, 'lib', kind))[0]!;
      await writeFile(path.join(warm, kind, first), await readFile(path.join(dir, 'lib', kind, first)));
    }
    await indexFolder(path.join(dir, 'data-warm'), warm, null);

    console.log('| kind | files | MB | read bytes (files/s) | non-model pipeline (files/s) | pipeline / read | items |');
    console.log('|---|---:|---:|---:|---:|---:|---:|');
    for (const kind of kinds) {
      const folder = path.join(dir, 'lib', kind);
      const read = await readAll(folder);
      const run = await indexFolder(path.join(dir, `data-${kind}`), folder, null);
      if (run.status.files.indexed !== COUNTS[kind]) throw new Error(`${kind}: indexed ${run.status.files.indexed} of ${COUNTS[kind]} (${run.status.files.failed} failed)`);
      const readRate = COUNTS[kind] / (read.ms / 1000);
      const pipeRate = COUNTS[kind] / (run.ms / 1000);
      const row = `| ${kind} | ${COUNTS[kind]} | ${(read.bytes / 1e6).toFixed(1)} | ${readRate.toFixed(0)} | ${pipeRate.toFixed(1)} | ${(pipeRate / readRate).toFixed(4)}× | ${run.status.items} |`;
      rows.push(row);
      console.log(row);
    }

    // Mixed library: a slice of every kind in one root, without a model and with the tiny
    // checkpoint. A slice, because the tiny fp32 checkpoint on 2 CPU cores embeds only a few files a
    // second, and the bench must stay near 90 s.
    const mixed = path.join(dir, 'mixed');
    let total = 0;
    for (const kind of kinds) {
      const names = readdirSync(path.join(dir, 'lib', kind)).slice(0, Math.ceil(COUNTS[kind] * MIXED_SHARE));
      await mkdir(path.join(mixed, kind), { recursive: true });
      for (const name of names) await writeFile(path.join(mixed, kind, name), await readFile(path.join(dir, 'lib', kind, name)));
      total += names.length;
    }
    const bare = await indexFolder(path.join(dir, 'data-mixed-bare'), mixed, null);
    const withModel = await indexFolder(path.join(dir, 'data-mixed-model'), mixed, packageDir);
    const outside = Math.min(1, bare.ms / withModel.ms);
    console.log('');
    console.log('| mixed library | files | items | wall (s) | files/s | embed calls |');
    console.log('|---|---:|---:|---:|---:|---:|');
    console.log(`| no model (non-model pipeline only) | ${total} | ${bare.status.items} | ${(bare.ms / 1000).toFixed(1)} | ${(total / (bare.ms / 1000)).toFixed(1)} | ${bare.embedCalls} |`);
    console.log(`| tiny checkpoint (fp32, CPU) | ${total} | ${withModel.status.items} | ${(withModel.ms / 1000).toFixed(1)} | ${(total / (withModel.ms / 1000)).toFixed(1)} | ${withModel.embedCalls} |`);
    console.log('');
    console.log(`share of wall time outside the model (tiny checkpoint): ${(outside * 100).toFixed(0)}% (model ≈ ${((1 - outside) * 100).toFixed(0)}%, by difference)`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
