// The builder identity recorded in every manifest: the project's name and version, read from
// package.json at run time so a release bump needs no code change, and the revision of the graphs
// it writes.
import { access, readFile } from 'node:fs/promises';

/**
 * Bumped whenever the builder writes different graphs for the same options without changing their
 * contract (inputs and outputs; that is PACKAGE_FORMAT_VERSION). A manifest without it is revision 1.
 *   1  the first graphs
 *   2  plain vision attention in blocks of query rows (bounded memory, docs/model-packages.md#vision-attention-memory);
 *      int8/int4 MatMulNBits at the accuracy level of NBITS_ACCURACY_LEVEL (docs/model-precision.md#int8-and-int4-on-cpu)
 *  3  decoder attention in blocks of query rows, the causal + padding mask made per block
 *      (bounded memory up to 8,192 tokens, docs/model-packages.md#decoder-attention-memory)
 */
export const GRAPH_REVISION = 3;

export interface BuilderIdentity {
  name: string;
  version: string;
  graphRevision: number;
}

/**
 * The nearest package.json above this file: the project's in the sources, the app's above
 * dist/electron/ in a build (this file is bundled into engine-host.cjs and build-worker-main.js).
 */
async function packageJson(): Promise<URL> {
  for (let dir = new URL('./', import.meta.url); ; dir = new URL('../', dir)) {
    const candidate = new URL('package.json', dir);
    if (await access(candidate).then(() => true, () => false)) return candidate;
    if (new URL('../', dir).href === dir.href) {
      throw new Error(`No package.json above ${new URL('./', import.meta.url).pathname}; the Trove installation is damaged — reinstall it.`);
    }
  }
}

let cached: Promise<BuilderIdentity> | undefined;

export function builderIdentity(): Promise<BuilderIdentity> {
  cached ??= (async () => {
    const file = await packageJson();
    const json = JSON.parse(await readFile(file, 'utf8')) as { name?: unknown; version?: unknown };
    if (typeof json.name !== 'string' || typeof json.version !== 'string') {
      throw new Error(`${file.pathname}: "name" and "version" must be strings; the Trove installation is damaged — reinstall it.`);
    }
    return { name: json.name, version: json.version, graphRevision: GRAPH_REVISION };
  })();
  return cached;
}
