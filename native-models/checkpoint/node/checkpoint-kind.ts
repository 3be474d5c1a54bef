// Which kind of model a Qwen3-VL checkpoint folder holds (embedding or reranker), from what the
// folder itself says, strongest evidence first:
// 1. the tensors: a reranker reads its yes/no scores from lm_head, so a checkpoint that stores an
//    untied `lm_head.weight` is a reranker (the embedding checkpoints ship without one), and one
//    with untied word embeddings but no lm_head cannot be a reranker;
// 2. config.json `architectures`, when it names an embedding or reranking class;
// 3. the repo it was downloaded from (.trove-download.json) or the folder names on its path
//    ("Qwen3-VL-Reranker-2B", a Hugging Face cache's "models--Qwen--Qwen3-VL-Embedding-2B").
// The 2B checkpoints tie lm_head to the word embeddings and so are built alike: without a name,
// nothing tells them apart, and the answer is null.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { PackageKind } from '../../manifest/common/model-manifest.ts';
import { openCheckpoint } from './safetensors-reader.ts';

export interface DetectedKind {
  /** null: the folder does not say. */
  readonly kind: PackageKind | null;
  /** Why, in words ("it stores lm_head.weight, which only a reranker uses"). */
  readonly reason: string;
  /** Whether the answer comes from the weights themselves (else from a name). */
  readonly fromWeights: boolean;
}

function kindInName(name: string): PackageKind | null {
  if (/reranker/i.test(name)) return 'reranker';
  if (/embedding/i.test(name)) return 'embedding';
  return null;
}

function tied(config: unknown): boolean | null {
  const c = config as { tie_word_embeddings?: unknown; text_config?: { tie_word_embeddings?: unknown } } | null;
  const value = c?.text_config?.tie_word_embeddings ?? c?.tie_word_embeddings;
  return typeof value === 'boolean' ? value : null;
}

async function recordedRepo(dir: string): Promise<string | null> {
  try {
    const record = JSON.parse(await readFile(path.join(dir, '.trove-download.json'), 'utf8')) as { repo?: unknown };
    return typeof record.repo === 'string' ? record.repo : null;
  } catch {
    return null;
  }
}

/** Reads config.json and the safetensors headers (not the weights) of `dir`. */
export async function detectCheckpointKind(dir: string): Promise<DetectedKind> {
  const root = path.resolve(dir);
  const checkpoint = await openCheckpoint(root);
  try {
    if (checkpoint.has('lm_head.weight')) {
      return { kind: 'reranker', reason: 'it stores lm_head.weight, which only a reranker uses', fromWeights: true };
    }
    if (tied(checkpoint.config) === false) {
      return { kind: 'embedding', reason: 'it has untied word embeddings but no lm_head.weight, which a reranker needs', fromWeights: true };
    }
    const architectures = (checkpoint.config as { architectures?: unknown } | null)?.architectures;
    for (const name of Array.isArray(architectures) ? architectures : []) {
      const kind = typeof name === 'string' ? kindInName(name) : null;
      if (kind) return { kind, reason: `its config.json names the architecture ${name}`, fromWeights: false };
    }
  } finally {
    await checkpoint.close();
  }
  const repo = await recordedRepo(root);
  const repoKind = repo ? kindInName(repo) : null;
  if (repo && repoKind) return { kind: repoKind, reason: `it was downloaded from ${repo}`, fromWeights: false };
  // The folder's own name first, then its parents (a cache snapshot sits under models--Org--Name/snapshots/<sha>).
  for (let current = root; path.dirname(current) !== current; current = path.dirname(current)) {
    const kind = kindInName(path.basename(current));
    if (kind) return { kind, reason: `its path names it (${path.basename(current)})`, fromWeights: false };
  }
  return { kind: null, reason: 'its weights look the same for both kinds (tied word embeddings, no lm_head), and no name on its path says which', fromWeights: false };
}
