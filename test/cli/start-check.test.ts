// `npm start` without Electron's binary (an install with ELECTRON_SKIP_BINARY_DOWNLOAD=1) stops
// before building anything, with what to do (install the binary, or use `npm run serve`),
// instead of Electron's "failed to install correctly" stack trace.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { electronBinaryProblem } from '../../scripts/check-electron.js';

const run = promisify(execFile);
let dir = '';
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'trove-start-check-'));
});
after(() => rm(dir, { recursive: true, force: true }));

test('an electron package without its binary is a problem that names the fixes; with the binary it is not', async () => {
  const electron = path.join(dir, 'electron');
  await mkdir(electron);
  const missing = electronBinaryProblem(electron, {});
  assert.match(missing ?? '', /^npm start needs Electron's binary, which is not installed: npm install skipped it \(ELECTRON_SKIP_BINARY_DOWNLOAD=1\)/);
  assert.match(missing ?? '', /Install it with: node .*install\.js/);
  assert.match(missing ?? '', /npm run serve/);

  await writeFile(path.join(electron, 'path.txt'), 'electron');
  assert.match(electronBinaryProblem(electron, {}) ?? '', /dist\/electron is missing/);
  await mkdir(path.join(electron, 'dist'));
  await writeFile(path.join(electron, 'dist', 'electron'), '');
  assert.equal(electronBinaryProblem(electron, {}), null);
});

test('npm start runs the check first; the check exits 1 with the message when the binary is missing', async () => {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> };
  assert.match(pkg.scripts.start!, /^node scripts\/check-electron\.js && /);
  await assert.rejects(
    run(process.execPath, ['scripts/check-electron.js'], { env: { ...process.env, ELECTRON_OVERRIDE_DIST_PATH: path.join(dir, 'no-such-dist') } }),
    (e: { code: number; stderr: string }) => {
      assert.equal(e.code, 1);
      assert.match(e.stderr, /^npm start needs Electron's binary/);
      assert.doesNotMatch(e.stderr, /\n\s+at /, 'no stack trace');
      return true;
    },
  );
});
