// `trove rerank`: scores documents against a query with a reranker model package. The `--json`
// shape is a stable interface (docs/cli.md).
import { parseArgs } from 'node:util';
import path from 'node:path';
import { CliUsageError } from '../cli-error.ts';
import type { EmbedInput } from '../../engine/models/node/embed-inputs.ts';
import { ModelClient } from '../../engine/models/node/runtime/model-client.ts';

const HELP = `Usage: trove rerank --query-text Q [--query-image FILE] [--query-video FILE]
                    --doc-text D | --doc-image FILE | --doc-video FILE …
                    --model PACKAGE [--instruction I] [--json]

Documents: every --doc-text, --doc-image or --doc-video starts a new document; --with-text,
--with-image and --with-video add to the document just started (e.g. an image and its caption).

Options:
  --query-text T     query text (repeatable; joined with no separator)
  --query-image FILE query image (repeatable)
  --query-video FILE query video (repeatable)
  --instruction I    task instruction (default "Given a search query, retrieve relevant candidates that answer the query.")
  --model DIR        a reranker model package (trove model build … --kind reranker); or TROVE_RERANK_MODEL
  --fast-images      shrink large photos on load before the exact resize
  --json             machine-readable output: {"scores": [...]}`;

type Field = 'texts' | 'images' | 'videos';
const DOC_OPTIONS: Record<string, Field> = { 'doc-text': 'texts', 'doc-image': 'images', 'doc-video': 'videos' };
const WITH_OPTIONS: Record<string, Field> = { 'with-text': 'texts', 'with-image': 'images', 'with-video': 'videos' };

interface MutableSide {
  texts: string[];
  images: string[];
  videos: string[];
}

const emptySide = (): MutableSide => ({ texts: [], images: [], videos: [] });
const resolveMedia = (field: Field, value: string): string => (field === 'texts' ? value : path.resolve(value));

/** The documents in command-line order, by the rule in HELP. */
export function documentsFromTokens(tokens: readonly { kind: string; name?: string; value?: string }[]): EmbedInput[] {
  const documents: MutableSide[] = [];
  for (const token of tokens) {
    if (token.kind !== 'option' || token.name === undefined || token.value === undefined) continue;
    const starts = DOC_OPTIONS[token.name];
    const adds = WITH_OPTIONS[token.name];
    if (starts !== undefined) {
      const document = emptySide();
      document[starts].push(resolveMedia(starts, token.value));
      documents.push(document);
    } else if (adds !== undefined) {
      const last = documents.at(-1);
      if (last === undefined) throw new CliUsageError(`--${token.name} adds to the previous document, but no --doc-text, --doc-image or --doc-video came before it.`);
      last[adds].push(resolveMedia(adds, token.value));
    }
  }
  return documents;
}

export async function runRerank(argv: string[]): Promise<number> {
  const { values, tokens } = parseArgs({
    args: argv,
    options: {
      'query-text': { type: 'string', multiple: true },
      'query-image': { type: 'string', multiple: true },
      'query-video': { type: 'string', multiple: true },
      'doc-text': { type: 'string', multiple: true },
      'doc-image': { type: 'string', multiple: true },
      'doc-video': { type: 'string', multiple: true },
      'with-text': { type: 'string', multiple: true },
      'with-image': { type: 'string', multiple: true },
      'with-video': { type: 'string', multiple: true },
      instruction: { type: 'string' },
      model: { type: 'string', default: process.env.TROVE_RERANK_MODEL },
      'fast-images': { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    tokens: true,
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (!values.model) throw new CliUsageError('rerank needs --model DIR (or TROVE_RERANK_MODEL): a reranker model package built with trove model build … --kind reranker.');
  const query: EmbedInput = {
    texts: values['query-text'] ?? [],
    images: (values['query-image'] ?? []).map((p) => path.resolve(p)),
    videos: (values['query-video'] ?? []).map((p) => path.resolve(p)),
  };
  if (query.texts!.length + query.images!.length + query.videos!.length === 0) throw new CliUsageError('rerank needs a query: --query-text, --query-image or --query-video.');
  const documents = documentsFromTokens(tokens);
  if (documents.length === 0) throw new CliUsageError('rerank needs at least one document: --doc-text, --doc-image or --doc-video (each starts a new document).');

  const client = await ModelClient.start({ rerankerPackage: path.resolve(values.model), fastImages: values['fast-images'] });
  try {
    const scores = await client.rerank(query, documents, { instruction: values.instruction });
    if (values.json) {
      console.log(JSON.stringify({ scores }));
    } else {
      console.error(client.providers.reranker?.statement ?? '');
      documents.forEach((d, i) => {
        const label = [...(d.videos ?? []).map((v) => path.basename(typeof v === 'string' ? v : v.path)), ...(d.images ?? []).map((p) => path.basename(String(p))), ...(d.texts ?? [])].join(' + ');
        console.log(`${scores[i]!.toFixed(4)}  ${i + 1}: ${label.length > 70 ? `${label.slice(0, 69)}…` : label}`);
      });
    }
  } finally {
    await client.close();
  }
  return 0;
}
