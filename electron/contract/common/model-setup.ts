// Getting the models (first run, switching, remote inference) as the API sees it: the catalog of
// official checkpoints, what this machine has, what Trove recommends, what is installed, the
// download/build task in flight and the background re-embed of a model switch.
import { z } from 'zod';
import { modelStatus } from './entities.ts';

export const packageKind = z.enum(['embedding', 'reranker']);
export const packagePrecision = z.enum(['fp32', 'fp16', 'int8', 'int4']);

/** One official checkpoint Trove knows how to get and build. */
export const catalogModel = z.object({
  /** Stable id used by the API and the CLI, e.g. `embedding-2b`. */
  id: z.string(),
  kind: packageKind,
  /** Hub repo, e.g. `Qwen/Qwen3-VL-Embedding-2B`. */
  repo: z.string(),
  /** The pinned revision (a commit, or a branch where no commit is pinned). */
  revision: z.string(),
  title: z.string(),
  /** The repo files a pull needs, with their expected sizes (the hub's own metadata is checked at download) and SHA-256 where published. */
  files: z.array(z.object({ path: z.string(), bytes: z.number().int().nonnegative(), sha256: z.string().nullable().optional() })),
  /** Bytes to download (the sum of `files`). */
  downloadBytes: z.number().nonnegative(),
  /** Embedding size (embedding models only). */
  dims: z.number().int().positive().nullable(),
  /** The precision Trove builds for each execution provider (`cpu`, `cuda`, `dml`, `coreml`, `webgpu`). */
  precisionByProvider: z.record(z.string(), packagePrecision),
  /** Memory the model needs at each precision while running (weights + working memory), bytes. */
  memoryBytes: z.record(packagePrecision, z.number().nonnegative()),
  /** Expected speed on typical hardware, in words, e.g. "about 20 photos a second on a mid-range GPU". */
  speed: z.string(),
  /**
   * The figures behind `speed`, where there are some: estimated seconds to embed one full-size
   * photo on a mid-range GPU and on an 8-core CPU (a low–high range). The UI's "a GPU makes it
   * N× faster" comes from these; null where nothing was estimated.
   */
  photoSeconds: z.object({ gpu: z.number().positive(), cpuLow: z.number().positive(), cpuHigh: z.number().positive() }).nullable().default(null),
  /** A line for the picker: what it is good for. */
  summary: z.string(),
});
export type CatalogModel = z.infer<typeof catalogModel>;

export const hardware = z.object({
  /** GPUs found (name and memory); empty when none was detected. */
  gpus: z.array(z.object({ name: z.string(), memoryBytes: z.number().nonnegative().nullable() })),
  ramBytes: z.number().nonnegative(),
  /** Free space where models are stored. */
  freeDiskBytes: z.number().nonnegative().nullable(),
  /** The execution provider the runtime will pick (`cuda`, `dml`, `coreml`, `webgpu`, `cpu`). */
  executionProvider: z.string(),
});
export type Hardware = z.infer<typeof hardware>;

export const recommendation = z.object({
  embedding: z.string(),
  reranker: z.string().nullable(),
  precision: packagePrecision,
  /** Why, in a sentence the UI shows. */
  reason: z.string(),
});
export type Recommendation = z.infer<typeof recommendation>;

export const installedPackage = z.object({
  /** The package folder's name under the models folder (the API's handle on it). */
  id: z.string(),
  kind: packageKind,
  /** The catalog entry it was built from, when it was. */
  catalogId: z.string().nullable(),
  name: z.string(),
  precision: z.string(),
  sizeBytes: z.number().nonnegative(),
  /** In use for search (embedding) or reranking now (`inUse` names it by this id). */
  active: z.boolean(),
  /**
   * Built by an earlier Trove whose graphs need far more memory on long inputs; null (or absent)
   * when current. Trove rebuilds a package in use by itself when its checkpoint is on this machine
   * (a `task` with purpose `update`); otherwise installing the model again downloads it and updates
   * the package, keeping the library's vectors.
   */
  outdated: z
    .object({
      /** The checkpoint it was built from is on this machine (a folder it was built from, the Hugging Face cache). */
      checkpointOnDisk: z.boolean(),
      /** What this means and what to do, in a sentence or two. */
      note: z.string(),
    })
    .nullable()
    .optional(),
});
export type InstalledPackage = z.infer<typeof installedPackage>;

export const remoteBackendSettings = z.object({
  /** Base URL of an OpenAI-compatible server (vLLM), e.g. `http://gpu-box:8000`. */
  url: z.string().url(),
  embeddingModel: z.string().min(1),
  rerankerModel: z.string().min(1).nullable().default(null),
  apiKey: z.string().min(1).nullable().default(null),
});
export type RemoteBackendSettings = z.infer<typeof remoteBackendSettings>;

