// `trove rerank`: scores documents against a query with a reranker model package. The `--json`
// shape is a stable interface (docs/cli.md).
import path from 'node:path';
import { CliUsageError } from '../command-line/cli-error.ts';
import { defineCommand, type OptionOccurrence } from '../command-line/command-line.ts';
import { checkPackageArgument } from './engine-options.ts';
import type { EmbedInput } from '../../../engine/model-inputs/node/embed-inputs.ts';
import { ModelClient } from '../../../engine/inference/node/runtime/model-client.ts';

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
export function documentsFromTokens(tokens: readonly OptionOccurrence[]): EmbedInput[] {
  const documents: MutableSide[] = [];
  for (const token of tokens) {
    if (token.value === undefined) continue;
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

export const rerankCommand = defineCommand({
  name: 'rerank',
  summary: 'Score documents against a query with a reranker model package (scores in [0, 1]).',
  usage: '--query-text Q [--query-image FILE]… --doc-text D | --doc-image FILE | --doc-video FILE … --model PKG [options]',
  description:
    'Documents: every --doc-text, --doc-image or --doc-video starts a new document; --with-text,\n' +
    '--with-image and --with-video add to the document just started (e.g. an image and its caption).',
  options: {
    'query-text': { type: 'string', multiple: true, value: 'T', help: 'query text (joined with no separator)' },
    'query-image': { type: 'string', multiple: true, value: 'FILE', help: 'query image' },
    'query-video': { type: 'string', multiple: true, value: 'FILE', help: 'query video' },
    'doc-text': { type: 'string', multiple: true, value: 'T', help: 'starts a document with this text' },
    'doc-image': { type: 'string', multiple: true, value: 'FILE', help: 'starts a document with this image' },
    'doc-video': { type: 'string', multiple: true, value: 'FILE', help: 'starts a document with this video' },
    'with-text': { type: 'string', multiple: true, value: 'T', help: 'adds text to the document started last' },
    'with-image': { type: 'string', multiple: true, value: 'FILE', help: 'adds an image to the document started last' },
    'with-video': { type: 'string', multiple: true, value: 'FILE', help: 'adds a video to the document started last' },
    instruction: { type: 'string', value: 'I', help: 'task instruction (default "Given a search query, retrieve relevant candidates that answer the query.")' },
    model: { type: 'string', value: 'PKG', help: 'a reranker model package (trove model build … --kind reranker); else TROVE_RERANK_MODEL' },
    'fast-images': { type: 'boolean', help: 'shrink large photos on load before the exact resize' },
    json: { type: 'boolean', help: 'machine-readable output: {"scores": [...]}' },
  },
  async run({ values, occurrences }) {
    const modelFrom = values.model !== undefined ? '--model' : 'TROVE_RERANK_MODEL';
    values.model ??= process.env.TROVE_RERANK_MODEL || undefined;
    if (!values.model) throw new CliUsageError('rerank needs --model DIR (or TROVE_RERANK_MODEL): a reranker model package built with trove model build … --kind reranker.');
    const query: EmbedInput = {
      texts: values['query-text'] ?? [],
      images: (values['query-image'] ?? []).map((p) => path.resolve(p)),
      videos: (values['query-video'] ?? []).map((p) => path.resolve(p)),
    };
    if (query.texts!.length + query.images!.length + query.videos!.length === 0) throw new CliUsageError('rerank needs a query: --query-text, --query-image or --query-video.');
    const documents = documentsFromTokens(occurrences);
    if (documents.length === 0) throw new CliUsageError('rerank needs at least one document: --doc-text, --doc-image or --doc-video (each starts a new document).');

    await checkPackageArgument({ dir: path.resolve(values.model), from: modelFrom }, 'reranker', { otherOption: false });
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
  },
});
