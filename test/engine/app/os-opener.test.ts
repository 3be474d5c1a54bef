// "Reveal in folder" from `trove serve` asks the engine's machine to open the folder (issue 12,
// point 12). xdg-open without a desktop or a default app exits at once with an error; the engine
// must say so instead of answering "ok" to a click that did nothing.
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { openWithSystem } from '../../../electron/engine/app/node/os-opener.ts';

const skip = process.platform === 'linux' ? false : 'the fake opener is an xdg-open shell script (Linux)';
let dir = '';
const savedPath = process.env.PATH;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'trove-opener-'));
});
after(async () => {
  process.env.PATH = savedPath;
  await rm(dir, { recursive: true, force: true });
});

/** Puts an `xdg-open` that runs `script` first on PATH. */
async function fakeOpener(script: string): Promise<void> {
  const bin = await mkdtemp(path.join(dir, 'bin-'));
  await writeFile(path.join(bin, 'xdg-open'), `#!/bin/sh\n${script}\n`);
  await chmod(path.join(bin, 'xdg-open'), 0o755);
  process.env.PATH = `${bin}:${savedPath}`;
}

test('an opener that fails at once is an error that says why and what to do', { skip }, async () => {
  await fakeOpener(`echo "xdg-open: no method available for opening '$1'" >&2; exit 3`);
  await assert.rejects(openWithSystem('/home/ada/Pictures/beach.jpg', true), (error: Error) => {
    assert.match(error.message, /could not open \/home\/ada\/Pictures \(xdg-open: no method available for opening '\/home\/ada\/Pictures'\)/);
    assert.match(error.message, /open \/home\/ada\/Pictures yourself$/);
    return true;
  });
});

test('an opener that succeeds, or is still busy handing over, is a success', { skip }, async () => {
  await fakeOpener('exit 0');
  await openWithSystem('/home/ada/Pictures/beach.jpg', false);
  await fakeOpener('sleep 5');
  await openWithSystem('/home/ada/Pictures/beach.jpg', false, 200);
});

test('a missing opener names the package to install', { skip }, async () => {
  process.env.PATH = dir; // nothing there
  await assert.rejects(openWithSystem('/home/ada/Pictures/beach.jpg', false), /'xdg-open' is not installed, so Trove cannot open files here \(install xdg-utils\)/);
});
