// What the command-line tests share: running bin/trove.js as a user would (a child process, on
// the CPU execution provider so results match the in-process runtime), and a temp folder with the
// tiny model package built once per test file.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { promisify } from 'node:util';
import type { PackageKind } from '../../native-models/manifest/common/model-manifest.ts';
import { buildTinyPackage } from './tiny-package.ts';

const run = promisify(execFile);
const TROVE = path.resolve('bin/trove.js');
const env = { ...process.env, TROVE_EP: 'cpu' };

/** `trove <args>`; rejects with the child's `code` and `stderr` when it exits non-zero. */
export function runTrove(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, [TROVE, ...args], { env: { ...env, ...extraEnv }, maxBuffer: 16 * 1024 * 1024 });
}

/** `trove <args>` with its exit code, whatever it is. */
export async function troveOutcome(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    return { code: 0, ...(await runTrove(args, extraEnv)) };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

export interface TinyPackageFixture {
  /** The temp folder; tests may put their own inputs in it. */
  readonly dir: string;
  readonly packageDir: string;
  /** The Hugging Face-style checkpoint the package was built from. */
  readonly checkpointDir: string;
}

/**
 * Registers before/after hooks on the calling test file that build the tiny package of `kind` in
 * a fresh temp folder (named after `label`), then run `prepare` (the file's own inputs), and
 * remove the folder. `prepare` runs inside the same hook because Node 20 starts a file's
 * top-level `before` hooks together rather than one after another.
 */
export function useTinyPackage(label: string, kind: PackageKind, prepare?: (fixture: TinyPackageFixture) => Promise<void>): TinyPackageFixture {
  const fixture = { dir: '', packageDir: '', checkpointDir: '' };
  before(async () => {
    fixture.dir = await mkdtemp(path.join(tmpdir(), `trove-${label}-`));
    Object.assign(fixture, await buildTinyPackage(fixture.dir, kind));
    await prepare?.(fixture);
  });
  after(() => rm(fixture.dir, { recursive: true, force: true }));
  return fixture;
}
