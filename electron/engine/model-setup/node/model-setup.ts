// Getting and changing the models while the engine runs (the `models.*` API): the install task
// (download or folders → build → activate, resumed after a restart), activation (a first model at
// once; another embedding model through a background re-embed, search staying on the old vectors
// until the new ones are complete), the inference-server backend, and the state the UI shows.
// Packages in use that an earlier Trove built are rebuilt in the background from the checkpoint
// on this machine and swapped in, keeping the library's vectors (docs/model-setup.md#package-updates).
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { errorMessage } from '../../base/common/error-message.ts';
import { ApiError } from '../../../contract/common/trove-api.ts';
import type { ModelStatus } from '../../../contract/common/entities.ts';
import type {
  CatalogModel,
  Hardware,
  InstalledPackage,
  InstallRequest,
  ModelsState,
  RemoteBackendSettings,
  SetupTask,
  UnfinishedDownload,
} from '../../../contract/common/model-setup.ts';
import { parseModelManifest, type ModelManifest, type Precision } from '../../../../native-models/manifest/common/model-manifest.ts';
import { probeHardware } from './hardware-probe.ts';
import { describeRef, loadEmbedder, loadReranker, type EngineModels, type LoadedEmbedder, type ModelRef } from '../../inference/node/engine-models.ts';
import { formatBytes } from '../../../contract/common/display-units.ts';
import { requeueFilesWithoutVectors } from '../../jobs/node/indexer.ts';
import { Coalescer } from '../../jobs/node/progress-meter.ts';
import { VectorBackfill } from '../../jobs/node/vector-backfill.ts';
import type { Store } from '../../store/node/store.ts';
import { loadModelCatalog, toCatalogModel } from '../../../../native-models/catalog/node/model-catalog.ts';
import { fitsOn, recommendModels } from '../../../../native-models/catalog/node/recommend-models.ts';
import { isOfflineEnv } from '../../../../native-models/hub/node/hub-endpoint.ts';
import type { DownloadOptions } from '../../../../native-models/hub/node/snapshot-download.ts';
import { MANIFEST_FILE } from '../../../../native-models/package/node/package-layout.ts';
import { checkpointOnDisk, downloadFolderName, folderBytes, installModel, isOutdated, removeInterruptedBuilds, repoOfDownloadFolder, UPDATE_SUFFIX, type InstallProgress } from './model-install.ts';
import { asideFolder, differenceOfRebuild, isBusyError, readPackage, swapFolders, unswapFolders, type PackageUpdateJournal } from './model-package-update.ts';
import { modelsLayout, writeModelSettings, type ModelSettings } from './model-settings.ts';
import { modelsInUse } from './models-in-use.ts';

/** How long a hardware probe (nvidia-smi, free disk) is reused. */
const HARDWARE_TTL_MS = 30_000;
/** At most this many `models.changed` events a second. */
const EVENTS_PER_SECOND = 4;
/** How long the answer to "is this outdated package's checkpoint on this machine" is reused. */
const OUTDATED_TTL_MS = 30_000;

type TaskPurpose = NonNullable<SetupTask['purpose']>;

/** What an outdated installed package needs, as models.state tells it. */
type PackageOutdated = NonNullable<InstalledPackage['outdated']>;

export interface ModelSetupOptions {
  readonly store: Store;
  readonly models: EngineModels;
  readonly dataDir: string;
  readonly settings: ModelSettings;
  readonly indexerBusy: () => boolean;
  readonly wakeIndexer: () => void;
  /** Runs `work` while no indexing round is in flight (the active embedder may change in it). */
  readonly withIndexerPaused: <T>(work: () => Promise<T>) => Promise<T>;
  readonly onStateChanged: (state: ModelsState) => void;
  readonly onModelChanged: (statement: string) => void;
  readonly env?: NodeJS.ProcessEnv;
  /** Hub options for tests and mirrors (endpoint, token, free-space probe…). */
  readonly hub?: Partial<DownloadOptions>;
  /** Tests: see VectorBackfillOptions.beforeFile. */
  readonly beforeBackfillFile?: (filesDone: number, signal: AbortSignal) => Promise<void>;
  /**
   * Rebuild packages in use that an earlier Trove built, by themselves (engines that stay open:
   * the app, `trove serve`, a watching `trove index`; one-shot commands would cut the rebuild short).
   */
  readonly updatePackages?: boolean;
  /** Tests: awaited after a package's rebuild, before it replaces the package in use. */
  readonly beforePackageSwap?: (dir: string) => Promise<void>;
}

function sameRef(a: ModelRef | null | undefined, b: ModelRef | null | undefined): boolean {
  if (!a || !b) return false;
  if (a.type === 'package' && b.type === 'package') return path.resolve(a.dir) === path.resolve(b.dir);
  if (a.type === 'remote' && b.type === 'remote') return a.settings.url === b.settings.url && a.settings.embeddingModel === b.settings.embeddingModel;
  return false;
}

