// The Jinja chat template shipped with the tiny checkpoint, written for this project. It renders
// the strings of docs/qwen3-vl-model.md#embedder-prompt and docs/qwen3-vl-model.md#reranker-prompt for what the official wrappers send:
// messages whose `content` is a string or a list of {type: text|image|video} items, followed by
// `<|im_start|>assistant\n` when add_generation_prompt is set. Each image item becomes
// `<|vision_start|><|image_pad|><|vision_end|>` and each video item the same with
// `<|video_pad|>`; the processor expands the pads afterwards. Every tag trims its surroundings
// (`{%-`, `-%}`), so the output is the same with or without trim_blocks/lstrip_blocks. Tools,
// assistant turns with reasoning and "Picture N:" labels are not part of the search prompts and are
// left out.
export const QWEN3VL_CHAT_TEMPLATE = [
  "{%- set image_tag = '<|vision_start|><|image_pad|><|vision_end|>' -%}",
  "{%- set video_tag = '<|vision_start|><|video_pad|><|vision_end|>' -%}",
  '{%- for message in messages -%}',
  "  {{- '<|im_start|>' + message['role'] + '\\n' -}}",
  "  {%- if message['content'] is string -%}",
  "    {{- message['content'] -}}",
  '  {%- else -%}',
  "    {%- for item in message['content'] -%}",
  "      {%- if item['type'] == 'text' -%}",
  "        {{- item['text'] -}}",
  "      {%- elif item['type'] == 'image' or item['type'] == 'image_url' -%}",
  '        {{- image_tag -}}',
  "      {%- elif item['type'] == 'video' -%}",
  '        {{- video_tag -}}',
  '      {%- endif -%}',
  '    {%- endfor -%}',
  '  {%- endif -%}',
  "  {{- '<|im_end|>\\n' -}}",
  '{%- endfor -%}',
  '{%- if add_generation_prompt -%}',
  "  {{- '<|im_start|>assistant\\n' -}}",
  '{%- endif -%}',
].join('\n');
