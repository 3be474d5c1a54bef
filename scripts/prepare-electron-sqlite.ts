// better-sqlite3 is a V8-API addon: the copy npm built for Node cannot load in Electron, and
// rebuilding it in place for Electron would break `npm test` (plain Node). So `npm start` builds a
// second binary for Electron's ABI beside the Node one, in dist/electron/native/, and the shell
// points the engine at it (TROVE_SQLITE_BINDING → better-sqlite3's `nativeBinding` option).
// Packaged builds need none of this: electron-builder rebuilds the addon for Electron in the app.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, copyFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);

export function electronSqliteBindingPath(electronVersion: string): string {
  return path.join(root, 'dist', 'electron', 'native', `better_sqlite3-electron-${electronVersion}-${process.platform}-${process.arch}.node`);
}

function main(): void {
  const electronVersion = (require('electron/package.json') as { version: string }).version;
  const target = electronSqliteBindingPath(electronVersion);
  if (existsSync(target)) return;
  const source = path.dirname(require.resolve('better-sqlite3/package.json'));
  const work = mkdtempSync(path.join(tmpdir(), 'trove-electron-sqlite-'));
  try {
    cpSync(source, work, { recursive: true, filter: (p) => !p.includes(`${path.sep}build${path.sep}`) });
    const env = { ...process.env, npm_config_runtime: 'electron', npm_config_target: electronVersion, npm_config_disturl: 'https://electronjs.org/headers' };
    const prebuild = path.join(path.dirname(require.resolve('prebuild-install/package.json')), 'bin.js');
    try {
      // A prebuilt binary for this Electron version, when better-sqlite3 publishes one…
      execFileSync(process.execPath, [prebuild, '--runtime', 'electron', '--target', electronVersion, '--arch', process.arch, '--platform', process.platform], { cwd: work, env, stdio: 'inherit' });
    } catch {
      // …else compile it against Electron's headers (needs a C++ toolchain, like npm install did).
      const gyp = path.join(path.dirname(require.resolve('node-gyp/package.json')), 'bin', 'node-gyp.js');
      execFileSync(process.execPath, [gyp, 'rebuild', '--release', `--target=${electronVersion}`, '--runtime=electron', '--dist-url=https://electronjs.org/headers'], { cwd: work, env, stdio: 'inherit' });
    }
    mkdirSync(path.dirname(target), { recursive: true });
    copyFileSync(path.join(work, 'build', 'Release', 'better_sqlite3.node'), target);
    console.log(`built better-sqlite3 for Electron ${electronVersion}: ${path.relative(root, target)}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
