// A folder's include/exclude patterns match letters regardless of case on macOS and Windows (as
// their file systems do) and as written on Linux; the library's scan and watcher use these rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { patternsIgnoreCase, rootPathRules } from '../../../electron/engine/library/node/root-path-rules.ts';

const root = { include: ['*.jpg'], exclude: ['Private'] };

test('on macOS and Windows, *.jpg takes IMG_0001.JPG and an excluded Private skips private/', () => {
  for (const platform of ['darwin', 'win32'] as const) {
    const rules = rootPathRules(root, platform);
    assert.deepEqual(rules.decideFile('camera/IMG_0001.JPG'), { indexed: true, kind: 'image' }, platform);
    assert.equal(rules.skipsDirectory('private'), 'excluded', platform);
  }
});

test('on Linux, letters match as written', () => {
  assert.equal(patternsIgnoreCase('linux'), false);
  const rules = rootPathRules(root, 'linux');
  assert.deepEqual(rules.decideFile('camera/IMG_0001.JPG'), { indexed: false, reason: 'not-included' });
  assert.deepEqual(rules.decideFile('camera/img_0001.jpg'), { indexed: true, kind: 'image' });
  assert.equal(rules.skipsDirectory('private'), null);
});

test('the library sync compiles every folder\'s rules through rootPathRules', () => {
  const source = readFileSync(new URL('../../../electron/engine/app/node/library-sync.ts', import.meta.url), 'utf8');
  assert.ok(!/compilePathRules\(/.test(source), 'library-sync compiles path rules itself');
  assert.equal(source.match(/rootPathRules\(/g)?.length, 2, 'the scan and the watcher both use rootPathRules');
});
