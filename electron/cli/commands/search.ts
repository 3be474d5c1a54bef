// `trove search`: one query against the index, printed for people or as stable JSON.
import path from 'node:path';
import { existsSync } from 'node:fs';
import { FILE_KINDS, type FileKind, type SearchResponse, type Status } from '../../contract/common/entities.ts';
import { dispatchApiCall } from '../../contract/common/trove-api.ts';
import { openTroveEngine } from '../../engine/app/node/trove-engine.ts';
import type { TroveEngine } from '../../engine/app/node/trove-engine-types.ts';
import { CliUsageError } from '../cli-error.ts';
import { defineCommand } from '../command-line.ts';
import { assertChosenModelsLoaded, ENGINE_OPTIONS, prepareEngine } from '../engine-options.ts';
import { choiceOption, integerOption } from '../option-values.ts';

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
    const image = values.image === undefined ? undefined : path.resolve(values.image);
    if (image !== undefined && !existsSync(image)) throw new CliUsageError(`--image: ${image} does not exist.`);
    const kinds = (values.kind ?? []).map((k) => choiceOption(k, '--kind', FILE_KINDS) as FileKind);
    const limit = integerOption(values.limit, '--limit', { min: 1, max: 500 }, 20);

    const prepared = await prepareEngine(values, { watch: false, readOnly: true });
    const engine = await openTroveEngine(prepared.options);
    try {
      const status = await assertChosenModelsLoaded(engine, prepared);
      if (status.model.embedding !== null) await waitForSemanticIndex(engine);
      const response = (await dispatchApiCall(engine.handlers, 'search.run', {
        text: text || undefined,
        image: image ? { path: image } : undefined,
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
        for (const r of response.results) console.log(`${(r.score * 100).toFixed(1).padStart(5)}%  ${r.kind.padEnd(8)} ${r.path}${where(r.locator)}`);
        console.log(`(${response.mode}, ${Math.round(response.tookMs)} ms)`);
      }
    } finally {
      await engine.close();
    }
    return 0;
  },
});

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
