// One catalog model from checkpoint to package: take its files from the hub (resumable, verified,
// reusing a Hugging Face cache) or from a folder the user already has, then build the model
// package for this machine's precision. The package is built beside its final place and renamed
// in whole (build-package.ts), so a package under its name is always complete; the download is
// removed after a successful build (a re-install fetches it again, resuming nothing).
//
// A package built by an earlier Trove (an older graph revision) is rebuilt from the same
// checkpoint commit with the same settings into `<package>.next`, and the caller puts it in place
// (model-package-update.ts, docs/model-setup.md#package-updates).
import { readFile, readdir, rm, rmdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { CatalogModel } from '../../../contract/common/model-setup.ts';
import { packageGraphRevision, packageNBits, parseModelManifest, type ModelManifest, type Precision } from '../../../../native-models/manifest/common/model-manifest.ts';
import { downloadSnapshot, checkLocalCheckpointFolder, findInHfCache, type DownloadOptions, type DownloadProgress } from '../../../../native-models/hub/node/snapshot-download.ts';
import { fileMatcher } from '../../../../native-models/hub/common/file-filter.ts';
import { hfCacheDir } from '../../../../native-models/hub/node/hf-cache.ts';
import { finishedDownload } from '../../../../native-models/hub/node/offline-snapshot.ts';
import { GRAPH_REVISION } from '../../../../native-models/package/node/builder-version.ts';
import type { PackageBuildProgress, PackageBuildStage } from '../../../../native-models/package/node/build-package.ts';
import { buildModelPackageInWorker } from '../../../../native-models/package/node/build-in-worker.ts';
import { MANIFEST_FILE, PARTIAL_SUFFIX } from '../../../../native-models/package/node/package-layout.ts';

export type InstallProgress =
  | { phase: 'downloading'; download: DownloadProgress }
  | { phase: 'building'; fraction: number; step: string };

export interface InstallModelOptions {
  readonly model: CatalogModel;
  readonly precision: Precision;
  readonly packagesDir: string;
  readonly downloadsDir: string;
  /** A checkpoint folder the user already has, instead of the hub. */
  readonly folder?: string | null;
  /** Hub options (endpoint, token, offline, free-space probe) for tests and mirrors. */
  readonly hub?: Partial<DownloadOptions>;
  /** Never download: the checkpoint must be in `folder`, a finished download or the Hugging Face cache (package updates Trove starts by itself). */
  readonly localOnly?: boolean;
  readonly signal: AbortSignal;
  readonly onProgress: (progress: InstallProgress) => void;
}

export interface InstalledModel {
  /** The package folder. */
  readonly dir: string;
  /** A rebuilt package that is to replace `dir` (model-package-update.ts), or null when `dir` is the package. */
  readonly next: string | null;
}

/** Where a package's rebuild waits until it replaces the package. */
export const UPDATE_SUFFIX = '.next';

const BUILD_STAGES: readonly PackageBuildStage[] = ['check', 'hash-checkpoint', 'vision', 'decoder', 'tokenizer', 'hash-package', 'finish'];
const STAGE_WORDS: Record<PackageBuildStage, string> = {
  check: 'Checking the checkpoint',
  'hash-checkpoint': 'Fingerprinting the checkpoint',
  vision: 'Writing the vision encoder',
  decoder: 'Writing the language model',
  tokenizer: 'Copying the tokenizer',
  'hash-package': 'Checking the package',
  finish: 'Finishing',
};

/**
 * Removes what interrupted builds left in the packages folder: a build's `.partial-` folder (the
 * process was killed mid-build), a replaced package's `.old-` copy and an update's rebuilt package
 * that was never put in place (`.next`; the update starts again). Several GB each for an 8B
 * model. Call only while no build runs (the engine holds the data folder's lock at start), after
 * an interrupted update was finished or undone (model-package-update.ts).
 */
export async function removeInterruptedBuilds(packagesDir: string): Promise<string[]> {
  let names: string[];
  try {
    names = (await readdir(packagesDir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const leftovers = names.filter((name) => name.includes(PARTIAL_SUFFIX) || /\.old-[0-9a-f]+$/.test(name) || name.endsWith(UPDATE_SUFFIX));
  for (const name of leftovers) await rm(path.join(packagesDir, name), { recursive: true, force: true });
  return leftovers;
}

/** The folder a repo's download lives in under the downloads folder ("Qwen/X" → "Qwen--X"). */
export function downloadFolderName(repo: string): string {
  return repo.replace('/', '--');
}

export function repoOfDownloadFolder(name: string): string {
  return name.replace('--', '/');
}

/** Bytes of every file below `dir` (a download's finished files and .part files). */
export async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) total += await folderBytes(full);
    else if (entry.isFile()) total += (await stat(full)).size;
  }
  return total;
}

export function packageDirName(model: CatalogModel, precision: Precision): string {
  return `${model.id}-${precision}`;
}

/** The manifest of the package in `dir` when it was built from this model at this precision (an interrupted install that got that far), else null. */
async function existingPackage(dir: string, model: CatalogModel, precision: Precision): Promise<ModelManifest | null> {
  try {
    const manifest = parseModelManifest(JSON.parse(await readFile(path.join(dir, MANIFEST_FILE), 'utf8')), dir);
    return manifest.kind === model.kind && manifest.precision === precision && manifest.source.repo === model.repo ? manifest : null;
  } catch {
    return null;
  }
}

/** Built by an earlier Trove: a rebuild gives it the graphs of this one (docs/model-packages.md#graph-revisions). */
export function isOutdated(manifest: Pick<ModelManifest, 'builder'>): boolean {
  return packageGraphRevision(manifest) < GRAPH_REVISION;
}

/** The download folder of `repo` at `revision` under the downloads folder. */
function downloadDestination(downloadsDir: string, repo: string, revision: string): string {
  return path.join(downloadsDir, downloadFolderName(repo), revision);
}

/**
 * Whether the checkpoint `manifest` was built from is on this machine without downloading: in the
 * folder it was built from, a finished download, or the Hugging Face cache (at the commit it
 * records). Cheap checks only (file presence); the rebuild verifies what it reads.
 */
export async function checkpointOnDisk(model: CatalogModel, manifest: ModelManifest, options: { downloadsDir: string; folder?: string | null; hub?: Partial<DownloadOptions> }): Promise<boolean> {
  if (options.folder && (await stat(path.join(options.folder, 'config.json')).then(() => true, () => false))) return true;
  const revision = manifest.source.revision ?? model.revision;
  const wanted = model.files.map((f) => f.path);
  const match = fileMatcher(wanted);
  if (await finishedDownload(downloadDestination(options.downloadsDir, model.repo, revision), model.repo, revision, match)) return true;
  const cacheDir = options.hub?.hfCache === false ? null : (options.hub?.hfCache ?? hfCacheDir(options.hub?.env));
  if (cacheDir === null) return false;
  try {
    const snapshot = await findInHfCache({ repo: model.repo, revision }, { cacheDir });
    return snapshot !== null && wanted.every((file) => snapshot.files.some((f) => f.path === file));
  } catch {
    return false;
  }
}

function buildFraction(event: PackageBuildProgress): number {
  const index = Math.max(0, BUILD_STAGES.indexOf(event.stage));
  const within = event.total > 0 ? Math.min(1, event.done / event.total) : 0;
  return Math.min(1, (index + within) / BUILD_STAGES.length);
}

/** Builds the package (or the rebuild of an outdated one); returns where it is. */
export async function installModel(options: InstallModelOptions): Promise<InstalledModel> {
  const { model, precision, signal } = options;
  const outDir = path.join(options.packagesDir, packageDirName(model, precision));
  const existing = await existingPackage(outDir, model, precision);
  if (existing && !isOutdated(existing)) return { dir: outDir, next: null };
  // An outdated package is rebuilt from the very checkpoint commit and with the settings it was
  // built with, so the rebuild computes the same embeddings (its vectors stay valid).
  const update = existing;
  const target = update ? `${outDir}${UPDATE_SUFFIX}` : outDir;
  const revision = update?.source.revision ?? model.revision;

  let checkpointDir: string;
  let commit: string | null = null;
  let downloaded: string | null = null;
  if (options.folder) {
    // Checked to be this model (kind, size, weight files, hashes) before anything is built from it.
    checkpointDir = (await checkLocalCheckpointFolder(options.folder, { model, signal })).dir;
  } else {
    const dest = downloadDestination(options.downloadsDir, model.repo, revision);
    const result = await downloadSnapshot({ repo: model.repo, revision, allow: model.files.map((f) => f.path) }, dest, {
      ...options.hub,
      ...(options.localOnly ? { offline: true } : {}),
      signal,
      onProgress: (download) => options.onProgress({ phase: 'downloading', download }),
    });
    checkpointDir = result.dir;
    commit = result.commit;
    downloaded = dest;
  }

  options.onProgress({ phase: 'building', fraction: 0, step: STAGE_WORDS.check });
  // On a worker thread: converting tensors would otherwise stall the engine for seconds at a time.
  await buildModelPackageInWorker({
    checkpointDir,
    outDir: target,
    kind: model.kind,
    precision,
    variant: update?.variant,
    nbits: update ? (packageNBits(update) ?? undefined) : undefined,
    repo: model.repo,
    revision: commit ?? revision,
    overwrite: true,
    signal,
    onProgress: (event) => options.onProgress({ phase: 'building', fraction: buildFraction(event), step: STAGE_WORDS[event.stage] }),
  });
  if (downloaded) {
    await rm(downloaded, { recursive: true, force: true }).catch(() => undefined);
    await rmdir(path.dirname(downloaded)).catch(() => undefined); // the repo's folder, once no revision is left in it
  }
  return { dir: outDir, next: update ? target : null };
}
