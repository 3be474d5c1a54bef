// Checks a folder the user points at ("I already have the model here") holds a checkpoint the
// package builder can load: config.json, the safetensors weights (every shard the index names),
// and the tokenizer files. When hashes are known — passed in, from a .trove-download.json, or
// from Hugging Face cache links whose blob names are hashes — the files are verified too. Given the
// catalog entry the folder should hold, it is also checked to be that model (its kind, embedding
// size and weight files' sizes, then their hashes where the catalog has them), so a folder with
// another checkpoint is refused instead of being installed under the catalog's name.
import { readFile, readdir, readlink, stat } from 'node:fs/promises';
import path from 'node:path';
import { REQUIRED_TOKENIZER_FILES } from '../../package/node/package-layout.ts';
import { SHARD_INDEX } from '../../checkpoint/node/safetensors-reader.ts';
import { parseQwen3VLConfig } from '../../checkpoint/common/qwen3vl-config.ts';
import { detectCheckpointKind } from '../../checkpoint/node/checkpoint-kind.ts';
import { expectedOfRecord, readDownloadRecord, type DownloadedFile } from './download-record.ts';
import { algorithmOfEtag, verifyFile, type ExpectedContent } from './file-verify.ts';
import { HubError } from '../common/hub-errors.ts';

export interface LocalCheckpointFile {
  path: string;
  size: number;
  /** Whether its hash was known and checked. */
  verified: boolean;
}

export interface LocalCheckpoint {
  dir: string;
  /** Safetensors files the weights live in. */
  weights: string[];
  files: LocalCheckpointFile[];
}

/** The catalog model a folder must hold (the parts of a catalog entry the check reads). */
export interface ExpectedModel {
  id: string;
  title: string;
  repo: string;
  kind: 'embedding' | 'reranker';
  /** Embedding size (text hidden size) of an embedding model. */
  dims: number | null;
  files: readonly { path: string; bytes: number; sha256?: string | null }[];
}

export interface LocalCheckpointOptions {
  /** Known sizes and hashes (e.g. from the hub's listing); default: the folder's .trove-download.json, if any. */
  expected?: readonly DownloadedFile[];
  /** The catalog model the folder must hold. */
  model?: ExpectedModel;
  signal?: AbortSignal;
}

const MB = 1024 * 1024;
function bytesText(bytes: number): string {
  return bytes >= 1024 * MB ? `${(bytes / (1024 * MB)).toFixed(2)} GB` : `${(bytes / MB).toFixed(1)} MB`;
}

/** What makes the folder another model than `model` (empty: it is that model, as far as sizes and shapes say). */
async function differencesFrom(root: string, configText: string, sizes: ReadonlyMap<string, number>, model: ExpectedModel): Promise<string[]> {
  const problems: string[] = [];
  try {
    const config = parseQwen3VLConfig(JSON.parse(configText), 'config.json');
    if (model.dims !== null && config.text.hidden !== model.dims) {
      problems.push(`its embedding size (text_config.hidden_size) is ${config.text.hidden}; ${model.title} has ${model.dims}`);
    }
  } catch (error) {
    problems.push(`its config.json is not a usable Qwen3-VL config (${(error as Error).message.split('\n')[0]})`);
  }
  try {
    const detected = await detectCheckpointKind(root);
    if (detected.kind !== null && detected.kind !== model.kind) problems.push(`it holds ${detected.kind === 'embedding' ? 'an embedding model' : 'a reranker'} (${detected.reason}); ${model.title} is ${model.kind === 'embedding' ? 'an embedding model' : 'a reranker'}`);
  } catch {
    // Unreadable headers are reported by the build, with the tensor it could not read.
  }
  for (const file of model.files.filter((f) => f.path.endsWith('.safetensors'))) {
    const size = sizes.get(file.path);
    if (size === undefined) problems.push(`it has no ${file.path}, one of ${model.title}'s weight files`);
    else if (size !== file.bytes) problems.push(`its ${file.path} is ${bytesText(size)} (${size} bytes); ${model.title}'s is ${bytesText(file.bytes)} (${file.bytes} bytes)`);
  }
  return problems;
}

async function fileSize(file: string): Promise<number | null> {
  try {
    const info = await stat(file);
    return info.isFile() ? info.size : null;
  } catch {
    return null;
  }
}

/** A hash from a Hugging Face cache link (`snapshots/<sha>/x -> ../../blobs/<hash>`), if the file is one. */
async function etagExpectation(file: string, size: number): Promise<ExpectedContent | null> {
  try {
    const etag = path.basename(await readlink(file));
    const algorithm = algorithmOfEtag(etag);
    return algorithm ? { size, algorithm, digest: etag } : null;
  } catch {
    return null;
  }
}

