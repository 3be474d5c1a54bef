import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeEmbedInstruction, pythonStrip, embedderPrompt, contentParts } from '../../../electron/engine/model-inputs/common/embedder-prompt.ts';
import { rerankerPrompt } from '../../../electron/engine/model-inputs/common/reranker-prompt.ts';
import { expandVisionPlaceholders } from '../../../electron/engine/model-inputs/common/placeholder-expansion.ts';
import { mergeTextRuns, renderPrompt, SPECIAL, textPart } from '../../../electron/engine/model-inputs/common/prompt-segments.ts';
import { DEFAULT_EMBED_INSTRUCTION, DEFAULT_RERANK_INSTRUCTION, RERANK_SYSTEM_PROMPT } from '../../../native-models/checkpoint/common/qwen3vl-constants.ts';

const IMAGE = '<|vision_start|><|image_pad|><|vision_end|>';
const VIDEO = '<|vision_start|><|video_pad|><|vision_end|>';
const text = (texts: string[], imageCount = 0, videoCount = 0) => ({ texts, imageCount, videoCount });

test('instruction without final punctuation gets a full stop', () => {
  assert.equal(normalizeEmbedInstruction('Find the picture'), 'Find the picture.');
  assert.equal(normalizeEmbedInstruction('  Find the picture \n'), 'Find the picture.');
});

test('instruction ending in any P* code point is kept as is', () => {
  for (const s of ['Is this a cat?', '找一张图片。', 'Quote «this»', 'List (a)', 'Wait…', 'Item-']) {
    assert.equal(normalizeEmbedInstruction(s), s, s);
  }
});

test('instruction ending in a symbol (S*) or emoji gets a full stop', () => {
  assert.equal(normalizeEmbedInstruction('Costs in $'), 'Costs in $.');
  assert.equal(normalizeEmbedInstruction('Find cats 😺'), 'Find cats 😺.');
  assert.equal(normalizeEmbedInstruction('a + b ='), 'a + b =.');
});

test('missing, empty or whitespace-only instruction → default', () => {
  assert.equal(normalizeEmbedInstruction(undefined), DEFAULT_EMBED_INSTRUCTION);
  assert.equal(normalizeEmbedInstruction(''), DEFAULT_EMBED_INSTRUCTION);
  assert.equal(normalizeEmbedInstruction(' \t\n\u3000\x85'), DEFAULT_EMBED_INSTRUCTION);
});

test('strip uses Python whitespace, not JS trim', () => {
  assert.equal(pythonStrip('\x1c\x1f hi \x85'), 'hi');
  assert.equal(pythonStrip('\ufeffhi\ufeff'), '\ufeffhi\ufeff'); // U+FEFF is not Python whitespace
  assert.equal(normalizeEmbedInstruction('\ufeffFind'), '\ufeffFind.');
});

test('embedder prompt: the embedding_vllm notebook text example renders exactly', () => {
  const parts = embedderPrompt({ instruction: "Retrieve images or text relevant to the user's query.", ...text(['A woman playing with her dog on a beach at sunset.']) });
  assert.equal(
    renderPrompt(parts),
    "<|im_start|>system\nRetrieve images or text relevant to the user's query.<|im_end|>\n<|im_start|>user\nA woman playing with her dog on a beach at sunset.<|im_end|>\n<|im_start|>assistant\n",
  );
});

test('content order: videos, then images, then texts joined without separator', () => {
  const parts = embedderPrompt({ instruction: 'Find', ...text(['one', 'two'], 2, 1) });
  assert.equal(
    renderPrompt(parts),
    `<|im_start|>system\nFind.<|im_end|>\n<|im_start|>user\n${VIDEO}${IMAGE}${IMAGE}onetwo<|im_end|>\n<|im_start|>assistant\n`,
  );
});

test('nothing at all → NULL; an empty text is still a text item', () => {
  assert.equal(renderPrompt(contentParts(text([]))), 'NULL');
  assert.equal(renderPrompt(contentParts(text(['']))), '');
  assert.equal(renderPrompt(contentParts(text([], 1))), IMAGE);
  assert.equal(
    renderPrompt(embedderPrompt(text([]))),
    `<|im_start|>system\n${DEFAULT_EMBED_INSTRUCTION}<|im_end|>\n<|im_start|>user\nNULL<|im_end|>\n<|im_start|>assistant\n`,
  );
  assert.throws(() => contentParts(text([], -1)), /imageCount/);
});

