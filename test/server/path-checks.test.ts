// The path and type checks the server's routes and the shell's trove:// protocol share: the
// library-roots check (symlinks resolved), URL-path segments, and library media types.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mediaContentType, staticContentType } from '../../electron/server/node/content-types.ts';
import { checkedLibraryFile } from '../../electron/server/node/media-routes.ts';
import { safePathSegments } from '../../electron/server/node/static-files.ts';

describe('checkedLibraryFile', () => {
  let dir: string;
  let library: string;

  before(() => {
    dir = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'trove-roots-')));
    library = path.join(dir, 'library');
    mkdirSync(path.join(library, 'sub'), { recursive: true });
    mkdirSync(`${library}-sibling`);
    writeFileSync(path.join(library, 'clip.mp4'), 'video');
    writeFileSync(path.join(`${library}-sibling`, 'x.jpg'), 'not in the root');
    writeFileSync(path.join(dir, 'secret.txt'), 'secret');
    symlinkSync(path.join(library, 'clip.mp4'), path.join(library, 'link-in.mp4'));
    symlinkSync(path.join(library, 'link-in.mp4'), path.join(library, 'chain.mp4'));
    symlinkSync(path.join(dir, 'secret.txt'), path.join(library, 'link-out.txt'));
    symlinkSync(path.join(library, 'sub'), path.join(library, 'sub-link'));
    writeFileSync(path.join(library, 'sub', 'x.mp4'), 'video');
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('accepts a regular file inside a root, as its real path', async () => {
    assert.equal(await checkedLibraryFile(path.join(library, 'clip.mp4'), [library]), path.join(library, 'clip.mp4'));
    // Only a folder swapped for a link leads here (the scan never walks through one); its real path is still in the root.
    assert.equal(await checkedLibraryFile(path.join(library, 'sub-link', 'x.mp4'), [library]), path.join(library, 'sub', 'x.mp4'));
  });

  it('refuses everything else', async () => {
    const cases: Array<[string, string[], string]> = [
      [`${library}/sub/../clip.mp4`, [library], 'not normalised'],
      [path.join(dir, 'secret.txt'), [library], 'outside the root'],
      [path.join(`${library}-sibling`, 'x.jpg'), [library], 'a sibling folder sharing the prefix'],
      [library, [library], 'the root itself is not a file in it'],
      ['relative/clip.mp4', [library], 'relative'],
      [path.join(library, 'clip.mp4'), [], 'no roots'],
      [path.join(library, 'clip.mp4'), ['relative-root-that-does-not-exist'], 'a relative root'],
      [path.join(library, 'gone.mp4'), [library], 'gone from disk'],
      [`${path.join(library, 'clip.mp4')}\0.jpg`, [library], 'NUL'],
      [path.join(library, 'link-out.txt'), [library], 'a link out of the root'],
      [path.join(library, 'link-in.mp4'), [library], 'a link to a file inside the root: links are never followed'],
      [path.join(library, 'chain.mp4'), [library], 'a chain of links'],
    ];
    for (const [candidate, roots, why] of cases) assert.equal(await checkedLibraryFile(candidate, roots), null, why);
  });
});

describe('safePathSegments', () => {
  it('splits and decodes a URL path', () => {
    assert.deepEqual(safePathSegments('/'), []);
    assert.deepEqual(safePathSegments('/assets/a%20b.js'), ['assets', 'a b.js']);
  });

  it('refuses climbing, encoded separators, NUL, drive segments and malformed escapes', () => {
    for (const bad of ['/../secret.txt', '/assets/../../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt', '/assets%5c..%5csecret.txt', '/a\\b', '/a%00.js', '/C:/Windows/win.ini', '/%E0%A4%A']) {
      assert.equal(safePathSegments(bad), null, bad);
    }
  });
});

describe('content types', () => {
  it('serves library documents that could run script as plain text', () => {
    for (const file of ['a.html', 'a.htm', 'a.svg', 'a.xml', 'a.js', 'a.json']) assert.match(mediaContentType(file), /^text\/plain/, file);
    assert.equal(mediaContentType('a.MP4'), 'video/mp4');
    assert.equal(mediaContentType('a.markdown'), 'text/plain; charset=utf-8');
    assert.equal(mediaContentType('a.unknown'), 'application/octet-stream');
  });

  it("serves the renderer's own files by type, SVG icons as images", () => {
    assert.match(staticContentType('index.html'), /^text\/html/);
    assert.equal(staticContentType('icon.svg'), 'image/svg+xml');
  });
});