/** Weight files: the shards the index names when there is one, else every top-level *.safetensors. */
async function weightFiles(dir: string, problems: string[]): Promise<string[]> {
  const indexFile = path.join(dir, SHARD_INDEX);
  if ((await fileSize(indexFile)) !== null) {
    try {
      const index = JSON.parse(await readFile(indexFile, 'utf8')) as { weight_map?: Record<string, string> };
      const shards = [...new Set(Object.values(index.weight_map ?? {}))].sort();
      if (shards.length === 0) problems.push(`${SHARD_INDEX} names no weight files`);
      return shards;
    } catch {
      problems.push(`${SHARD_INDEX} is not valid JSON`);
      return [];
    }
  }
  const names = (await readdir(dir)).filter((n) => n.endsWith('.safetensors')).sort();
  if (names.length === 0) problems.push('no *.safetensors weights');
  return names;
}

/** Throws 'invalid' listing every missing piece, or 'corrupt' naming every file whose hash is wrong. */
export async function checkLocalCheckpointFolder(dir: string, options: LocalCheckpointOptions = {}): Promise<LocalCheckpoint> {
  const root = path.resolve(dir);
  const info = await stat(root).catch(() => null);
  if (!info?.isDirectory()) {
    throw new HubError('invalid', `${root} is not a folder; choose the folder that holds the checkpoint's config.json and *.safetensors files.`);
  }
  const problems: string[] = [];
  const configText = await readFile(path.join(root, 'config.json'), 'utf8').catch(() => null);
  if (configText === null) problems.push('no config.json');
  else {
    try {
      JSON.parse(configText);
    } catch {
      problems.push('config.json is not valid JSON');
    }
  }
  const weights = await weightFiles(root, problems);
  const needed = ['config.json', ...(weights.length > 0 && (await fileSize(path.join(root, SHARD_INDEX))) !== null ? [SHARD_INDEX] : []), ...weights, ...REQUIRED_TOKENIZER_FILES];
  const files: LocalCheckpointFile[] = [];
  const sizes = new Map<string, number>();
  for (const name of new Set(needed)) {
    const size = await fileSize(path.join(root, name));
    if (size === null) {
      if (name !== 'config.json') problems.push(`no ${name}`);
    } else sizes.set(name, size);
  }
  if (problems.length > 0) {
    throw new HubError(
      'invalid',
      `${root} is not a complete Qwen3-VL checkpoint:\n${problems.map((p) => `  - ${p}`).join('\n')}\n` +
        'Point at the folder of a Hugging Face checkpoint (config.json, model*.safetensors, tokenizer.json, tokenizer_config.json), or download it instead.',
    );
  }

  if (options.model) {
    const differences = await differencesFrom(root, configText!, sizes, options.model);
    if (differences.length > 0) {
      throw new HubError(
        'invalid',
        `${root} does not hold ${options.model.title} (${options.model.repo}):\n${differences.map((d) => `  - ${d}`).join('\n')}\n` +
          `Choose a folder with a download of ${options.model.repo}, or download the model instead.`,
      );
    }
  }

  const known = new Map<string, DownloadedFile>();
  for (const f of options.expected ?? (await readDownloadRecord(root))?.files ?? []) known.set(f.path, f);
  // The catalog's hashes count where the folder's own record has none for a file.
  for (const f of options.model?.files ?? []) {
    if (f.sha256 && !known.has(f.path)) known.set(f.path, { path: f.path, size: f.bytes, sha256: f.sha256 });
  }
  const bad: string[] = [];
  for (const [name, size] of sizes) {
    const file = path.join(root, name);
    const recorded = known.get(name);
    if (recorded && recorded.size !== size) {
      bad.push(`${name}: ${size} bytes instead of ${recorded.size}`);
      files.push({ path: name, size, verified: true });
      continue;
    }
    const expected = recorded ? expectedOfRecord(recorded) : await etagExpectation(file, size);
    if (expected !== null) {
      const result = await verifyFile(file, expected, { signal: options.signal });
      if (!result.ok) bad.push(`${name}: ${result.reason}`);
    }
    files.push({ path: name, size, verified: expected !== null });
  }
  if (bad.length > 0) {
    throw new HubError('corrupt', `${root} holds damaged files:\n${bad.map((b) => `  - ${b}`).join('\n')}\nDownload them again (delete them first), or download the model instead.`);
  }
  return { dir: root, weights, files };
}
