// Putting a rebuilt package in place of the one it updates (docs/model-setup.md#package-updates).
// The rebuild (`<package>.next`, model-install.ts) comes from the same checkpoint with the same
// precision, variant and MatMulNBits settings; graph revisions 2 and 3 change only how attention is
// scheduled, not what it computes (docs/model-packages.md#graph-revisions), so the rebuilt
// package's embeddings are the old one's and the library keeps its vectors: the store's model row
// takes the new manifest's identity instead of a new row being made (which would re-embed
// everything).
//
// The swap is two renames and one row update, which cannot be one atomic step: the settings hold
// a journal of it (`packageUpdate`) from before the first rename until the new package is loaded,
// and `finishInterruptedPackageUpdate` completes or undoes a swap that a crash cut short, at the
// next start, before any model is loaded.
import { createHash, randomBytes } from 'node:crypto';
import { readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ModelManifest } from '../../../../native-models/manifest/common/model-manifest.ts';
import { packageNBits, parseModelManifest } from '../../../../native-models/manifest/common/model-manifest.ts';
import type { Store } from '../../store/node/store.ts';
import { MANIFEST_FILE } from '../../../../native-models/package/node/package-layout.ts';
import type { ModelSettings } from './model-settings.ts';

export type PackageUpdateJournal = NonNullable<ModelSettings['packageUpdate']>;

export interface ReadPackage {
  readonly manifest: ModelManifest;
  /** SHA-256 of manifest.json: the store's identity of an embedding package. */
  readonly sha: string;
}

export async function readPackage(dir: string): Promise<ReadPackage> {
  const bytes = await readFile(path.join(dir, MANIFEST_FILE));
  return { manifest: parseModelManifest(JSON.parse(bytes.toString('utf8')), dir), sha: createHash('sha256').update(bytes).digest('hex') };
}

async function manifestShaOf(dir: string): Promise<string | null> {
  try {
    return (await readPackage(dir)).sha;
  } catch {
    return null;
  }
}

async function exists(target: string): Promise<boolean> {
  return stat(target).then(() => true, () => false);
}

const sorted = (files: readonly { sha256: string }[]) => files.map((f) => f.sha256).sort().join(',');

/**
 * Null when `next` computes what `old` computes (same checkpoint files, kind, precision, variant,
 * MatMulNBits settings and shapes), else what differs: then it is another model, not an update.
 */
export function differenceOfRebuild(old: ModelManifest, next: ModelManifest): string | null {
  if (old.kind !== next.kind) return `kind ${old.kind} → ${next.kind}`;
  if (old.precision !== next.precision) return `precision ${old.precision} → ${next.precision}`;
  if (old.variant !== next.variant) return `variant ${old.variant} → ${next.variant}`;
  if (JSON.stringify(packageNBits(old)) !== JSON.stringify(packageNBits(next))) return `MatMulNBits settings ${JSON.stringify(packageNBits(old))} → ${JSON.stringify(packageNBits(next))}`;
  if (sorted(old.source.files) !== sorted(next.source.files)) return 'another checkpoint (its files have other hashes)';
  for (const part of ['text', 'vision', 'tokens'] as const) {
    if (JSON.stringify(old[part]) !== JSON.stringify(next[part])) return `its ${part} settings`;
  }
  return null;
}

/** The folder the replaced package is moved to until the update is complete. */
export function asideFolder(dir: string): string {
  return `${dir}.old-${randomBytes(4).toString('hex')}`;
}

/** A rename refused because a file in the folder is open (Windows keeps mapped files locked). */
export function isBusyError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'EBUSY' || code === 'EPERM' || code === 'EACCES';
}

/** dir → aside, next → dir; on a failure of the second rename the first is undone. */
export async function swapFolders(journal: Pick<PackageUpdateJournal, 'dir' | 'next' | 'aside'>): Promise<void> {
  await rename(journal.dir, journal.aside);
  try {
    await rename(journal.next, journal.dir);
  } catch (error) {
    await rename(journal.aside, journal.dir).catch(() => undefined);
    throw error;
  }
}

/** Undoes swapFolders: the rebuilt package back to `next`, the old one back to `dir`. */
export async function unswapFolders(journal: Pick<PackageUpdateJournal, 'dir' | 'next' | 'aside'>): Promise<void> {
  if (!(await exists(journal.aside))) return;
  if (await exists(journal.dir)) await rename(journal.dir, journal.next);
  await rename(journal.aside, journal.dir);
}

/**
 * At start, before the models load: a swap the journal says was under way is completed when the
 * rebuilt package is in place (the model row takes its identity, the old copy goes), else undone
 * (the old package back, the row back to its identity; the rebuild is dropped and redone later).
 * Returns what was done, in words, or null when there was nothing to do.
 */
export async function finishInterruptedPackageUpdate(settings: ModelSettings, store: Store): Promise<string | null> {
  const journal = settings.packageUpdate;
  if (!journal) return null;
  const row = journal.modelId === null ? null : store.vectors.model(journal.modelId);
  const inPlace = await manifestShaOf(journal.dir);
  let words: string;
  if (inPlace === journal.toSha) {
    if (row && row.manifestSha !== journal.toSha) store.vectors.adoptManifest(row.id, journal.toSha, journal.dir);
    await rm(journal.aside, { recursive: true, force: true });
    words = `finished the update of ${journal.dir} that was cut short`;
  } else {
    await unswapFolders(journal);
    if (row && row.manifestSha !== journal.fromSha) store.vectors.adoptManifest(row.id, journal.fromSha, journal.dir);
    words = `undid the update of ${journal.dir} that was cut short; it starts again`;
  }
  settings.packageUpdate = null;
  return words;
}
