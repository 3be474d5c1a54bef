// Bundles the Electron shell with esbuild (already installed as a dependency of tsx and Vite):
//   electron/shell/electron-main/shell-main.ts         → dist/electron/main.cjs         (package.json "main")
//   electron/shell/electron-preload/preload-main.ts   → dist/electron/preload.cjs      (sandboxed: one CJS file, requires only 'electron')
//   electron/shell/electron-utility/engine-host-main.ts  → dist/electron/engine-host.cjs  (utilityProcess entry: store, watcher, models)
//   …/runtime/model-worker-main.ts     → dist/electron/model-worker-main.js  (worker_threads entry, found beside engine-host)
//   native-models/package/node/build-worker-main.ts → dist/electron/build-worker-main.js (worker_threads entry: model package builds)
//   …/jobs/node/extraction-worker-main.ts → dist/electron/extraction-worker-main.js (worker_threads entry: reading files)
//   …/store/node/ann-worker-main.ts      → dist/electron/ann-worker-main.js (worker_threads entry: one ANN index shard)
// Native modules and packages that find files beside themselves stay external: electron-builder
// ships them in node_modules (unpacked from asar where they hold binaries) and rebuilds
// better-sqlite3 for Electron's ABI. Everything else, ESM-only packages included, is bundled.
//
//   node --import tsx scripts/build-electron.ts            (npm run build runs this after the renderer)
import { builtinModules } from 'node:module';
import { readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Never bundled: native addons, binary installers, and Electron itself. */
export const EXTERNAL_PACKAGES = [
  'electron',
  'better-sqlite3',
  'hnswlib-node',
  'onnxruntime-node',
  'sharp',
  'mupdf',
  '@ffmpeg-installer/*',
  '@ffprobe-installer/*',
  // ws's optional native speed-ups, required inside try/catch.
  'bufferutil',
  'utf-8-validate',
];

export type ShellEntry = 'main' | 'preload' | 'engine-host' | 'model-worker' | 'package-build-worker' | 'extraction-worker' | 'ann-worker';

interface EntrySpec {
  source: string;
  outfile: string;
  kind: 'node-cjs' | 'node-esm' | 'preload';
}

const ENTRIES: Record<ShellEntry, EntrySpec> = {
  main: { source: 'electron/shell/electron-main/shell-main.ts', outfile: 'main.cjs', kind: 'node-cjs' },
  preload: { source: 'electron/shell/electron-preload/preload-main.ts', outfile: 'preload.cjs', kind: 'preload' },
  'engine-host': { source: 'electron/shell/electron-utility/engine-host-main.ts', outfile: 'engine-host.cjs', kind: 'node-cjs' },
  // ESM because the root package.json says "type": "module" for .js files; model-client.ts starts it
  // as new Worker(new URL('./model-worker-main.js', import.meta.url)).
  'model-worker': { source: 'electron/engine/inference/node/runtime/model-worker-main.ts', outfile: 'model-worker-main.js', kind: 'node-esm' },
  // build-in-worker.ts starts it as new Worker(new URL('./build-worker-main.js', import.meta.url)).
  'package-build-worker': { source: 'native-models/package/node/build-worker-main.ts', outfile: 'build-worker-main.js', kind: 'node-esm' },
  // extraction-pool.ts starts it as new Worker(new URL('./extraction-worker-main.js', import.meta.url)).
  'extraction-worker': { source: 'electron/engine/jobs/node/extraction-worker-main.ts', outfile: 'extraction-worker-main.js', kind: 'node-esm' },
  // ann-handle.ts starts one per ANN shard as new Worker(new URL('./ann-worker-main.js', import.meta.url)).
  'ann-worker': { source: 'electron/engine/store/node/ann-worker-main.ts', outfile: 'ann-worker-main.js', kind: 'node-esm' },
};

export interface BuildOptions {
  readonly outDir?: string;
  readonly entries?: readonly ShellEntry[];
  readonly minify?: boolean;
  /** Extra esbuild plugins (tests use one to stand in for the engine). */
  readonly plugins?: esbuild.Plugin[];
}

export interface BuildResult {
  readonly outputs: Record<string, string>;
  /** Bare package imports left external, per output file. */
  readonly externals: Record<string, string[]>;
}

const ELECTRON_NODE_TARGET = 'node22';
const ELECTRON_CHROME_TARGET = 'chrome130';

function packageName(specifier: string): string {
  return specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!;
}

function isBuiltin(specifier: string): boolean {
  return specifier.startsWith('node:') || builtinModules.includes(specifier) || builtinModules.includes(specifier.split('/')[0]!);
}

function optionsFor(spec: EntrySpec, outDir: string, minify: boolean, plugins: esbuild.Plugin[]): esbuild.BuildOptions {
  const common: esbuild.BuildOptions = {
    entryPoints: [path.join(ROOT, spec.source)],
    outfile: path.join(outDir, spec.outfile),
    bundle: true,
    sourcemap: 'linked',
    minify,
    metafile: true,
    logLevel: 'warning',
    legalComments: 'none',
    plugins,
  };
  if (spec.kind === 'preload') {
    // Sandboxed preloads get a browser-like require that knows only 'electron' (and a few polyfills).
    return { ...common, platform: 'browser', format: 'cjs', target: ELECTRON_CHROME_TARGET, external: ['electron'] };
  }
  if (spec.kind === 'node-esm') {
    return {
      ...common,
      platform: 'node',
      format: 'esm',
      target: ELECTRON_NODE_TARGET,
      external: EXTERNAL_PACKAGES,
      // Bundled CommonJS code calls require(); ESM has none, so give it one.
      banner: { js: "import { createRequire as __troveCreateRequire } from 'node:module'; const require = __troveCreateRequire(import.meta.url);" },
    };
  }
  return {
    ...common,
    platform: 'node',
    format: 'cjs',
    target: ELECTRON_NODE_TARGET,
    external: EXTERNAL_PACKAGES,
    // Engine code finds workers and packages relative to import.meta.url; in a CJS bundle that is the bundle's own file.
    define: { 'import.meta.url': '__troveImportMetaUrl' },
    banner: { js: "var __troveImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
    // model-client.ts uses import.meta.resolve only when running from .ts sources (never in a bundle).
    logOverride: { 'empty-import-meta': 'silent' },
  };
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

export async function buildElectron(options: BuildOptions = {}): Promise<BuildResult> {
  const outDir = path.resolve(options.outDir ?? path.join(ROOT, 'dist', 'electron'));
  const requested = options.entries ?? (Object.keys(ENTRIES) as ShellEntry[]);
  const pkg = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> };
  const shipped = new Set([...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.optionalDependencies ?? {}), 'electron']);
  const outputs: Record<string, string> = {};
  const externals: Record<string, string[]> = {};
  if (options.outDir === undefined && options.entries === undefined) await rm(outDir, { recursive: true, force: true });

  for (const entry of requested) {
    const spec = ENTRIES[entry];
    if (!(await exists(path.join(ROOT, spec.source)))) {
      throw new Error(`${spec.source} does not exist; the ${entry} bundle needs it (is the engine checked out completely?)`);
    }
    const result = await esbuild.build(optionsFor(spec, outDir, options.minify ?? false, options.plugins ?? []));
    const outfile = path.join(outDir, spec.outfile);
    const meta = result.metafile!.outputs[path.relative(process.cwd(), outfile).split(path.sep).join('/')] ?? Object.values(result.metafile!.outputs).find((o) => o.entryPoint);
    const bare = [...new Set((meta?.imports ?? []).filter((i) => i.external && !isBuiltin(i.path)).map((i) => packageName(i.path)))].sort();
    // An external package that electron-builder will not ship would fail only in the packaged app.
    const unshipped = bare.filter((name) => !shipped.has(name) && !['bufferutil', 'utf-8-validate'].includes(name));
    if (unshipped.length > 0) {
      throw new Error(`${spec.outfile} needs ${unshipped.join(', ')} at run time, but package.json does not list them in dependencies; move them there (devDependencies are not packaged).`);
    }
    outputs[entry] = outfile;
    externals[spec.outfile] = bare;
  }
  return { outputs, externals };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const entries = process.argv.slice(2).filter((a) => !a.startsWith('--')) as ShellEntry[];
  const unknown = entries.filter((e) => !(e in ENTRIES));
  if (unknown.length > 0) {
    console.error(`unknown entries: ${unknown.join(', ')}; known: ${Object.keys(ENTRIES).join(', ')}`);
    process.exit(2);
  }
  buildElectron({ entries: entries.length > 0 ? entries : undefined, minify: process.argv.includes('--minify') }).then(
    (result) => {
      for (const [file, ext] of Object.entries(result.externals)) console.log(`dist/electron/${file}  external: ${ext.join(', ') || '(none)'}`);
    },
    (error: unknown) => {
      console.error(`build-electron: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}
