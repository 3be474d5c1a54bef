#!/usr/bin/env node
// Run by `npm start` before anything is built: is Electron's binary there? An install with
// ELECTRON_SKIP_BINARY_DOWNLOAD=1 (offline, CI) has the electron package without its binary, and
// Electron's own error is a stack trace; this says what to do instead.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Why the Electron binary in `electronDir` (the electron package folder) cannot run, or null. */
export function electronBinaryProblem(electronDir, env = process.env) {
  const install = `node ${path.relative(process.cwd(), path.join(electronDir, 'install.js')) || 'node_modules/electron/install.js'}`;
  const instead = 'Or use Trove in your browser, which needs no Electron: npm run serve';
  const pathFile = path.join(electronDir, 'path.txt');
  if (!existsSync(pathFile) && !env.ELECTRON_OVERRIDE_DIST_PATH) {
    return (
      "npm start needs Electron's binary, which is not installed: npm install skipped it (ELECTRON_SKIP_BINARY_DOWNLOAD=1) or could not download it.\n" +
      `Install it with: ${install}   (downloads about 100 MB), then run npm start again.\n${instead}`
    );
  }
  const executable = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : 'electron';
  const binary = env.ELECTRON_OVERRIDE_DIST_PATH ? path.join(env.ELECTRON_OVERRIDE_DIST_PATH, executable) : path.join(electronDir, 'dist', executable);
  if (!existsSync(binary)) {
    return `npm start needs Electron's binary, but ${binary} is missing (an interrupted download?).\nInstall it again with: ${install}, then run npm start again.\n${instead}`;
  }
  return null;
}

function electronPackageDir() {
  try {
    return path.dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  } catch {
    return null;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = electronPackageDir();
  const problem = dir === null ? 'npm start needs the electron package, which is not installed: run npm install first.\nOr use Trove in your browser: npm run serve' : electronBinaryProblem(dir);
  if (problem) {
    console.error(problem);
    process.exit(1);
  }
}
