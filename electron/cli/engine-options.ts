// Options every engine-backed command shares: where the data lives and which model packages run.
import type { ParseArgsConfig } from 'node:util';
import path from 'node:path';
import type { EngineOptions } from '../engine/app/node/trove-engine-types.ts';
import { resolveDataDir } from '../engine/store/node/data-dir.ts';

export const ENGINE_ARG_OPTIONS = {
  data: { type: 'string' },
  model: { type: 'string' },
  reranker: { type: 'string' },
} satisfies NonNullable<ParseArgsConfig['options']>;

export function engineOptionsFrom(values: { data?: string; model?: string; reranker?: string }, watch: boolean): EngineOptions {
  const model = values.model ?? process.env.TROVE_MODEL;
  const reranker = values.reranker ?? process.env.TROVE_RERANKER;
  return {
    dataDir: resolveDataDir(values.data),
    embeddingModel: model ? path.resolve(model) : null,
    rerankerModel: reranker ? path.resolve(reranker) : null,
    watch,
  };
}
