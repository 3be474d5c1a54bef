// Failure reasons are listed beside the file's path (the app's list, `trove status`), so the reason
// leaves that path out and still reads as a sentence. The inputs are the engine's own messages, as
// extractors and decoders word them for a file (their wording at the time of writing); the store
// test below proves files.failures applies the rule to what the indexer records.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathFreeReason } from '../../../electron/engine/base/common/path-free-reason.ts';
import { Store } from '../../../electron/engine/store/node/store.ts';

const FILE = '/home/ada/Pictures/2023 summer trip/IMG_0042 (1).jpg';

test('a reason loses the path it repeats and keeps a sentence', () => {
  const cases: [string, string][] = [
    [`Cannot decode image '${FILE}': Input file has corrupt header. The file is not a supported image or is corrupt; re-export it as PNG or JPEG.`, 'Cannot decode image: Input file has corrupt header. The file is not a supported image or is corrupt; re-export it as PNG or JPEG.'],
    [`Cannot make a thumbnail of '${FILE}': VipsJpeg: premature end of JPEG image. The file is corrupt or truncated; re-export it as PNG or JPEG.`, 'Cannot make a thumbnail: VipsJpeg: premature end of JPEG image. The file is corrupt or truncated; re-export it as PNG or JPEG.'],
    [`Image '${FILE}' is empty (0 bytes); it was not saved completely. Copy it again from its source.`, 'This image is empty (0 bytes); it was not saved completely. Copy it again from its source.'],
    [`PDF '${FILE}' is password-protected; Trove cannot read it. Save an unprotected copy to index its pages.`, 'This PDF is password-protected; Trove cannot read it. Save an unprotected copy to index its pages.'],
    [`'${FILE}': Not a text file: it contains a NUL byte at offset 4.`, 'Not a text file: it contains a NUL byte at offset 4.'],
    [`'${FILE}' cannot be read: the ZIP container is damaged. Open it in Word or LibreOffice and save it again.`, 'This file cannot be read: the ZIP container is damaged. Open it in Word or LibreOffice and save it again.'],
    [`'${FILE}' is a link; Trove does not follow links, so it is not read.`, 'This file is a link; Trove does not follow links, so it is not read.'],
    [
      `Cannot read video '${FILE}': [mov,mp4 @ 0x55] moov atom not found | ${FILE}: Invalid data found when processing input. The file is damaged, truncated or not a video; re-export or re-download it.`,
      'Cannot read video: [mov,mp4 @ 0x55] moov atom not found | Invalid data found when processing input. The file is damaged, truncated or not a video; re-export or re-download it.',
    ],
    // Words that never named the file: only the first letter changes.
    ['the embedding model could not read it: Image aspect ratio 250 exceeds the limit of 200.', 'The embedding model could not read it: Image aspect ratio 250 exceeds the limit of 200.'],
    // Another path in the reason (a part of the document) stays.
    [`'${FILE}' is too large to index: 'word/document.xml' is 314572800 bytes.`, "This file is too large to index: 'word/document.xml' is 314572800 bytes."],
  ];
  for (const [reason, expected] of cases) assert.equal(pathFreeReason(reason, FILE), expected);

  const folder = '/home/ada/Pictures/private';
  assert.equal(
    pathFreeReason(`Cannot read folder '${folder}': EACCES: permission denied. Its files are not indexed; grant read access or exclude it.`, folder, 'folder'),
    'Cannot read folder: EACCES: permission denied. Its files are not indexed; grant read access or exclude it.',
  );
  // A longer path that starts with the folder's is another path: it stays.
  assert.equal(pathFreeReason(`Cannot read ${folder}/sub.`, folder, 'folder'), `Cannot read ${folder}/sub.`);
});

test('files.failures lists reasons without the path shown beside them', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'trove-path-free-'));
  const store = Store.open(path.join(dir, 'data'));
  try {
    const root = store.roots.add({ path: '/home/ada/Pictures', include: [], exclude: [] });
    const { file } = store.files.upsertScanned({ rootId: root.id, path: FILE, size: 10, mtimeMs: 1, kind: 'image', fingerprint: 'f', refusal: null });
    store.files.markFailed(file.id, `Cannot decode image '${FILE}': Input file has corrupt header.`, { retryAtStart: false });
    const listed = store.files.failures(10, 0).failures[0]!;
    assert.equal(listed.path, FILE);
    assert.equal(listed.reason, 'Cannot decode image: Input file has corrupt header.');
  } finally {
    store.close();
    await rm(dir, { recursive: true, force: true });
  }
});
