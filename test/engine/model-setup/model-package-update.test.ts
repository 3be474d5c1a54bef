// The swap of a package update, cut short by a crash at each point, is completed or undone at the
// next start (finishInterruptedPackageUpdate), so the package folder and the store's model row
// always agree; and a rebuild that would compute something else is never taken for an update.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEFAULT_MODEL_SETTINGS, type ModelSettings } from '../../../electron/engine/model-setup/node/model-settings.ts';
import { differenceOfRebuild, finishInterruptedPackageUpdate, readPackage } from '../../../electron/engine/model-setup/node/model-package-update.ts';
import { parseModelManifest, type ModelManifest } from '../../../native-models/manifest/common/model-manifest.ts';
import { Store } from '../../../electron/engine/store/node/store.ts';
import { buildModelPackage } from '../../../native-models/package/node/build-package.ts';
import { generateTinyCheckpoint } from '../../../native-models/tiny/node/generate-tiny-checkpoint.ts';

let dir = '';
let manifest: ModelManifest;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'trove-package-swap-'));
  const checkpoint = await generateTinyCheckpoint({ out: path.join(dir, 'checkpoint'), kind: 'embedding' });
  manifest = await buildModelPackage({ checkpointDir: checkpoint, outDir: path.join(dir, 'built'), kind: 'embedding' });
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A package folder holding only a manifest (`revision` absent = graph revision 1). */
async function packageFolder(folder: string, revision: number | undefined): Promise<string> {
  await mkdir(folder, { recursive: true });
  const m = structuredClone(manifest);
  if (revision === undefined) delete m.builder.graphRevision;
  else m.builder.graphRevision = revision;
  await writeFile(path.join(folder, 'manifest.json'), `${JSON.stringify(m, null, 2)}\n`);
  return folder;
}

/** A data folder with a store whose one model row is the old package's, and the journal of a swap about to start. */
async function crashScene(name: string) {
  const dataDir = path.join(dir, name);
  const packages = path.join(dataDir, 'models', 'packages');
  const packageDir = await packageFolder(path.join(packages, 'm-fp32'), undefined);
  const next = await packageFolder(path.join(packages, 'm-fp32.next'), 3);
  const [old, rebuilt] = [await readPackage(packageDir), await readPackage(next)];
  const store = Store.open(dataDir);
  const row = store.vectors.ensureModel({ name: 'm', packagePath: packageDir, manifestSha: old.sha, dims: 32 });
  const settings: ModelSettings = structuredClone(DEFAULT_MODEL_SETTINGS);
  settings.packageUpdate = { dir: packageDir, next, aside: `${packageDir}.old-0badc0de`, modelId: row.id, fromSha: old.sha, toSha: rebuilt.sha };
  return { store, settings, packageDir, next, aside: settings.packageUpdate.aside, row, old, rebuilt };
}

test('cut after both renames (row not yet updated): completed — the row takes the rebuilt identity, the old copy goes', async () => {
  const scene = await crashScene('after-renames');
  try {
    await rename(scene.packageDir, scene.aside);
    await rename(scene.next, scene.packageDir);
    const words = await finishInterruptedPackageUpdate(scene.settings, scene.store);
    assert.match(words ?? '', /finished/);
    assert.equal(scene.store.vectors.model(scene.row.id)?.manifestSha, scene.rebuilt.sha);
    assert.equal((await readPackage(scene.packageDir)).sha, scene.rebuilt.sha);
    assert.equal(existsSync(scene.aside), false);
    assert.equal(scene.settings.packageUpdate, null);
  } finally {
    scene.store.close();
  }
});

test('cut after the row was updated and the package loaded: completed, nothing changes', async () => {
  const scene = await crashScene('after-adopt');
  try {
    await rename(scene.packageDir, scene.aside);
    await rename(scene.next, scene.packageDir);
    scene.store.vectors.adoptManifest(scene.row.id, scene.rebuilt.sha, scene.packageDir);
    await finishInterruptedPackageUpdate(scene.settings, scene.store);
    assert.equal(scene.store.vectors.model(scene.row.id)?.manifestSha, scene.rebuilt.sha);
    assert.equal(existsSync(scene.aside), false);
  } finally {
    scene.store.close();
  }
});

test('cut after the first rename only: undone — the old package back in place with its identity, the rebuild left for the sweep', async () => {
  const scene = await crashScene('after-first-rename');
  try {
    await rename(scene.packageDir, scene.aside);
    const words = await finishInterruptedPackageUpdate(scene.settings, scene.store);
    assert.match(words ?? '', /undid/);
    assert.equal((await readPackage(scene.packageDir)).sha, scene.old.sha);
    assert.equal(scene.store.vectors.model(scene.row.id)?.manifestSha, scene.old.sha);
    assert.equal(existsSync(scene.next), true, 'the rebuild stays until removeInterruptedBuilds sweeps it');
    assert.equal(existsSync(scene.aside), false);
  } finally {
    scene.store.close();
  }
});

test('cut before any rename, with the row already given the new identity (a failed load being undone): undone', async () => {
  const scene = await crashScene('before-renames');
  try {
    scene.store.vectors.adoptManifest(scene.row.id, scene.rebuilt.sha, scene.packageDir);
    await finishInterruptedPackageUpdate(scene.settings, scene.store);
    assert.equal(scene.store.vectors.model(scene.row.id)?.manifestSha, scene.old.sha);
    assert.equal((await readPackage(scene.packageDir)).sha, scene.old.sha);
  } finally {
    scene.store.close();
  }
});

test('a rebuild counts as an update only when it computes the same thing', async () => {
  const old = parseModelManifest(JSON.parse(await readFile(path.join(dir, 'built', 'manifest.json'), 'utf8')), 'old');
  const same = structuredClone(old);
  same.builder = { ...same.builder, graphRevision: 3, version: '9.9.9' };
  same.files = same.files.map((f) => ({ ...f, sha256: 'f'.repeat(64) }));
  assert.equal(differenceOfRebuild(old, same), null, 'other graph files and builder: the same computation');
  assert.match(differenceOfRebuild(old, { ...same, variant: 'fused' }) ?? '', /variant/);
  assert.match(differenceOfRebuild(old, { ...same, precision: 'int8' }) ?? '', /precision/);
  assert.match(differenceOfRebuild(old, { ...same, source: { ...same.source, files: same.source.files.map((f, i) => (i === 0 ? { ...f, sha256: '0'.repeat(64) } : f)) } }) ?? '', /another checkpoint/);
  // int8 built at revision 1 used MatMulNBits accuracy level 0; a rebuild at level 4 computes something else.
  const int8Old = { ...old, precision: 'int8' as const, builder: { ...old.builder, graphRevision: undefined } };
  assert.match(differenceOfRebuild(int8Old, { ...same, precision: 'int8', nbits: { accuracyLevel: 4, blockSize: 32 } }) ?? '', /MatMulNBits/);
  assert.equal(differenceOfRebuild(int8Old, { ...same, precision: 'int8', nbits: { accuracyLevel: 0, blockSize: 32 } }), null);
});
