// A prompt as an ordered list of parts: special tokens (atomic, known id) and plain text.
// Keeping specials out of the text is what lets user text that happens to contain
// `<|image_pad|>` or `<|im_end|>` stay plain text (see node/qwen-tokenizer.ts).
import { TOKEN } from '../../../../native-models/checkpoint/common/qwen3vl-constants.ts';

export interface SpecialPart {
  readonly kind: 'special';
  readonly id: number;
  /** The token's string in tokenizer.json, used to render the reference prompt string. */
  readonly text: string;
}

export interface TextPart {
  readonly kind: 'text';
  readonly text: string;
}

export type PromptPart = SpecialPart | TextPart;
export type Prompt = readonly PromptPart[];

function special(id: number, text: string): SpecialPart {
  return Object.freeze({ kind: 'special', id, text });
}

/** The special tokens the prompts use; ids and strings are asserted against tokenizer.json at load. */
export const SPECIAL = Object.freeze({
  endOfText: special(TOKEN.endOfText, '<|endoftext|>'),
  imStart: special(TOKEN.imStart, '<|im_start|>'),
  imEnd: special(TOKEN.imEnd, '<|im_end|>'),
  visionStart: special(TOKEN.visionStart, '<|vision_start|>'),
  visionEnd: special(TOKEN.visionEnd, '<|vision_end|>'),
  visionPad: special(TOKEN.visionPad, '<|vision_pad|>'),
  imagePad: special(TOKEN.imagePad, '<|image_pad|>'),
  videoPad: special(TOKEN.videoPad, '<|video_pad|>'),
});

/**
 * The tokenizer's `all_special_ids`: pad/eos plus the 13 `additional_special_tokens`
 * (151643 … 151656). The reranker's truncation keeps exactly these; ids ≥ 151657
 * (`<think>`, `<tool_call>` …) are added tokens but not special.
 */
export const ALL_SPECIAL_IDS: ReadonlySet<number> = new Set(Array.from({ length: 14 }, (_, i) => TOKEN.endOfText + i));

export function textPart(text: string): TextPart {
  return { kind: 'text', text };
}

/** The prompt string the reference renders (specials written as their token strings). */
export function renderPrompt(parts: Prompt): string {
  let out = '';
  for (const part of parts) out += part.text;
  return out;
}

/**
 * Adjacent text parts joined into maximal runs, empty text dropped. The reference tokenises
 * the whole prompt string, so text is split only at special tokens: each maximal run must be
 * tokenised as one unit (e.g. `user\n` + `<0.6 seconds>` before a video), or ids differ.
 */
export function mergeTextRuns(parts: Prompt): PromptPart[] {
  const out: PromptPart[] = [];
  let run = '';
  for (const part of parts) {
    if (part.kind === 'text') {
      run += part.text;
      continue;
    }
    if (run.length > 0) out.push(textPart(run));
    run = '';
    out.push(part);
  }
  if (run.length > 0) out.push(textPart(run));
  return out;
}
