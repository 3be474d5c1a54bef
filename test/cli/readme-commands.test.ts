// Every command the README shows works as written:
// - each `npx trove …` (and `npm run serve -- …`) line names a real command with options it takes,
//   and each `npm run X` names a script of package.json;
// - the tiny-model recipe and the command-line examples run for real, in a temp folder, with the
//   README's placeholders (PKG, RPKG, CHECKPOINT, ~/Pictures, photo.jpg, a.jpg, /tmp/…) filled in.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { checkCommandLine } from '../../electron/cli/node/cli-main.ts';
import { runTrove, troveOutcome } from '../support/cli-fixture.ts';
import { seededPng } from '../support/runtime-compare.ts';

const README = readFileSync('README.md', 'utf8');

/** The lines of the README's ```sh blocks, without comments, each split at `&&`. */
function shellCommands(): string[][] {
  const blocks = [...README.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
  return blocks.map((block) =>
    block
      .split('\n')
      .map((line) => line.replace(/\s+#\s.*$/, '').trim())
      .filter((line) => line !== '')
      .flatMap((line) => line.split('&&').map((part) => part.trim())),
  );
}

/** Words as a POSIX shell splits them (double and single quotes; no expansions needed here). */
function words(command: string): string[] {
  return [...command.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
}

/** The trove argv of a README command, or null when it is not one. */
function troveArgs(command: string): string[] | null {
  const w = words(command);
  if (w[0] === 'npx' && w[1] === 'trove') return w.slice(2);
  if (w[0] === 'npm' && w[1] === 'run' && (w[2] === 'serve' || w[2] === 'trove')) {
    const rest = w.indexOf('--') >= 0 ? w.slice(w.indexOf('--') + 1) : [];
    return w[2] === 'serve' ? ['serve', ...rest] : rest;
  }
  return null;
}

test('every trove command in the README parses: a real command, options it takes', () => {
  const commands = shellCommands().flat();
  const trove = commands.map(troveArgs).filter((a): a is string[] => a !== null);
  assert.ok(trove.length >= 12, `found ${trove.length} trove commands`);
  for (const argv of trove) assert.doesNotThrow(() => checkCommandLine(argv), `trove ${argv.join(' ')}`);

  const scripts = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts;
  for (const command of commands) {
    const w = words(command).filter((x) => !/^[A-Z_]+=/.test(x)); // leading VAR=value assignments
    if (w[0] !== 'npm') continue;
    if (w[1] === 'run') assert.ok(scripts[w[2]!], `npm run ${w[2]}: no such script`);
    else if (w[1] === 'start' || w[1] === 'test') assert.ok(scripts[w[1]], `npm ${w[1]}: no such script`);
    else assert.equal(w[1], 'install', command);
  }
});

let dir = '';
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'trove-readme-'));
});
after(() => rm(dir, { recursive: true, force: true }));

/** Runs `trove serve …` until it prints its address, then stops it; resolves with that line. */
function serveOnce(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.resolve('bin/trove.js'), ...args], { env: { ...process.env, TROVE_EP: 'cpu', ...env } });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = /Trove is running at \S+/.exec(out);
      if (line) {
        child.kill('SIGINT');
        resolve(line[0]);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('exit', (code) => reject(new Error(`serve exited ${code} before printing its address: ${err}`)));
  });
}

test('the tiny-model recipe and the command-line examples run as written', async () => {
  const data = path.join(dir, 'data');
  const env = { TROVE_DATA_DIR: data };
  const blocks = shellCommands();
  const recipe = blocks.find((b) => b.some((c) => c.includes('model tiny --out /tmp/tiny')) && b.some((c) => c.startsWith('npm run serve')))!;
  assert.ok(recipe, 'the README has the tiny recipe');
  const inTemp = (arg: string) => arg.replace(/^\/tmp\//, `${dir}/`);
  for (const command of recipe) {
    const argv = troveArgs(command)!.map(inTemp);
    if (argv[0] === 'serve') {
      assert.match(await serveOnce([...argv, '--port', '0'], env), /^Trove is running at http:\/\/127\.0\.0\.1:\d+\/#token=/);
      continue;
    }
    const result = await troveOutcome(argv, env);
    assert.equal(result.code, 0, `${command}: ${result.stderr}`);
  }

  // The placeholders of the examples block.
  const pictures = path.join(dir, 'Pictures');
  await mkdir(pictures);
  const photo = await seededPng(pictures, 64, 48, 11);
  await writeFile(path.join(pictures, 'chair.md'), 'A red chair by the window.\n');
  const photoJpg = path.join(dir, 'photo.jpg');
  const aJpg = path.join(dir, 'a.jpg');
  for (const file of [photoJpg, aJpg]) await copyFile(photo, file); // decoders read the content, not the name
  let fresh = 0;
  const examples = blocks.find((b) => b.some((c) => c.includes('--model PKG')))!;
  for (const command of examples) {
    const argv = troveArgs(command)!;
    // Commands that write a new folder get a fresh one; the rest read the recipe's packages.
    const writes = argv[0] === 'model' && (argv[1] === 'build' || argv[1] === 'tiny');
    const filled = argv.map((arg) => {
      if (arg === 'PKG') return writes ? path.join(dir, `out-${++fresh}`) : path.join(dir, 'tiny-pkg');
      if (arg === 'RPKG') return path.join(dir, 'tiny-rr-pkg');
      if (arg === 'CHECKPOINT') return path.join(dir, 'tiny');
      if (arg === '~/Pictures') return pictures;
      if (arg === 'photo.jpg') return photoJpg;
      if (arg === 'a.jpg') return aJpg;
      if (arg.startsWith('/tmp/')) return writes ? path.join(dir, `out-${++fresh}`) : inTemp(arg);
      return arg;
    });
    const result = await troveOutcome(filled, env);
    assert.equal(result.code, 0, `${command}: ${result.stderr}`);
    if (argv[0] === 'search') assert.match(result.stdout, /chair\.md/);
    if (argv[0] === 'rerank') assert.equal((JSON.parse(result.stdout) as { scores: number[] }).scores.length, 2);
    if (argv[0] === 'embed') assert.equal((JSON.parse(result.stdout) as { embedding: number[] }).embedding.length, 32);
  }
  assert.match((await runTrove(['status'], env)).stdout, /^files {4}2 \(2 indexed, 0 failed, 0 pending\)$/m);
});
