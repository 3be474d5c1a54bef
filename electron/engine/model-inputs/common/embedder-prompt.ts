// The embedder's conversation and chat-template rendering (docs/qwen3-vl-model.md#embedder-prompt), built as prompt
// parts directly instead of running a Jinja engine. Vision items are single placeholders here;
// placeholder-expansion.ts turns them into the per-grid pad runs.
import { DEFAULT_EMBED_INSTRUCTION } from '../../../../native-models/checkpoint/common/qwen3vl-constants.ts';
import { SPECIAL, textPart, type PromptPart } from './prompt-segments.ts';

/** One side of an input: how many videos and images it carries, and its texts. */
export interface MultimodalContent {
  readonly texts: readonly string[];
  readonly imageCount: number;
  readonly videoCount: number;
}

/**
 * Python `str.isspace()` characters, which `str.strip()` removes. JS `trim()` differs: it also
 * strips U+FEFF, and keeps U+001C–U+001F and U+0085.
 */
const PYTHON_WHITESPACE = '\t\n\v\f\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000';

/** Python `str.strip()` with no arguments. */
export function pythonStrip(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && PYTHON_WHITESPACE.includes(text[start]!)) start++;
  while (end > start && PYTHON_WHITESPACE.includes(text[end - 1]!)) end--;
  return text.slice(start, end);
}

/** Last code point is Unicode category P* (Python `unicodedata.category(s[-1]).startswith('P')`). */
const ENDS_WITH_PUNCTUATION = /\p{P}$/u;

/**
 * The embedder's instruction rule: strip; if non-empty and the last code point is not
 * punctuation, append "."; empty or missing → the default (already punctuated).
 */
export function normalizeEmbedInstruction(instruction: string | undefined): string {
  const stripped = instruction === undefined ? '' : pythonStrip(instruction);
  if (stripped.length === 0) return DEFAULT_EMBED_INSTRUCTION;
  return ENDS_WITH_PUNCTUATION.test(stripped) ? stripped : `${stripped}.`;
}

function assertCount(name: string, count: number): void {
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`${name} must be a non-negative integer, got ${count}`);
}

/**
 * User content in the wrappers' order: all videos, then all images, then the texts (joined
 * with no separator); a lone "NULL" when there is nothing at all. An empty string still counts
 * as a text item (the wrappers wrap a `str` into a one-element list), so it renders as nothing.
 */
export function contentParts(content: MultimodalContent): PromptPart[] {
  assertCount('videoCount', content.videoCount);
  assertCount('imageCount', content.imageCount);
  if (content.texts.length === 0 && content.imageCount === 0 && content.videoCount === 0) return [textPart('NULL')];
  const parts: PromptPart[] = [];
  for (let i = 0; i < content.videoCount; i++) parts.push(SPECIAL.visionStart, SPECIAL.videoPad, SPECIAL.visionEnd);
  for (let i = 0; i < content.imageCount; i++) parts.push(SPECIAL.visionStart, SPECIAL.imagePad, SPECIAL.visionEnd);
  for (const text of content.texts) parts.push(textPart(text));
  return parts;
}

/**
 * The chat template with a system and a user message and `add_generation_prompt=True`:
 * `<|im_start|>system\n{system}<|im_end|>\n<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n`.
 */
export function chatPrompt(systemText: string, userParts: readonly PromptPart[]): PromptPart[] {
  return [
    SPECIAL.imStart,
    textPart(`system\n${systemText}`),
    SPECIAL.imEnd,
    textPart('\n'),
    SPECIAL.imStart,
    textPart('user\n'),
    ...userParts,
    SPECIAL.imEnd,
    textPart('\n'),
    SPECIAL.imStart,
    textPart('assistant\n'),
  ];
}

export interface EmbedderInput extends MultimodalContent {
  /** Task instruction; the punctuation rule applies, missing/blank → "Represent the user's input." */
  readonly instruction?: string;
}

/** The embedder prompt with one unexpanded placeholder per image/video (docs/qwen3-vl-model.md#embedder-prompt). */
export function embedderPrompt(input: EmbedderInput): PromptPart[] {
  return chatPrompt(normalizeEmbedInstruction(input.instruction), contentParts(input));
}
