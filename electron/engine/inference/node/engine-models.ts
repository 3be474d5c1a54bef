// The models the engine runs, swappable while it runs: the active embedder (search and indexing),
// the reranker, and during a model switch a *target* embedder that re-embeds the library in the
// background (vector-backfill.ts) while search keeps using the active one. Each model runs on a
// backend: a local package in its own worker thread (ModelClient) or an inference server
// (RemoteModelClient). Vectors belong to the store's model row of the embedder that made them,
// so vectors of different models never mix. A model that fails to load leaves the engine running
// (keyword-only without an embedder), with the reason in the status statement (models-in-use.ts).
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { errorMessage } from '../../base/common/error-message.ts';
import type { RemoteBackendSettings } from '../../../contract/common/model-setup.ts';
import type { ChunkTokenizerRef } from '../../extract/common/text-chunker.ts';
import type { EmbedInput } from '../../model-inputs/node/embed-inputs.ts';
import { RemoteModelClient } from './remote/remote-model-client.ts';
import { ModelClient } from './runtime/model-client.ts';
import { checkModelPackage, MANIFEST_FILE, type ModelPackage } from './runtime/model-package.ts';
import type { RequestPriority } from './runtime/model-protocol.ts';
import type { Store } from '../../store/node/store.ts';
import { UNREGISTERED_MODEL_ID, type ModelRecord, type NewModel } from '../../store/node/vectors-repo.ts';

/** Called on every model request, with the number of inputs (tests count embeddings with it). */
export type ModelCallObserver = (call: 'embed' | 'rerank', inputs: number) => void;

/** Where a model runs: a package folder on this machine, or a model on an inference server. */
export type ModelRef = { readonly type: 'package'; readonly dir: string } | { readonly type: 'remote'; readonly settings: RemoteBackendSettings };

export interface EmbedOptions {
  instruction?: string;
  signal?: AbortSignal;
  priority?: RequestPriority;
}

export interface RerankOptions {
  signal?: AbortSignal;
  priority?: RequestPriority;
}

/** What runs a model: the local worker or an inference server. */
interface ModelBackend {
  embed(inputs: readonly EmbedInput[], options: EmbedOptions): Promise<Float32Array[]>;
  rerank(query: EmbedInput, documents: readonly EmbedInput[], options: RerankOptions): Promise<number[]>;
  close(): Promise<void>;
}

export interface LoadedEmbedder {
  /** The store's model row: vectors and the ANN index belong to it. */
  readonly modelId: number;
  readonly name: string;
  readonly dims: number;
  readonly precision: string;
  /** The model's own tokenizer (loaded by the extraction workers), so text chunks are cut at its token counts; an estimate for remote models. */
  readonly tokenizer: ChunkTokenizerRef;
  readonly ref: ModelRef;
  /** Which execution provider runs it and why, or where it runs, in words. */
  readonly where: string;
  readonly executionProvider: string;
  readonly backend: ModelBackend;
}

export interface LoadedReranker {
  readonly name: string;
  readonly precision: string;
  readonly ref: ModelRef;
  readonly where: string;
  readonly executionProvider: string;
  readonly backend: ModelBackend;
}

function packageName(pkg: Pick<ModelPackage, 'dir' | 'manifest'>): string {
  return pkg.manifest.source.repo ?? path.basename(pkg.dir);
}

/** The remote client's settings for one of the two models (unset fields are left out, not null). */
function remoteConfig(settings: RemoteBackendSettings, which: 'embedding' | 'reranker') {
  return {
    url: settings.url,
    ...(which === 'embedding' ? { embeddingModel: settings.embeddingModel } : { rerankerModel: settings.rerankerModel ?? undefined }),
    ...(settings.apiKey ? { apiKey: settings.apiKey } : {}),
  };
}

function remoteName(settings: RemoteBackendSettings, model: string): string {
  return `${model} on ${settings.url}`;
}

export function describeRef(ref: ModelRef): string {
  return ref.type === 'package' ? ref.dir : `${ref.settings.url} (${ref.settings.embeddingModel})`;
}

/**
 * The store's model row for an embedder: registered (created on first use), or in a read-only
 * look (`readOnly`) only looked up — a model the library has never used then gets
 * UNREGISTERED_MODEL_ID (no vectors) and nothing is written.
 */
function modelRow(store: Store, model: NewModel, readOnly: boolean): ModelRecord {
  if (!readOnly) return store.vectors.ensureModel(model);
  return store.vectors.findModel(model) ?? { id: UNREGISTERED_MODEL_ID, name: model.name, packagePath: model.packagePath, manifestSha: model.manifestSha, dims: model.dims };
}

