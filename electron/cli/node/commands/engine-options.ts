// Options every engine-backed command shares (where the data lives, which model packages run) and
// the checks made before the engine opens: a --model/--reranker that is not a usable package of
// the right kind is refused (no quiet fall-back to keyword search), and read-only commands refuse
// a data folder that holds no library instead of creating one.
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { dispatchApiCall } from '../../../contract/common/trove-api.ts';
import type { Status } from '../../../contract/common/entities.ts';
import type { PackageKind } from '../../../../native-models/manifest/common/model-manifest.ts';
import { openModelPackage, MANIFEST_FILE } from '../../../engine/inference/node/runtime/model-package.ts';
import type { EngineOptions, TroveEngine } from '../../../engine/app/node/trove-engine-types.ts';
import { dataDirLayout, resolveDataDir } from '../../../engine/store/node/data-dir.ts';
import { CliFailure, CliUsageError } from '../command-line/cli-error.ts';
import type { OptionSpecs } from '../command-line/command-line.ts';
import { verboseLogging } from '../command-line/verbose-logging.ts';

function defaultDataDirForHelp(): string {
  try {
    return resolveDataDir({ env: { ...process.env, TROVE_DATA_DIR: '' } });
  } catch {
    return 'the app-data folder';
  }
}

export const DATA_OPTION = {
  data: { type: 'string', value: 'DIR', help: `the data folder (else TROVE_DATA_DIR, else ${defaultDataDirForHelp()})` },
} satisfies OptionSpecs;

export const ENGINE_OPTIONS = {
  ...DATA_OPTION,
  model: { type: 'string', value: 'PKG', help: 'embedding model package for this run (else TROVE_MODEL, else the installed one)' },
  reranker: { type: 'string', value: 'PKG', help: 'reranker model package for this run (else TROVE_RERANKER, else the installed one)' },
} satisfies OptionSpecs;

interface EngineValues {
  data?: string;
  model?: string;
  reranker?: string;
}

/** A package the user named for this run, and where they named it. */
interface ChosenPackage {
  readonly dir: string;
  /** '--model', 'TROVE_MODEL', … */
  readonly from: string;
}

function chosen(flag: string | undefined, flagName: string, envName: string): ChosenPackage | null {
  if (flag !== undefined) {
    if (flag.trim() === '') throw new CliUsageError(`${flagName} needs a model package folder, got an empty string.`);
    return { dir: path.resolve(flag), from: flagName };
  }
  const fromEnv = process.env[envName];
  return fromEnv ? { dir: path.resolve(fromEnv), from: envName } : null;
}

const article = (kind: PackageKind) => (kind === 'embedding' ? 'an embedding' : 'a reranker');
const optionFor = (kind: PackageKind) => (kind === 'embedding' ? '--model' : '--reranker');

/**
 * Refuses a package argument that cannot work, before anything is opened: usage errors (exit 2)
 * for a path that is not a package of `kind`, failures (exit 1) for a package that is damaged.
 */
export async function checkPackageArgument(choice: ChosenPackage, kind: PackageKind, where: { otherOption?: boolean } = { otherOption: true }): Promise<void> {
  const { dir, from } = choice;
  const label = `${from} ${dir}`;
  const build = `trove model build CHECKPOINT --out PKG${kind === 'reranker' ? ' --kind reranker' : ''}`;
  const info = statSync(dir, { throwIfNoEntry: false });
  if (info === undefined) {
    throw new CliUsageError(`${label}: no such folder. Give ${article(kind)} model package ('trove model list' shows the installed ones; '${build}' makes one).`);
  }
  if (!info.isDirectory()) throw new CliUsageError(`${label}: a file; give the model package folder (the one holding ${MANIFEST_FILE}).`);
  const manifestFile = path.join(dir, MANIFEST_FILE);
  if (!existsSync(manifestFile)) {
    const checkpoint = existsSync(path.join(dir, 'config.json'));
    throw new CliUsageError(
      checkpoint
        ? `${label}: a Hugging Face checkpoint, not a model package. Build one from it first (trove model build ${dir} --out PKG${kind === 'reranker' ? ' --kind reranker' : ''}), then give PKG.`
        : `${label}: not a model package (it has no ${MANIFEST_FILE}). '${build}' makes one.`,
    );
  }
  let declaredKind: unknown;
  try {
    declaredKind = (JSON.parse(await readFile(manifestFile, 'utf8')) as { kind?: unknown } | null)?.kind;
  } catch (error) {
    throw new CliFailure(`${label}: ${MANIFEST_FILE} is not valid JSON (${(error as Error).message}); the package is damaged. Rebuild it with '${build}'.`);
  }
  if ((declaredKind === 'embedding' || declaredKind === 'reranker') && declaredKind !== kind) {
    const other = declaredKind as PackageKind;
    const fix = where.otherOption ? `Give it with ${optionFor(other)} instead.` : `Build ${article(kind)} package with '${build}'.`;
    throw new CliUsageError(`${label}: ${article(other)} package, but ${from} takes ${article(kind)} package. ${fix}`);
  }
  try {
    await openModelPackage(dir, kind);
  } catch (error) {
    throw new CliFailure(`${label}: ${(error as Error).message}`);
  }
}

