// The Qwen2/Qwen3 byte-level BPE tokenizer of a checkpoint directory, loaded once per directory.
//
// Deliberate deviation from the reference: text parts are tokenised with a tokenizer whose
// *special* added tokens (151643–151656) are removed, so text from users or files that happens to
// contain `<|image_pad|>` or `<|im_end|>` is tokenised as the plain characters it is. The reference
// matches those strings as special tokens and then fails placeholder counting (or silently ends
// the turn); here such files index. Special tokens enter only as special prompt parts.
// Non-special added tokens (ids ≥ 151657, e.g. `<think>`) stay matched inside text, as in the
// reference. For any text without special-token strings the ids are identical to the reference.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { ALL_SPECIAL_IDS, SPECIAL, mergeTextRuns, type Prompt } from '../common/prompt-segments.ts';
import { NO_TOKEN_ID, YES_TOKEN_ID } from '../../../../native-models/checkpoint/common/qwen3vl-constants.ts';

/** The reranker's answer tokens (`get_vocab()["yes"]`, `["no"]`); the exported score head bakes these rows. */

export interface QwenTokenizer {
  /** Where tokenizer.json was read from (for error messages). */
  readonly source: string;
  readonly yesId: number;
  readonly noId: number;
  /** Special parts → their ids; each maximal text run → BPE ids (special-token strings stay text). */
  encode(parts: Prompt): number[];
  /** One text run; special-token strings inside it are tokenised as plain text. */
  encodeText(text: string): number[];
  /** Ids back to a string, special tokens written as their token strings (for debugging). */
  decode(ids: readonly number[]): string;
}

interface AddedTokenJson {
  id: number;
  content: string;
  special?: boolean;
}

interface TokenizerJson {
  added_tokens: AddedTokenJson[];
  [key: string]: unknown;
}

function asTokenizerJson(value: unknown, source: string): TokenizerJson {
  const json = value as Partial<TokenizerJson> | null;
  if (typeof json !== 'object' || json === null || !Array.isArray(json.added_tokens) || typeof json.model !== 'object') {
    throw new Error(`${source} is not a Hugging Face tokenizer.json (no "model" / "added_tokens"); copy tokenizer.json from the model's Hugging Face repository`);
  }
  return json as TokenizerJson;
}

/** Throws unless the file's special tokens are exactly the Qwen3-VL ones the prompts and graphs assume. */
function assertSpecialTokens(json: TokenizerJson, source: string): Map<number, string> {
  const specials = new Map<number, string>();
  for (const token of json.added_tokens) if (token.special === true) specials.set(token.id, token.content);
  for (const expected of Object.values(SPECIAL)) {
    const found = json.added_tokens.find((token) => token.id === expected.id);
    if (found === undefined || found.content !== expected.text || found.special !== true) {
      const actual = found === undefined ? 'missing' : `"${found.content}"${found.special === true ? '' : ' (not special)'}`;
      throw new Error(`${source}: special token id ${expected.id} should be "${expected.text}" but is ${actual}; this is not a Qwen3-VL vocabulary — use the tokenizer.json shipped with the Qwen3-VL-Embedding/Reranker checkpoint`);
    }
  }
  const unexpected = [...specials.keys()].filter((id) => !ALL_SPECIAL_IDS.has(id));
  const absent = [...ALL_SPECIAL_IDS].filter((id) => !specials.has(id));
  if (unexpected.length > 0 || absent.length > 0) {
    throw new Error(`${source}: special token ids differ from Qwen3-VL's 151643–151656 (unexpected: [${unexpected.join(', ')}], absent: [${absent.join(', ')}]); the reranker's special-preserving truncation would be wrong — use the checkpoint's own tokenizer.json`);
  }
  return specials;
}

function assertAnswerToken(tokenizer: Tokenizer, token: string, expected: number, source: string): number {
  const id = tokenizer.token_to_id(token);
  if (id !== expected) {
    throw new Error(`${source}: token "${token}" has id ${id ?? 'missing'}, expected ${expected}; the reranker's yes/no score head assumes the Qwen3 vocabulary — re-export the reranker with this tokenizer's ids`);
  }
  return id;
}

/** Builds the tokenizer from parsed tokenizer.json / tokenizer_config.json; `source` names the file in errors. */
export function createQwenTokenizer(tokenizerJson: unknown, tokenizerConfig: unknown, source: string): QwenTokenizer {
  const json = asTokenizerJson(tokenizerJson, source);
  const specials = assertSpecialTokens(json, source);
  const config = (typeof tokenizerConfig === 'object' && tokenizerConfig !== null ? tokenizerConfig : {}) as Record<string, unknown>;
  // Same vocabulary, merges, normaliser and pre-tokeniser; only the special added tokens are
  // dropped from the matcher (ids of everything else are unchanged).
  const textTokenizer = new Tokenizer(
    { ...json, added_tokens: json.added_tokens.filter((token) => token.special !== true) },
    { ...config, additional_special_tokens: [] },
  );
  const yesId = assertAnswerToken(textTokenizer, 'yes', YES_TOKEN_ID, source);
  const noId = assertAnswerToken(textTokenizer, 'no', NO_TOKEN_ID, source);

  const encodeText = (text: string): number[] => (text.length === 0 ? [] : textTokenizer.encode(text, { add_special_tokens: false }).ids);

  return {
    source,
    yesId,
    noId,
    encodeText,
    encode(parts: Prompt): number[] {
      const ids: number[] = [];
      for (const part of mergeTextRuns(parts)) {
        if (part.kind === 'text') {
          for (const id of encodeText(part.text)) ids.push(id);
        } else {
          if (specials.get(part.id) !== part.text) {
            throw new Error(`special part "${part.text}" has id ${part.id}, but ${source} gives that id to ${specials.get(part.id) ?? 'no special token'}`);
          }
          ids.push(part.id);
        }
      }
      return ids;
    },
    decode(ids: readonly number[]): string {
      let out = '';
      let run: number[] = [];
      const flush = (): void => {
        if (run.length > 0) out += textTokenizer.decode(run, { skip_special_tokens: false });
        run = [];
      };
      for (const id of ids) {
        const special = specials.get(id);
        if (special === undefined) {
          run.push(id);
        } else {
          flush();
          out += special;
        }
      }
      flush();
      return out;
    },
  };
}

const cache = new Map<string, Promise<QwenTokenizer>>();

async function readJson(file: string, required: boolean): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (!required && (error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new Error(`cannot read ${file}: ${(error as Error).message}; the model directory must contain the checkpoint's tokenizer.json and tokenizer_config.json`, { cause: error });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`${file} is not valid JSON (${(error as Error).message}); re-copy it from the model's repository`, { cause: error });
  }
}

/**
 * Loads `tokenizer.json` (+ `tokenizer_config.json` if present) from a model directory; one
 * instance per resolved directory (loading takes about a second).
 */
export function loadQwenTokenizer(directory: string): Promise<QwenTokenizer> {
  const dir = path.resolve(directory);
  let pending = cache.get(dir);
  if (pending === undefined) {
    pending = (async () => {
      const source = path.join(dir, 'tokenizer.json');
      const [json, config] = await Promise.all([readJson(source, true), readJson(path.join(dir, 'tokenizer_config.json'), false)]);
      return createQwenTokenizer(json, config, source);
    })();
    cache.set(dir, pending);
    pending.catch(() => cache.delete(dir));
  }
  return pending;
}
