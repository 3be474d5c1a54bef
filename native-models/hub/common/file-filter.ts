// Which repo files a pull fetches: an allow-list of repo paths or glob patterns, in Trove's one
// glob rule set (engine/base/common/glob-pattern.ts, docs/cli.md#include-and-exclude-patterns).
// Each entry is a path from the repo's root, read as if it started with `/`: an exact path such as
// `config.json` is that file and not `1_Pooling/config.json`, and `*.safetensors` takes the
// top-level weights, not an `onnx/` subfolder's; `**/` reaches into folders.
import { compileGlob } from '../../../electron/engine/base/common/glob-pattern.ts';

/**
 * What the package builder reads from a Qwen3-VL-Embedding / -Reranker checkpoint: config,
 * weights (+ shard index), tokenizer, chat template and pre-processor settings. The optional ones
 * are simply skipped when the repo lacks them.
 */
export const QWEN3VL_CHECKPOINT_FILES: readonly string[] = [
  'config.json',
  '*.safetensors',
  'model.safetensors.index.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'vocab.json',
  'merges.txt',
  'special_tokens_map.json',
  'added_tokens.json',
  'chat_template.json',
  'chat_template.jinja',
  'preprocessor_config.json',
  'video_preprocessor_config.json',
  'generation_config.json',
];

/** A predicate for repo paths from allow-list patterns. */
export function fileMatcher(patterns: readonly string[]): (file: string) => boolean {
  const regexps = patterns.map((pattern) => compileGlob(pattern.startsWith('/') ? pattern : `/${pattern}`));
  return (file) => regexps.some((r) => r.test(file));
}