export interface PreparedEngine {
  readonly options: EngineOptions;
  /** The packages named on the command line or in the environment (checked to load after open). */
  readonly chosen: { readonly embedding: ChosenPackage | null; readonly reranker: ChosenPackage | null };
}

/** Where the library is, and whether one is there. */
export function libraryAt(dataDir: string): 'library' | 'none' | 'file' {
  const info = statSync(dataDir, { throwIfNoEntry: false });
  if (info === undefined) return 'none';
  if (!info.isDirectory()) return 'file';
  return existsSync(dataDirLayout(dataDir).database) ? 'library' : 'none';
}

export function dataDirFrom(values: EngineValues): string {
  try {
    return resolveDataDir(values.data);
  } catch (error) {
    throw new CliUsageError((error as Error).message);
  }
}

/** Refuses a data folder without a library (read-only commands must not create one). */
export function requireLibrary(dataDir: string, given: string | undefined): void {
  const where = libraryAt(dataDir);
  if (where === 'library') return;
  const source = given !== undefined ? '--data' : process.env.TROVE_DATA_DIR ? 'TROVE_DATA_DIR' : 'the default data folder';
  if (where === 'file') throw new CliFailure(`${dataDir} (${source}) is a file, not a Trove data folder. Check the path.`);
  throw new CliFailure(
    `there is no Trove library at ${dataDir} (${source}). Check the path, or create a library there by adding a folder: trove index FOLDER${given !== undefined ? ` --data ${given}` : ''}`,
  );
}

/**
 * Reads the shared options, checks the packages named for this run and, for read-only commands,
 * that a library exists. Nothing on disk is created or changed.
 */
export async function prepareEngine(values: EngineValues, options: { watch: boolean; readOnly: boolean }): Promise<PreparedEngine> {
  const dataDir = dataDirFrom(values);
  const embedding = chosen(values.model, '--model', 'TROVE_MODEL');
  const reranker = chosen(values.reranker, '--reranker', 'TROVE_RERANKER');
  if (embedding) await checkPackageArgument(embedding, 'embedding');
  if (reranker) await checkPackageArgument(reranker, 'reranker');
  if (options.readOnly) requireLibrary(dataDir, values.data);
  return {
    options: { dataDir, embeddingModel: embedding?.dir ?? null, rerankerModel: reranker?.dir ?? null, watch: options.watch },
    chosen: { embedding, reranker },
  };
}

/** After open: a package named for this run that still did not load (the runtime refused it) is a failure. */
export async function assertChosenModelsLoaded(engine: TroveEngine, prepared: PreparedEngine): Promise<Status> {
  const status = (await dispatchApiCall(engine.handlers, 'status.get', {})) as Status;
  // Why a model did not load is one of the engine's notes (ModelStatus.notes), not to be parsed out of the statement.
  const { notes } = status.model;
  const missing: string[] = [];
  const { embedding, reranker } = prepared.chosen;
  if (embedding && status.model.embedding === null) missing.push(`${embedding.from} ${embedding.dir}: ${notes.find((n) => n.includes('embedding')) ?? 'the embedding model could not be loaded'}`);
  if (reranker && status.model.reranker === null) missing.push(`${reranker.from} ${reranker.dir}: ${notes.find((n) => n.includes('reranker')) ?? 'the reranker could not be loaded'}`);
  if (missing.length > 0) throw new CliFailure(missing.join('\n'));
  if (verboseLogging() && status.model.providerDetails) console.error(status.model.providerDetails);
  return status;
}
