// Keeps the architecture the folders show true (VS Code's layer and environment rules, adapted).
// One declared order, ORDER below, from the base to the adapters; every import is checked against
// it and against the environment folder it crosses (docs/architecture.md draws the same picture):
//  1. Layers: a file may import its own layer and the layers of lower rows; a layer of its own row
//     only where the row says `peers: true`. Every source file under electron/ and native-models/
//     must sit in a declared layer, so a new folder is placed in the order before it is used.
//  2. Environments: a folder says where code may run. common/ runs anywhere (no Node built-ins, no
//     native packages, nothing from another environment); browser/ runs in a page; node/ needs
//     Node; electron-main/, electron-utility/ and electron-preload/ are the Electron shell's three
//     processes, told apart (none imports another's code; what they share is in shell/common/).
//     Only electron-main/ and electron-preload/ may import Electron.
//  3. Entry points: a process's or thread's first file ends in `-main.ts` (or `-main.tsx`).
//     Nothing in the product imports one, and only an entry may take `parentPort` or `workerData`.
//  4. Outside the order: native-models/reference (a naive float64 forward) may be imported only
//     by tests, benchmarks and scripts; the renderer imports only itself and the contract's
//     common/ and browser/ code, through the '#contract/…' alias (package.json "imports"); the
//     app imports nothing from test/, bench/, scripts/ or tools/.
import path from 'node:path';

const ROOT = path.resolve(new URL('..', import.meta.url).pathname);

/** The layer order, base first. A row's layers are peers: none imports another unless `peers`. */
export const ORDER = [
  { layers: ['electron/engine/base'] },
  { layers: ['electron/contract'] },
  { layers: ['native-models/manifest'] },
  { layers: ['native-models/checkpoint'] },
  { layers: ['native-models/onnx'] },
  { layers: ['native-models/graphs'] },
  { layers: ['native-models/package'] },
  { layers: ['native-models/hub', 'native-models/catalog', 'native-models/tiny'] },
  { layers: ['electron/engine/store', 'electron/engine/media'] },
  { layers: ['electron/engine/model-inputs'] },
  { layers: ['electron/engine/extract', 'electron/engine/library'] },
  { layers: ['electron/engine/inference'] },
  { layers: ['electron/engine/jobs', 'electron/engine/search'] },
  { layers: ['electron/engine/model-setup'] },
  { layers: ['electron/engine/app'] },
  { layers: ['electron/server'] },
  { layers: ['electron/cli', 'electron/shell'] },
];

/** Folders outside the order: who may import what. */
const REFERENCE = 'native-models/reference';
const MAY_IMPORT_REFERENCE = ['test/', 'bench/', 'scripts/', 'tools/'];
/** May import any layer (and the reference); nothing in the product imports them. */
const OUTSIDE = ['test/', 'e2e/', 'bench/', 'scripts/', 'tools/', 'bin/', 'eslint-rules/'];
/** Where code must sit in a declared layer and an environment folder. */
const PRODUCT = ['electron/', 'native-models/'];
const RENDERER = 'renderer/';
const RENDERER_MAY_IMPORT = ['electron/contract/common/', 'electron/contract/browser/'];
/** package.json "imports": the one alias, so the renderer does not climb out of its folder. */
const ALIASES = { '#contract/': 'electron/contract/' };

/** Environment folders and which environments their code may import. */
const ENVIRONMENTS = {
  common: ['common'],
  browser: ['common', 'browser'],
  node: ['common', 'node'],
  'electron-main': ['common', 'node', 'electron-main'],
  'electron-utility': ['common', 'node', 'electron-utility'],
  'electron-preload': ['common', 'electron-preload'],
};
const WHAT_RUNS = {
  common: 'runs anywhere',
  browser: 'runs in a page',
  node: 'needs Node',
  'electron-main': 'runs in the Electron main process',
  'electron-utility': "runs in the engine's utility process",
  'electron-preload': "runs in the page's sandboxed preload",
};
/** Environments without Node: no built-ins, no native packages. */
const NO_NODE = new Set(['common', 'browser', 'electron-preload']);
const ELECTRON_ALLOWED = new Set(['electron-main', 'electron-preload']);
const NATIVE_PACKAGES = ['sharp', 'better-sqlite3', 'hnswlib-node', 'onnxruntime-node', 'chokidar', 'mupdf', 'undici', 'ws'];

