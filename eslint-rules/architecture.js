// Keeps the architecture visible in the folder layout true (VS Code's layer + environment rules,
// adapted). Two checks on every import:
//  1. Layers import only downward: base → models/store → extract/library → search/jobs →
//     adapters (cli, server, main, preload). native-models sits beside the models layer and may be
//     used by jobs and adapters; its reference forward (float64, slow) may be used by tests, benchmarks and scripts only.
//  2. Environments: code under a `common/` folder runs anywhere (no Node built-ins, no native
//     packages, nothing from `node/` or `browser/`); code under a `browser/` folder runs in a page
//     (DOM globals; no Node built-ins, no native packages, nothing from `node/`); only
//     electron/main and electron/preload may import Electron.
import path from 'node:path';

const ROOT = path.resolve(new URL('..', import.meta.url).pathname);

/** Rank of each layer; a file may import only its own rank or lower. */
const LAYERS = [
  { prefix: 'electron/engine/base/', rank: 0, name: 'engine/base' },
  { prefix: 'electron/contract/', rank: 0, name: 'contract' },
  { prefix: 'electron/engine/models/', rank: 1, name: 'engine/models' },
  { prefix: 'electron/engine/store/', rank: 1, name: 'engine/store' },
  { prefix: 'native-models/reference/', rank: 7, name: 'native-models/reference (tests and benchmarks only)' },
  { prefix: 'native-models/', rank: 1.5, name: 'native-models' },
  { prefix: 'electron/engine/extract/', rank: 2, name: 'engine/extract' },
  { prefix: 'electron/engine/library/', rank: 2, name: 'engine/library' },
  { prefix: 'electron/engine/search/', rank: 3, name: 'engine/search' },
  { prefix: 'electron/engine/jobs/', rank: 3, name: 'engine/jobs' },
  { prefix: 'electron/engine/app/', rank: 3.5, name: 'engine/app' },
  { prefix: 'electron/cli/', rank: 4, name: 'cli' },
  { prefix: 'electron/server/', rank: 4, name: 'server' },
  { prefix: 'electron/main/', rank: 5, name: 'main' },
  { prefix: 'electron/preload/', rank: 5, name: 'preload' },
  { prefix: 'bench/', rank: 8, name: 'bench' },
  { prefix: 'scripts/', rank: 8, name: 'scripts' },
  { prefix: 'test/', rank: 10, name: 'test' },
  { prefix: 'e2e/', rank: 10, name: 'e2e' },
];

const NATIVE_PACKAGES = ['sharp', 'better-sqlite3', 'hnswlib-node', 'onnxruntime-node', 'chokidar', 'mupdf'];
const ELECTRON_ALLOWED = ['electron/main/', 'electron/preload/', 'e2e/'];
/** The renderer is written against the API contract only; it runs in a sandboxed page. */
const RENDERER_MAY_IMPORT = ['renderer/', 'electron/contract/common/', 'electron/contract/browser/'];

function layerOf(rel) {
  return LAYERS.find((l) => rel.startsWith(l.prefix));
}

function isCommon(rel) {
  return rel.split('/').includes('common');
}

function isBrowser(rel) {
  return rel.split('/').includes('browser');
}

export default {
  meta: {
    type: 'problem',
    docs: { description: 'layers import downward only; common/ code stays environment-free; Electron only in the shell' },
    schema: [],
  },
  create(context) {
    const file = context.filename ?? context.getFilename();
    const rel = path.relative(ROOT, file).split(path.sep).join('/');
    const from = layerOf(rel);

    function check(node, source) {
      if (typeof source !== 'string') return;
      if (source === 'electron' || source.startsWith('electron/')) {
        if (!ELECTRON_ALLOWED.some((p) => rel.startsWith(p))) {
          context.report({ node, message: `'${rel}' imports Electron; only electron/main and electron/preload may. Put the Electron-specific part in the shell and pass it in.` });
        }
        return;
      }
      if (!source.startsWith('.')) {
        if (isCommon(rel) || isBrowser(rel) || rel.startsWith('renderer/')) {
          const pkg = source.startsWith('@') ? source.split('/').slice(0, 2).join('/') : source.split('/')[0];
          if (source.startsWith('node:') || NATIVE_PACKAGES.includes(pkg)) {
            const where = isBrowser(rel) ? 'a browser/ folder (runs in a page)' : 'a common/ folder (runs anywhere)';
            context.report({ node, message: `'${rel}' is in ${where} but imports '${source}'. Move this code to a node/ folder or pass the dependency in.` });
          }
        }
        return;
      }
      const target = path.relative(ROOT, path.resolve(path.dirname(file), source)).split(path.sep).join('/');
      if (rel.startsWith('renderer/') && !RENDERER_MAY_IMPORT.some((p) => target.startsWith(p))) {
        context.report({ node, message: `The renderer may import only renderer/, electron/contract/common/ and electron/contract/browser/ code, not '${target}'. Reach the engine through the TroveApi client.` });
        return;
      }
      if (isCommon(rel) && target.split('/').includes('node')) {
        context.report({ node, message: `'${rel}' is in a common/ folder but imports '${target}' from a node/ folder. common/ code may import only common/ code.` });
      }
      if (isCommon(rel) && isBrowser(target)) {
        context.report({ node, message: `'${rel}' is in a common/ folder but imports '${target}' from a browser/ folder. common/ code may import only common/ code.` });
      }
      if (isBrowser(rel) && target.split('/').includes('node')) {
        context.report({ node, message: `'${rel}' is in a browser/ folder (runs in a page) but imports '${target}' from a node/ folder. browser/ code may import only browser/ and common/ code.` });
      }
      const to = layerOf(target);
      if (from && to && to.rank > from.rank) {
        context.report({ node, message: `Layer '${from.name}' must not import from higher layer '${to.name}' ('${target}'). Layers import downward only; see docs/architecture.md.` });
      }
    }

    return {
      ImportDeclaration: (node) => check(node, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
      ExportAllDeclaration: (node) => check(node, node.source.value),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node, node.source.value),
    };
  },
};
