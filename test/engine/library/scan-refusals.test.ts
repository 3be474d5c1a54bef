// What the scan reports so that nothing it cannot index vanishes (issue 13, point 4): names that
// are not valid UTF-8 (files with their kind, size and mtime; folders as folders), and a refused
// entry is never fingerprinted by reconcile (it is recorded with its reason, not read).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FILE_SIZE_LIMITS, sizeRefusal } from '../../../electron/engine/library/common/file-refusals.ts';
import { reconcile } from '../../../electron/engine/library/common/reconcile.ts';
import { scanRootToList } from '../../../electron/engine/library/node/scanner.ts';

/** 'Straße' in Latin-1: the ß is byte 0xDF, which is not valid UTF-8 on its own. */
const latin1 = (name: string): Buffer => Buffer.from(name, 'latin1');

test('names that are not valid UTF-8 are reported: a file with its kind, size and mtime, a folder as a folder', async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'trove-scan-names-'));
  try {
    const rootBytes = Buffer.from(root + path.sep);
    await writeFile(path.join(root, 'ok.md'), '# fine');
    await writeFile(Buffer.concat([rootBytes, latin1('Straße.md')]), '# street');
    await utimes(Buffer.concat([rootBytes, latin1('Straße.md')]), 1_700_000_000, 1_700_000_000);
    await writeFile(Buffer.concat([rootBytes, latin1('Ölbild.exe')]), 'not a kind Trove indexes');
    await mkdir(Buffer.concat([rootBytes, latin1('Fotos Ü')]));
    await writeFile(Buffer.concat([rootBytes, latin1('Fotos Ü'), Buffer.from('/inside.jpg')]), 'jpg');
    // A valid name that holds U+FFFD itself is an ordinary file.
    await writeFile(path.join(root, 'odd \uFFFD name.md'), '# valid UTF-8');

    const { files, problems } = await scanRootToList(root);
    assert.deepEqual(files.map((f) => f.relativePath).sort(), ['odd \uFFFD name.md', 'ok.md']);
    const byCode = problems.map((p) => ({ path: path.relative(root, p.path), code: p.code, file: p.file, folder: p.folder }));
    assert.deepEqual(
      byCode.sort((a, b) => a.path.localeCompare(b.path)),
      [
        { path: 'Fotos \uFFFD', code: 'invalid-name', file: undefined, folder: true },
        { path: 'Stra\uFFFDe.md', code: 'invalid-name', file: { kind: 'text', size: 8, mtimeMs: 1_700_000_000_000 }, folder: undefined },
      ],
    );
    for (const p of problems) assert.match(p.message, /name is not valid UTF-8 .*Rename it/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('a refused entry is not fingerprinted by reconcile, even where its size matches a vanished file', async () => {
  const read: string[] = [];
  const fingerprintOf = async (p: string) => {
    read.push(p);
    return `fp:${p}`;
  };
  const stored = [{ id: 1, path: '/r/gone.pdf', size: 5, mtimeMs: 1, fingerprint: 'fp:x' }];
  const scanned = [
    { path: '/r/refused.pdf', size: 5, mtimeMs: 2, kind: 'pdf' as const, refusal: 'too large' },
    { path: '/r/fresh.pdf', size: 5, mtimeMs: 3, kind: 'pdf' as const },
  ];
  const plan = await reconcile(stored, scanned, fingerprintOf);
  assert.deepEqual(read, ['/r/fresh.pdf']);
  assert.deepEqual(
    plan.added.map((a) => [a.path, a.refusal ?? null]),
    [
      ['/r/fresh.pdf', null],
      ['/r/refused.pdf', 'too large'],
    ],
  );
});

test('size limits name the limit and what to do', () => {
  assert.equal(sizeRefusal('pdf', FILE_SIZE_LIMITS.pdf!), null);
  assert.equal(sizeRefusal('video', 50 * 2 ** 30), null, 'videos are streamed: no limit');
  assert.equal(
    sizeRefusal('pdf', 2.5 * 2 ** 30),
    'This PDF is 2.5 GB, more than the 2.0 GB Trove can read of one PDF file; split it into smaller PDFs (for example with qpdf --split-pages) to index them.',
  );
  assert.match(sizeRefusal('image', 3 * 2 ** 30) ?? '', /^This image is 3\.0 GB, more than the 2\.0 GB .*save a smaller copy/);
});
