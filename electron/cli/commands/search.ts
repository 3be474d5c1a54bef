// `trove search`: one query against the index, printed for people or as stable JSON.
import { parseArgs } from 'node:util';
import path from 'node:path';
import { FILE_KINDS, type FileKind, type SearchResponse } from '../../contract/common/entities.ts';
import { dispatchApiCall } from '../../contract/common/trove-api.ts';
import { openTroveEngine } from '../../engine/app/node/trove-engine.ts';
import { CliUsageError } from '../cli-error.ts';
import { ENGINE_ARG_OPTIONS, engineOptionsFrom } from '../engine-options.ts';

const HELP = `Usage: trove search "<text>" [--image FILE] [--kind K]… [--limit N] [--no-rerank] [--json]
                    [--data DIR] [--model PKG] [--reranker PKG]

--json prints { "results": [{ "path", "kind", "score", "locator" }, …], "mode" } (docs/cli.md).`;

export async function runSearch(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...ENGINE_ARG_OPTIONS,
      image: { type: 'string' },
      kind: { type: 'string', multiple: true },
      limit: { type: 'string' },
      'no-rerank': { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const text = positionals.join(' ').trim();
  if (!text && !values.image) throw new CliUsageError('search needs text, --image FILE, or both. Example: trove search "red chair"');
  const kinds = (values.kind ?? []).map((k) => {
    if (!(FILE_KINDS as readonly string[]).includes(k)) throw new CliUsageError(`--kind must be one of ${FILE_KINDS.join(', ')}, got '${k}'.`);
    return k as FileKind;
  });
  const limit = values.limit === undefined ? 20 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new CliUsageError(`--limit must be an integer from 1 to 500, got '${values.limit}'.`);

  const engine = await openTroveEngine(engineOptionsFrom(values, false));
  try {
    const response = (await dispatchApiCall(engine.handlers, 'search.run', {
      text: text || undefined,
      image: values.image ? { path: path.resolve(values.image) } : undefined,
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
