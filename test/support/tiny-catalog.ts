// A model catalog of tiny checkpoints served by the fake hub: what the engine, CLI and browser
// tests install instead of the real 2B/8B models (TROVE_MODEL_CATALOG points at the file written
// here). Two embedding checkpoints with different seeds, so a switch between them is a real switch
// (other weights, other vectors), and one reranker.
import { readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { CatalogModel } from '../../electron/contract/common/model-setup.ts';
import { generateTinyCheckpoint } from '../../native-models/tiny/node/generate-tiny-checkpoint.ts';

export interface TinyCatalog {
  /** The catalog file (set TROVE_MODEL_CATALOG to it). */
  readonly file: string;
  readonly models: CatalogModel[];
  /** Repo id → checkpoint folder, for the fake hub. */
  readonly repos: Record<string, string>;
}

async function filesOf(dir: string): Promise<{ path: string; bytes: number }[]> {
  const out: { path: string; bytes: number }[] = [];
  for (const name of (await readdir(dir)).sort()) out.push({ path: name, bytes: (await stat(path.join(dir, name))).size });
  return out;
}

function entry(id: string, kind: CatalogModel['kind'], repo: string, files: { path: string; bytes: number }[], title: string): CatalogModel {
  const downloadBytes = files.reduce((sum, f) => sum + f.bytes, 0);
  return {
    id,
    kind,
    repo,
    revision: 'main',
    title,
    files,
    downloadBytes,
    dims: kind === 'embedding' ? 32 : null,
    precisionByProvider: { cpu: 'fp32', cuda: 'fp32', dml: 'fp32', coreml: 'fp32', webgpu: 'fp32' },
    memoryBytes: { fp32: downloadBytes * 2, fp16: downloadBytes, int8: downloadBytes / 2, int4: downloadBytes / 4 },
    speed: 'instant (random tiny weights, for tests)',
    photoSeconds: null,
    summary: 'A tiny random-weight checkpoint with the real architecture, for tests.',
  };
}

/** Generates the checkpoints under `root` and writes the catalog file. */
export async function makeTinyCatalog(root: string): Promise<TinyCatalog> {
  const embeddingA = await generateTinyCheckpoint({ out: path.join(root, 'hub', 'tiny-embedding-a'), kind: 'embedding' });
  const embeddingB = await generateTinyCheckpoint({ out: path.join(root, 'hub', 'tiny-embedding-b'), kind: 'embedding', seed: 777 });
  const reranker = await generateTinyCheckpoint({ out: path.join(root, 'hub', 'tiny-reranker'), kind: 'reranker' });
  const models = [
    entry('tiny-embedding-a', 'embedding', 'trove-test/Tiny-Embedding-A', await filesOf(embeddingA), 'Tiny Embedding A'),
    entry('tiny-embedding-b', 'embedding', 'trove-test/Tiny-Embedding-B', await filesOf(embeddingB), 'Tiny Embedding B'),
    entry('tiny-reranker', 'reranker', 'trove-test/Tiny-Reranker', await filesOf(reranker), 'Tiny Reranker'),
  ];
  const file = path.join(root, 'tiny-catalog.json');
  await writeFile(file, JSON.stringify(models, null, 2));
  return {
    file,
    models,
    repos: { 'trove-test/Tiny-Embedding-A': embeddingA, 'trove-test/Tiny-Embedding-B': embeddingB, 'trove-test/Tiny-Reranker': reranker },
  };
}
