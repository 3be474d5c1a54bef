// The engine-host bundle (dist/electron/engine-host.cjs) run as its own process with a stand-in for
// Electron's process.parentPort and a stub engine: proves the CommonJS bundle boots, speaks the
// message protocol, validates on receipt and exits on shutdown; then the same bundle with the real
// engine (under Node's ABI: under Electron, better-sqlite3 must be rebuilt for Electron).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { buildElectron } from '../../scripts/build-electron.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let dir: string;
let bundle: string;
let launcher: string;
let realLauncher: string;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'trove-engine-host-'));
  const stub = fileURLToPath(new URL('../support/engine-host-stub-engine.ts', import.meta.url));
  const { outputs } = await buildElectron({
    outDir: dir,
    entries: ['engine-host'],
    plugins: [{ name: 'stub-engine', setup: (b) => b.onResolve({ filter: /\/trove-engine\.ts$/ }, () => ({ path: stub })) }],
  });
  bundle = outputs['engine-host']!;
  // With the extraction worker beside it, as in the app (the engine reads files on that thread);
  // the ESM worker finds its external packages through a node_modules up the tree, as in the app.
  const real = await buildElectron({ outDir: path.join(dir, 'real'), entries: ['engine-host', 'extraction-worker'] });
  await symlink(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  // Electron gives a utility process `process.parentPort`; here stdin/stdout lines play that part.
  launcher = await writeLauncher(path.join(dir, 'launch.cjs'), bundle);
  realLauncher = await writeLauncher(path.join(dir, 'launch-real.cjs'), real.outputs['engine-host']!);
});

async function writeLauncher(file: string, target: string): Promise<string> {
  await writeFile(
    file,
    `const { EventEmitter } = require('node:events');
const port = new EventEmitter();
port.postMessage = (m) => process.stdout.write(JSON.stringify(m) + '\\n');
Object.defineProperty(process, 'parentPort', { value: port });
require('node:readline').createInterface({ input: process.stdin }).on('line', (l) => port.emit('message', { data: JSON.parse(l) }));
require(${JSON.stringify(target)});
`,
  );
  return file;
}

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function host(which = launcher) {
  // The bundle sits in a temp folder; its external native packages come from the repo's node_modules.
  const env = { ...process.env, NODE_PATH: path.join(ROOT, 'node_modules') };
  const child = spawn(process.execPath, [which], { stdio: ['pipe', 'pipe', 'pipe'], env });
  child.stderr.on('data', (c: Buffer) => process.stderr.write(`[engine-host] ${c}`));
  const messages: Record<string, unknown>[] = [];
  let buffer = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
      messages.push(JSON.parse(buffer.slice(0, i)) as Record<string, unknown>);
      buffer = buffer.slice(i + 1);
    }
  });
  const exit = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const send = (m: unknown) => child.stdin.write(`${JSON.stringify(m)}\n`);
  const waitFor = async (type: string, where: (m: Record<string, unknown>) => boolean = () => true) => {
    for (let i = 0; i < 2000; i++) {
      const found = messages.find((m) => m.type === type && where(m));
      if (found) return found;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`no '${type}' message; got ${JSON.stringify(messages)}`);
  };
  return { child, messages, exit, send, waitFor };
}

test('the bundle starts the engine, answers calls validated on receipt, and exits on shutdown', async () => {
  const h = host();
  h.send({ type: 'start', options: { dataDir: '/data/here' } });
  await h.waitFor('ready');
  h.send({ type: 'call', id: 1, method: 'roots.list', params: {} });
  h.send({ type: 'call', id: 2, method: 'roots.remove', params: { id: 'one' } });
  h.send({ type: 'media', id: 3, kind: 'thumb', itemId: 1 });
  for (let i = 0; i < 500 && h.messages.filter((m) => m.id !== undefined).length < 3; i++) await new Promise((r) => setTimeout(r, 10));
  const byId = (id: number) => h.messages.find((m) => m.id === id) as { outcome?: { ok: boolean; result?: { path: string }[]; error?: { code: string } }; thumbnail?: unknown };
  assert.equal(byId(1).outcome!.result![0]!.path, '/data/here');
  assert.equal(byId(2).outcome!.error!.code, 'invalid-params');
  assert.equal(byId(3).thumbnail, null);
  h.send({ type: 'shutdown' });
  await h.waitFor('closed');
  assert.equal(await h.exit, 0);
});

test('an engine that cannot open is reported and the process exits non-zero', async () => {
  const h = host();
  h.send({ type: 'start', options: { dataDir: '/fail' } });
  const failed = (await h.waitFor('start-failed')) as { error: { message: string } };
  assert.match(failed.error.message, /cannot open \/fail/);
  assert.equal(await h.exit, 1);
});

test('outside a utility process it refuses to run and says what to use instead', async () => {
  const child = spawn(process.execPath, [bundle], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 2);
  assert.match(stderr, /utility process/);
});

test('the bundle runs the real engine: a folder is indexed, searched, and its media served', async () => {
  const photos = path.join(dir, 'photos');
  await mkdir(photos);
  await sharp({ create: { width: 96, height: 64, channels: 3, background: { r: 220, g: 30, b: 40 } } }).png().toFile(path.join(photos, 'red-apple.png'));
  await sharp({ create: { width: 96, height: 64, channels: 3, background: { r: 20, g: 80, b: 200 } } }).png().toFile(path.join(photos, 'blue-ocean.png'));
  const h = host(realLauncher);
  h.send({ type: 'start', options: { dataDir: path.join(dir, 'data'), embeddingModel: null, rerankerModel: null, watch: true } });
  await h.waitFor('ready');
  h.send({ type: 'call', id: 1, method: 'roots.add', params: { path: photos } });
  await h.waitFor('reply', (m) => m.id === 1);
  const done = (m: Record<string, unknown>) => {
    const p = m.payload as { state?: string; files?: { indexed: number } } | undefined;
    return m.event === 'indexing.progress' && p?.state === 'idle' && p.files?.indexed === 2;
  };
  await h.waitFor('event', done);
  h.send({ type: 'call', id: 2, method: 'search.run', params: { text: 'apple' } });
  const search = (await h.waitFor('reply', (m) => m.id === 2)) as { outcome: { ok: boolean; result: { results: { itemId: number; name: string }[] } } };
  assert.equal(search.outcome.ok, true);
  const top = search.outcome.result.results[0]!;
  assert.equal(top.name, 'red-apple.png');
  h.send({ type: 'media', id: 3, kind: 'thumb', itemId: top.itemId });
  h.send({ type: 'media', id: 4, kind: 'file', itemId: top.itemId });
  h.send({ type: 'roots', id: 5 });
  const thumb = (await h.waitFor('media-reply', (m) => m.id === 3)) as { thumbnail: { mime: string } };
  assert.match(thumb.thumbnail.mime, /^image\//);
  const file = (await h.waitFor('media-reply', (m) => m.id === 4)) as { path: string };
  assert.equal(file.path, path.join(photos, 'red-apple.png'));
  const roots = (await h.waitFor('media-reply', (m) => m.id === 5)) as { roots: string[] };
  assert.deepEqual(roots.roots, [photos]);
  h.send({ type: 'shutdown' });
  await h.waitFor('closed');
  assert.equal(await h.exit, 0);
});
