// The library while another Trove has it open, and what reaches files from outside it:
// - `trove status` (and --json, --failed) answers while a child `trove serve` holds the data folder,
//   from a read-only look that says who holds it, and writes nothing there;
// - over `trove serve`'s HTTP API, search.run reads an image path only inside the library's folders
//   (under the link rule), and says nothing about what exists elsewhere; `trove search --image`
//   still takes any file the user names (it sends the bytes);
// - the reasons listed beside a path do not repeat it;
// - `trove search` prints scores as the app does (whole percents), and writes nothing in the library.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { copyFile, mkdir, open, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runTrove, troveOutcome, useTinyPackage } from '../support/cli-fixture.ts';
import { seededPng } from '../support/runtime-compare.ts';

let folder = '';
let outside = '';
let data = '';
const tiny = useTinyPackage('library-in-use', 'embedding', async ({ dir }) => {
  folder = path.join(dir, 'library');
  outside = path.join(dir, 'elsewhere');
  data = path.join(dir, 'data');
  await mkdir(folder);
  await mkdir(outside);
  await writeFile(path.join(folder, 'aardvark.md'), 'Aardvarks dig burrows and eat termites at night.\n');
  await copyFile(await seededPng(dir, 48, 40, 7), path.join(folder, 'photo.png'));
  // A PNG whose signature is zeroed: it fails with a reason.
  await copyFile(await seededPng(dir, 40, 30, 8), path.join(folder, 'broken.png'));
  const handle = await open(path.join(folder, 'broken.png'), 'r+');
  await handle.write(Buffer.alloc(8), 0, 8, 0);
  await handle.close();
  // Outside every root: a picture, and a secret the engine must never read for a caller.
  await copyFile(await seededPng(dir, 36, 36, 9), path.join(outside, 'holiday.png'));
  await writeFile(path.join(outside, 'secret.txt'), 'the keys to the castle\n');
  // A link inside the library that leads out (never followed: docs/file-kinds.md, "Links").
  await symlink(path.join(outside, 'holiday.png'), path.join(folder, 'link-out.png'));
});

interface Serve {
  child: ChildProcess;
  port: number;
  token: string;
  stop(): Promise<void>;
}

/** `trove serve` in a child process, as a user starts it; resolves once it prints its address. */
async function startServe(args: string[]): Promise<Serve> {
  const child = spawn(process.execPath, [path.resolve('bin/trove.js'), 'serve', '--port', '0', ...args], { env: { ...process.env, TROVE_EP: 'cpu' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<URL>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`trove serve printed no address in 60 s; stderr: ${stderr}`)), 60_000);
    child.stdout!.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
      const found = /Trove is running at (\S+)/.exec(stdout);
      if (found) {
        clearTimeout(timer);
        resolve(new URL(found[1]!));
      }
    });
    child.once('exit', (code) => reject(new Error(`trove serve exited with ${code}; stderr: ${stderr}`)));
  });
  return {
    child,
    port: Number(url.port),
    token: url.hash.replace('#token=', ''),
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGINT');
      assert.equal(await exited, 0, `trove serve stopped badly: ${stderr}`);
    },
  };
}

