// Open and Reveal where the UI runs (issue 12, point 12), and what the preview lists (point 10):
// the desktop asks the shell and says where the match is; a browser opens the media route in a new
// tab at the match, downloads what it cannot show, says so when the tab was blocked. The browser
// journey is in results-ui.test.ts; these are the parts a browser test cannot reach (the desktop).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ItemDetail } from '../../electron/contract/common/entities.ts';
import { ApiError, type TroveApi } from '../../electron/contract/common/trove-api.ts';
import { itemFacts } from '../../renderer/src/lib/item-facts.ts';
import { createOpenActions, openButton, type OpenShell, type OpenTarget } from '../../renderer/src/state/open-actions.ts';

const PDF: OpenTarget = { itemId: 5, name: 'travel-guide.pdf', kind: 'pdf', locator: { type: 'page', page: 12 } };
const VIDEO: OpenTarget = { itemId: 3, name: 'harbour-walk.mp4', kind: 'video', locator: { type: 'time', start: 32, end: 48 } };
const DOCX: OpenTarget = { itemId: 9, name: 'lease.docx', kind: 'document', locator: { type: 'text', start: 0, end: 10, snippet: 'Lease' } };

function fakeApi(fail: string | null = null) {
  const calls: { method: string; params: unknown }[] = [];
  const api = {
    call: async (method: string, params: unknown) => {
      calls.push({ method, params });
      if (fail) throw new ApiError('unavailable', fail);
      return { ok: true };
    },
    on: () => () => {},
  } as unknown as TroveApi;
  return { api, calls };
}

function browserShell(allowTabs = true) {
  const tabs: string[] = [];
  const downloads: [string, string][] = [];
  const shell: OpenShell = {
    desktop: false,
    fileUrl: (id) => `http://127.0.0.1:4000/media/file/${id}?token=t`,
    openTab: (url) => {
      tabs.push(url);
      return allowTabs;
    },
    download: (url, name) => void downloads.push([url, name]),
  };
  return { shell, tabs, downloads };
}

test('desktop: Open asks the shell and says where the match is; the label promises no page it cannot open at', async () => {
  const { api, calls } = fakeApi();
  const toasts: string[] = [];
  const actions = createOpenActions(api, { desktop: true }, (m) => void toasts.push(m));
  await actions.openFile(PDF);
  assert.deepEqual(calls, [{ method: 'files.open', params: { itemId: 5 } }]);
  assert.deepEqual(toasts, ['Opened travel-guide.pdf; the match is on page 12.']);
  assert.deepEqual(openButton(PDF, true), { label: 'Open', title: 'Open with its app (the match is on page 12)' });
  await actions.revealFile({ itemId: 5, name: 'travel-guide.pdf', path: '/home/ada/Pictures/travel-guide.pdf' });
  assert.equal(calls[1]!.method, 'files.reveal');
  assert.equal(toasts[1], 'Showing travel-guide.pdf in its folder.');
});

test('desktop: a failure says what happened', async () => {
  const { api } = fakeApi("'xdg-open' is not installed, so Trove cannot open files here (install xdg-utils)");
  const toasts: [string, string | undefined][] = [];
  await createOpenActions(api, { desktop: true }, (m, tone) => void toasts.push([m, tone])).openFile(VIDEO);
  assert.deepEqual(toasts, [["Could not open harbour-walk.mp4: 'xdg-open' is not installed, so Trove cannot open files here (install xdg-utils)", 'error']]);
});

