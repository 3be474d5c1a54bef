import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { APP_CSP, createTroveProtocolHandler, parseMediaUrl, resolveAppAsset, type TroveProtocolDeps } from '../../electron/shell/electron-main/trove-protocol.ts';

let dir: string;
let renderer: string;
let library: string;
let outside: string;
const video = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 256));

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'trove-protocol-'));
  renderer = path.join(dir, 'renderer');
  library = path.join(dir, 'library');
  outside = path.join(dir, 'outside');
  await mkdir(path.join(renderer, 'assets'), { recursive: true });
  await mkdir(library);
  await mkdir(outside);
  await writeFile(path.join(renderer, 'index.html'), '<!doctype html><title>Trove</title>');
  await writeFile(path.join(renderer, 'assets', 'app.js'), 'console.log(1)');
  await writeFile(path.join(dir, 'secret.txt'), 'secret');
  await writeFile(path.join(library, 'clip.mp4'), video);
  await writeFile(path.join(library, 'page.html'), '<script>alert(1)</script>');
  await writeFile(path.join(library, 'drawing.svg'), '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');
  await symlink(path.join(outside, 'private.jpg'), path.join(library, 'link.jpg'));
  await symlink(path.join(library, 'clip.mp4'), path.join(library, 'link-in.mp4'));
  await writeFile(path.join(outside, 'private.jpg'), 'not yours');
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Items: 1 → clip.mp4 (inside the root), 2 → outside the root (an engine bug), 3 → gone, 4 → page.html, 5 → drawing.svg, 6 → a symlink out of the root, 7 → a symlink to clip.mp4. */
function deps(): TroveProtocolDeps & { thumbs: number[] } {
  const thumbs: number[] = [];
  return {
    thumbs,
    rendererDir: renderer,
    thumbnail: async (itemId) => {
      thumbs.push(itemId);
      return itemId === 1 ? { mime: 'image/webp', bytes: new Uint8Array([1, 2, 3]) } : null;
    },
    filePath: async (itemId) =>
      ({ 1: path.join(library, 'clip.mp4'), 2: path.join(outside, 'private.jpg'), 3: path.join(library, 'gone.mp4'), 4: path.join(library, 'page.html'), 5: path.join(library, 'drawing.svg'), 6: path.join(library, 'link.jpg'), 7: path.join(library, 'link-in.mp4') })[itemId] ?? null,
    rootPaths: async () => [library],
  };
}

test('resolveAppAsset keeps every path inside the renderer folder', () => {
  assert.equal(resolveAppAsset(renderer, '/'), path.join(renderer, 'index.html'));
  assert.equal(resolveAppAsset(renderer, '/assets/app.js'), path.join(renderer, 'assets', 'app.js'));
  assert.equal(resolveAppAsset(renderer, '/assets/a%20b.js'), path.join(renderer, 'assets', 'a b.js'));
  for (const bad of ['/../secret.txt', '/assets/../../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt', '/assets%5c..%5c..%5csecret.txt', '/a%00.js', '/C:/Windows/win.ini', '/%E0%A4%A']) {
    assert.equal(resolveAppAsset(renderer, bad), null, bad);
  }
});

test('parseMediaUrl accepts only trove://media/(thumb|file)/<id>', () => {
  assert.deepEqual(parseMediaUrl('trove://media/thumb/12'), { kind: 'thumb', itemId: 12 });
  assert.deepEqual(parseMediaUrl('trove://media/file/7#t=3.5'), { kind: 'file', itemId: 7 });
  assert.deepEqual(parseMediaUrl('trove://media/file/7?x=1'), { kind: 'file', itemId: 7 });
  for (const bad of ['trove://media/file/../../etc/passwd', 'trove://media/file/-1', 'trove://media/file/1.5', 'trove://media/source/1', 'trove://app/media/file/1', 'trove://media/file/%2Fetc%2Fpasswd', 'nonsense']) {
    assert.equal(parseMediaUrl(bad), null, bad);
  }
});

