// What the engine remembers about its models between runs, in `<data>/models/settings.json`:
// which package (or inference server) is active, the switch in progress, the install task in
// flight (so a restart resumes it) and whether the user declined a model for now. Written
// whole to a temporary file and renamed over the old one, so a kill leaves the old or the new
// settings, never half of either. Model packages live beside it in `packages/`, downloads in
// `downloads/`.
import { chmodSync, closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { installRequest, remoteBackendSettings, SETUP_PHASES } from '../../../contract/common/model-setup.ts';

const modelRef = z.discriminatedUnion('type', [
  z.object({ type: z.literal('package'), dir: z.string() }),
  z.object({ type: z.literal('remote'), settings: remoteBackendSettings }),
]);

const settingsSchema = z.object({
  version: z.literal(1),
  embedding: modelRef.nullable(),
  reranker: modelRef.nullable(),
  /** The embedder a switch is re-embedding the library with; it becomes `embedding` when done. */
  switchingTo: modelRef.nullable(),
  /** The local packages in use before an inference server was chosen (for "back to this machine"). */
  local: z.object({ embedding: z.string().nullable(), reranker: z.string().nullable() }),
  /** The inference server last used, if any (kept so the form is filled in next time). */
  remote: remoteBackendSettings.nullable(),
  declined: z.boolean(),
  task: z
    .object({
      request: installRequest,
      phase: z.enum(SETUP_PHASES),
      error: z.string().nullable(),
    })
    .nullable(),
  /**
   * Checkpoint folders packages were built from (package folder name → folder), so a package can
   * be rebuilt from them when a newer Trove writes better graphs (docs/model-setup.md#package-updates).
   */
  checkpoints: z.record(z.string(), z.string()).default({}),
  /**
   * A package update between its first rename and its last step (model-package-update.ts): if
   * Trove stopped in between, the next start finishes or undoes it before loading the models.
   */
  packageUpdate: z
    .object({
      /** The package folder; `next` the rebuilt one, `aside` where the old one is moved. */
      dir: z.string(),
      next: z.string(),
      aside: z.string(),
      /** The store's model row (embedding packages) and its identity before and after. */
      modelId: z.number().int().nullable(),
      fromSha: z.string(),
      toSha: z.string(),
    })
    .nullable()
    .default(null),
});
export type ModelSettings = z.infer<typeof settingsSchema>;

export const DEFAULT_MODEL_SETTINGS: ModelSettings = {
  version: 1,
  embedding: null,
  reranker: null,
  switchingTo: null,
  local: { embedding: null, reranker: null },
  remote: null,
  declined: false,
  task: null,
  checkpoints: {},
  packageUpdate: null,
};

export function modelsLayout(dataDir: string) {
  const root = path.join(dataDir, 'models');
  return {
    root,
    settings: path.join(root, 'settings.json'),
    packages: path.join(root, 'packages'),
    downloads: path.join(root, 'downloads'),
  };
}

/** The saved settings; a missing file is a first run, an unreadable one is reported and replaced by defaults. */
export function readModelSettings(dataDir: string): { settings: ModelSettings; problem: string | null } {
  const file = modelsLayout(dataDir).settings;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { settings: structuredClone(DEFAULT_MODEL_SETTINGS), problem: null };
    return { settings: structuredClone(DEFAULT_MODEL_SETTINGS), problem: `${file} could not be read (${(error as Error).message}); set up the model again in Settings → Models` };
  }
  try {
    return { settings: settingsSchema.parse(JSON.parse(text)), problem: null };
  } catch (error) {
    return { settings: structuredClone(DEFAULT_MODEL_SETTINGS), problem: `${file} is damaged (${(error as Error).message.split('\n')[0]}); set up the model again in Settings → Models` };
  }
}

/**
 * Readable by the user only (an inference server's API key may be in it), and synced before the
 * rename so that after a power cut the file is the old one or the new one, never empty.
 */
export function writeModelSettings(dataDir: string, settings: ModelSettings): void {
  const layout = modelsLayout(dataDir);
  mkdirSync(layout.root, { recursive: true });
  const tmp = `${layout.settings}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeFileSync(fd, `${JSON.stringify(settingsSchema.parse(settings), null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  chmodSync(tmp, 0o600); // a .tmp left by an older version keeps its mode when reopened
  renameSync(tmp, layout.settings);
}