test('browser: a new tab at the match through the media route; a download for what a browser cannot show; a blocked tab is said', async () => {
  const { api, calls } = fakeApi();
  const toasts: string[] = [];
  const browser = browserShell();
  const actions = createOpenActions(api, browser.shell, (m) => void toasts.push(m));
  await actions.openFile(PDF);
  await actions.openFile(VIDEO);
  assert.deepEqual(browser.tabs, ['http://127.0.0.1:4000/media/file/5?token=t#page=12', 'http://127.0.0.1:4000/media/file/3?token=t#t=32']);
  assert.deepEqual(toasts, ['Opened travel-guide.pdf at page 12 in a new tab.', 'Opened harbour-walk.mp4 at 0:32 in a new tab.']);
  assert.deepEqual(openButton(PDF, false).label, 'Open at page 12');
  assert.deepEqual(openButton(VIDEO, false).label, 'Open at 0:32');

  await actions.openFile(DOCX);
  assert.deepEqual(browser.downloads, [['http://127.0.0.1:4000/media/file/9?token=t', 'lease.docx']]);
  assert.match(toasts[2]!, /^Downloading lease\.docx: a browser cannot show this kind of file/);
  assert.equal(openButton(DOCX, false).label, 'Download');
  assert.equal(calls.length, 0, 'nothing is opened on the server for a browser');

  const blocked = browserShell(false);
  const errors: [string, string | undefined][] = [];
  await createOpenActions(api, blocked.shell, (m, tone) => void errors.push([m, tone])).openFile(PDF);
  assert.deepEqual(errors, [['Your browser blocked the new tab for travel-guide.pdf. Allow pop-ups for this page, or use Copy path.', 'error']]);
});

test('browser: Reveal asks the engine (the computer running Trove) and names the folder', async () => {
  const { api, calls } = fakeApi();
  const toasts: string[] = [];
  await createOpenActions(api, browserShell().shell, (m) => void toasts.push(m)).revealFile({ itemId: 5, name: 'travel-guide.pdf', path: '/home/ada/Pictures/travel-guide.pdf' });
  assert.deepEqual(calls, [{ method: 'files.reveal', params: { itemId: 5 } }]);
  assert.deepEqual(toasts, ['Opened /home/ada/Pictures in the file manager of the computer running Trove.']);
});

const detail = (patch: Partial<ItemDetail>): ItemDetail => ({
  itemId: 1,
  fileId: 1,
  path: '/home/ada/Pictures/x',
  name: 'x',
  kind: 'image',
  locator: { type: 'whole' },
  date: Date.UTC(2024, 5, 1),
  mtime: Date.UTC(2025, 0, 2),
  size: 2_400_000,
  text: null,
  metadata: {},
  ...patch,
});

test('the preview lists what a person wants, in words, and none of the bookkeeping fields', () => {
  const labels = (d: ItemDetail) => itemFacts(d).map((f) => `${f.label}: ${f.value}`);
  const pdf = labels(detail({ kind: 'pdf', locator: { type: 'page', page: 3 }, metadata: { pages: 40, indexedPages: 40, title: 'Guide', author: null, encrypted: 0, encryption: null, repaired: 0, note: null } }));
  assert.deepEqual(pdf.slice(0, 2), ['Page: 3 of 40', 'Title: Guide']);
  assert.ok(pdf.some((f) => f.startsWith('Created: ')), 'a PDF with a creation date says Created');
  const video = labels(detail({ kind: 'video', locator: { type: 'time', start: 0, end: 754.2 }, metadata: { duration: 754.2, fps: 30, width: 1080, height: 1920, rotation: -90, codec: 'h264', frames: 22603, moments: 48 } }));
  assert.deepEqual(video.slice(0, 2), ['Duration: 12:34', 'Dimensions: 1080 × 1920'], 'the whole video has no Moment line; sizes are stored upright');
  const note = labels(detail({ kind: 'text', date: Date.UTC(2025, 0, 2) + 124, mtime: Date.UTC(2025, 0, 2) + 123.62 }));
  assert.ok(note.some((f) => f.startsWith('Modified: ')), `a file without a date of its own says Modified: ${note.join(', ')}`);
  const photo = labels(detail({ date: Date.UTC(2025, 0, 2), metadata: { width: 4000, height: 3000, format: 'jpeg', camera: 'Pixel 8', lens: null, gps: '52.370216,4.895168', orientation: 1, frames: 12, note: 'animated (12 frames); the first frame is indexed' } }));
  assert.ok(photo.includes('Camera: Pixel 8') && photo.includes('Location: 52.370216,4.895168') && photo.some((f) => f.startsWith('Modified: ')));
  assert.ok(photo.includes('Note: animated (12 frames); the first frame is indexed'));
  const all = [...pdf, ...video, ...photo].join('\n');
  for (const internal of ['encrypted', 'repaired', 'rotation', 'frames:', 'fps', 'codec', 'moments', 'indexedPages', 'orientation', 'format']) {
    assert.ok(!all.toLowerCase().includes(internal.toLowerCase()), `no "${internal}" in the preview:\n${all}`);
  }
});
