// The shell's build outputs and packaging config, checked without an Electron binary: the bundles
// esbuild writes, and electron-builder.yml as electron-builder itself loads and validates it.
import assert from 'node:assert/strict';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildElectron } from '../../scripts/build-electron.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

test('preload and main bundle to CommonJS with only Electron and Node built-ins left to require', async () => {
  const outDir = await mkdtemp(path.join(tmpdir(), 'trove-shell-build-'));
  try {
    const result = await buildElectron({ outDir, entries: ['preload', 'main'] });
    const preload = await readFile(result.outputs.preload!, 'utf8');
    const preloadRequires = new Set([...preload.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]));
    // A sandboxed preload's require knows 'electron' only; anything else fails at window load.
    assert.deepEqual([...preloadRequires], ['electron']);
    assert.match(preload, /exposeInMainWorld/);
    assert.doesNotMatch(preload, /exposeInMainWorld\([^)]*ipcRenderer\)/);
    const main = await readFile(result.outputs.main!, 'utf8');
    assert.deepEqual(result.externals['main.cjs'], ['electron']);
    assert.match(main, /registerSchemesAsPrivileged/);
    assert.match(main, /requestSingleInstanceLock/);
    assert.match(main, /contextIsolation: true/);
    assert.match(main, /sandbox: true/);
    assert.match(main, /nodeIntegration: false/);
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
});

test('package.json main is the bundle the build writes', async () => {
  const pkg = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { main?: string; scripts: Record<string, string> };
  assert.equal(pkg.main, 'dist/electron/main.cjs');
  assert.match(pkg.scripts.build!, /scripts\/build-electron\.ts/);
  assert.match(pkg.scripts.start!, /electron \./);
  assert.match(pkg.scripts.dist!, /electron-builder/);
});

test('electron-builder.yml loads and validates with fuses, asar unpacking and every target', async () => {
  const require = createRequire(path.join(ROOT, 'package.json'));
  const { getConfig, validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as {
    getConfig(dir: string, file: string, extra: null): Promise<Record<string, unknown>>;
    validateConfiguration(config: unknown, logger: unknown): Promise<void>;
  };
  const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };
  const config = (await getConfig(ROOT, path.join(ROOT, 'electron-builder.yml'), null)) as {
    productName: string;
    asarUnpack: string[];
    files: (string | { filter: string[] })[];
    npmRebuild: boolean;
    electronFuses: Record<string, boolean>;
    linux: { target: string[] };
    mac: { target: string[] };
    win: { target: string[] };
  };
  await validateConfiguration(config, new DebugLogger(false));
  assert.equal(config.productName, 'Trove');
  for (const pattern of ['**/*.node', '**/*.so', '**/*.so.*', '**/*.dylib', '**/*.dll', '**/node_modules/@ffmpeg-installer/**', '**/node_modules/@ffprobe-installer/**']) {
    assert.ok(config.asarUnpack.includes(pattern), `asarUnpack lacks ${pattern}`);
  }
  // getConfig normalises `files` into filter sets.
  const files = config.files.flatMap((f) => (typeof f === 'string' ? [f] : f.filter));
  for (const needed of ['dist/electron/**/*', 'renderer/dist/**/*', 'package.json', 'resources/icons/**/*']) assert.ok(files.includes(needed), `files lacks ${needed}`);
  assert.equal(config.npmRebuild, true, 'better-sqlite3 must be rebuilt for Electron');
  assert.deepEqual(
    {
      runAsNode: config.electronFuses.runAsNode,
      enableNodeOptionsEnvironmentVariable: config.electronFuses.enableNodeOptionsEnvironmentVariable,
      enableNodeCliInspectArguments: config.electronFuses.enableNodeCliInspectArguments,
      enableEmbeddedAsarIntegrityValidation: config.electronFuses.enableEmbeddedAsarIntegrityValidation,
      onlyLoadAppFromAsar: config.electronFuses.onlyLoadAppFromAsar,
      grantFileProtocolExtraPrivileges: config.electronFuses.grantFileProtocolExtraPrivileges,
    },
    {
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      grantFileProtocolExtraPrivileges: false,
    },
  );
  assert.deepEqual(config.linux.target, ['AppImage', 'deb']);
  assert.deepEqual(config.mac.target, ['dmg']);
  assert.deepEqual(config.win.target, ['nsis']);
});