const LAYERS = ORDER.flatMap((row, rank) => row.layers.map((name) => ({ name, prefix: `${name}/`, rank, peers: row.peers === true })))
  // Longest prefix first, so a nested layer wins over its parent.
  .sort((a, b) => b.prefix.length - a.prefix.length);

/** The reference forward is outside the order: it may import every layer; who imports it is checked apart. */
const REFERENCE_LAYER = { name: REFERENCE, prefix: `${REFERENCE}/`, rank: Infinity, peers: false };

export function layerOf(rel) {
  if (rel.startsWith(REFERENCE_LAYER.prefix)) return REFERENCE_LAYER;
  return LAYERS.find((l) => rel.startsWith(l.prefix));
}

/** The innermost environment folder on the path, or undefined. */
export function environmentOf(rel) {
  const parts = rel.split('/').slice(0, -1);
  for (let i = parts.length - 1; i >= 0; i--) if (parts[i] in ENVIRONMENTS) return parts[i];
  if (rel.startsWith(RENDERER) && !rel.startsWith('renderer/vite.config')) return 'browser';
  return undefined;
}

function isEntry(rel) {
  return /-main\.tsx?$/.test(rel);
}

function isUnder(rel, prefixes) {
  return prefixes.some((p) => rel.startsWith(p));
}

function packageOf(source) {
  return source.startsWith('@') ? source.split('/').slice(0, 2).join('/') : source.split('/')[0];
}

