// Which repo files a pull fetches: an allow-list of glob patterns matched against whole repo
// paths. `*` and `?` stay inside one folder level, `**` crosses levels, so `*.safetensors` takes
// the top-level weights and not, say, an `onnx/` or `1_Pooling/` subfolder's files.

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

function globToRegExp(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      // `**/` matches zero or more folders; a bare `**` anything at all.
      if (glob[i + 2] === '/') {
        out += '(?:.*/)?';
        i += 2;
      } else {
        out += '.*';
        i += 1;
      }
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

/** A predicate for repo paths from allow-list patterns. */
export function fileMatcher(patterns: readonly string[]): (file: string) => boolean {
  const regexps = patterns.map(globToRegExp);
  return (file) => regexps.some((r) => r.test(file));
}