test('reranker layout is exact', () => {
  const parts = rerankerPrompt({ instruction: 'Retrieve relevant text.', query: text(['cat on a mat']), document: text(['a cat'], 1) });
  assert.equal(
    renderPrompt(parts),
    `<|im_start|>system\n${RERANK_SYSTEM_PROMPT}<|im_end|>\n<|im_start|>user\n<Instruct>: Retrieve relevant text.<Query>:cat on a mat\n<Document>:${IMAGE}a cat<|im_end|>\n<|im_start|>assistant\n`,
  );
  assert.equal(RERANK_SYSTEM_PROMPT, 'Judge whether the Document meets the requirements based on the Query and the Instruct provided. Note that the answer can only be "yes" or "no".');
});

test('reranker: default instruction, no punctuation rule, NULL sides', () => {
  const parts = rerankerPrompt({ query: text([]), document: text([], 0, 1) });
  assert.equal(
    renderPrompt(parts),
    `<|im_start|>system\n${RERANK_SYSTEM_PROMPT}<|im_end|>\n<|im_start|>user\n<Instruct>: ${DEFAULT_RERANK_INSTRUCTION}<Query>:NULL\n<Document>:${VIDEO}<|im_end|>\n<|im_start|>assistant\n`,
  );
  assert.match(renderPrompt(rerankerPrompt({ instruction: '', query: text(['q']), document: text(['d']) })), /<Instruct>: Given a search query/);
  assert.match(renderPrompt(rerankerPrompt({ instruction: 'no stop ', query: text(['q']), document: text(['d']) })), /<Instruct>: no stop <Query>:q/);
});

test('mergeTextRuns joins adjacent text and drops empty text', () => {
  const merged = mergeTextRuns([textPart('a'), textPart(''), textPart('b'), SPECIAL.imEnd, textPart(''), SPECIAL.imStart, textPart('c')]);
  assert.deepEqual(merged, [textPart('ab'), SPECIAL.imEnd, SPECIAL.imStart, textPart('c')]);
});

test('image placeholder expands to t·h·w/4 pads', () => {
  const parts = expandVisionPlaceholders(contentParts(text(['x'], 2)), [[1, 4, 6], [1, 2, 2]], []);
  assert.equal(renderPrompt(parts), `<|vision_start|>${'<|image_pad|>'.repeat(6)}<|vision_end|><|vision_start|><|image_pad|><|vision_end|>x`);
});

test('video placeholder expands per temporal group with timestamps', () => {
  const parts = expandVisionPlaceholders(contentParts(text(['t'], 1, 1)), [[1, 2, 2]], [{ grid: [2, 4, 4], timestamps: ['0.2', '1.2'] }]);
  const group = `<|vision_start|>${'<|video_pad|>'.repeat(4)}<|vision_end|>`;
  assert.equal(renderPrompt(parts), `<0.2 seconds>${group}<1.2 seconds>${group}${IMAGE}t`);
});

test('expansion validates counts, grids and timestamps', () => {
  const one = contentParts(text([], 1));
  assert.throws(() => expandVisionPlaceholders(one, [], []), /more image placeholders/);
  assert.throws(() => expandVisionPlaceholders(one, [[1, 2, 2], [1, 2, 2]], []), /2 image grid\(s\) given but the prompt has 1/);
  assert.throws(() => expandVisionPlaceholders(one, [[1, 3, 2]], []), /divisible by 2/);
  const video = contentParts(text([], 0, 1));
  assert.throws(() => expandVisionPlaceholders(video, [], [{ grid: [2, 2, 2], timestamps: ['0.2'] }]), /1 timestamps given for grid_t = 2/);
  assert.throws(() => expandVisionPlaceholders([SPECIAL.imagePad], [], []), /not inside/);
});

test('pad strings inside user text are not placeholders', () => {
  const parts = expandVisionPlaceholders(contentParts(text([IMAGE])), [], []);
  assert.equal(renderPrompt(parts), IMAGE);
  assert.ok(parts.every((p) => p.kind === 'text'));
});