function emptyTask(request: InstallRequest, purpose: TaskPurpose = 'install'): SetupTask {
  const models = [request.embedding, request.reranker].filter((m): m is string => m !== null);
  return { models, request, purpose, phase: 'queued', step: 'Waiting to start', bytes: { done: 0, total: 0 }, bytesPerSecond: 0, etaSeconds: null, fraction: 0, error: null };
}

/** "Updating the search model for lower memory use" (the task's step words while it rebuilds). */
function updateWords(kind: CatalogModel['kind']): string {
  return `Updating ${kind === 'embedding' ? 'the search model' : 'the reranker'} for lower memory use`;
}

/** One model of a task: what to build, at which precision, from where. */
interface TaskItem {
  readonly model: CatalogModel;
  readonly precision: Precision;
  readonly folder: string | null;
}

export class ModelSetup {
  private readonly catalog: CatalogModel[];
  private readonly env: NodeJS.ProcessEnv;
  private readonly layout;
  private readonly backfill: VectorBackfill;
  private readonly events: Coalescer;
  private hardwareCache: { at: number; value: Hardware } | null = null;
  private task: SetupTask | null = null;
  private taskAbort: AbortController | null = null;
  private taskRun: Promise<void> | null = null;
  private outdatedCache = new Map<string, { at: number; value: PackageOutdated }>();
  private closed = false;
  /** Serialises activations and the switch's completion (each swaps models and rewrites settings). */
  private activation: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: ModelSetupOptions) {
    this.env = options.env ?? process.env;
    this.catalog = loadModelCatalog(this.env).map(toCatalogModel);
    this.layout = modelsLayout(options.dataDir);
    this.events = new Coalescer(() => void this.publish(), 1000 / EVENTS_PER_SECOND);
    this.backfill = new VectorBackfill({
      store: options.store,
      models: options.models,
      indexerBusy: options.indexerBusy,
      onProgress: () => this.events.request(),
      onComplete: () => this.serialise(() => this.completeSwitch()),
      beforeFile: options.beforeBackfillFile,
    });
    const saved = options.settings.task;
    if (saved?.phase === 'failed') this.task = { ...emptyTask(saved.request), phase: 'failed', step: 'Stopped', error: saved.error };
  }

  private get settings(): ModelSettings {
    return this.options.settings;
  }

  /** Resumes what a previous run left: a model switch, an install task. */
  async resume(): Promise<void> {
    const { settings } = this;
    try {
      const removed = await removeInterruptedBuilds(this.layout.packages);
      if (removed.length > 0) console.error(`trove: removed what interrupted model builds left: ${removed.join(', ')}`);
    } catch (error) {
      console.error(`trove: could not remove what interrupted model builds left in ${this.layout.packages}: ${errorMessage(error)}`);
    }
    if (settings.switchingTo && this.options.models.embedder) {
      try {
        await this.options.models.setTarget(await loadEmbedder(this.options.store, settings.switchingTo));
        this.backfill.wake();
      } catch (error) {
        this.options.models.noteProblem(`the model switch to ${describeRef(settings.switchingTo)} could not resume: ${errorMessage(error)}`);
        settings.switchingTo = null;
        this.save();
      }
    }
    const saved = settings.task;
    if (saved && saved.phase !== 'failed' && saved.phase !== 'done' && saved.phase !== 'cancelled') this.startTask(saved.request);
    await this.updateOutdatedPackages();
  }

  /**
   * Starts the rebuild of the packages in use that an earlier Trove built, when their checkpoints
   * are on this machine and nothing else is being set up or switched; otherwise models.state says
   * what is needed (`installed[].outdated`).
   */
  private async updateOutdatedPackages(): Promise<void> {
    if (!this.options.updatePackages || this.taskRun || this.closed || this.options.models.target) return;
    try {
      const items = await this.outdatedInUse();
      if (items.length === 0) return;
      for (const item of items) {
        const manifest = (await readPackage(item.dir)).manifest;
        if (!(await checkpointOnDisk(item.model, manifest, { downloadsDir: this.layout.downloads, folder: item.folder, hub: { env: this.env, ...this.options.hub } }))) return;
      }
      if (this.taskRun || this.closed) return;
      const precisions = new Set(items.map((i) => i.precision));
      const folders = Object.fromEntries(items.filter((i) => i.folder !== null).map((i) => [i.model.id, i.folder!]));
      this.startTask(
        {
          embedding: items.find((i) => i.model.kind === 'embedding')?.model.id ?? null,
          reranker: items.find((i) => i.model.kind === 'reranker')?.model.id ?? null,
          precision: precisions.size === 1 ? [...precisions][0]! : null,
          source: Object.keys(folders).length === items.length ? { type: 'folders', folders } : { type: 'hub' },
        },
        'update',
      );
    } catch (error) {
      console.error(`trove: could not check whether the models in use need an update: ${errorMessage(error)}`);
    }
  }

  /** The packages in use (in the packages folder, from a catalog model) that an earlier Trove built. */
  private async outdatedInUse(): Promise<(TaskItem & { dir: string })[]> {
    const { models } = this.options;
    const out: (TaskItem & { dir: string })[] = [];
    for (const ref of [models.embedder?.ref, models.reranker?.ref]) {
      if (ref?.type !== 'package') continue;
      const dir = path.resolve(ref.dir);
      if (path.dirname(dir) !== path.resolve(this.layout.packages)) continue;
      let manifest;
      try {
        manifest = (await readPackage(dir)).manifest;
      } catch {
        continue;
      }
      const model = this.catalog.find((m) => m.repo === manifest.source.repo && m.kind === manifest.kind);
      if (!model || !isOutdated(manifest)) continue;
      out.push({ model, precision: manifest.precision, folder: this.settings.checkpoints[path.basename(dir)] ?? null, dir });
    }
    return out;
  }

  /** The indexer went idle or committed files: a switch may be able to move on. */
  indexerChanged(): void {
    if (this.options.models.target) this.backfill.wake();
  }

  /** Which models are in use and what search can do now: the one answer status.get and state() share. */
  inUse(): ModelStatus {
    return modelsInUse(this.options.models, this.options.store, this.layout.packages);
  }

  /**
   * The answer above changes when the in-use model's semantic index, loading or being built in
   * the background, can search (or fails): tell the windows then, as for any change of model.
   */
  watchSemanticIndex(): void {
    const embedder = this.options.models.embedder;
    if (!embedder) return;
    const ann = this.options.store.ann(embedder.modelId);
    if (ann.searchable) return;
    void ann
      .whenReady()
      .catch(() => undefined)
      .then(() => {
        if (this.closed || this.options.models.embedder !== embedder) return;
        this.options.onModelChanged(this.inUse().statement);
        this.events.request();
      });
  }

  async state(): Promise<ModelsState> {
    // What changes synchronously is read before the first await, so `asOf` (taken here too) is
    // true of it: of two states, the later asOf is never the staler one (see ModelsState.asOf).
    const asOf = performance.timeOrigin + performance.now();
    const { models } = this.options;
    const embedRef = models.embedder?.ref;
    const rerankRef = models.reranker?.ref;
    const progress = this.backfill.progress();
    const switching = models.target && models.embedder && progress ? { from: models.embedder.name, to: models.target.name, done: progress.done, total: progress.total } : null;
    const task = this.task;
    const declined = this.settings.declined;
    const downloadsInUse = this.downloadsInUse();
    const inUse = this.inUse();
    const hardware = await this.hardware();
    const fits = Object.fromEntries(
      this.catalog.map((m) => {
        const precision = this.precisionFor(m, hardware);
        return [m.id, { precision, ...fitsOn(m, hardware, precision) }];
      }),
    );
    return {
      asOf,
      catalog: this.catalog,
      hardware,
      recommendation: recommendModels(this.catalog, hardware),
      fits,
      installed: await this.installed(inUse),
      inUse,
      backend:
        embedRef?.type === 'remote'
          ? { type: 'remote', url: embedRef.settings.url, embeddingModel: embedRef.settings.embeddingModel, rerankerModel: rerankRef?.type === 'remote' ? rerankRef.settings.rerankerModel : null }
          : rerankRef?.type === 'remote'
            ? { type: 'remote', url: rerankRef.settings.url, embeddingModel: '', rerankerModel: rerankRef.settings.rerankerModel }
            : { type: 'local' },
      task,
      switching,
      declined,
      offline: isOfflineEnv(this.env),
      downloads: await this.downloads(downloadsInUse),
    };
  }

  install(request: InstallRequest): void {
    if (this.taskRun) {
      throw new ApiError('unavailable', this.task?.purpose === 'update' ? 'Trove is updating a model in use; wait for it to finish or cancel it first' : 'a model is already being set up; wait for it to finish or cancel it first');
    }
    for (const id of [request.embedding, request.reranker]) {
      if (id === null) continue;
      const model = this.catalog.find((m) => m.id === id);
      if (!model) throw new ApiError('invalid-params', `there is no model '${id}' in the catalog; choose one of ${this.catalog.map((m) => m.id).join(', ')}`);
      const expected = id === request.embedding ? 'embedding' : 'reranker';
      if (model.kind !== expected) throw new ApiError('invalid-params', `'${id}' is ${model.kind === 'embedding' ? 'an embedding model' : 'a reranker'}; pass it as ${model.kind}`);
      if (request.source.type === 'folders' && !request.source.folders[id]) throw new ApiError('invalid-params', `no folder was given for '${id}'; give the checkpoint folder you already have for it`);
    }
    if (request.embedding === null && request.reranker === null) throw new ApiError('invalid-params', 'choose an embedding model, a reranker or both');
    if (request.source.type === 'hub' && isOfflineEnv(this.env)) {
      throw new ApiError('unavailable', 'offline mode is on (HF_HUB_OFFLINE / TROVE_OFFLINE), so nothing can be downloaded; use checkpoint folders you already have, or turn offline mode off');
    }
    this.settings.declined = false;
    this.startTask(request);
  }

  cancel(): void {
    if (!this.taskAbort) throw new ApiError('unavailable', 'no model is being set up');
    this.taskAbort.abort(new Error('cancelled'));
  }

  decline(): void {
    this.settings.declined = true;
    this.save();
    this.events.request();
  }

  async activate(id: string): Promise<void> {
    const dir = await this.packageDir(id);
    const manifest = await this.manifestOf(dir);
    await this.serialise(async () => {
      if (manifest.kind === 'embedding') await this.activateEmbedding({ type: 'package', dir });
      else await this.activateReranker({ type: 'package', dir });
    });
    await this.updateOutdatedPackages();
  }

  async remove(id: string): Promise<void> {
    const dir = await this.packageDir(id);
    const { models } = this.options;
    for (const ref of [models.embedder?.ref, models.reranker?.ref, models.target?.ref]) {
      if (ref?.type === 'package' && path.resolve(ref.dir) === dir) throw new ApiError('unavailable', `${id} is in use; activate another model first, then remove it`);
    }
    await rm(dir, { recursive: true, force: true });
    if (this.settings.local.embedding === dir) this.settings.local.embedding = null;
    if (this.settings.local.reranker === dir) this.settings.local.reranker = null;
    this.save();
    this.events.request();
  }

  /** Deletes the unfinished downloads the running install (if any) does not use. */
  async removeDownloads(): Promise<void> {
    const busy = this.downloadsInUse();
    for (const name of await this.downloadFolders()) {
      if (!busy.has(name)) await rm(path.join(this.layout.downloads, name), { recursive: true, force: true });
    }
    this.events.request();
  }

  async useRemote(remote: RemoteBackendSettings): Promise<void> {
    await this.serialise(async () => {
      const { models } = this.options;
      // Remember the local packages, for "back to this machine".
      if (models.embedder?.ref.type === 'package') this.settings.local.embedding = models.embedder.ref.dir;
      if (models.reranker?.ref.type === 'package') this.settings.local.reranker = models.reranker.ref.dir;
      this.settings.remote = remote;
      const ref: ModelRef = { type: 'remote', settings: remote };
      await this.activateEmbedding(ref);
      if (remote.rerankerModel) await this.activateReranker(ref);
    });
  }

  async useLocal(): Promise<void> {
    await this.serialise(async () => {
      const { embedding, reranker } = this.settings.local;
      if (!embedding && !reranker) throw new ApiError('unavailable', 'no model is installed on this machine; install one first');
      if (embedding) await this.activateEmbedding({ type: 'package', dir: embedding });
      if (reranker) await this.activateReranker({ type: 'package', dir: reranker });
      else if (this.options.models.reranker?.ref.type === 'remote') {
        await this.options.models.setReranker(null);
        this.settings.reranker = null;
        this.save();
      }
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.events.cancel();
    this.taskAbort?.abort(new Error('Trove is closing'));
    await this.taskRun?.catch(() => undefined);
    await this.backfill.close();
  }

  // —— the install task ——

  private startTask(request: InstallRequest, purpose: TaskPurpose = 'install'): void {
    const abort = new AbortController();
    this.taskAbort = abort;
    this.task = emptyTask(request, purpose);
    // An update is not resumed from the settings: the next start finds the outdated package again.
    if (purpose === 'install') {
      this.settings.task = { request, phase: 'queued', error: null };
      this.save();
    }
    this.events.request();
    this.taskRun = this.runTask(request, purpose, abort.signal)
      .then(
        () => this.finishTask('done', null),
        (error: unknown) => {
          if (this.closed) return; // resumed at the next start
          if (abort.signal.aborted) this.finishTask('cancelled', null);
          else this.finishTask('failed', errorMessage(error));
        },
      )
      .finally(() => {
        this.taskRun = null;
        this.taskAbort = null;
      });
  }

  private finishTask(phase: 'done' | 'failed' | 'cancelled', error: string | null): void {
    if (!this.task) return;
    const update = this.task.purpose === 'update';
    const words = update
      ? { done: 'Updated', failed: 'Stopped; the model in use is unchanged', cancelled: 'Cancelled; the model in use is unchanged, and the update starts again next time' }[phase]
      : { done: 'Ready', failed: 'Stopped', cancelled: 'Cancelled; downloaded files are kept for the next try' }[phase];
    this.task = { ...this.task, phase, error, step: words, bytesPerSecond: 0, etaSeconds: phase === 'done' ? 0 : null, fraction: phase === 'done' ? 1 : this.task.fraction };
    if (!update) {
      this.settings.task = phase === 'failed' && this.settings.task ? { ...this.settings.task, phase, error } : null;
      this.save();
    }
    this.outdatedCache.clear();
    this.events.request();
  }

  private setTask(patch: Partial<SetupTask>): void {
    if (!this.task) return;
    const phaseChanged = patch.phase !== undefined && patch.phase !== this.task.phase;
    this.task = { ...this.task, ...patch };
    if (phaseChanged && this.settings.task && this.task.purpose === 'install') {
      this.settings.task = { ...this.settings.task, phase: this.task.phase };
      this.save();
    }
    this.events.request();
  }

  private async runTask(request: InstallRequest, purpose: TaskPurpose, signal: AbortSignal): Promise<void> {
    const items = purpose === 'update' ? await this.outdatedInUse() : await this.installItems(request);
    const built: { model: CatalogModel; dir: string; next: string | null }[] = [];
    for (const [index, { model, precision, folder }] of items.entries()) {
      const prefix = purpose === 'update' ? `${updateWords(model.kind)} (${model.title}): ` : items.length > 1 ? `${model.title} (${index + 1} of ${items.length}): ` : '';
      const { dir, next } = await installModel({
        model,
        precision,
        packagesDir: this.layout.packages,
        downloadsDir: this.layout.downloads,
        folder,
        hub: { env: this.env, ...this.options.hub },
        localOnly: purpose === 'update',
        signal,
        onProgress: (p) => this.onInstallProgress(p, prefix),
      });
      if (folder) {
        // Kept so that a newer Trove can rebuild the package from it (docs/model-setup.md#package-updates).
        this.settings.checkpoints[path.basename(dir)] = path.resolve(folder);
        this.save();
      }
      built.push({ model, dir, next });
    }
    signal.throwIfAborted();
    this.setTask({ phase: 'activating', step: purpose === 'update' ? 'Putting the updated model in place' : 'Starting the model', fraction: 1, bytesPerSecond: 0, etaSeconds: null });
    await this.serialise(async () => {
      for (const { model, dir, next } of built) {
        if (next) await this.replacePackage(model.kind, dir, next);
        if (purpose === 'update') continue;
        if (model.kind === 'embedding') await this.activateEmbedding({ type: 'package', dir });
        else await this.activateReranker({ type: 'package', dir });
      }
    });
  }

  private async installItems(request: InstallRequest): Promise<TaskItem[]> {
    const hardware = await this.hardware();
    const ids = [request.embedding, request.reranker].filter((m): m is string => m !== null);
    // The recommended pair, installed together, is built at the recommendation's precision (it may
    // be stepped down so both fit); any other choice at the machine's precision for each model.
    const recommended = recommendModels(this.catalog, hardware);
    const pairPrecision = request.embedding === recommended.embedding && request.reranker === recommended.reranker ? recommended.precision : null;
    return ids.map((id) => {
      const model = this.catalog.find((m) => m.id === id);
      if (!model) throw new Error(`there is no model '${id}' in the catalog`);
      const precision: Precision = request.precision ?? (pairPrecision ?? this.precisionFor(model, hardware));
      return { model, precision, folder: request.source.type === 'folders' ? (request.source.folders[id] ?? null) : null };
    });
  }

  // —— package updates ——

  /**
   * Puts the rebuilt package `next` in place of `dir` (model-package-update.ts). A package in use
   * keeps answering until the rebuilt one is loaded and has embedded a test sentence; the embedding
   * model keeps its store row, so the library keeps its vectors and ANN index.
   */
  private async replacePackage(kind: CatalogModel['kind'], dir: string, next: string): Promise<void> {
    const { models, store } = this.options;
    const old = await readPackage(dir);
    const rebuilt = await readPackage(next);
    const difference = differenceOfRebuild(old.manifest, rebuilt.manifest);
    if (difference) throw new Error(`the rebuilt package differs from ${path.basename(dir)} (${difference}), so it was not put in place; install the model again to replace it`);
    await this.options.beforePackageSwap?.(dir);
    const journal: PackageUpdateJournal = { dir, next, aside: asideFolder(dir), modelId: null, fromSha: old.sha, toSha: rebuilt.sha };
    const active = kind === 'embedding' ? models.embedder : models.reranker;
    const inUse = active?.ref.type === 'package' && path.resolve(active.ref.dir) === path.resolve(dir);
    const journalled = async (work: () => Promise<void>) => {
      this.settings.packageUpdate = journal;
      this.save();
      try {
        await work();
      } finally {
        this.settings.packageUpdate = null;
        this.save();
      }
    };

    if (kind === 'reranker') {
      await journalled(async () => {
        const released = await this.swapOpenPackage(journal, inUse ? () => models.setReranker(null) : null);
        if (!inUse) return;
        try {
          await models.setReranker(await loadReranker({ type: 'package', dir }));
        } catch (error) {
          await unswapFolders(journal);
          if (released) await models.setReranker(await loadReranker({ type: 'package', dir }).catch(() => null));
          throw error;
        }
      });
    } else {
      // A package not in use may still own vectors from earlier use: they stay its own as well.
      const owner = inUse ? models.embedder! : null;
      const row = owner ? store.vectors.model(owner.modelId) : (store.vectors.models().find((m) => m.manifestSha === old.sha) ?? null);
      journal.modelId = row?.id ?? null;
      // A row with the rebuilt identity and no vectors is left from an earlier attempt that loaded the package.
      const stray = store.vectors.models().find((m) => m.manifestSha === rebuilt.sha && m.id !== row?.id);
      if (stray) {
        if (store.vectors.count(stray.id) > 0) throw new Error(`the rebuilt package of ${path.basename(dir)} is already in use as another model; remove that model first`);
        store.dropModel(stray.id);
      }
      await this.options.withIndexerPaused(() =>
        journalled(async () => {
          const released = await this.swapOpenPackage(journal, owner ? () => models.setEmbedder(null) : null);
          if (row) store.vectors.adoptManifest(row.id, rebuilt.sha, dir);
          if (!owner) return;
          try {
            const loaded = await this.loadWorking({ type: 'package', dir });
            if (loaded.modelId !== owner.modelId) {
              await loaded.backend.close().catch(() => undefined);
              throw new Error(`the rebuilt package of ${path.basename(dir)} was registered as model ${loaded.modelId}, not ${owner.modelId}`);
            }
            await models.setEmbedder(loaded); // the old one answers the calls already made, then closes
          } catch (error) {
            if (row) store.vectors.adoptManifest(row.id, old.sha, dir);
            await unswapFolders(journal);
            if (released) await models.setEmbedder(await loadEmbedder(store, { type: 'package', dir }).catch(() => null));
            throw error;
          }
        }),
      );
    }
    await rm(journal.aside, { recursive: true, force: true }).catch(() => undefined);
    this.outdatedCache.clear();
    if (inUse) this.modelChanged();
  }

  /**
   * Swaps the folders. A package whose files are open can be renamed on Linux and macOS (the old
   * model keeps answering from what it mapped); Windows refuses, so there the old model is
   * released first (`release`) and search is keyword-only for the seconds the new one takes to
   * load. Returns whether it had to release the model.
   */
  private async swapOpenPackage(journal: PackageUpdateJournal, release: (() => Promise<void>) | null): Promise<boolean> {
    try {
      await swapFolders(journal);
      return false;
    } catch (error) {
      if (!release || !isBusyError(error)) throw error;
    }
    await release();
    await swapFolders(journal);
    return true;
  }

  /** The precision Trove builds this model at on its own, for this machine's execution provider. */
  private precisionFor(model: CatalogModel, hardware: Hardware): Precision {
    return model.precisionByProvider[hardware.executionProvider] ?? model.precisionByProvider.cpu ?? 'fp32';
  }

  private onInstallProgress(progress: InstallProgress, prefix: string): void {
    if (progress.phase === 'downloading') {
      const d = progress.download;
      this.setTask({
        phase: 'downloading',
        step: `${prefix}${d.currentFile ? `Downloading ${d.currentFile}` : d.phase === 'verifying' ? 'Verifying the files' : 'Preparing the download'}`,
        bytes: { done: d.doneBytes, total: d.totalBytes },
        bytesPerSecond: d.bytesPerSecond,
        etaSeconds: d.etaSeconds,
      });
    } else {
      this.setTask({ phase: 'building', step: `${prefix}${progress.step}`, fraction: progress.fraction, bytesPerSecond: 0, etaSeconds: null });
    }
  }

  // —— activation and switching ——

  private serialise<T>(work: () => Promise<T>): Promise<T> {
    const next = this.activation.then(work, work);
    this.activation = next.catch(() => undefined);
    return next;
  }

  /**
   * A first embedding model (or one with no vectors to keep) becomes active at once and the
   * library gains vectors through the indexer; another one starts a switch: the library is
   * re-embedded with it in the background and it becomes active when that is complete.
   */
  private async activateEmbedding(ref: ModelRef): Promise<void> {
    const { models, store } = this.options;
    if (sameRef(models.embedder?.ref, ref)) {
      // Back to the model in use: a switch in progress is abandoned and its vectors dropped.
      await this.abandonSwitch();
      return;
    }
    if (sameRef(models.target?.ref, ref)) return;
    const loaded = await this.loadWorking(ref);
    const current = models.embedder;
    if (!current || current.modelId === loaded.modelId || store.vectors.count(current.modelId) === 0) {
      await this.abandonSwitch();
      // Requeued while paused, so the indexer's resume finds the files.
      await this.options.withIndexerPaused(async () => {
        await models.setEmbedder(loaded);
        requeueFilesWithoutVectors(store, loaded.modelId);
      });
      if (current && current.modelId !== loaded.modelId) store.dropModel(current.modelId);
      this.settings.embedding = ref;
      this.settings.switchingTo = null;
      if (ref.type === 'package') this.settings.local.embedding = ref.dir;
      this.save();
      this.options.wakeIndexer();
      this.modelChanged();
      return;
    }
    const previousTarget = models.target;
    await models.setTarget(loaded);
    if (previousTarget && previousTarget.modelId !== loaded.modelId) store.dropModel(previousTarget.modelId);
    this.settings.switchingTo = ref;
    this.save();
    this.modelChanged();
    this.backfill.wake();
  }

  private async activateReranker(ref: ModelRef): Promise<void> {
    const { models } = this.options;
    if (sameRef(models.reranker?.ref, ref) && (ref.type === 'package' || (models.reranker?.ref.type === 'remote' && models.reranker.ref.settings.rerankerModel === ref.settings.rerankerModel))) return;
    const loaded = await loadReranker(ref);
    await models.setReranker(loaded);
    this.settings.reranker = ref;
    if (ref.type === 'package') this.settings.local.reranker = ref.dir;
    this.save();
    this.modelChanged();
  }

  /** Loads an embedder and proves it runs (one short embedding) before anything depends on it. */
  private async loadWorking(ref: ModelRef): Promise<LoadedEmbedder> {
    const loaded = await loadEmbedder(this.options.store, ref);
    try {
      const [vector] = await loaded.backend.embed([{ texts: ['Trove'] }], { priority: 'interactive' });
      if (!vector || vector.length !== loaded.dims || !vector.every(Number.isFinite)) throw new Error(`it returned ${vector ? `${vector.length} values` : 'nothing'} where ${loaded.dims} finite values were expected`);
    } catch (error) {
      await loaded.backend.close().catch(() => undefined);
      throw new Error(`${loaded.name} loaded but could not embed a test sentence (${errorMessage(error)}); the previous model stays in use`, { cause: error });
    }
    return loaded;
  }

  private async abandonSwitch(): Promise<void> {
    const { models, store } = this.options;
    const target = models.target;
    if (!target) return;
    await models.setTarget(null);
    if (target.modelId !== models.embedder?.modelId) store.dropModel(target.modelId);
    this.settings.switchingTo = null;
    this.save();
  }

  /** Every item has the new model's vector: it becomes the active embedder; the old vectors go. */
  private async completeSwitch(): Promise<void> {
    const { models, store } = this.options;
    if (!models.target || this.closed) return;
    // Files committed since the backfill looked have only the old model's vectors: finish those first.
    const promoted = await this.options.withIndexerPaused(async () => {
      const progress = this.backfill.progress(0);
      if (progress && progress.done < progress.total && this.backfill.hasCandidates()) return null;
      const previous = await models.promoteTarget();
      requeueFilesWithoutVectors(store, models.embedder!.modelId);
      return { previous };
    });
    if (!promoted) {
      this.backfill.wake();
      return;
    }
    const { previous } = promoted;
    const now = models.embedder!;
    if (previous && previous.modelId !== now.modelId) store.dropModel(previous.modelId);
    this.settings.embedding = now.ref;
    this.settings.switchingTo = null;
    if (now.ref.type === 'package') this.settings.local.embedding = now.ref.dir;
    this.save();
    this.options.wakeIndexer();
    this.modelChanged();
  }

  private modelChanged(): void {
    this.options.onModelChanged(this.inUse().statement);
    this.events.request();
    this.watchSemanticIndex();
  }

  // —— state pieces ——

  private save(): void {
    writeModelSettings(this.options.dataDir, this.settings);
  }

  private async publish(): Promise<void> {
    if (this.closed) return;
    try {
      const state = await this.state();
      if (!this.closed) this.options.onStateChanged(state);
    } catch (error) {
      console.error(`trove: the model state could not be read: ${errorMessage(error)}`);
    }
  }

  private async hardware(): Promise<Hardware> {
    const now = Date.now();
    if (this.hardwareCache && now - this.hardwareCache.at < HARDWARE_TTL_MS) return this.hardwareCache.value;
    const value = await probeHardware({ modelsDir: this.layout.root });
    this.hardwareCache = { at: now, value };
    return value;
  }

  private async manifestOf(dir: string) {
    return parseModelManifest(JSON.parse(await readFile(path.join(dir, MANIFEST_FILE), 'utf8')), dir);
  }

  private async packageDir(id: string): Promise<string> {
    if (id.includes('/') || id.includes('\\') || id.startsWith('.')) throw new ApiError('invalid-params', `'${id}' is not a package id; list the installed packages for valid ids`);
    const dir = path.join(this.layout.packages, id);
    try {
      await this.manifestOf(dir);
    } catch {
      throw new ApiError('not-found', `there is no installed package '${id}'; list the installed packages for valid ids`);
    }
    return path.resolve(dir);
  }

  /** Download folders (one per repo) of the install running now. */
  private downloadsInUse(): Set<string> {
    if (!this.taskRun || !this.task) return new Set();
    const repos = this.task.models.map((id) => this.catalog.find((m) => m.id === id)?.repo).filter((r): r is string => r !== undefined);
    return new Set(repos.map(downloadFolderName));
  }

  private async downloadFolders(): Promise<string[]> {
    try {
      return (await readdir(this.layout.downloads, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
    } catch {
      return [];
    }
  }

  private async downloads(inUse: ReadonlySet<string>): Promise<UnfinishedDownload[]> {
    const out: UnfinishedDownload[] = [];
    for (const name of await this.downloadFolders()) {
      try {
        out.push({ repo: repoOfDownloadFolder(name), bytes: await folderBytes(path.join(this.layout.downloads, name)), inUse: inUse.has(name) });
      } catch {
        // Removed while being measured (a download finished meanwhile).
      }
    }
    return out;
  }

  /** What an outdated package needs, in words (its checkpoint looked up at most every OUTDATED_TTL_MS). */
  private async outdatedNote(id: string, manifest: ModelManifest, model: CatalogModel | null): Promise<PackageOutdated> {
    const cached = this.outdatedCache.get(id);
    if (cached && Date.now() - cached.at < OUTDATED_TTL_MS) return cached.value;
    const why = 'Built by an earlier Trove, whose graphs take far more memory on long inputs.';
    let value: PackageOutdated;
    if (!model) {
      value = { checkpointOnDisk: false, note: `${why} Rebuild it from its checkpoint with 'trove model build <checkpoint> --out <folder> --overwrite'.` };
    } else {
      const onDisk = await checkpointOnDisk(model, manifest, { downloadsDir: this.layout.downloads, folder: this.settings.checkpoints[id] ?? null, hub: { env: this.env, ...this.options.hub } });
      value = onDisk
        ? { checkpointOnDisk: true, note: `${why} Trove rebuilds it from the checkpoint on this machine while the app or 'trove serve' runs; search keeps using it meanwhile, and the library keeps its vectors.` }
        : {
            checkpointOnDisk: false,
            note: `${why} Its checkpoint is no longer on this machine: install ${model.title} again (a ${formatBytes(model.downloadBytes)} download, in Settings → Models or with 'trove model pull ${model.id}') to update it. Search keeps using it until then, and the library keeps its vectors.`,
          };
    }
    this.outdatedCache.set(id, { at: Date.now(), value });
    return value;
  }

  private async installed(inUse: ModelStatus): Promise<InstalledPackage[]> {
    let names: string[];
    try {
      // Not offered: a build's partial folder, an update's rebuild and the copy it replaces.
      names = (await readdir(this.layout.packages, { withFileTypes: true }))
        .filter((d) => d.isDirectory() && !d.name.includes('.partial-') && !d.name.endsWith(UPDATE_SUFFIX) && !/\.old-[0-9a-f]+$/.test(d.name))
        .map((d) => d.name);
    } catch {
      return [];
    }
    const activeIds = new Set([inUse.embedding?.origin, inUse.reranker?.origin].map((o) => (o?.type === 'installed' ? o.packageId : null)));
    const out: InstalledPackage[] = [];
    for (const name of names.sort()) {
      const dir = path.resolve(this.layout.packages, name);
      try {
        const manifest = await this.manifestOf(dir);
        const catalogEntry = this.catalog.find((m) => m.repo === manifest.source.repo && m.kind === manifest.kind);
        out.push({
          id: name,
          kind: manifest.kind,
          catalogId: catalogEntry?.id ?? null,
          name: catalogEntry?.title ?? manifest.source.repo ?? name,
          precision: manifest.precision,
          sizeBytes: manifest.files.reduce((sum, f) => sum + f.bytes, 0),
          active: activeIds.has(name),
          outdated: isOutdated(manifest) ? await this.outdatedNote(name, manifest, catalogEntry ?? null) : null,
        });
      } catch {
        // Not a package (or a damaged one): not offered.
      }
    }
    return out;
  }
}

/** The refs to load at start: explicit packages (CLI flags, environment) win over the saved settings. */
export function initialModelRefs(settings: ModelSettings, explicit: { embedding?: string | null; reranker?: string | null }): { embedding: ModelRef | null; reranker: ModelRef | null } {
  return {
    embedding: explicit.embedding ? { type: 'package', dir: explicit.embedding } : settings.embedding,
    reranker: explicit.reranker ? { type: 'package', dir: explicit.reranker } : settings.reranker,
  };
}