export default {
  meta: {
    type: 'problem',
    docs: { description: 'imports follow the declared layer order and the environment folders; entries are not imported' },
    schema: [],
  },
  create(context) {
    const file = context.filename ?? context.getFilename();
    const rel = path.relative(ROOT, file).split(path.sep).join('/');
    const from = layerOf(rel);
    const fromEnv = environmentOf(rel);
    const inProduct = isUnder(rel, PRODUCT);
    const source = /\.(ts|tsx|mts|js|mjs|cjs)$/.test(rel) && !rel.endsWith('.d.ts');

    function where(env) {
      return `${env}/ (code that ${WHAT_RUNS[env]})`;
    }

    function checkPackage(node, spec) {
      if (spec === 'electron' || spec.startsWith('electron/')) {
        if (!(fromEnv && ELECTRON_ALLOWED.has(fromEnv)) && !rel.startsWith('e2e/')) {
          context.report({ node, message: `'${rel}' imports Electron; only the shell's electron-main/ and electron-preload/ code may. Put the Electron-specific part there and pass it in.` });
        }
        return;
      }
      if (fromEnv && NO_NODE.has(fromEnv) && (spec.startsWith('node:') || NATIVE_PACKAGES.includes(packageOf(spec)))) {
        context.report({ node, message: `'${rel}' is in ${where(fromEnv)} but imports '${spec}', which needs Node. Move this code to a node/ folder or pass the dependency in.` });
      }
    }

    function check(node, spec) {
      if (typeof spec !== 'string') return;
      const alias = Object.keys(ALIASES).find((a) => spec.startsWith(a));
      if (!spec.startsWith('.') && !alias) return checkPackage(node, spec);
      const target = alias
        ? ALIASES[alias] + spec.slice(alias.length)
        : path.relative(ROOT, path.resolve(path.dirname(file), spec)).split(path.sep).join('/');

      if (rel.startsWith(RENDERER)) {
        if (target.startsWith(RENDERER)) return;
        if (!isUnder(target, RENDERER_MAY_IMPORT)) {
          context.report({ node, message: `The renderer may import only renderer/ code and the contract's common/ and browser/ code, not '${target}'. Reach the engine through the TroveApi client.` });
        } else if (!alias) {
          context.report({ node, message: `The renderer imports the contract as '#contract/${target.slice('electron/contract/'.length)}', not by a relative path out of renderer/.` });
        }
        return;
      }
      if (target.startsWith(RENDERER) && !isUnder(rel, OUTSIDE)) {
        context.report({ node, message: `'${rel}' imports renderer code ('${target}'); the renderer is a page that only the contract connects to.` });
        return;
      }
      if (inProduct && isUnder(target, OUTSIDE)) {
        context.report({ node, message: `'${rel}' imports '${target}'; the app never imports tests, benchmarks, scripts or tools. Move what both need into the product and import it from there.` });
        return;
      }
      if (target.startsWith(`${REFERENCE}/`) && !rel.startsWith(`${REFERENCE}/`) && !isUnder(rel, MAY_IMPORT_REFERENCE)) {
        context.report({ node, message: `'${rel}' imports the naive reference forward ('${target}'), which is for tests, benchmarks and scripts only (float64, slow).` });
        return;
      }
      if (isEntry(target) && !isUnder(rel, OUTSIDE)) {
        context.report({ node, message: `'${rel}' imports '${target}', the first file of a process or thread. Start it (Worker, utilityProcess, bin) and move what both need into a module beside it.` });
      }

      const toEnv = environmentOf(target);
      if (fromEnv && toEnv && !ENVIRONMENTS[fromEnv].includes(toEnv)) {
        const may = ENVIRONMENTS[fromEnv].map((e) => `${e}/`).join(', ');
        context.report({ node, message: `'${rel}' is in ${where(fromEnv)} but imports '${target}' from ${where(toEnv)}. ${fromEnv}/ code may import only ${may} code.` });
      }

      const to = layerOf(target);
      if (!from || !to || from === to) return;
      if (to.rank > from.rank) {
        context.report({ node, message: `Layer '${from.name}' must not import from the higher layer '${to.name}' ('${target}'). Layers import downward only (the order is in eslint-rules/architecture.js and docs/architecture.md).` });
      } else if (to.rank === from.rank && !from.peers) {
        context.report({ node, message: `Layers '${from.name}' and '${to.name}' are peers in the declared order and must not import each other ('${target}'). Move the shared part to a lower layer, or declare the order between them.` });
      }
    }

    function checkWorkerGlobals(node) {
      if (node.source.value !== 'node:worker_threads' || isEntry(rel) || !inProduct) return;
      for (const s of node.specifiers) {
        const name = s.type === 'ImportSpecifier' ? (s.imported.name ?? s.imported.value) : undefined;
        if (name === 'parentPort' || name === 'workerData') {
          context.report({ node: s, message: `'${rel}' takes '${name}', so it runs as a worker thread's first file; name it '…-main.ts' (the process and thread entries all end so).` });
        }
      }
    }

    return {
      Program(node) {
        if (!inProduct || !source) return;
        if (!from) {
          context.report({ node, loc: { line: 1, column: 0 }, message: `'${rel}' is in no declared layer. Add its folder to ORDER in eslint-rules/architecture.js (and to the picture in docs/architecture.md) before using it.` });
        } else if (!fromEnv) {
          context.report({ node, loc: { line: 1, column: 0 }, message: `'${rel}' is in no environment folder. Put it in common/, node/, browser/ or one of the shell's electron-main/, electron-utility/, electron-preload/ so the folder says where it may run.` });
        }
      },
      ImportDeclaration: (node) => {
        check(node, node.source.value);
        checkWorkerGlobals(node);
      },
      ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
      ExportAllDeclaration: (node) => check(node, node.source.value),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node, node.source.value),
    };
  },
};