test('app pages come with the CSP header', async () => {
  const handle = createTroveProtocolHandler(deps());
  const page = await handle(new Request('trove://app/index.html'));
  assert.equal(page.status, 200);
  assert.equal(page.headers.get('content-security-policy'), APP_CSP);
  assert.match(APP_CSP, /script-src 'self'/);
  assert.match(APP_CSP, /object-src 'none'/);
  assert.match(page.headers.get('content-type')!, /^text\/html/);
  assert.equal(await page.text(), '<!doctype html><title>Trove</title>');
  const script = await handle(new Request('trove://app/assets/app.js'));
  assert.match(script.headers.get('content-type')!, /^text\/javascript/);
  const route = await handle(new Request('trove://app/folders'));
  assert.equal(route.status, 200, 'client-side routes fall back to index.html');
  const missing = await handle(new Request('trove://app/assets/missing.js'));
  assert.equal(missing.status, 404);
  const post = await handle(new Request('trove://app/index.html', { method: 'POST', body: 'x' }));
  assert.equal(post.status, 405);
  const unknownHost = await handle(new Request('trove://elsewhere/x'));
  assert.equal(unknownHost.status, 404);
});

test('thumbnails come from the engine', async () => {
  const d = deps();
  const handle = createTroveProtocolHandler(d);
  const thumb = await handle(new Request('trove://media/thumb/1'));
  assert.equal(thumb.status, 200);
  assert.equal(thumb.headers.get('content-type'), 'image/webp');
  assert.deepEqual(new Uint8Array(await thumb.arrayBuffer()), new Uint8Array([1, 2, 3]));
  assert.equal((await handle(new Request('trove://media/thumb/9'))).status, 404);
  assert.deepEqual(d.thumbs, [1, 9]);
});

test('files: whole, ranged, unsatisfiable', async () => {
  const handle = createTroveProtocolHandler(deps());
  const whole = await handle(new Request('trove://media/file/1'));
  assert.equal(whole.status, 200);
  assert.equal(whole.headers.get('content-type'), 'video/mp4');
  assert.equal(whole.headers.get('accept-ranges'), 'bytes');
  assert.equal(whole.headers.get('content-length'), '1000');
  assert.deepEqual(Buffer.from(await whole.arrayBuffer()), video);

  const part = await handle(new Request('trove://media/file/1', { headers: { range: 'bytes=100-199' } }));
  assert.equal(part.status, 206);
  assert.equal(part.headers.get('content-range'), 'bytes 100-199/1000');
  assert.equal(part.headers.get('content-length'), '100');
  assert.deepEqual(Buffer.from(await part.arrayBuffer()), video.subarray(100, 200));

  const tail = await handle(new Request('trove://media/file/1', { headers: { range: 'bytes=-10' } }));
  assert.deepEqual(Buffer.from(await tail.arrayBuffer()), video.subarray(990));

  const past = await handle(new Request('trove://media/file/1', { headers: { range: 'bytes=5000-' } }));
  assert.equal(past.status, 416);
  assert.equal(past.headers.get('content-range'), 'bytes */1000');
});

test('files outside the current roots, or gone, are not served', async () => {
  const handle = createTroveProtocolHandler(deps());
  const outsideRoot = await handle(new Request('trove://media/file/2'));
  assert.equal(outsideRoot.status, 404);
  assert.doesNotMatch(await outsideRoot.text(), /not yours/);
  assert.equal((await handle(new Request('trove://media/file/3'))).status, 404);
  const link = await handle(new Request('trove://media/file/6'));
  assert.equal(link.status, 404, 'a symlink inside a root that points outside it');
  assert.doesNotMatch(await link.text(), /not yours/);
  const linkIn = await handle(new Request('trove://media/file/7'));
  assert.equal(linkIn.status, 404, 'a symlink to a file inside the root: links are never followed');
  assert.match(await linkIn.text(), /became a link, which Trove does not follow/);
  assert.equal((await handle(new Request('trove://media/file/99'))).status, 404);
  assert.equal((await handle(new Request('trove://media/file/..%2f..%2fsecret.txt'))).status, 404);
});

test('library documents are served as inert text', async () => {
  const handle = createTroveProtocolHandler(deps());
  const html = await handle(new Request('trove://media/file/4'));
  assert.equal(html.status, 200);
  assert.match(html.headers.get('content-type')!, /^text\/plain/);
  assert.match(html.headers.get('content-security-policy')!, /sandbox/);
  assert.equal(html.headers.get('x-content-type-options'), 'nosniff');
  const svg = await handle(new Request('trove://media/file/5'));
  assert.match(svg.headers.get('content-type')!, /^text\/plain/, 'an SVG can carry script, so it is text too');
});

test('engine failures become 500 responses, not throws', async () => {
  const handle = createTroveProtocolHandler({ ...deps(), filePath: async () => Promise.reject(new Error('database is locked')) });
  const response = await handle(new Request('trove://media/file/1'));
  assert.equal(response.status, 500);
  assert.match(await response.text(), /database is locked/);
});
