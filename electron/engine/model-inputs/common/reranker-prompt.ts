// The reranker's conversation (docs/qwen3-vl-model.md#reranker-prompt): fixed system text, then
// `<Instruct>: {instruction}<Query>:{query}\n<Document>:{document}` as one user message.
import { DEFAULT_RERANK_INSTRUCTION, RERANK_SYSTEM_PROMPT } from '../../../../native-models/checkpoint/common/qwen3vl-constants.ts';
import { textPart, type PromptPart } from './prompt-segments.ts';
import { chatPrompt, contentParts, type MultimodalContent } from './embedder-prompt.ts';

export interface RerankerInput {
  /** Used verbatim (no punctuation rule, no strip); missing or empty → the default instruction. */
  readonly instruction?: string;
  readonly query: MultimodalContent;
  readonly document: MultimodalContent;
}

/** The reranker prompt with one unexpanded placeholder per image/video. */
export function rerankerPrompt(input: RerankerInput): PromptPart[] {
  const instruction = input.instruction || DEFAULT_RERANK_INSTRUCTION;
  return chatPrompt(RERANK_SYSTEM_PROMPT, [
    textPart(`<Instruct>: ${instruction}`),
    textPart('<Query>:'),
    ...contentParts(input.query),
    textPart('\n<Document>:'),
    ...contentParts(input.document),
  ]);
}
