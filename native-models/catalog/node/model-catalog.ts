// The official checkpoints Trove knows how to get and build: Qwen3-VL-Embedding 2B/8B and
// Qwen3-VL-Reranker 2B/8B, each pinned to a hub commit with the files a pull needs, their sizes,
// the precision built for each execution provider and the memory each needs. Where every number
// comes from (published / computed / estimated) is in docs/model-catalog.md.
//
// TROVE_MODEL_CATALOG=<file.json> replaces the built-in list (tests, people mirroring models):
// a JSON array of entries, each validated against the contract's `catalogModel` (plus the optional
// `files` / `packageBytes` / `workingBytes` below).
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { catalogModel, packagePrecision, type CatalogModel } from '../../../electron/contract/common/model-setup.ts';
import { GIB, SHAPE_2B, SHAPE_8B, WORKING_BYTES, weightBytes, type CatalogPrecision, type ModelShape, type PerPrecision } from '../common/model-memory.ts';

/** One file of a hub repo that a pull downloads. */
export const catalogFile = z.object({
  /** Path inside the repo (the hub's `rfilename`). */
  path: z.string().min(1),
  bytes: z.number().int().nonnegative(),
  /** SHA-256 when public material gives it (LFS files: the hub's `lfs.sha256`); null otherwise. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/).nullable().default(null),
  /** `published`: size read from public material for this repo and revision; `estimated`: a family value, corrected by the hub's metadata at download time. */
  sizeBasis: z.enum(['published', 'estimated']).default('published'),
});
export type CatalogFile = z.infer<typeof catalogFile>;

const perPrecision = z.record(packagePrecision, z.number().nonnegative());

/** A catalog entry: the contract's `CatalogModel` plus what the downloader and the recommendation need. */
export const catalogEntry = catalogModel
  .extend({
    /** The files a pull downloads (the allow-list), with hashes where known; their bytes sum to `downloadBytes`. */
    files: z.array(catalogFile).min(1),
    /** Size of the built package at each precision (the checkpoint's download comes on top while both exist). */
    packageBytes: perPrecision.optional(),
    /** The working-memory margin inside `memoryBytes` (shared when an embedder and a reranker are loaded together). */
    workingBytes: z.number().nonnegative().optional(),
  })
  .superRefine((entry, ctx) => {
    const sum = entry.files.reduce((s, f) => s + f.bytes, 0);
    if (sum !== entry.downloadBytes) {
      ctx.addIssue({ code: 'custom', path: ['downloadBytes'], message: `is ${entry.downloadBytes} but the listed files add up to ${sum}` });
    }
    const seen = new Set<string>();
    entry.files.forEach((f, i) => {
      if (seen.has(f.path)) ctx.addIssue({ code: 'custom', path: ['files', i, 'path'], message: `'${f.path}' is listed twice` });
      seen.add(f.path);
    });
    if (entry.kind === 'embedding' && entry.dims === null) ctx.addIssue({ code: 'custom', path: ['dims'], message: 'an embedding model needs its embedding size' });
  });
export type CatalogEntry = z.infer<typeof catalogEntry>;

/** The repo files a pull downloads for an entry (its allow-list): config, weights (+ shard index), tokenizer, chat template, pre-processor settings — what `trove model build` reads. */
export function allowList(entry: Pick<CatalogEntry, 'files'>): string[] {
  return entry.files.map((f) => f.path);
}

/** The API's view of an entry (extra fields dropped). */
export function toCatalogModel(entry: CatalogEntry): CatalogModel {
  return catalogModel.parse(entry);
}

// ---------------------------------------------------------------------------------------------
// Built-in entries

/**
 * Tokenizer and pre-processor files. Sizes and hashes are those published for
 * Qwen/Qwen3-VL-Reranker-2B@4bd860ac; the Qwen3-VL family ships the same tokenizer files, so for
 * the other repos they are `estimated` (the downloader takes the hub's real size at the pinned
 * revision and verifies that).
 */
