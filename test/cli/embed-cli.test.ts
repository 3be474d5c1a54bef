// The `trove` CLI end to end as a user runs it: write the tiny checkpoint, then ask what the
// embedder receives for text + image + video. Expected values are derived here from the rules
// of docs/qwen3-vl-model.md, not taken from the implementation.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, rm, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';

const run = promisify(execFile);
const TROVE = path.resolve('bin/trove.js');
let dir = '';
let model = '';

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'trove-cli-'));
  model = path.join(dir, 'tiny');
  const { stdout } = await run(process.execPath, [TROVE, 'model', 'tiny', '--out', model]);
  assert.match(stdout, /wrote tiny embedding checkpoint/);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function embedJson(args: string[]) {
  const { stdout } = await run(process.execPath, [TROVE, 'embed', '--model', model, '--inputs-only', '--json', ...args]);
  return JSON.parse(stdout);
}

test('model tiny writes the hub layout', async () => {
  const files = (await readdir(model)).sort();
  for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'preprocessor_config.json']) {
    assert.ok(files.includes(f), `${f} missing from ${files.join(', ')}`);
  }
});

test('text only: the reference prompt and its fixed token ids', async () => {
  const out = await embedJson(['--text', 'hello world', '--instruction', 'Find the picture']);
  assert.equal(out.prompt, '<|im_start|>system\nFind the picture.<|im_end|>\n<|im_start|>user\nhello world<|im_end|>\n<|im_start|>assistant\n');
  // <|im_start|> system \n … ; the tail <|im_end|> \n <|im_start|> assistant \n
  assert.deepEqual(out.input_ids.slice(0, 3), [151644, 8948, 198]);
  assert.deepEqual(out.input_ids.slice(-5), [151645, 198, 151644, 77091, 198]);
  assert.deepEqual(out.images, []);
  assert.deepEqual(out.videos, []);
});

test('text + 1280×720 image: half-even smart_resize and one pad per merged patch', async () => {
  const file = path.join(dir, 'wide.png');
  await sharp({ create: { width: 1280, height: 720, channels: 3, background: { r: 10, g: 120, b: 200 } } }).png().toFile(file);
  const out = await embedJson(['--text', 'a blue wall', '--image', file]);
  // 720/32 = 22.5 → Python round → 22 → 704 (Math.round would give 736).
  assert.deepEqual(out.images, [{ original: [720, 1280], resized: [704, 1280], grid_thw: [1, 44, 80] }]);
  const pads = out.input_ids.filter((id: number) => id === 151655).length;
  assert.equal(pads, (44 * 80) / 4);
  // Image before text, wrapped in vision_start/vision_end.
  const start = out.input_ids.indexOf(151652);
  assert.equal(out.input_ids[start + 1], 151655);
  assert.equal(out.input_ids[start + 1 + pads], 151653);
  assert.ok(out.prompt.endsWith('<|vision_end|>a blue wall<|im_end|>\n<|im_start|>assistant\n'));
});

test('3 s video at 10 fps: four frames, two temporal groups, Python-formatted timestamps', async () => {
  const file = path.join(dir, 'clip.mp4');
  await run('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=10:duration=3', '-pix_fmt', 'yuv420p', '-y', file]);
  const out = await embedJson(['--video', file]);
  // 30 frames / 10 fps × 1 fps = 3 → at least 4 → even → 4 frames;
  // round_half_even(linspace_f32(0, 29, 4)) = round([0, 9.667, 19.333, 29]) = [0, 10, 19, 29].
  const [video] = out.videos;
  assert.deepEqual(video.frame_indices, [0, 10, 19, 29]);
  assert.equal(video.total_frames, 30);
  assert.equal(video.fps, 10);
  // Group timestamps: mean of (0.0, 1.0) = 0.5 and of (1.9, 2.9) = 2.4.
  assert.deepEqual(video.timestamps, ['0.5', '2.4']);
  assert.equal(video.grid_thw[0], 2);
  assert.ok(out.prompt.includes('user\n<0.5 seconds><|vision_start|><|video_pad|>'));
  assert.ok(out.prompt.includes('<|vision_end|><2.4 seconds><|vision_start|>'));
  assert.ok(out.prompt.includes('<|vision_end|>NULL') === false, 'a video counts as content: no NULL');
});

test('clear errors: no model, missing file', async () => {
  await assert.rejects(run(process.execPath, [TROVE, 'embed', '--text', 'x', '--inputs-only'], { env: { ...process.env, TROVE_MODEL: '' } }), (e: { stderr: string; code: number }) => {
    assert.equal(e.code, 2);
    assert.match(e.stderr, /needs --model DIR/);
    return true;
  });
  await assert.rejects(embedJson(['--image', path.join(dir, 'nope.png')]), (e: { stderr: string; code: number }) => {
    assert.equal(e.code, 1);
    assert.match(e.stderr, /nope\.png/);
    return true;
  });
});
