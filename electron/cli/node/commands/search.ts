// `trove search`: one query against the index, printed for people or as stable JSON.
import path from 'node:path';
import { readFile, stat } from 'node:fs/promises';
import { FILE_KINDS, type FileKind, type SearchResponse, type Status } from '../../../contract/common/entities.ts';
import { formatRelevance } from '../../../contract/common/relevance.ts';
import { dispatchApiCall } from '../../../contract/common/trove-api.ts';
import { openTroveEngine } from '../../../engine/app/node/trove-engine.ts';
import { sniffImageMime } from '../../../engine/inference/node/remote/remote-content.ts';
import type { TroveEngine } from '../../../engine/app/node/trove-engine-types.ts';
import { CliFailure, CliUsageError } from '../command-line/cli-error.ts';
import { defineCommand } from '../command-line/command-line.ts';
import { assertChosenModelsLoaded, ENGINE_OPTIONS, prepareEngine } from './engine-options.ts';
import { choiceOption, integerOption } from '../command-line/option-values.ts';

/** A wait longer than this is announced on stderr. */
const SAY_WAITING_AFTER_MS = 2000;

export const searchCommand = defineCommand({
  name: 'search',
  summary: 'Search the library by text and/or image.',
  usage: '"<text>" [options]',
  description: 'Text, an image (--image), or both. Reads the library; never creates one.',
  positionals: true,
  options: {
    ...ENGINE_OPTIONS,
    image: { type: 'string', value: 'FILE', help: 'an image to search by (alone, or with the text)' },
    kind: { type: 'string', multiple: true, value: 'K', help: `only results of this kind: ${FILE_KINDS.join(', ')}` },
    limit: { type: 'string', value: 'N', help: 'at most N results, 1 to 500 (default 20)' },
    'no-rerank': { type: 'boolean', help: 'do not rerank the top results (faster)' },
    json: { type: 'boolean', help: 'print { "results": [{ "path", "kind", "score", "locator" }, …], "mode" } (docs/cli.md)' },
  },
  async run({ values, positionals }) {
    const text = positionals.join(' ').trim();
    if (!text && !values.image) throw new CliUsageError('search needs text, --image FILE, or both. Example: trove search "red chair"');
    const image = values.image === undefined ? undefined : await queryImageFile(path.resolve(values.image));
    const kinds = (values.kind ?? []).map((k) => choiceOption(k, '--kind', FILE_KINDS) as FileKind);
    const limit = integerOption(values.limit, '--limit', { min: 1, max: 500 }, 20);

    const prepared = await prepareEngine(values, { watch: false, readOnly: true });
    // A snapshot, as status: the library as stored (no scan, no indexing), so a search writes nothing.
    const engine = await openTroveEngine({ ...prepared.options, snapshot: true });
    try {
      const status = await assertChosenModelsLoaded(engine, prepared);
      if (status.model.embedding !== null) await waitForSemanticIndex(engine);
      const response = (await dispatchApiCall(engine.handlers, 'search.run', {
        text: text || undefined,
        image,
        filters: kinds.length ? { kinds } : {},
        limit,
        rerank: !values['no-rerank'],
      })) as SearchResponse;
      if (values.json) {
        console.log(
          JSON.stringify({
            results: response.results.map((r) => ({ path: r.path, kind: r.kind, score: r.score, locator: r.locator })),
            mode: response.mode,
          }),
        );
      } else if (response.results.length === 0) {
        console.log(`no results (${response.mode})`);
      } else {
        // Whole percents, as the app shows them and the cut-off compares them (contract/common/relevance.ts).
        for (const r of response.results) console.log(`${formatRelevance(r.score).padStart(4)}  ${r.kind.padEnd(8)} ${r.path}${where(r.locator)}`);
        console.log(`(${response.mode}, ${Math.round(response.tookMs)} ms)`);
      }
    } finally {
      await engine.close();
    }
    return 0;
  },
});

/**
 * The --image file as bytes. The engine reads image paths only inside the library's folders (an
 * HTTP or app caller must not make it read any file); the command line runs as the user, so it
 * reads the file the user names, wherever it is, and sends what it holds.
 */
async function queryImageFile(file: string): Promise<{ dataBase64: string; mime: string }> {
  const info = await stat(file).catch(() => null);
  if (info === null) throw new CliUsageError(`--image: ${file} does not exist.`);
  if (!info.isFile()) throw new CliUsageError(`--image: ${file} is not a file; give an image file.`);
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw new CliFailure(`--image: cannot read ${file}: ${(error as Error).message}. Check that you can read it.`);
  }
  const mime = sniffImageMime(bytes);
  if (!mime.startsWith('image/')) throw new CliUsageError(`--image: ${file} is not an image file (PNG, JPEG, WebP, GIF, TIFF, …); give a picture to search by.`);
  return { dataBase64: bytes.toString('base64'), mime };
}

/** The ANN index opens in the background; a one-shot search waits for it instead of answering by keyword only. */
async function waitForSemanticIndex(engine: TroveEngine): Promise<void> {
  const started = performance.now();
  let told = false;
  for (;;) {
    const { ann } = (await dispatchApiCall(engine.handlers, 'status.get', {})) as Status;
    if (ann.state !== 'loading' && ann.state !== 'building') return;
    if (!told && performance.now() - started > SAY_WAITING_AFTER_MS) {
      console.error(`Waiting for the semantic index to ${ann.state === 'building' ? 'be built' : 'load'}…`);
      told = true;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function where(locator: SearchResponse['results'][number]['locator']): string {
  switch (locator.type) {
    case 'page':
      return ` (page ${locator.page})`;
    case 'time':
      return ` (${locator.start.toFixed(0)}–${locator.end.toFixed(0)} s)`;
    case 'text':
      return `  “${locator.snippet.replace(/\s+/g, ' ').slice(0, 80)}”`;
    default:
      return '';
  }
}
