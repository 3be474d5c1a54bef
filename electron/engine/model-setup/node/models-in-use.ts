// Which models are in use and what search can do right now, in one place. status.get `model`,
// models.state `inUse` (and its installed packages' `active`), the model.changed event and the
// CLI's status all come from this one answer, so no two of them can disagree (issue: Settings said
// a package was in use and also "Installed models: none"; `trove status` said "no model" next to
// the library's vectors).
import path from 'node:path';
import type { ModelOrigin, ModelStatus } from '../../../contract/common/entities.ts';
import type { EngineModels, ModelRef } from '../../inference/node/engine-models.ts';
import type { Store } from '../../store/node/store.ts';

/** Where a model comes from: a package in the models folder (by id), another folder, a server. */
export function originOf(ref: ModelRef, packagesDir: string): ModelOrigin {
  if (ref.type === 'remote') return { type: 'server', url: ref.settings.url };
  const dir = path.resolve(ref.dir);
  if (path.dirname(dir) === path.resolve(packagesDir)) return { type: 'installed', packageId: path.basename(dir) };
  return { type: 'folder', path: dir };
}

function fromWords(origin: ModelOrigin): string {
  return origin.type === 'folder' ? `, from the package folder ${origin.path} (not in Trove's models folder)` : '';
}

/** "Runs on this computer's CPU." in words a person without onnxruntime knows; details stay in providerDetails. */
export function runsOnWords(executionProvider: string): string {
  switch (executionProvider) {
    case 'cpu':
      return "Runs on this computer's processor (CPU).";
    case 'coreml':
      return "Runs on this Mac's graphics and neural engine.";
    case 'remote':
      return '';
    default:
      return "Runs on this computer's graphics card (GPU).";
  }
}

function indexWords(index: { state: string; progress: number | null }): string {
  if (index.state === 'building') return `its semantic index is being built (${Math.round((index.progress ?? 0) * 100)} %)`;
  if (index.state === 'failed') return 'its semantic index could not be opened (restarting Trove opens it again)';
  return 'its semantic index is loading';
}

export function modelsInUse(models: EngineModels, store: Store, packagesDir: string): ModelStatus {
  const embedder = models.embedder;
  const reranker = models.reranker;
  const target = models.target;
  const inUseIds = new Set([embedder?.modelId, target?.modelId].filter((id): id is number => id !== undefined));
  const unusedVectors = store.vectors
    .models()
    .filter((m) => !inUseIds.has(m.id))
    .map((m) => ({ name: m.name, path: m.packagePath, vectors: store.vectors.count(m.id) }))
    .filter((m) => m.vectors > 0);

  const embedding = embedder ? { name: embedder.name, dims: embedder.dims, precision: embedder.precision, origin: originOf(embedder.ref, packagesDir) } : null;
  // Search by meaning needs the model's semantic index too, which loads (or is built) in the
  // background after a start: until it can answer, search runs on keywords (search-service.ts).
  const ann = embedder ? store.ann(embedder.modelId) : null;
  const semanticIndex = ann ? { state: ann.status.state, progress: ann.status.progress } : null;
  const semantic = ann !== null && ann.searchable;
  const rerank = reranker ? { name: reranker.name, precision: reranker.precision, origin: originOf(reranker.ref, packagesDir) } : null;
  const executionProvider = embedder?.executionProvider ?? reranker?.executionProvider ?? null;

  const parts: string[] = [];
  if (embedding && semantic) parts.push(`Embedding with ${embedding.name} (${embedding.dims} dimensions, ${embedding.precision})${fromWords(embedding.origin)}: search finds files by meaning and by keyword.`);
  else if (embedding) parts.push(`Embedding with ${embedding.name} (${embedding.dims} dimensions, ${embedding.precision})${fromWords(embedding.origin)}; ${indexWords(semanticIndex!)}: until then search uses keywords (names, paths and text).`);
  else parts.push('No embedding model in use: keyword search only (names, paths and text); search by meaning starts once a model is set up.');
  if (target) parts.push(`Switching to ${target.name}: the library is re-embedded in the background and search uses the current model until it finishes.`);
  for (const unused of unusedVectors) {
    parts.push(`The library also holds ${unused.vectors.toLocaleString('en-US')} vectors from ${unused.name} (${unused.path}), which is not in use, so search does not use them; use that model again to search them.`);
  }
  if (rerank) parts.push(`Reranking with ${rerank.name} (${rerank.precision})${fromWords(rerank.origin)}.`);
  else parts.push('No reranker: results are ranked by similarity and keyword rank.');
  for (const model of [embedder, reranker]) {
    // An inference server's sentence is already plain ("file contents are sent there"); say each once.
    if (model?.executionProvider === 'remote' && model.where && !parts.includes(model.where)) parts.push(model.where);
  }
  const localProvider = [embedder, reranker].find((m) => m && m.executionProvider !== 'remote')?.executionProvider;
  if (localProvider) parts.push(runsOnWords(localProvider));
  parts.push(...models.notes.map((note) => `Note: ${note}`));

  const details = [embedder, reranker]
    .filter((m) => m !== null && m.executionProvider !== 'remote' && m.where !== '')
    .map((m) => m!.where);
  return {
    embedding,
    reranker: rerank,
    executionProvider,
    search: semantic ? 'semantic' : 'keyword',
    semanticIndex,
    providerDetails: details.length === 0 ? null : [...new Set(details)].join(' '),
    unusedVectors,
    notes: [...models.notes],
    statement: parts.join(' '),
  };
}
