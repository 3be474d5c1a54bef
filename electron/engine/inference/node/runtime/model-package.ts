// Opens a model package folder (what `trove model build` writes): manifest.json, the tokenizer and
// the two graph files. Hashes are not re-checked here (that costs a full read of several GB per
// start; `trove model inspect --verify` does it); sizes are, which catches truncated copies.
import { readFile, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseModelManifest, type ModelManifest, type PackageKind } from '../../../../../native-models/manifest/common/model-manifest.ts';
import { loadQwenTokenizer, type QwenTokenizer } from '../../../model-inputs/node/qwen-tokenizer.ts';

export const MANIFEST_FILE = 'manifest.json';

export interface ModelPackage {
  readonly dir: string;
  readonly manifest: ModelManifest;
  readonly tokenizer: QwenTokenizer;
  /** Absolute paths of the graphs; sessions load from paths so external weights resolve beside them. */
  readonly visionGraph: string;
  readonly decoderGraph: string;
}

const BUILD_HINT = "Build one with 'trove model build <checkpoint-dir> --out <package-dir>'.";

async function readManifest(dir: string): Promise<ModelManifest> {
  const info = await stat(dir).catch(() => null);
  if (info === null) throw new Error(`model package ${dir} does not exist. ${BUILD_HINT}`);
  if (!info.isDirectory()) throw new Error(`${dir} is a file; pass the model package folder (the one holding ${MANIFEST_FILE}).`);
  const file = path.join(dir, MANIFEST_FILE);
  if (!existsSync(file)) {
    const checkpoint = existsSync(path.join(dir, 'config.json')) && (existsSync(path.join(dir, 'model.safetensors')) || existsSync(path.join(dir, 'model.safetensors.index.json')));
    throw new Error(
      checkpoint
        ? `${dir} is a Hugging Face checkpoint, not a Trove model package (no ${MANIFEST_FILE}). ${BUILD_HINT}`
        : `${dir} is not a Trove model package (no ${MANIFEST_FILE}). ${BUILD_HINT}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new Error(`${file} is not valid JSON (${(error as Error).message}). ${BUILD_HINT.replace('Build one', 'Rebuild the package')}`, { cause: error });
  }
  return parseModelManifest(json, file);
}

/** Opens and checks a package; `kind` refuses an embedder package where a reranker is needed and vice versa. */
export async function openModelPackage(directory: string, kind?: PackageKind): Promise<ModelPackage> {
  const checked = await checkModelPackage(directory, kind);
  return { ...checked, tokenizer: await loadQwenTokenizer(checked.dir) };
}

/**
 * `openModelPackage` without loading the tokenizer (≈ 0.5 s and ≈ 50 MB of heap): for the engine's
 * thread, which hands the package to the model worker and the extraction workers, each loading
 * what it needs there.
 */
export async function checkModelPackage(directory: string, kind?: PackageKind): Promise<Omit<ModelPackage, 'tokenizer'>> {
  const dir = path.resolve(directory);
  const manifest = await readManifest(dir);
  if (kind !== undefined && manifest.kind !== kind) {
    throw new Error(`${dir} is ${manifest.kind === 'embedding' ? 'an' : 'a'} ${manifest.kind} package; this needs ${kind === 'embedding' ? 'an' : 'a'} ${kind} package (built with 'trove model build … --kind ${kind}').`);
  }
  if (manifest.vision.outHidden !== manifest.text.hidden) {
    throw new Error(`${dir}: vision out_hidden_size ${manifest.vision.outHidden} differs from the text hidden size ${manifest.text.hidden}; the manifest is inconsistent — rebuild the package.`);
  }
  if (manifest.kind === 'reranker' && (manifest.tokens.yes === null || manifest.tokens.no === null)) {
    throw new Error(`${dir}: a reranker package must record its yes/no token ids; rebuild the package.`);
  }
  for (const entry of manifest.files) {
    const size = (await stat(path.join(dir, entry.name)).catch(() => null))?.size;
    if (size === undefined) throw new Error(`${dir} is missing ${entry.name}, which its manifest lists; copy the whole folder again or rebuild the package.`);
    if (size !== entry.bytes) throw new Error(`${dir}/${entry.name} is ${size} bytes but the manifest says ${entry.bytes}; the copy is incomplete — copy it again or rebuild the package.`);
  }
  const graph = (name: string): string => {
    if (!manifest.files.some((f) => f.name === name)) throw new Error(`${dir}: the manifest names graph ${name} but does not list it among its files; rebuild the package.`);
    return path.join(dir, name);
  };
  const visionGraph = graph(manifest.graphs.vision);
  const decoderGraph = graph(manifest.graphs.decoder);
  if (!existsSync(path.join(dir, 'tokenizer.json'))) throw new Error(`${dir} is missing tokenizer.json; copy the whole folder again or rebuild the package.`);
  return { dir, manifest, visionGraph, decoderGraph };
}
