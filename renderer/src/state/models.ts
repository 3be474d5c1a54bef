// What the UI reads out of models.state: which package is active, whether a task is in flight, what
// the first-run flow should show, and how to retry a task. Pure functions of the state, so the
// flow resumes after a restart exactly where the engine says it is.
import type { ModelStatus, Status } from '#contract/common/entities.ts';
import type {
  CatalogModel,
  InstalledPackage,
  ModelsState,
  SetupTask,
} from '#contract/common/model-setup.ts';

/** The task phases during which work goes on (and Cancel makes sense). */
const RUNNING_PHASES: ReadonlySet<SetupTask['phase']> = new Set(['queued', 'downloading', 'building', 'activating']);

export type RunningTask = SetupTask & { phase: 'queued' | 'downloading' | 'building' | 'activating' };

export function taskRunning(task: SetupTask | null): task is RunningTask {
  return task !== null && RUNNING_PHASES.has(task.phase);
}

export function activePackage(models: ModelsState, kind: InstalledPackage['kind']): InstalledPackage | null {
  return models.installed.find((p) => p.kind === kind && p.active) ?? null;
}

export function catalogEntry(models: ModelsState, id: string | null): CatalogModel | null {
  return id === null ? null : (models.catalog.find((m) => m.id === id) ?? null);
}

/** The installed package a reference names: its id, or its name (what a model switch reports). */
export function findPackage(models: ModelsState, ref: string): InstalledPackage | null {
  return models.installed.find((p) => p.id === ref) ?? models.installed.find((p) => p.name === ref) ?? null;
}

/** A package (id or name) or catalog id as people read it: the catalog title when known, else as given. */
export function modelName(models: ModelsState, ref: string): string {
  const pkg = findPackage(models, ref);
  return catalogEntry(models, pkg?.catalogId ?? ref)?.title ?? pkg?.name ?? ref;
}

/**
 * Which models are in use and what search can do now. The engine answers this once (models.state
 * `inUse`, the same object as status.get `model`); every label in the UI is made from it. The
 * models state is kept live by events, so it is preferred; status.get covers an engine that
 * answered status but not (yet) models.state.
 */
export function modelsInUse(models: ModelsState | null, status: Status | null): ModelStatus | null {
  return models?.inUse ?? status?.model ?? null;
}

/**
 * An embedding model is in use (a package anywhere, or a server), whether or not its semantic index
 * has loaded yet: the first-run model step is not owed (what search does now is `search`).
 */
export function hasSearchModel(models: ModelsState | null, status: Status | null): boolean {
  return modelsInUse(models, status)?.embedding != null;
}

/** The first-run model step is owed: no model, and the user has not said "not now". */
export function modelStepNeeded(models: ModelsState | null, status: Status | null): boolean {
  return models !== null && !models.declined && !hasSearchModel(models, status);
}
