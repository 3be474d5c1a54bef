// A 2,000-page PDF through the indexer (issue 5): peak memory of indexing it in slices (pages
// drawn just before their embed call, DEFAULT_PAGES_PER_ROUND per round) against drawing every
// page up front (what the indexer did before: every page's PNG held until the embed calls), and
// against the floor (the document opened and its pages listed, nothing drawn). Each case runs in
// its own process and reports the kernel's peak RSS (`maxRSS`), so no case inherits another's heap.
//
// The embedding model is a stub that returns a fixed vector at once: the model's own memory does
// not depend on the page count, and the tiny checkpoint would take many minutes for 2,000 pages on
// two cores. Run: node --import tsx bench/ingest-long-pdf.ts [pages]
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { preparePdfFile } from '../electron/engine/extract/node/pdf-extract.ts';
import { CHARACTER_ESTIMATE_TOKENIZER, prepareFile } from '../electron/engine/jobs/node/file-items.ts';
import { DEFAULT_PAGES_PER_ROUND, Indexer, type IndexerModels } from '../electron/engine/jobs/node/indexer.ts';
import { Store } from '../electron/engine/store/node/store.ts';
import { handWrittenPdf } from '../scripts/fixtures/text-pdf.ts';

const DIMS = 2048; // the real embedder's width, so staged vectors weigh what they will
const CASES = ['floor', 'sliced', 'all-up-front'] as const;
type Case = (typeof CASES)[number];

const peakMb = (): number => process.resourceUsage().maxRSS / 1024;

/** One case in this process; prints a JSON line. */
async function child(which: Case, pdf: string, dataDir: string): Promise<void> {
  const file = { path: pdf, kind: 'pdf' as const, mtimeMs: (await stat(pdf)).mtimeMs };
  const started = performance.now();
  let detail = '';
  if (which === 'floor') {
    const listed = await preparePdfFile(file);
    detail = `${listed.items.length} pages listed`;
  } else if (which === 'all-up-front') {
    const prepared = await prepareFile(file, CHARACTER_ESTIMATE_TOKENIZER, { deferred: 'embed' });
    const bytes = prepared.items.reduce((sum, pi) => sum + ((pi.embed?.images?.[0] as Buffer | undefined)?.length ?? 0), 0);
    detail = `${prepared.items.length} page PNGs held, ${(bytes / 1e6).toFixed(0)} MB`;
  } else {
    const store = Store.open(dataDir);
    const root = store.roots.add({ path: path.dirname(pdf) });
    store.files.upsertScanned({ rootId: root.id, path: pdf, size: (await stat(pdf)).size, mtimeMs: file.mtimeMs, kind: 'pdf' });
    const modelId = store.vectors.ensureModel({ name: 'stub', packagePath: 'stub', manifestSha: 'stub', dims: DIMS }).id;
    const vector = new Float32Array(DIMS).fill(1);
    let inputs = 0;
    const models: IndexerModels = {
      embedder: { modelId, tokenizer: { kind: 'estimate' } },
      embed: async (batch) => {
        inputs += batch.length;
        return batch.map(() => vector);
      },
    };
    let rounds = 0;
    await new Promise<void>((resolve) => {
      let started = false;
      const indexer: Indexer = new Indexer({
        store,
        models,
        onRound: () => void (rounds += 1),
        onActivity: () => started && !indexer.busy && resolve(),
      });
      indexer.wake();
      started = true;
    });
    const status = store.files.byPath(pdf)?.status;
    store.close();
    detail = `${status}, ${inputs} pages embedded in ${rounds} rounds`;
  }
  console.log(JSON.stringify({ which, peakMb: peakMb(), seconds: (performance.now() - started) / 1000, detail }));
}

async function main(): Promise<void> {
  const pages = Number(process.argv[2] ?? 2000);
  const dir = await mkdtemp(path.join(tmpdir(), 'trove-bench-long-pdf-'));
  try {
    const pdf = path.join(dir, 'long.pdf');
    // Letter pages of 50 lines of 10-pt text, drawn at the model's size (1184 × 1536): ≈ 0.45 MB of PNG each.
    const text = (p: number): string => Array.from({ length: 50 }, (_, l) => `Page ${p}, line ${l + 1}: the harbour ferry leaves at six, weather permitting, with the mail and the doctor.`).join('\n');
    await writeFile(pdf, handWrittenPdf(Array.from({ length: pages }, (_, i) => ({ width: 612, height: 792, text: text(i + 1) }))));
    const self = fileURLToPath(import.meta.url);
    console.log(`${pages}-page Letter PDF (${((await stat(pdf)).size / 1e6).toFixed(1)} MB), ${DEFAULT_PAGES_PER_ROUND} pages per round, stub embedder`);
    console.log('');
    console.log('| case | peak RSS (MB) | over the floor (MB) | wall (s) | |');
    console.log('|---|---:|---:|---:|---|');
    let floor = 0;
    for (const which of CASES) {
      const r = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', which, pdf, path.join(dir, `data-${which}`)], { encoding: 'utf8' });
      const line = r.stdout.trim().split('\n').at(-1) ?? '';
      if (r.status !== 0 || !line.startsWith('{')) throw new Error(`${which} failed (${r.status}): ${r.stderr.slice(-2000)}`);
      const out = JSON.parse(line) as { peakMb: number; seconds: number; detail: string };
      if (which === 'floor') floor = out.peakMb;
      console.log(`| ${which} | ${out.peakMb.toFixed(0)} | ${(out.peakMb - floor).toFixed(0)} | ${out.seconds.toFixed(1)} | ${out.detail} |`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') await child(process.argv[3] as Case, process.argv[4]!, process.argv[5]!);
else await main();
