// Turns a Qwen3-VL safetensors checkpoint into a Trove model package (docs/model-packages.md): the vision
// encoder graph, the embedding or rerank decoder graph (+ external weights), the tokenizer files
// and manifest.json with every file's SHA-256.
//
// A package under its real name is always complete: everything is written into
// `<outDir>.partial-<random>` beside the target, manifest.json last, and the folder is renamed into
// place only when all of it is on disk. Any error or abort removes the partial folder. Replacing a
// previous package swaps it out by renames, so the old one stays whole until the new one is in.
import { copyFile, mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import {
  GRAPH_VARIANTS,
  PACKAGE_FORMAT_VERSION,
  PRECISIONS,
  parseModelManifest,
  type GraphVariant,
  type ModelManifest,
  type PackageFile,
  type PackageKind,
  type Precision,
} from '../../manifest/common/model-manifest.ts';
import { NO_TOKEN_ID, PAD_TOKEN_ID, YES_TOKEN_ID } from '../../checkpoint/common/qwen3vl-constants.ts';
import { parseQwen3VLConfig, type Qwen3VLConfig } from '../../checkpoint/common/qwen3vl-config.ts';
import { openCheckpoint, SHARD_INDEX, type Checkpoint } from '../../checkpoint/node/safetensors-reader.ts';
import { buildTextDecoder } from '../../graphs/node/text-decoder-graph.ts';
import { resolveNBits, type NBitsSettings } from '../../graphs/node/graph-precision.ts';
import { buildVisionEncoder, VISION_ENCODER_FILE } from '../../graphs/node/vision-encoder-graph.ts';
import { builderIdentity, type BuilderIdentity } from './builder-version.ts';
import { checkCheckpointTensors } from './checkpoint-check.ts';
import {
  looksLikeModelPackage,
  MANIFEST_FILE,
  OPTIONAL_TOKENIZER_FILES,
  PACKAGE_FORMAT_NAME,
  PARTIAL_SUFFIX,
  REQUIRED_TOKENIZER_FILES,
  sha256File,
} from './package-layout.ts';

export const DECODER_FILE: Readonly<Record<PackageKind, string>> = { embedding: 'text_decoder.onnx', reranker: 'rerank_decoder.onnx' };

export type PackageBuildStage = 'check' | 'hash-checkpoint' | 'vision' | 'decoder' | 'tokenizer' | 'hash-package' | 'finish';

export interface PackageBuildProgress {
  stage: PackageBuildStage;
  done: number;
  total: number;
  /** What done/total count. */
  unit: 'steps' | 'tensors' | 'bytes' | 'files';
}

export interface BuildModelPackageOptions {
  checkpointDir: string;
  outDir: string;
  /** Which decoder head to build; the checkpoint cannot tell an embedder from a reranker reliably. Default 'embedding'. */
  kind?: PackageKind;
  precision?: Precision;
  variant?: GraphVariant;
  /** MatMulNBits settings of int8/int4 packages; default NBITS_DEFAULTS (for measuring others: bench/model-quantized.ts). */
  nbits?: Partial<NBitsSettings>;
  /**
   * Bounds on one block of attention scores, vision tower and decoder (bytes; default 64 MiB each),
   * or 'unblocked' for the single products of graph revision 1 (tests of the package update).
   */
  attentionBlockBytes?: { vision?: number | 'unblocked'; decoder?: number | 'unblocked' };
  /** Hub repo id and commit recorded in the manifest, when the caller knows them. */
  repo?: string | null;
  revision?: string | null;
  /** Replace `outDir` when it holds a previous Trove package (anything else is never replaced). */
  overwrite?: boolean;
  onProgress?: (event: PackageBuildProgress) => void;
  signal?: AbortSignal;
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

function validateChoices(kind: PackageKind, precision: Precision, variant: GraphVariant): void {
  if (kind !== 'embedding' && kind !== 'reranker') throw new Error(`kind must be 'embedding' or 'reranker', got ${JSON.stringify(kind)}.`);
  if (!PRECISIONS.includes(precision)) throw new Error(`precision must be one of ${PRECISIONS.join(', ')}, got ${JSON.stringify(precision)}.`);
  if (!GRAPH_VARIANTS.includes(variant)) throw new Error(`variant must be one of ${GRAPH_VARIANTS.join(', ')}, got ${JSON.stringify(variant)}.`);
}

/** Refuses a target that exists unless it is a previous package and overwrite was asked for. */
async function checkTarget(target: string, overwrite: boolean): Promise<void> {
  let info;
  try {
    info = await stat(target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if (!info.isDirectory() || !(await looksLikeModelPackage(target))) {
    throw new Error(`${target} already exists and is not a Trove model package; refusing to replace it. Choose another output folder or remove it yourself.`);
  }
  if (!overwrite) throw new Error(`${target} already holds a model package; pass overwrite (--overwrite) to replace it, or choose another output folder.`);
}

/** config.json validated on its own first, so config errors (naming the field) come before any weight file is opened. */
async function readConfig(checkpointDir: string): Promise<Qwen3VLConfig> {
  const file = path.join(checkpointDir, 'config.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new Error(`${file}: cannot read the model config (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); point at a Hugging Face checkpoint folder (config.json + model.safetensors).`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`${file}: not valid JSON (${(error as Error).message}); download the checkpoint again.`);
  }
  return parseQwen3VLConfig(json, file);
}

/** config.json, the shard index when sharded, and every safetensors file the tensors live in. */
function sourceFiles(checkpoint: Checkpoint): string[] {
  const files = new Set<string>([path.join(checkpoint.dir, 'config.json')]);
  const weightFiles = new Set(checkpoint.names().map((name) => checkpoint.info(name).file));
  if ([...weightFiles].some((f) => path.basename(f) !== 'model.safetensors')) files.add(path.join(checkpoint.dir, SHARD_INDEX));
  for (const f of weightFiles) files.add(f);
  return [...files].sort();
}

interface Reporter {
  (stage: PackageBuildStage, done: number, total: number, unit: PackageBuildProgress['unit']): void;
}

/** Hashes `files` in order, reporting bytes over all of them. */
async function hashFiles(files: string[], stage: PackageBuildStage, report: Reporter, signal?: AbortSignal): Promise<PackageFile[]> {
  const sizes = await Promise.all(files.map(async (f) => (await stat(f)).size));
  const total = sizes.reduce((a, b) => a + b, 0);
  let before = 0;
  report(stage, 0, total, 'bytes');
  const out: PackageFile[] = [];
  for (let i = 0; i < files.length; i++) {
    out.push(await sha256File(files[i], { signal, onBytes: (bytes) => report(stage, before + bytes, total, 'bytes') }));
    before += sizes[i];
  }
  return out;
}

function manifestFor(options: {
  config: Qwen3VLConfig;
  kind: PackageKind;
  precision: Precision;
  variant: GraphVariant;
  builder: BuilderIdentity;
  nbits: NBitsSettings | null;
  repo: string | null;
  revision: string | null;
  sources: PackageFile[];
  files: PackageFile[];
}): ModelManifest {
  const { text, vision, tokens } = options.config;
  const reranker = options.kind === 'reranker';
  return {
    format: PACKAGE_FORMAT_NAME,
    formatVersion: PACKAGE_FORMAT_VERSION,
    builder: options.builder,
    kind: options.kind,
    precision: options.precision,
    variant: options.variant,
    ...(options.nbits ? { nbits: { accuracyLevel: options.nbits.accuracyLevel, blockSize: options.nbits.blockSize } } : {}),
    source: { repo: options.repo, revision: options.revision, files: options.sources },
    text: { hidden: text.hidden, layers: text.layers, vocabSize: text.vocabSize, heads: text.heads, kvHeads: text.kvHeads, headDim: text.headDim },
    vision: {
      hidden: vision.hidden,
      heads: vision.heads,
      headDim: vision.hidden / vision.heads,
      outHidden: vision.outHidden,
      depth: vision.depth,
      deepstackVisualIndexes: [...vision.deepstackVisualIndexes],
    },
    tokens: {
      image: tokens.image,
      video: tokens.video,
      visionStart: tokens.visionStart,
      visionEnd: tokens.visionEnd,
      pad: PAD_TOKEN_ID,
      yes: reranker ? YES_TOKEN_ID : null,
      no: reranker ? NO_TOKEN_ID : null,
    },
    graphs: { vision: VISION_ENCODER_FILE, decoder: DECODER_FILE[options.kind] },
    files: options.files,
  };
}

/** Writes and fsyncs, so the manifest (the package's "complete" mark) is on disk before the rename. */
async function writeSynced(file: string, text: string): Promise<void> {
  const handle = await open(file, 'w');
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Moves the finished folder onto `target`, swapping out a previous package by renames. */
async function moveIntoPlace(partial: string, target: string, overwrite: boolean): Promise<void> {
  await checkTarget(target, overwrite); // again: the folder may have appeared during the build
  if (!(await exists(target))) {
    await rename(partial, target);
    return;
  }
  const aside = `${target}.old-${randomBytes(4).toString('hex')}`;
  await rename(target, aside);
  try {
    await rename(partial, target);
  } catch (error) {
    await rename(aside, target).catch(() => undefined); // put the previous package back
    throw error;
  }
  // The new package is in place; failing to delete the old copy must not fail the build.
  await rm(aside, { recursive: true, force: true }).catch(() => undefined);
}

/**
 * Builds a model package from `checkpointDir` into `outDir` and returns its manifest. Validates
 * config.json and every expected tensor before writing anything; on any error or abort nothing is
 * left under `outDir` (or the previous package there is untouched) and the partial folder is gone.
 */
export async function buildModelPackage(options: BuildModelPackageOptions): Promise<ModelManifest> {
  const kind = options.kind ?? 'embedding';
  const precision = options.precision ?? 'fp32';
  const variant = options.variant ?? 'plain';
  const overwrite = options.overwrite ?? false;
  const { signal } = options;
  validateChoices(kind, precision, variant);
  const checkpointDir = path.resolve(options.checkpointDir);
  const target = path.resolve(options.outDir);
  if (target === checkpointDir || target.startsWith(checkpointDir + path.sep)) {
    throw new Error(`${target} lies inside the checkpoint folder ${checkpointDir}; choose an output folder outside it.`);
  }
  const report: Reporter = (stage, done, total, unit) => {
    signal?.throwIfAborted(); // thrown inside the graph writers, which then discard their scratch files
    options.onProgress?.({ stage, done, total, unit });
  };

  signal?.throwIfAborted();
  await checkTarget(target, overwrite);
  report('check', 0, 3, 'steps');
  const config = await readConfig(checkpointDir);
  if (kind === 'reranker' && Math.max(YES_TOKEN_ID, NO_TOKEN_ID) >= config.text.vocabSize) {
    throw new Error(`${checkpointDir}/config.json: text_config.vocab_size ${config.text.vocabSize} has no rows for the reranker's "yes" (${YES_TOKEN_ID}) and "no" (${NO_TOKEN_ID}) tokens; a reranker package needs a Qwen3-VL-Reranker checkpoint.`);
  }
  for (const name of REQUIRED_TOKENIZER_FILES) {
    if (!(await exists(path.join(checkpointDir, name)))) {
      throw new Error(`${checkpointDir} has no ${name}; the package needs the checkpoint's tokenizer — download ${name} from the same Hugging Face repo into that folder.`);
    }
  }
  report('check', 1, 3, 'steps');
  const checkpoint = await openCheckpoint(checkpointDir);
  let partial: string | null = null;
  try {
    report('check', 2, 3, 'steps');
    checkCheckpointTensors(checkpoint, config, kind);
    report('check', 3, 3, 'steps');
    const builder = await builderIdentity();
    const sources = await hashFiles(sourceFiles(checkpoint), 'hash-checkpoint', report, signal);

    await mkdir(path.dirname(target), { recursive: true });
    partial = `${target}${PARTIAL_SUFFIX}${randomBytes(6).toString('hex')}`;
    await mkdir(partial);

    await buildVisionEncoder(checkpoint, partial, { precision, variant, attentionBlockBytes: options.attentionBlockBytes?.vision, onProgress: (done, total) => report('vision', done, total, 'tensors') });
    const decoderFile = path.join(partial, DECODER_FILE[kind]);
    await buildTextDecoder(checkpoint, decoderFile, {
      head: kind === 'reranker' ? 'rerank' : 'embedding',
      precision,
      variant,
      nbits: options.nbits,
      attentionBlockBytes: options.attentionBlockBytes?.decoder,
      onProgress: (done, total) => report('decoder', done, total, 'steps'),
    });

    const tokenizerFiles: string[] = [...REQUIRED_TOKENIZER_FILES];
    for (const name of OPTIONAL_TOKENIZER_FILES) if (await exists(path.join(checkpointDir, name))) tokenizerFiles.push(name);
    for (let i = 0; i < tokenizerFiles.length; i++) {
      report('tokenizer', i, tokenizerFiles.length, 'files');
      await copyFile(path.join(checkpointDir, tokenizerFiles[i]), path.join(partial, tokenizerFiles[i]));
    }
    report('tokenizer', tokenizerFiles.length, tokenizerFiles.length, 'files');

    const written = (await readdir(partial)).sort();
    const files = await hashFiles(written.map((name) => path.join(partial!, name)), 'hash-package', report, signal);

    report('finish', 0, 1, 'steps');
    // Parsed with the runtime's own schema before writing: a package the runtime would refuse is never written.
    const manifest = parseModelManifest(
      manifestFor({ config, kind, precision, variant, builder, nbits: precision === 'int8' || precision === 'int4' ? resolveNBits({ nbits: options.nbits }) : null, repo: options.repo ?? null, revision: options.revision ?? null, sources, files }),
      `manifest for ${target}`,
    );
    await writeSynced(path.join(partial, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    signal?.throwIfAborted();
    await moveIntoPlace(partial, target, overwrite);
    partial = null;
    options.onProgress?.({ stage: 'finish', done: 1, total: 1, unit: 'steps' });
    return manifest;
  } finally {
    await checkpoint.close();
    if (partial !== null) await rm(partial, { recursive: true, force: true });
  }
}
