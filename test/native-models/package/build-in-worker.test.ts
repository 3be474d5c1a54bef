// buildModelPackage on a worker thread (what the engine runs): the same package as a build on the
// caller's thread, byte for byte; progress and cancel cross the thread; errors keep their words;
// and the bundled worker that ships in the app builds the same package. (What the worker buys, a
// responsive engine during a build, is measured in bench/package-build-stall.ts.)
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildElectron } from '../../../scripts/build-electron.ts';
import { generateTinyCheckpoint } from '../../../native-models/tiny/node/generate-tiny-checkpoint.ts';
import { buildModelPackage, type PackageBuildProgress } from '../../../native-models/package/node/build-package.ts';
import { buildModelPackageInWorker } from '../../../native-models/package/node/build-in-worker.ts';

let root = '';
let checkpoint = '';
let reference = '';
let caseCounter = 0;

async function freshParent(): Promise<string> {
  const dir = path.join(root, `case-${++caseCounter}`);
  await mkdir(dir);
  return dir;
}

/** Every file of a package with its bytes, for comparing two builds. */
async function packageFiles(dir: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const name of (await readdir(dir)).sort()) files.set(name, await readFile(path.join(dir, name)));
  return files;
}

async function assertSamePackage(dir: string, what: string): Promise<void> {
  const [expected, actual] = [await packageFiles(reference), await packageFiles(dir)];
  assert.deepEqual([...actual.keys()], [...expected.keys()], `${what}: the same files`);
  for (const [name, bytes] of expected) assert.ok(actual.get(name)!.equals(bytes), `${what}: ${name} is byte-identical to the build on the caller's thread`);
}

before(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'trove-build-in-worker-'));
  checkpoint = await generateTinyCheckpoint({ out: path.join(root, 'ckpt'), kind: 'embedding' });
  reference = path.join(root, 'reference-pkg');
  await buildModelPackage({ checkpointDir: checkpoint, outDir: reference, precision: 'int8', repo: 'Qwen/tiny', revision: 'abc123' });
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

test('builds the same package as the caller’s thread, with every stage’s progress', async () => {
  const parent = await freshParent();
  const stages: string[] = [];
  const manifest = await buildModelPackageInWorker({
    checkpointDir: checkpoint,
    outDir: path.join(parent, 'pkg'),
    precision: 'int8',
    repo: 'Qwen/tiny',
    revision: 'abc123',
    onProgress: (e) => {
      if (stages.at(-1) !== e.stage) stages.push(e.stage);
    },
  });
  assert.deepEqual(stages, ['check', 'hash-checkpoint', 'vision', 'decoder', 'tokenizer', 'hash-package', 'finish']);
  assert.equal(manifest.precision, 'int8');
  assert.deepEqual(await readdir(parent), ['pkg'], 'only the package, no .partial-* folder');
  await assertSamePackage(path.join(parent, 'pkg'), 'worker build');
});

test('a cancel reaches the worker: AbortError, and nothing is left', async () => {
  const parent = await freshParent();
  const controller = new AbortController();
  const seen: PackageBuildProgress[] = [];
  const build = buildModelPackageInWorker({
    checkpointDir: checkpoint,
    outDir: path.join(parent, 'pkg'),
    signal: controller.signal,
    onProgress: (e) => {
      seen.push(e);
      if (e.stage === 'vision') controller.abort();
    },
  });
  await assert.rejects(build, { name: 'AbortError' });
  assert.ok(!seen.some((e) => e.stage === 'finish'), 'the build stopped before finishing');
  assert.deepEqual(await readdir(parent), [], 'no package and no .partial-* folder');
  await assert.rejects(buildModelPackageInWorker({ checkpointDir: checkpoint, outDir: path.join(parent, 'pkg'), signal: AbortSignal.abort() }), { name: 'AbortError' }, 'an already-cancelled build does not start');
});

test('a failed build keeps its message across the thread', async () => {
  const parent = await freshParent();
  const options = { checkpointDir: path.join(root, 'no-such-checkpoint'), outDir: path.join(parent, 'pkg') };
  const inline = await buildModelPackage(options).then(
    () => assert.fail('the build on the caller’s thread should fail'),
    (error: Error) => error.message,
  );
  await assert.rejects(buildModelPackageInWorker(options), (error: Error) => error.message === inline);
  assert.deepEqual(await readdir(parent), []);
});

test('the worker bundled for the app builds the same package', { timeout: 120_000 }, async () => {
  const parent = await freshParent();
  // Laid out as in the packaged app: the bundles in dist/electron, package.json (the builder's
  // version, read at run time) two folders up.
  const app = path.join(parent, 'app');
  await mkdir(app);
  await copyFile('package.json', path.join(app, 'package.json'));
  const { outputs } = await buildElectron({ outDir: path.join(app, 'dist', 'electron'), entries: ['package-build-worker'] });
  const workerFile = outputs['package-build-worker']!;
  assert.equal(path.basename(workerFile), 'build-worker-main.js', 'emitted under the name build-in-worker.ts starts beside the engine bundle');
  await buildModelPackageInWorker({ checkpointDir: checkpoint, outDir: path.join(parent, 'pkg'), precision: 'int8', repo: 'Qwen/tiny', revision: 'abc123', workerFile });
  await assertSamePackage(path.join(parent, 'pkg'), 'bundled worker build');
});
