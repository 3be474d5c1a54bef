// The media routes (token in the query, Range for video seeking, paths checked against the
// library roots) and the renderer's static files (CSP, SPA fallback, traversal refused).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startApiServer, type ApiServer } from '../../electron/server/node/api-server.ts';
import { RENDERER_CSP } from '../../electron/server/node/static-files.ts';
import { createApiDouble, createEventDouble, createMediaDouble } from '../support/api-double.ts';
import { rawRequest } from './http-helpers.ts';

describe('media and static routes', () => {
  let server: ApiServer;
  let dir: string;
  const video = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
  const thumbnail = Buffer.from('RIFF....WEBPVP8 thumbnail bytes');

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'trove-media-'));
    const library = path.join(dir, 'library');
    const dist = path.join(dir, 'dist');
    mkdirSync(path.join(library, 'clips'), { recursive: true });
    mkdirSync(path.join(dist, 'assets'), { recursive: true });
    writeFileSync(path.join(dir, 'secret.txt'), 'outside every root');
    writeFileSync(path.join(library, 'clips', 'walk.mp4'), video);
    writeFileSync(path.join(library, 'page.html'), '<script>steal()</script>');
    writeFileSync(path.join(library, 'empty.mp4'), '');
    symlinkSync(path.join(dir, 'secret.txt'), path.join(library, 'link-out.txt'));
    symlinkSync(path.join(library, 'clips', 'walk.mp4'), path.join(library, 'link-in.mp4'));
    writeFileSync(path.join(dist, 'index.html'), '<!doctype html><title>Trove</title>');
    writeFileSync(path.join(dist, 'assets', 'app-1234.js'), 'console.log(1)');
    symlinkSync(path.join(dir, 'secret.txt'), path.join(dist, 'escape.txt'));
    const files = new Map<number, string>([
      [1, path.join(library, 'clips', 'walk.mp4')],
      [2, path.join(dir, 'secret.txt')], // an engine bug: a path outside every root
      [3, `${library}/clips/../../secret.txt`], // not normalised
      [4, path.join(library, 'link-out.txt')], // a symlink that leaves the root
      [5, path.join(library, 'page.html')],
      [6, path.join(library, 'clips')], // a folder
      [7, 'clips/walk.mp4'], // relative
      [8, path.join(library, 'empty.mp4')],
      [9, path.join(library, 'link-in.mp4')], // a symlink to a file inside the root: links are never followed
    ]);
    server = await startApiServer({
      handlers: createApiDouble().handlers,
      events: createEventDouble(),
      media: createMediaDouble(files, [library], new Map([[1, thumbnail]])),
      staticDir: dist,
    });
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const media = (route: string, headers: Record<string, string> = {}) => rawRequest(server.port, { path: `${route}${route.includes('?') ? '&' : '?'}token=${server.token}`, headers });

  it('serves a thumbnail with its type and a private cache policy', async () => {
    const response = await media('/media/thumb/1');
    assert.equal(response.status, 200);
    assert.equal(response.headers['content-type'], 'image/webp');
    assert.equal(response.headers['cache-control'], 'private, max-age=300');
    assert.equal(response.headers['cross-origin-resource-policy'], 'same-origin');
    assert.deepEqual(response.body, thumbnail);
    assert.equal((await media('/media/thumb/2')).status, 404);
  });

  it('needs the token, in the query or as a bearer header', async () => {
    assert.equal((await rawRequest(server.port, { path: '/media/thumb/1' })).status, 401);
    assert.equal((await rawRequest(server.port, { path: '/media/thumb/1?token=nope' })).status, 401);
    assert.equal((await rawRequest(server.port, { path: '/media/thumb/1', headers: { authorization: `Bearer ${server.token}` } })).status, 200);
  });

  it('serves a file whole, with Content-Type by extension and Accept-Ranges', async () => {
    const response = await media('/media/file/1');
    assert.equal(response.status, 200);
    assert.equal(response.headers['content-type'], 'video/mp4');
    assert.equal(response.headers['accept-ranges'], 'bytes');
    assert.equal(response.headers['content-length'], '1000');
    assert.deepEqual(response.body, video);
  });

  it('answers Range requests with 206 and exactly the asked bytes', async () => {
    const middle = await media('/media/file/1', { range: 'bytes=100-199' });
    assert.equal(middle.status, 206);
    assert.equal(middle.headers['content-range'], 'bytes 100-199/1000');
    assert.equal(middle.headers['content-length'], '100');
    assert.deepEqual(middle.body, video.subarray(100, 200));

    const open = await media('/media/file/1', { range: 'bytes=990-' });
    assert.equal(open.status, 206);
    assert.deepEqual(open.body, video.subarray(990));

    const suffix = await media('/media/file/1', { range: 'bytes=-5' });
    assert.equal(suffix.headers['content-range'], 'bytes 995-999/1000');
    assert.deepEqual(suffix.body, video.subarray(995));

    const past = await media('/media/file/1', { range: 'bytes=5000-' });
    assert.equal(past.status, 416);
    assert.equal(past.headers['content-range'], 'bytes */1000');

    const thumbRange = await media('/media/thumb/1', { range: 'bytes=0-3' });
    assert.equal(thumbRange.status, 206);
    assert.deepEqual(thumbRange.body, thumbnail.subarray(0, 4));

    assert.equal((await media('/media/file/8')).status, 200);
  });

  it('refuses paths outside the roots, unnormalised, symlinked out or in, relative, or not files', async () => {
    for (const id of [2, 3, 4, 6, 7, 9]) {
      const response = await media(`/media/file/${id}`);
      assert.equal(response.status, 403, `item ${id}`);
      assert.ok(!response.body.toString().includes('outside every root'));
    }
    assert.equal((await media('/media/file/99')).status, 404);
  });

  it('refuses traversal and malformed ids in media URLs', async () => {
    for (const route of ['/media/file/..%2f..%2fsecret.txt', '/media/file/../../secret.txt', '/media/file/1/..', '/media/file/-1', '/media/file/1.5', '/media/raw/1', '/media/file/%2e%2e', '/media']) {
      const response = await media(route);
      assert.equal(response.status, 400, route);
    }
  });

  it("serves a library HTML file as plain text in a sandbox so it cannot run on the server's origin", async () => {
    const response = await media('/media/file/5');
    assert.equal(response.status, 200);
    assert.equal(response.headers['content-type'], 'text/plain; charset=utf-8');
    assert.match(String(response.headers['content-security-policy']), /sandbox/);
    assert.equal(response.headers['x-content-type-options'], 'nosniff');
  });

  it('serves the renderer with the strict CSP and security headers', async () => {
    const index = await rawRequest(server.port, { path: '/' });
    assert.equal(index.status, 200);
    assert.equal(index.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(index.headers['content-security-policy'], RENDERER_CSP);
    assert.match(RENDERER_CSP, /script-src 'self';/);
    assert.match(RENDERER_CSP, /frame-ancestors 'none'/);
    assert.equal(index.headers['referrer-policy'], 'no-referrer');
    assert.equal(index.headers['x-content-type-options'], 'nosniff');
    assert.equal(index.headers['cache-control'], 'no-cache');
    assert.equal(index.headers['access-control-allow-origin'], undefined);

    const asset = await rawRequest(server.port, { path: '/assets/app-1234.js' });
    assert.equal(asset.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.match(String(asset.headers['cache-control']), /immutable/);

    const head = await rawRequest(server.port, { method: 'HEAD', path: '/assets/app-1234.js' });
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
  });

  it('falls back to index.html for app routes but not for missing files', async () => {
    const route = await rawRequest(server.port, { path: '/search/results?q=cat' });
    assert.equal(route.status, 200);
    assert.match(route.body.toString(), /<title>Trove<\/title>/);
    assert.equal((await rawRequest(server.port, { path: '/assets/missing.js' })).status, 404);
  });

  it('refuses traversal out of the renderer folder, encoded or not, and symlinks out of it', async () => {
    for (const route of ['/../secret.txt', '/assets/../../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt', '/assets/..%5c..%5csecret.txt', '/a\\..\\..\\secret.txt', '/%00index.html', '/%E0%A4%A']) {
      const response = await rawRequest(server.port, { path: route });
      assert.equal(response.status, 400, route);
      assert.ok(!response.body.toString().includes('outside every root'), route);
    }
    const link = await rawRequest(server.port, { path: '/escape.txt' });
    assert.equal(link.status, 404);
    assert.ok(!link.body.toString().includes('outside every root'));
  });

  it('allows only GET and HEAD outside the API', async () => {
    assert.equal((await rawRequest(server.port, { method: 'POST', path: '/', body: 'x' })).status, 405);
    assert.equal((await rawRequest(server.port, { method: 'DELETE', path: `/media/file/1?token=${server.token}` })).status, 405);
  });
});