function sideFiles(basis: 'published' | 'estimated', configBytes: number, configSha: string | null): CatalogFile[] {
  const sha = (s: string): string | null => (basis === 'published' ? s : null);
  return [
    { path: 'config.json', bytes: configBytes, sha256: configSha, sizeBasis: configSha === null ? 'estimated' : 'published' },
    { path: 'tokenizer.json', bytes: 11_422_654, sha256: sha('aeb13307a71acd8fe81861d94ad54ab689df773318809eed3cbe794b4492dae4'), sizeBasis: basis },
    { path: 'tokenizer_config.json', bytes: 5_445, sha256: sha('81ec7bb9530159b326c0bef1d0b6c33d392090524014ea3f0123a3c1eb9c2af5'), sizeBasis: basis },
    { path: 'chat_template.jinja', bytes: 5_292, sha256: sha('3636d0f0bd6bef02654cdffdc447b79cb2cef8ab02cc75267345946291a489e4'), sizeBasis: basis },
    { path: 'preprocessor_config.json', bytes: 628, sha256: sha('fd32af55c2d3846adb0bc46df8eb07c92c332b31b34c338ae85259f3f3951f24'), sizeBasis: basis },
    { path: 'video_preprocessor_config.json', bytes: 817, sha256: sha('59c5c9eb52182eb14c06ffb10ca9effd29adce5f238a95de23ca14a38dbd2cb1'), sizeBasis: basis },
  ];
}

const TOKENIZER_PACKAGE_BYTES = 11_422_654 + 5_445 + 5_292 + 628 + 817;

function shards(sizes: readonly [number, string][]): CatalogFile[] {
  return sizes.map(([bytes, sha256], i) => ({ path: `model-0000${i + 1}-of-0000${sizes.length}.safetensors`, bytes, sha256, sizeBasis: 'published' }));
}

/** Memory while running = resident weights at that precision + the working margin. */
function memoryBytes(shape: ModelShape, working: number): PerPrecision {
  const w = weightBytes(shape, 'memory');
  return { fp32: w.fp32 + working, fp16: w.fp16 + working, int8: w.int8 + working, int4: w.int4 + working };
}

function packageBytes(shape: ModelShape): PerPrecision {
  const w = weightBytes(shape, 'disk');
  return { fp32: w.fp32 + TOKENIZER_PACKAGE_BYTES, fp16: w.fp16 + TOKENIZER_PACKAGE_BYTES, int8: w.int8 + TOKENIZER_PACKAGE_BYTES, int4: w.int4 + TOKENIZER_PACKAGE_BYTES };
}

/**
 * GPUs run fp16 (their native form; docs/model-precision.md "What runs where"). CPU: fp32 for the
 * 2B models — exact; int8 (MatMulNBits accuracy_level 4) runs 1.3–1.4× faster but its activation
 * quantisation is unmeasured on the real weights (docs/model-precision.md#int8-and-int4-on-cpu) —
 * and int8 for the 8B ones, whose fp32 form needs ~33 GB. The recommendation steps
 * down to int8 where the first choice does not fit in memory; int4 is never chosen automatically
 * (its cost on real weights is not measured yet).
 */
const GPU_FP16 = { cuda: 'fp16', dml: 'fp16', coreml: 'fp16', webgpu: 'fp16' } as const;

function entry(e: Omit<CatalogEntry, 'downloadBytes'> & { files: CatalogFile[] }): CatalogEntry {
  return catalogEntry.parse({ ...e, downloadBytes: e.files.reduce((s, f) => s + f.bytes, 0) });
}

const SPEED_BASIS = 'estimate from compute, not measured';

