// One catalog model from checkpoint to package: take its files from the hub (resumable, verified,
// reusing a Hugging Face cache) or from a folder the user already has, then build the model
// package for this machine's precision. The package is built beside its final place and renamed
// in whole (build-package.ts), so a package under its name is always complete; the download is
// removed after a successful build (a re-install fetches it again, resuming nothing).
import { readFile, readdir, rm, rmdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { CatalogModel } from '../../../contract/common/model-setup.ts';
import { parseModelManifest, type Precision } from '../../models/common/model-manifest.ts';
import { downloadSnapshot, checkLocalCheckpointFolder, type DownloadOptions, type DownloadProgress } from '../../../../native-models/hub/snapshot-download.ts';
import type { PackageBuildProgress, PackageBuildStage } from '../../../../native-models/package/build-package.ts';
import { buildModelPackageInWorker } from '../../../../native-models/package/build-in-worker.ts';
import { MANIFEST_FILE, PARTIAL_SUFFIX } from '../../../../native-models/package/package-layout.ts';

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
  readonly signal: AbortSignal;
  readonly onProgress: (progress: InstallProgress) => void;
}

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
 * process was killed mid-build) and a replaced package's `.old-` copy. Several GB each for an 8B
 * model. Call only while no build runs (the engine holds the data folder's lock at start).
 */
export async function removeInterruptedBuilds(packagesDir: string): Promise<string[]> {
  let names: string[];
  try {
    names = (await readdir(packagesDir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const leftovers = names.filter((name) => name.includes(PARTIAL_SUFFIX) || /\.old-[0-9a-f]+$/.test(name));
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

/** A package already built from this model at this precision (an interrupted install that got that far). */
async function existingPackage(dir: string, model: CatalogModel, precision: Precision): Promise<boolean> {
  try {
    const manifest = parseModelManifest(JSON.parse(await readFile(path.join(dir, MANIFEST_FILE), 'utf8')), dir);
    return manifest.kind === model.kind && manifest.precision === precision && manifest.source.repo === model.repo;
  } catch {
    return false;
  }
}

function buildFraction(event: PackageBuildProgress): number {
  const index = Math.max(0, BUILD_STAGES.indexOf(event.stage));
  const within = event.total > 0 ? Math.min(1, event.done / event.total) : 0;
  return Math.min(1, (index + within) / BUILD_STAGES.length);
}

/** Returns the package folder. */
export async function installModel(options: InstallModelOptions): Promise<string> {
  const { model, precision, signal } = options;
  const outDir = path.join(options.packagesDir, packageDirName(model, precision));
  if (await existingPackage(outDir, model, precision)) return outDir;

  let checkpointDir: string;
  let commit: string | null = null;
  let downloaded: string | null = null;
  if (options.folder) {
    // Checked to be this model (kind, size, weight files, hashes) before anything is built from it.
    checkpointDir = (await checkLocalCheckpointFolder(options.folder, { model, signal })).dir;
  } else {
    const dest = path.join(options.downloadsDir, downloadFolderName(model.repo), model.revision);
    const result = await downloadSnapshot({ repo: model.repo, revision: model.revision, allow: model.files.map((f) => f.path) }, dest, {
      ...options.hub,
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
    outDir,
    kind: model.kind,
    precision,
    repo: model.repo,
    revision: commit ?? model.revision,
    overwrite: true,
    signal,
    onProgress: (event) => options.onProgress({ phase: 'building', fraction: buildFraction(event), step: STAGE_WORDS[event.stage] }),
  });
  if (downloaded) {
    await rm(downloaded, { recursive: true, force: true }).catch(() => undefined);
    await rmdir(path.dirname(downloaded)).catch(() => undefined); // the repo's folder, once no revision is left in it
  }
  return outDir;
}
