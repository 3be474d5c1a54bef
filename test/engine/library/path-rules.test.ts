import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileGlob, GlobPatternError } from '../../../electron/engine/base/common/glob-pattern.ts';
import { compilePathRules, relativeToRoot } from '../../../electron/engine/library/common/path-rules.ts';
import { extensionOf, fileKindOf } from '../../../electron/engine/library/common/file-kinds.ts';

test('file kinds by extension, case-insensitive; unknown is null', () => {
  assert.equal(fileKindOf('/a/b/IMG_001.JPG'), 'image');
  assert.equal(fileKindOf('clip.MoV'), 'video');
  assert.equal(fileKindOf('scan.pdf'), 'pdf');
  assert.equal(fileKindOf('src/main.rs'), 'text');
  assert.equal(fileKindOf('README.markdown'), 'text');
  assert.equal(fileKindOf('report.docx'), 'document');
  assert.equal(fileKindOf('archive.zip'), null);
  assert.equal(fileKindOf('Makefile'), null);
  assert.equal(fileKindOf('.bashrc'), null, 'a leading dot is not an extension');
  assert.equal(extensionOf('C:\\photos\\x.HEIC'), 'heic');
  assert.equal(extensionOf('dir.d/file'), '');
  // On Linux and macOS a backslash is part of a name, not a folder separator.
  assert.equal(fileKindOf('/home/ada/a\\b.jpg'), 'image');
  assert.equal(fileKindOf('notes\\.txt'), 'text', 'a dot after a backslash is still the extension dot');
  assert.equal(extensionOf('C:\\photos.d\\file'), '', 'Windows: a dot in a folder name is no extension');
  assert.equal(fileKindOf('odd.jpg\\'), null);
});

test('glob: *, **, ?, sets, braces, anchoring', () => {
  const m = (pattern: string, p: string, caseInsensitive = false): boolean => compileGlob(pattern, { caseInsensitive }).test(p);
  assert.ok(m('*.tmp', 'a/b/c.tmp'), 'a slash-free pattern matches at any depth');
  assert.ok(!m('*.tmp', 'a/b/c.tmpx'));
  assert.ok(m('photos/*.jpg', 'photos/x.jpg'));
  assert.ok(!m('photos/*.jpg', 'photos/2024/x.jpg'), '* stays within one folder');
  assert.ok(!m('photos/*.jpg', 'old/photos/x.jpg'), 'a pattern with a slash is anchored');
  assert.ok(m('photos/**/*.jpg', 'photos/x.jpg'), '** spans zero folders');
  assert.ok(m('photos/**/*.jpg', 'photos/a/b/c/x.jpg'));
  assert.ok(m('/build', 'build') && !m('/build', 'src/build'));
  assert.ok(m('drafts/**', 'drafts/a/b.txt'));
  assert.ok(m('file?.txt', 'file1.txt') && !m('file?.txt', 'file12.txt') && !m('a?b', 'a/b'));
  assert.ok(m('*.{jpg,png}', 'x.png') && m('*.{jpg,png}', 'x.jpg') && !m('*.{jpg,png}', 'x.gif'));
  assert.ok(m('*.{j{pg,peg},png}', 'x.jpeg'), 'nested braces');
  assert.ok(m('img[0-9].png', 'img7.png') && !m('img[0-9].png', 'imga.png'));
  assert.ok(m('img[!0-9].png', 'imga.png') && !m('img[!0-9].png', 'img7.png'));
  assert.ok(m('a\\*b', 'a*b') && !m('a\\*b', 'axb'), 'backslash escapes');
  assert.ok(m('x.(1).txt', 'x.(1).txt') && !m('x.(1).txt', 'xa(1)btxt'), 'regex characters are literal');
  assert.ok(!m('*.JPG', 'a.jpg') && m('*.JPG', 'a.jpg', true));
  assert.throws(() => compileGlob('*.{jpg'), GlobPatternError);
  assert.throws(() => compileGlob('[abc'), GlobPatternError);
  assert.throws(() => compileGlob('  '), GlobPatternError);
});

test('rules: hidden, system, exclude (folders prune), include (files only), unknown kinds', () => {
  const rules = compilePathRules({ include: ['*.jpg', 'notes/**'], exclude: ['drafts', '**/*.tmp.md', 'raw/**'] });
  assert.deepEqual(rules.decideFile('a/b/photo.jpg'), { indexed: true, kind: 'image' });
  assert.deepEqual(rules.decideFile('notes/x/todo.md'), { indexed: true, kind: 'text' });
  assert.deepEqual(rules.decideFile('other/todo.md'), { indexed: false, reason: 'not-included' });
  assert.deepEqual(rules.decideFile('.hidden/photo.jpg'), { indexed: false, reason: 'hidden' });
  assert.deepEqual(rules.decideFile('a/.photo.jpg'), { indexed: false, reason: 'hidden' });
  assert.deepEqual(rules.decideFile('x/node_modules/p/photo.jpg'), { indexed: false, reason: 'system' });
  assert.deepEqual(rules.decideFile('x/drafts/photo.jpg'), { indexed: false, reason: 'excluded' });
  assert.deepEqual(rules.decideFile('notes/a.tmp.md'), { indexed: false, reason: 'excluded' });
  assert.deepEqual(rules.decideFile('notes/archive.zip'), { indexed: false, reason: 'unknown-kind' });
  assert.equal(rules.skipsDirectory('notes'), null, 'include patterns never prune folders');
  assert.equal(rules.skipsDirectory('raw/2024'), 'excluded');
  assert.equal(rules.skipsDirectory('a/$RECYCLE.BIN'), 'system');
  assert.equal(rules.skipsDirectory('System Volume Information'), 'system');
  assert.equal(rules.skipsDirectory('.Trash-1000'), 'system');
  for (const name of ['Thumbs.db', '.DS_Store', 'desktop.ini', '~$report.docx', 'movie.mp4.part', 'x.crdownload']) {
    assert.equal(rules.skipsEitherWay(`d/${name}`), true, name);
  }
  const withHidden = compilePathRules({ includeHidden: true });
  assert.deepEqual(withHidden.decideFile('.notes/a.md'), { indexed: true, kind: 'text' });
  assert.deepEqual(withHidden.decideFile('.git/a.md'), { indexed: false, reason: 'system' }, 'system folders stay skipped');
});

test('relativeToRoot', () => {
  assert.equal(relativeToRoot('/r/root', '/r/root/a/b.txt'), 'a/b.txt');
  assert.equal(relativeToRoot('/r/root/', '/r/root'), '');
  assert.equal(relativeToRoot('/r/root', '/r/rootx/a'), null);
  assert.equal(relativeToRoot('C:\\r', 'C:\\r\\a\\b.txt'), 'a/b.txt');
});