export const modelBackend = z.discriminatedUnion('type', [
  z.object({ type: z.literal('local') }),
  /** Content (images, video frames, text) is sent to `url`; the UI says so wherever this is shown. */
  z.object({ type: z.literal('remote'), url: z.string(), embeddingModel: z.string(), rerankerModel: z.string().nullable() }),
]);
export type ModelBackend = z.infer<typeof modelBackend>;

/** Where the checkpoint files come from. */
export const modelSource = z.discriminatedUnion('type', [
  /** The Hugging Face hub (HF_ENDPOINT and HF_TOKEN honoured), reusing an existing HF cache. */
  z.object({ type: z.literal('hub') }),
  /** Checkpoint folders already on this machine, per catalog id. */
  z.object({ type: z.literal('folders'), folders: z.record(z.string(), z.string().min(1)) }),
]);
export type ModelSource = z.infer<typeof modelSource>;

export const installRequest = z.object({
  /** Catalog id of the embedding model, or null to keep the current one. */
  embedding: z.string().nullable(),
  /** Catalog id of the reranker, or null for none / keep the current one. */
  reranker: z.string().nullable().default(null),
  /** Override the precision chosen for this machine's execution provider. */
  precision: packagePrecision.nullable().default(null),
  source: modelSource.default({ type: 'hub' }),
});
export type InstallRequest = z.infer<typeof installRequest>;

export const SETUP_PHASES = ['queued', 'downloading', 'building', 'activating', 'done', 'failed', 'cancelled'] as const;

/** The download → build → activate task; an install survives a restart and resumes where it stopped (an update starts again). */
export const setupTask = z.object({
  /** Catalog ids, in the order they are worked on. */
  models: z.array(z.string()),
  /** The request that started it: a Retry sends it again (the source included). */
  request: installRequest,
  /** `install` (also when absent): models the user chose; `update`: Trove rebuilding packages in use that an earlier Trove built (search keeps using them meanwhile). */
  purpose: z.enum(['install', 'update']).optional(),
  phase: z.enum(SETUP_PHASES),
  /** What is being done now, in words ("Downloading model-00001-of-00002.safetensors"). */
  step: z.string(),
  bytes: z.object({ done: z.number().nonnegative(), total: z.number().nonnegative() }),
  /** Bytes a second while downloading; 0 otherwise. */
  bytesPerSecond: z.number().nonnegative(),
  etaSeconds: z.number().nonnegative().nullable(),
  /** Build progress, 0–1, while building. */
  fraction: z.number().min(0).max(1),
  /** A message for a failed task that says what to do. */
  error: z.string().nullable(),
});
export type SetupTask = z.infer<typeof setupTask>;

/** A model switch in progress: the library is re-embedded with `to` while search uses `from`. */
export const modelSwitch = z.object({
  /** Display names of the two models (a package's repo, or "model on server"). */
  from: z.string(),
  to: z.string(),
  done: z.number().int().nonnegative(),
  total: z.number().int().nonnegative(),
});
export type ModelSwitch = z.infer<typeof modelSwitch>;

/**
 * A catalog model on this machine: the precision Trove builds it at when installed on its own
 * (the recommended pair installed together uses `recommendation.precision`), whether it fits
 * (memory at that precision, disk) and why not.
 */
export const modelFit = z.object({ precision: packagePrecision, fits: z.boolean(), reason: z.string().nullable() });
export type ModelFit = z.infer<typeof modelFit>;

/** Files downloaded for an install that did not finish, kept so that installing that model again resumes. */
export const unfinishedDownload = z.object({
  /** Hugging Face repo id, e.g. "Qwen/Qwen3-VL-Embedding-8B". */
  repo: z.string(),
  bytes: z.number().int().nonnegative(),
  /** The install running now is using these files (they cannot be removed). */
  inUse: z.boolean(),
});
export type UnfinishedDownload = z.infer<typeof unfinishedDownload>;

export const modelsState = z.object({
  /**
   * When the engine read this state (ms since the epoch, increasing within an engine run). Answers
   * and `models.changed` events travel on different channels and can arrive out of order: the UI
   * keeps the state with the latest asOf, so a slow answer cannot undo a newer event.
   */
  asOf: z.number().nonnegative(),
  catalog: z.array(catalogModel),
  hardware,
  recommendation,
  /** Per catalog id. */
  fits: z.record(z.string(), modelFit),
  installed: z.array(installedPackage),
  /** The models in use and what search can do now: the same answer as status.get `model`. */
  inUse: modelStatus,
  backend: modelBackend,
  task: setupTask.nullable(),
  switching: modelSwitch.nullable(),
  /** The user chose to go on without a model for now (keyword search only). */
  declined: z.boolean(),
  /** Offline mode: nothing is downloaded (HF_HUB_OFFLINE / TROVE_OFFLINE). */
  offline: z.boolean(),
  /** Downloads of installs that were cancelled or failed (a finished install removes its own). */
  downloads: z.array(unfinishedDownload),
});
export type ModelsState = z.infer<typeof modelsState>;