// Revisions: the commits that several independent public projects pin (see the doc). If a pin
// stops resolving, find the repo's current commit (`https://huggingface.co/api/models/<repo>` →
// `sha`), check its files, and update `revision`, `files` and the doc together.
export const BUILT_IN_CATALOG: readonly CatalogEntry[] = Object.freeze([
  entry({
    id: 'embedding-2b',
    kind: 'embedding',
    repo: 'Qwen/Qwen3-VL-Embedding-2B',
    revision: '9f2f7e710d6d81056aa5c0a4f04764fec6bb7bda',
    title: 'Qwen3-VL-Embedding 2B',
    files: [
      { path: 'model.safetensors', bytes: 4_255_140_312, sha256: 'c73fa9caeddeb3ff831d46c085a7a5708343248ca777e90f2d486964464509c1', sizeBasis: 'published' },
      ...sideFiles('estimated', 1_652, null),
    ],
    dims: 2048,
    precisionByProvider: { ...GPU_FP16, cpu: 'fp32' },
    memoryBytes: memoryBytes({ ...SHAPE_2B, lmHead: false }, WORKING_BYTES['2b']),
    packageBytes: packageBytes({ ...SHAPE_2B, lmHead: false }),
    workingBytes: WORKING_BYTES['2b'],
    speed: `About 1 full-size photo a second on a mid-range GPU, 20–30 seconds a photo on an 8-core CPU; short texts are much faster (${SPEED_BASIS})`,
    photoSeconds: { gpu: 1, cpuLow: 20, cpuHigh: 30 },
    summary: 'Finds photos, videos, documents and text from a description; the right size for most computers.',
  }),
  entry({
    id: 'embedding-8b',
    kind: 'embedding',
    repo: 'Qwen/Qwen3-VL-Embedding-8B',
    revision: '2c4565515e0f265c6511776e7193b22c0968ddc7',
    title: 'Qwen3-VL-Embedding 8B',
    files: [
      ...shards([
        [4_998_056_552, '79ef275ec5f751d5fb59357c00d473268f9fd74abf5e38aa30137d268e7733c4'],
        [4_915_962_464, 'a4da61f512e84fc0f0b80bcb7bcc5137eb3bf25b658a7d55f84f4056078545f0'],
        [4_915_962_496, '7fb17cf8f06d6fe5aaacf114e85c4e6d8318799f24b517f50d1ec154a8d47007'],
        [1_459_698_112, '000213b6d1d03ed9023fac23716da51ec4c5be221a04526c2f732d31d8fed1f5'],
      ]),
      { path: 'model.safetensors.index.json', bytes: 67_795, sha256: null, sizeBasis: 'estimated' },
      ...sideFiles('estimated', 1_652, null),
    ],
    dims: 4096,
    precisionByProvider: { ...GPU_FP16, cpu: 'int8' },
    memoryBytes: memoryBytes({ ...SHAPE_8B, lmHead: false }, WORKING_BYTES['8b']),
    packageBytes: packageBytes({ ...SHAPE_8B, lmHead: false }),
    workingBytes: WORKING_BYTES['8b'],
    speed: `About 3 times slower than the 2B model on the same hardware: roughly 1 full-size photo a second on a high-end GPU (${SPEED_BASIS})`,
    photoSeconds: null,
    summary: 'The most accurate search; needs a large GPU (or a Mac with a lot of memory) and about 16 GB to download.',
  }),
  entry({
    id: 'reranker-2b',
    kind: 'reranker',
    repo: 'Qwen/Qwen3-VL-Reranker-2B',
    revision: '4bd860ac4f15ad1897a214615cccc700f8f71818',
    title: 'Qwen3-VL-Reranker 2B',
    files: [
      { path: 'model.safetensors', bytes: 4_255_140_312, sha256: '466ec01961061e9d7f804b4fb1625fb6f406106cd1567e026096d4736fa9d5b9', sizeBasis: 'published' },
      ...sideFiles('published', 1_652, '82d38a8f803e38e13986fdd622114a6fec12a834adbd3cee9253d757a257d23d'),
    ],
    dims: null,
    precisionByProvider: { ...GPU_FP16, cpu: 'fp32' },
    memoryBytes: memoryBytes({ ...SHAPE_2B, lmHead: false }, WORKING_BYTES['2b']),
    packageBytes: packageBytes({ ...SHAPE_2B, lmHead: false }),
    workingBytes: WORKING_BYTES['2b'],
    speed: `Checking each search result costs about as much as embedding it: well under a second for 20 text results on a GPU, about a second per photo result (${SPEED_BASIS})`,
    photoSeconds: null,
    summary: 'Re-checks the top search results against your words to put the best ones first.',
  }),
  entry({
    id: 'reranker-8b',
    kind: 'reranker',
    repo: 'Qwen/Qwen3-VL-Reranker-8B',
    revision: 'b212dc8c91a8164aef1ea2de9c1a867611e75c04',
    title: 'Qwen3-VL-Reranker 8B',
    files: [
      ...shards([
        [4_998_056_552, '00db2779f4c81c18a551b05ee617a4012af2601ec47181c15629ae756ef367d6'],
        [4_915_962_464, '6ef4ccabf1f72c42eed016adca6d46528e66875171268e5ff603c1df2f97fa3d'],
        [4_915_962_496, 'f036e887d2b27b56a3b22fe200bbdd7e0c8f075100f87bd2b6653fa8fca02973'],
        [2_704_357_976, '723d600bc3947051da769a35fb7bb62419d60d558bee7e9c9bb15919ccc79190'],
      ]),
      { path: 'model.safetensors.index.json', bytes: 67_795, sha256: null, sizeBasis: 'estimated' },
      ...sideFiles('estimated', 1_652, null),
    ],
    dims: null,
    precisionByProvider: { ...GPU_FP16, cpu: 'int8' },
    // The checkpoint stores an untied lm_head, but the rerank graph keeps only its yes−no direction.
    memoryBytes: memoryBytes({ ...SHAPE_8B, lmHead: true }, WORKING_BYTES['8b']),
    packageBytes: packageBytes({ ...SHAPE_8B, lmHead: true }),
    workingBytes: WORKING_BYTES['8b'],
    speed: `About 3 times slower than the 2B reranker on the same hardware (${SPEED_BASIS})`,
    photoSeconds: null,
    summary: 'The most accurate re-checking of results; needs a large GPU.',
  }),
]);