/**
 * Loads an embedder and registers its model row (only looks it up when `readOnly`: a read-only
 * command writes nothing); nothing is made active.
 */
export async function loadEmbedder(store: Store, ref: ModelRef, observe?: ModelCallObserver, opts: { readOnly?: boolean } = {}): Promise<LoadedEmbedder> {
  const readOnly = opts.readOnly ?? false;
  if (ref.type === 'remote') {
    const client = await RemoteModelClient.connect(remoteConfig(ref.settings, 'embedding'));
    const dims = client.dims;
    if (!dims) {
      await client.close();
      throw new Error(`the inference server ${ref.settings.url} did not return an embedding for a test sentence; check that it serves ${ref.settings.embeddingModel} as an embedding model`);
    }
    const name = remoteName(ref.settings, ref.settings.embeddingModel);
    const identity = `remote\n${ref.settings.url}\n${ref.settings.embeddingModel}\n${dims}`;
    const record = modelRow(store, { name, packagePath: ref.settings.url, manifestSha: createHash('sha256').update(identity).digest('hex'), dims }, readOnly);
    return {
      modelId: record.id,
      name,
      dims,
      precision: 'remote',
      tokenizer: { kind: 'estimate' },
      ref,
      where: `Embedding on the inference server ${ref.settings.url}: file contents are sent there.`,
      executionProvider: 'remote',
      backend: observed(client, observe),
    };
  }
  // The tokenizer is loaded where it is used (the model worker, the extraction workers), not here.
  const pkg = await checkModelPackage(ref.dir, 'embedding');
  const client = await ModelClient.start({ embeddingPackage: pkg.dir });
  try {
    const manifestBytes = await readFile(path.join(pkg.dir, MANIFEST_FILE));
    const dims = pkg.manifest.text.hidden;
    const record = modelRow(store, { name: packageName(pkg), packagePath: pkg.dir, manifestSha: createHash('sha256').update(manifestBytes).digest('hex'), dims }, readOnly);
    const choice = client.providers.embedding;
    return {
      modelId: record.id,
      name: record.name,
      dims,
      precision: pkg.manifest.precision,
      tokenizer: { kind: 'model', dir: pkg.dir },
      ref,
      where: choice?.statement ?? '',
      executionProvider: choice?.ep ?? 'cpu',
      backend: observed(client, observe),
    };
  } catch (error) {
    await client.close();
    throw error;
  }
}

export async function loadReranker(ref: ModelRef, observe?: ModelCallObserver): Promise<LoadedReranker> {
  if (ref.type === 'remote') {
    const model = ref.settings.rerankerModel;
    if (!model) throw new Error('the inference server settings name no reranker model; add one or use a local reranker');
    const client = await RemoteModelClient.connect(remoteConfig(ref.settings, 'reranker'));
    return {
      name: remoteName(ref.settings, model),
      precision: 'remote',
      ref,
      where: `Reranking on the inference server ${ref.settings.url}: file contents are sent there.`,
      executionProvider: 'remote',
      backend: observed(client, observe),
    };
  }
  const pkg = await checkModelPackage(ref.dir, 'reranker');
  const client = await ModelClient.start({ rerankerPackage: pkg.dir });
  const choice = client.providers.reranker;
  return { name: packageName(pkg), precision: pkg.manifest.precision, ref, where: choice?.statement ?? '', executionProvider: choice?.ep ?? 'cpu', backend: observed(client, observe) };
}

function observed(client: ModelBackend, observe?: ModelCallObserver): ModelBackend {
  return {
    embed(inputs, options) {
      observe?.('embed', inputs.length);
      return client.embed(inputs, options);
    },
    rerank(query, documents, options) {
      observe?.('rerank', documents.length);
      return client.rerank(query, documents, options);
    },
    close: () => client.close(),
  };
}

/** Closes a backend once the calls already made on it have settled (a search in flight finishes). */
async function retire(backend: ModelBackend | undefined, inFlight: Set<Promise<unknown>>): Promise<void> {
  if (!backend) return;
  await Promise.allSettled([...inFlight]);
  await backend.close().catch(() => undefined);
}

export class EngineModels {
  private active: LoadedEmbedder | null = null;
  private rerankerModel: LoadedReranker | null = null;
  private targetModel: LoadedEmbedder | null = null;
  private readonly problems: string[] = [];
  private readonly calls = new Map<ModelBackend, Set<Promise<unknown>>>();

  constructor(private readonly observe?: ModelCallObserver) {}

