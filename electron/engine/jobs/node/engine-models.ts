// The model packages the engine runs, loaded once: the embedder and reranker in one worker thread
// (ModelClient), the embedder's tokenizer on this thread for the text chunker, and the store's
// model row (vectors are kept per model package). A package that fails to load leaves the engine
// running keyword-only, with the reason in `statement`.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ModelStatus } from '../../../contract/common/entities.ts';
import type { ChunkTokenizer } from '../../extract/common/text-chunker.ts';
import type { EmbedInput } from '../../models/node/embed-inputs.ts';
import { ModelClient } from '../../models/node/runtime/model-client.ts';
import { MANIFEST_FILE, openModelPackage, type ModelPackage } from '../../models/node/runtime/model-package.ts';
import type { RequestPriority } from '../../models/node/runtime/model-protocol.ts';
import type { Store } from '../../store/node/store.ts';

/** Called on every model request, with the number of inputs (tests count embeddings with it). */
export type ModelCallObserver = (call: 'embed' | 'rerank', inputs: number) => void;

export interface LoadedEmbedder {
  /** The store's model row: vectors and the ANN index belong to it. */
  readonly modelId: number;
  readonly name: string;
  readonly dims: number;
  readonly precision: string;
  /** The package's own tokenizer, so text chunks are cut at the model's token counts. */
  readonly tokenizer: ChunkTokenizer;
}

export interface EngineModels {
  readonly embedder: LoadedEmbedder | null;
  readonly reranker: { readonly name: string; readonly precision: string } | null;
  status(): ModelStatus;
  embed(inputs: readonly EmbedInput[], options?: { instruction?: string; signal?: AbortSignal; priority?: RequestPriority }): Promise<Float32Array[]>;
  rerank(query: EmbedInput, documents: readonly EmbedInput[], options?: { signal?: AbortSignal; priority?: RequestPriority }): Promise<number[]>;
  close(): Promise<void>;
}

function packageName(pkg: ModelPackage): string {
  return pkg.manifest.source.repo ?? path.basename(pkg.dir);
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export async function loadEngineModels(store: Store, options: { embeddingModel?: string | null; rerankerModel?: string | null; observe?: ModelCallObserver }): Promise<EngineModels> {
  let embedPkg: ModelPackage | null = null;
  let rerankPkg: ModelPackage | null = null;
  const problems: string[] = [];
  if (options.embeddingModel) {
    embedPkg = await openModelPackage(options.embeddingModel, 'embedding').catch((e: unknown) => {
      problems.push(`the embedding model could not be loaded: ${reasonOf(e)}`);
      return null;
    });
  }
  if (options.rerankerModel) {
    rerankPkg = await openModelPackage(options.rerankerModel, 'reranker').catch((e: unknown) => {
      problems.push(`the reranker could not be loaded: ${reasonOf(e)}`);
      return null;
    });
  }
  let client: ModelClient | null = null;
  if (embedPkg || rerankPkg) {
    try {
      client = await ModelClient.start({ embeddingPackage: embedPkg?.dir, rerankerPackage: rerankPkg?.dir });
    } catch (e) {
      problems.push(`the model runtime did not start: ${reasonOf(e)}`);
      embedPkg = null;
      rerankPkg = null;
    }
  }

  let embedder: LoadedEmbedder | null = null;
  if (embedPkg) {
    const manifestBytes = await readFile(path.join(embedPkg.dir, MANIFEST_FILE));
    const dims = embedPkg.manifest.text.hidden;
    const record = store.vectors.ensureModel({ name: packageName(embedPkg), packagePath: embedPkg.dir, manifestSha: createHash('sha256').update(manifestBytes).digest('hex'), dims });
    embedder = { modelId: record.id, name: record.name, dims, precision: embedPkg.manifest.precision, tokenizer: embedPkg.tokenizer };
  }
  const reranker = rerankPkg ? { name: packageName(rerankPkg), precision: rerankPkg.manifest.precision } : null;

  const choice = client?.providers.embedding ?? client?.providers.reranker ?? null;
  const statementParts: string[] = [];
  if (embedder) statementParts.push(`Embedding with ${embedder.name} (${embedder.dims} dimensions, ${embedder.precision}).`);
  else statementParts.push('No embedding model: keyword search only; semantic search starts once a model package is installed (--model PKG or TROVE_MODEL).');
  if (reranker) statementParts.push(`Reranking with ${reranker.name} (${reranker.precision}).`);
  else statementParts.push('No reranker: results are ranked by fused similarity and keyword rank.');
  if (choice) statementParts.push(choice.statement);
  statementParts.push(...problems.map((p) => `Note: ${p}`));
  const statement = statementParts.join(' ');

  const needClient = (what: string): ModelClient => {
    if (!client) throw new Error(`no model is loaded for ${what}; start Trove with a model package (--model PKG)`);
    return client;
  };
  return {
    embedder,
    reranker,
    status: () => ({
      embedding: embedder ? { name: embedder.name, dims: embedder.dims, precision: embedder.precision } : null,
      reranker,
      executionProvider: choice?.ep ?? null,
      statement,
    }),
    embed(inputs, opts = {}) {
      if (!embedder) return Promise.reject(new Error('no embedding model is loaded; start Trove with --model PKG'));
      options.observe?.('embed', inputs.length);
      return needClient('embedding').embed(inputs, opts);
    },
    rerank(query, documents, opts = {}) {
      if (!reranker) return Promise.reject(new Error('no reranker is loaded; start Trove with --reranker PKG'));
      options.observe?.('rerank', documents.length);
      return needClient('reranking').rerank(query, documents, opts);
    },
    close: async () => {
      await client?.close();
    },
  };
}
