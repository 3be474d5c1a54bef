import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileGlob, GlobPatternError } from '../../../electron/engine/base/common/glob-pattern.ts';
import { compilePathRules } from '../../../electron/engine/library/common/path-rules.ts';
import { fileMatcher } from '../../../native-models/hub/common/file-filter.ts';

/** Anchored patterns (they hold a `/`): a library folder's rules and the hub's allow-list must agree on every one. */
const ANCHORED: ReadonlyArray<readonly [pattern: string, path: string, matches: boolean]> = [
  ['/config.json', 'config.json', true],
  ['/config.json', '1_Pooling/config.json', false],
  ['/*.safetensors', 'model.safetensors', true],
  ['/*.safetensors', 'onnx/model.safetensors', false],
  ['/model-0000[1-2]-of-00002.safetensors', 'model-00002-of-00002.safetensors', true],
  ['/model-0000[!1]-of-00002.safetensors', 'model-00001-of-00002.safetensors', false],
  ['/*.{json,jinja}', 'chat_template.jinja', true],
  ['/*.{json,j{inja,son5}}', 'x.json5', true],
  ['/*.{json,jinja}', 'merges.txt', false],
  ['/a**b', 'axxb', true],
  ['/a**b', 'ax/xb', false],
  ['**/*.json', 'a/b/c.json', true],
  ['**/*.json', 'c.json', true],
  ['/model?.bin', 'model1.bin', true],
  ['/model?.bin', 'model10.bin', false],
  ['/x.(1).txt', 'x.(1).txt', true],
  ['/!notes.md', '!notes.md', true],
  ['/+(a)', '+(a)', true],
  ['/a\\*b', 'a*b', true],
  ['/a\\*b', 'axb', false],
  ['onnx/**', 'onnx', true],
  ['onnx/**', 'onnx/a/b.onnx_data', true],
  ['/.gitattributes', '.gitattributes', true],
  ['/*', '.gitattributes', true],
];

test('one rule: a library folder and the hub allow-list answer the same for anchored patterns', () => {
  for (const [pattern, path, matches] of ANCHORED) {
    assert.equal(compileGlob(pattern).test(path), matches, `library: '${pattern}' on '${path}'`);
    assert.equal(fileMatcher([pattern])(path), matches, `hub: '${pattern}' on '${path}'`);
  }
});

test('one rule: an allow-list entry is a path from the repo root, as if it started with /', () => {
  const hub = fileMatcher(['config.json', '*.safetensors']);
  assert.ok(hub('config.json') && hub('model.safetensors'));
  assert.ok(!hub('1_Pooling/config.json') && !hub('onnx/model.safetensors'));
  // The same slash-free patterns in a library folder match at any depth (gitignore-style).
  const library = compilePathRules({ exclude: ['config.json', '*.safetensors'] });
  assert.equal(library.skipsEitherWay('1_Pooling/config.json'), true);
  assert.equal(library.skipsEitherWay('onnx/model.safetensors'), true);
});

test('one rule: malformed patterns are refused with what to do, on both sides', () => {
  for (const pattern of ['[abc', '*.{json', 'a\\']) {
    assert.throws(() => compileGlob(pattern), (e: unknown) => e instanceof GlobPatternError && /write|remove/.test(e.message), pattern);
    assert.throws(() => fileMatcher([pattern]), GlobPatternError, pattern);
  }
  assert.throws(() => compileGlob('/'), GlobPatternError);
  assert.throws(() => compileGlob('*'.repeat(70_000)), GlobPatternError);
  // A `]` outside a set is an ordinary character, and one right after `[` is a member of the set.
  assert.ok(compileGlob('/a]b').test('a]b'));
  assert.ok(compileGlob('/[]x]').test(']'));
});