  /**
   * Loads what it can of the two refs; a failure is kept as a note in the statement, not thrown.
   * `readOnly`: a read-only look at the library (the embedder's model row is looked up, never added).
   */
  static async open(store: Store, refs: { embedding?: ModelRef | null; reranker?: ModelRef | null; observe?: ModelCallObserver; readOnly?: boolean }): Promise<EngineModels> {
    const models = new EngineModels(refs.observe);
    if (refs.embedding) {
      try {
        models.active = await loadEmbedder(store, refs.embedding, refs.observe, { readOnly: refs.readOnly });
      } catch (error) {
        models.problems.push(`the embedding model could not be loaded: ${errorMessage(error)}`);
      }
    }
    if (refs.reranker) {
      try {
        models.rerankerModel = await loadReranker(refs.reranker, refs.observe);
      } catch (error) {
        models.problems.push(`the reranker could not be loaded: ${errorMessage(error)}`);
      }
    }
    return models;
  }

  get embedder(): LoadedEmbedder | null {
    return this.active;
  }

  get reranker(): LoadedReranker | null {
    return this.rerankerModel;
  }

  /** The embedder a switch is moving to, while the library is re-embedded with it. */
  get target(): LoadedEmbedder | null {
    return this.targetModel;
  }

  /** Notes about models that failed to load (shown in the statement until a model loads). */
  noteProblem(problem: string | null): void {
    this.problems.length = 0;
    if (problem) this.problems.push(problem);
  }

  /** The notes above, for the status statement (model-setup/node/models-in-use.ts words the rest). */
  get notes(): readonly string[] {
    return this.problems;
  }

  embed(inputs: readonly EmbedInput[], options: EmbedOptions = {}): Promise<Float32Array[]> {
    const embedder = this.active;
    if (!embedder) return Promise.reject(new Error('no embedding model is set up yet; set one up in Settings → Models (or start with --model PKG)'));
    return this.track(embedder.backend, embedder.backend.embed(inputs, options));
  }

  /** Embeds with the switch's target model (the background re-embed). */
  embedWithTarget(inputs: readonly EmbedInput[], options: EmbedOptions = {}): Promise<Float32Array[]> {
    const target = this.targetModel;
    if (!target) return Promise.reject(new Error('no model switch is in progress'));
    return this.track(target.backend, target.backend.embed(inputs, { priority: 'background', ...options }));
  }

  rerank(query: EmbedInput, documents: readonly EmbedInput[], options: RerankOptions = {}): Promise<number[]> {
    const reranker = this.rerankerModel;
    if (!reranker) return Promise.reject(new Error('no reranker is set up; set one up in Settings → Models (or start with --reranker PKG)'));
    return this.track(reranker.backend, reranker.backend.rerank(query, documents, options));
  }

  /** Makes `next` the active embedder at once (no vectors to keep: first model, or none). */
  async setEmbedder(next: LoadedEmbedder | null): Promise<void> {
    const previous = this.active;
    this.active = next;
    if (next) this.problems.length = 0;
    if (previous && previous !== next) await this.retireBackend(previous.backend);
  }

  async setReranker(next: LoadedReranker | null): Promise<void> {
    const previous = this.rerankerModel;
    this.rerankerModel = next;
    if (previous && previous !== next) await this.retireBackend(previous.backend);
  }

  async setTarget(next: LoadedEmbedder | null): Promise<void> {
    const previous = this.targetModel;
    this.targetModel = next;
    if (previous && previous !== next) await this.retireBackend(previous.backend);
  }

  /** The switch is complete: the target becomes the active embedder; returns the one it replaced. */
  async promoteTarget(): Promise<LoadedEmbedder | null> {
    const target = this.targetModel;
    if (!target) throw new Error('no model switch is in progress');
    const previous = this.active;
    this.targetModel = null;
    this.active = target;
    if (previous) await this.retireBackend(previous.backend);
    return previous;
  }

  async close(): Promise<void> {
    const backends = [this.active?.backend, this.rerankerModel?.backend, this.targetModel?.backend];
    this.active = null;
    this.rerankerModel = null;
    this.targetModel = null;
    await Promise.all(backends.map((b) => b?.close().catch(() => undefined)));
  }

  private track<T>(backend: ModelBackend, call: Promise<T>): Promise<T> {
    let set = this.calls.get(backend);
    if (!set) this.calls.set(backend, (set = new Set()));
    // Settles either way and never rejects itself: it only marks the call as done.
    const settled: Promise<unknown> = call.then(
      () => set.delete(settled),
      () => set.delete(settled),
    );
    set.add(settled);
    return call;
  }

  private async retireBackend(backend: ModelBackend): Promise<void> {
    const inFlight = this.calls.get(backend) ?? new Set();
    this.calls.delete(backend);
    await retire(backend, inFlight);
  }
}