async function call(serve: Serve, method: string, params: unknown): Promise<{ ok: boolean; result?: unknown; error?: { code: string; message: string } }> {
  const response = await fetch(`http://127.0.0.1:${serve.port}/api/call`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${serve.token}` },
    body: JSON.stringify({ method, params }),
  });
  assert.equal(response.status, 200);
  return (await response.json()) as { ok: boolean; result?: unknown; error?: { code: string; message: string } };
}

/** Every file in the data folder with its size, mtime and content hash (SQLite's -wal/-shm aside: readers share them). */
function dataFolderState(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (!/-(wal|shm)$/.test(e.name)) {
        const s = statSync(p);
        out.push(`${path.relative(dir, p)} ${s.size} ${s.mtimeMs} ${createHash('sha1').update(readFileSync(p)).digest('hex')}`);
      }
    }
  };
  walk(dir);
  return out.sort();
}

test('status answers while trove serve holds the library, says so, and writes nothing; the API reads image paths only inside the folders', { timeout: 300_000 }, async () => {
  await runTrove(['index', folder, '--once', '--data', data, '--model', tiny.packageDir]);
  const serve = await startServe(['--data', data, '--model', tiny.packageDir]);
  try {
    const before = dataFolderState(data);
    const lock = await readFile(path.join(data, 'trove.lock'), 'utf8');

    const human = await troveOutcome(['status', '--data', data]);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, new RegExp(`^The library is open in another Trove \\(process ${serve.child.pid}, running since \\d\\d:\\d\\d\\), so this is a read-only look: the counts may be moving while it works\\.$`, 'm'));
    assert.match(human.stdout, /^files {4}3 \(2 indexed, 1 failed, 0 pending\)$/m);
    assert.match(human.stdout, /^vectors {2}\d+ \(/m);
    assert.match(human.stdout, /^Not indexed \(1\):$/m);
    const reasonLine = human.stdout.split('\n')[human.stdout.split('\n').findIndex((l) => l === `  ${path.join(folder, 'broken.png')}`) + 1] ?? '';
    assert.match(reasonLine, /^ {6}Cannot decode image: .*re-export it as PNG or JPEG\.$/, 'the reason, without the path shown above it');

    const json = await troveOutcome(['status', '--json', '--data', data]);
    assert.equal(json.code, 0, json.stderr);
    const glance = JSON.parse(json.stdout) as { heldBy: { pid: number }; files: { indexed: number; failed: number }; failures: { total: number; failures: { path: string; reason: string }[] } };
    assert.equal(glance.heldBy.pid, serve.child.pid);
    assert.equal(glance.files.indexed, 2);
    assert.equal(glance.failures.total, 1);
    assert.ok(!glance.failures.failures[0]!.reason.includes(folder), glance.failures.failures[0]!.reason);
    const failed = await troveOutcome(['status', '--failed', '--data', data]);
    assert.equal(failed.code, 0, failed.stderr);
    assert.ok(failed.stdout.includes(`  ${path.join(folder, 'broken.png')}\n`));

    assert.deepEqual(dataFolderState(data), before, 'the read-only look wrote nothing in the data folder');
    assert.equal(await readFile(path.join(data, 'trove.lock'), 'utf8'), lock, 'and left the lock to trove serve');

    // Over HTTP: a path outside the folders is refused before the disk is touched (a file that
    // exists and one that does not get the same answer), a link leading out is refused, a file
    // inside is searched by.
    for (const file of [path.join(outside, 'secret.txt'), path.join(outside, 'no-such-file.png'), '/etc/passwd', `${folder}/../elsewhere/holiday.png`]) {
      const refused = await call(serve, 'search.run', { image: { path: file } });
      assert.equal(refused.ok, false, `${file} was read`);
      assert.equal(refused.error!.code, 'invalid-params', file);
      assert.match(refused.error!.message, /^image\.path must name a file inside one of the library's folders, and '.*' is not in one\. Send the image itself instead/);
    }
    const link = await call(serve, 'search.run', { image: { path: path.join(folder, 'link-out.png') } });
    assert.equal(link.ok, false);
    assert.match(link.error!.message, /is a link; Trove does not follow links/);
    const missing = await call(serve, 'search.run', { image: { path: path.join(folder, 'gone.png') } });
    assert.equal(missing.error?.code, 'not-found');
    const inside = await call(serve, 'search.run', { image: { path: path.join(folder, 'photo.png') }, rerank: false });
    assert.equal(inside.ok, true, JSON.stringify(inside.error));
    assert.equal((inside.result as { results: { path: string }[] }).results[0]!.path, path.join(folder, 'photo.png'), 'the photo finds itself first');
  } finally {
    await serve.stop();
  }
});

test('trove search: any image the user names, whole percents as in the app, and nothing written in the library', { timeout: 300_000 }, async () => {
  const library = path.join(tiny.dir, 'data-search');
  await runTrove(['index', folder, '--once', '--data', library, '--model', tiny.packageDir]);
  // A file added while no Trove runs: a search reads the library as stored; `trove index` picks it up.
  await writeFile(path.join(folder, 'zebra.md'), 'Zebras graze on the open plain.\n');
  const before = dataFolderState(library);

  const byImage = await troveOutcome(['search', '--image', path.join(outside, 'holiday.png'), '--model', tiny.packageDir, '--no-rerank', '--data', library]);
  assert.equal(byImage.code, 0, byImage.stderr);
  const lines = byImage.stdout.trim().split('\n');
  const results = lines.slice(0, -1);
  assert.ok(results.length > 0, byImage.stdout);
  for (const line of results) assert.match(line, /^ {0,2}\d{1,3}% {2}(image|text) /, `a whole percent, as the app shows it: ${line}`);
  assert.match(lines.at(-1)!, /^\(semantic/);

  const byText = await troveOutcome(['search', 'aardvark', '--model', tiny.packageDir, '--no-rerank', '--data', library]);
  assert.equal(byText.code, 0, byText.stderr);
  assert.match(byText.stdout, new RegExp(`^ {0,2}\\d{1,3}% {2}text {5}${path.join(folder, 'aardvark.md').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'm'));
  assert.doesNotMatch(byText.stdout, /\d\.\d%/);

  const notImage = await troveOutcome(['search', '--image', path.join(outside, 'secret.txt'), '--model', tiny.packageDir, '--data', library]);
  assert.equal(notImage.code, 2);
  assert.match(notImage.stderr, /--image: .*secret\.txt is not an image file/);

  assert.deepEqual(dataFolderState(library), before, 'searching wrote nothing in the library');
});
