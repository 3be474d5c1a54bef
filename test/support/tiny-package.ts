// A tiny fp32 model package for runtime tests: the tiny checkpoint of one kind, built into a
// package by the package builder (`trove model build` in-process).
import path from 'node:path';
import type { PackageKind } from '../../native-models/manifest/common/model-manifest.ts';
import { buildModelPackage } from '../../native-models/package/node/build-package.ts';
import { generateTinyCheckpoint } from '../../native-models/tiny/node/generate-tiny-checkpoint.ts';

/** Writes the tiny checkpoint of `kind` to `<root>/<kind>-checkpoint` and its fp32 package to `<root>/<kind>-package`. */
export async function buildTinyPackage(root: string, kind: PackageKind): Promise<{ checkpointDir: string; packageDir: string }> {
  const checkpointDir = await generateTinyCheckpoint({ out: path.join(root, `${kind}-checkpoint`), kind });
  const packageDir = path.join(root, `${kind}-package`);
  await buildModelPackage({ checkpointDir, outDir: packageDir, kind, precision: 'fp32' });
  return { checkpointDir, packageDir };
}
