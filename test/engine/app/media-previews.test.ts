// Previews a person can read (issue 12, point 8): a PDF page and a photo at preview size from the
// real engine, served by `trove serve` at /media/preview/<id> and by the desktop's
// trove://media/preview/<id>, instead of the 320 px tile thumbnail blown up.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import type { SearchResponse } from '../../../electron/contract/common/entities.ts';
import { dispatchApiCall } from '../../../electron/contract/common/trove-api.ts';
import { openTroveEngine } from '../../../electron/engine/app/node/trove-engine.ts';
import type { TroveEngine } from '../../../electron/engine/app/node/trove-engine-types.ts';
import { IMAGE_PREVIEW_SIZE, PAGE_PREVIEW_SIZE } from '../../../electron/engine/app/node/media-previews.ts';
import { createTroveProtocolHandler } from '../../../electron/shell/electron-main/trove-protocol.ts';
import { startApiServer, type ApiServer } from '../../../electron/server/node/api-server.ts';
import { handWrittenPdf } from '../extract/pdf-fixtures.ts';
import { rawRequest } from '../../server/http-helpers.ts';

let dir = '';
let folder = '';
let engine: TroveEngine;
let server: ApiServer;

const call = <T>(method: string, params: unknown) => dispatchApiCall(engine.handlers, method, params) as Promise<T>;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'trove-previews-'));
  folder = path.join(dir, 'library');
  await mkdir(folder, { recursive: true });
  // An A4 page (595 × 842 pt) and a tall 1500 × 3000 photo.
  const a4 = { width: 595, height: 842, content: 'BT /F1 18 Tf 60 760 Td (Tide tables for the harbour) Tj ET' };
  await writeFile(path.join(folder, 'tide-tables.pdf'), handWrittenPdf([a4, a4]));
  await sharp({ create: { width: 1500, height: 3000, channels: 3, background: '#3080c0' } }).jpeg().toFile(path.join(folder, 'lighthouse-tall.jpg'));
  await writeFile(path.join(folder, 'notes.md'), 'Harbour notes.\n');
  engine = await openTroveEngine({ dataDir: path.join(dir, 'data'), watch: false });
  await call('roots.add', { path: folder });
  await engine.idle();
  server = await startApiServer({ handlers: engine.handlers, events: { on: () => () => {} }, media: engine.media });
});

after(async () => {
  await server?.close();
  await engine?.close();
  await rm(dir, { recursive: true, force: true });
});

async function itemOf(text: string, kind: string): Promise<number> {
  const r = await call<SearchResponse>('search.run', { text });
  const hit = r.results.find((x) => x.kind === kind);
  assert.ok(hit, `"${text}" finds the ${kind}`);
  return hit.itemId;
}

async function size(bytes: Uint8Array): Promise<{ width: number; height: number; format: string }> {
  const meta = await sharp(bytes).metadata();
  return { width: meta.width!, height: meta.height!, format: meta.format! };
}

test('a PDF page preview is drawn at a readable size, its own shape; the thumbnail stays tile-sized', async () => {
  const page = await itemOf('tide', 'pdf');
  const thumb = await engine.media.thumbnail(page);
  const preview = await engine.media.preview!(page);
  assert.ok(thumb && preview);
  const t = await size(thumb.bytes);
  const p = await size(preview.bytes);
  assert.equal(Math.max(t.width, t.height), 320);
  assert.equal(p.height, PAGE_PREVIEW_SIZE, 'the page is 1600 px tall');
  assert.ok(Math.abs(p.width / p.height - 595 / 842) < 0.01, `the page keeps its A4 shape: ${p.width}×${p.height}`);
  assert.equal(preview.mime, 'image/webp');
  assert.strictEqual(await engine.media.preview!(page), preview, 'a second look comes from the cache');
});

test('a photo preview is upright and screen-sized; text has none', async () => {
  const photo = await itemOf('lighthouse', 'image');
  const p = await size((await engine.media.preview!(photo))!.bytes);
  assert.deepEqual([p.width, p.height], [IMAGE_PREVIEW_SIZE / 2, IMAGE_PREVIEW_SIZE]);
  assert.equal(await engine.media.preview!(await itemOf('notes', 'text')), null);
});

test('trove serve answers /media/preview/<id> (with the token), and 404 for an item without one', async () => {
  const page = await itemOf('tide', 'pdf');
  const ok = await rawRequest(server.port, { path: `/media/preview/${page}?token=${server.token}` });
  assert.equal(ok.status, 200);
  assert.equal(ok.headers['content-type'], 'image/webp');
  assert.equal((await size(ok.body)).height, PAGE_PREVIEW_SIZE);
  assert.equal((await rawRequest(server.port, { path: `/media/preview/${page}` })).status, 401);
  const text = await itemOf('notes', 'text');
  assert.equal((await rawRequest(server.port, { path: `/media/preview/${text}?token=${server.token}` })).status, 404);
});

test('the desktop protocol answers trove://media/preview/<id> the same way', async () => {
  const page = await itemOf('tide', 'pdf');
  const handle = createTroveProtocolHandler({
    rendererDir: dir,
    thumbnail: (id) => engine.media.thumbnail(id),
    preview: (id) => engine.media.preview!(id),
    filePath: (id) => engine.media.filePath(id),
    rootPaths: () => engine.media.rootPaths(),
  });
  const response = await handle(new Request(`trove://media/preview/${page}`));
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('content-type'), 'image/webp');
  assert.equal((await size(new Uint8Array(await response.arrayBuffer()))).height, PAGE_PREVIEW_SIZE);
});