// ---------------------------------------------------------------------------------------------
// Loading (with the override)

export const CATALOG_ENV = 'TROVE_MODEL_CATALOG';

function describeIssue(issue: z.core.$ZodIssue, file: string): string {
  const where = issue.path.length === 0 ? 'the top level' : issue.path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('');
  return `${file}: ${where}: ${issue.message}`;
}

/** Parses a catalog file's text; throws an Error naming the file and the first bad field. */
export function parseCatalogJson(text: string, file: string): CatalogEntry[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`${file}: not valid JSON (${(error as Error).message})`);
  }
  const parsed = z.array(catalogEntry).min(1, 'the catalog lists no models').safeParse(json);
  if (!parsed.success) {
    const lines = parsed.error.issues.slice(0, 5).map((i) => describeIssue(i, file));
    throw new Error(`${CATALOG_ENV} catalog is invalid — ${lines.join('; ')}`);
  }
  const seen = new Set<string>();
  for (const [i, e] of parsed.data.entries()) {
    if (seen.has(e.id)) throw new Error(`${CATALOG_ENV} catalog is invalid — ${file}: [${i}].id: '${e.id}' is listed twice`);
    seen.add(e.id);
  }
  return parsed.data;
}

/** The catalog: the built-in entries, or the JSON file named by TROVE_MODEL_CATALOG. */
export function loadModelCatalog(env: NodeJS.ProcessEnv = process.env): CatalogEntry[] {
  const file = env[CATALOG_ENV]?.trim();
  if (file === undefined || file === '') return [...BUILT_IN_CATALOG];
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(`${CATALOG_ENV}=${file}: cannot read the catalog file (${code === 'ENOENT' ? 'no such file' : (code ?? (error as Error).message)}); fix the path or unset ${CATALOG_ENV} to use the built-in catalog`);
  }
  return parseCatalogJson(text, file);
}

export type { CatalogPrecision, PerPrecision };
export { GIB };
// The recommendation lives beside the catalog; re-exported so callers need one import.
export { fitsOn, recommendModels } from './recommend-models.ts';
