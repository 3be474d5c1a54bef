import { test } from 'node:test';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runningAsRoot, unprivilegedCommand, unprivilegedUnavailable } from '../../support/unprivileged.ts';
import { compilePathRules } from '../../../electron/engine/library/common/path-rules.ts';
import { scanRoot, scanRootToList, ScanRootError } from '../../../electron/engine/library/node/scanner.ts';

async function tree(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(path.join(tmpdir(), 'trove-scan-'));
  for (const [relative, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, relative)), { recursive: true });
    await writeFile(path.join(root, relative), content);
  }
  return root;
}

test('scan applies include/exclude, hidden and system rules and reports size, mtime, kind', async () => {
  const root = await tree({
    'photos/a.jpg': 'jpg bytes',
    'photos/raw/b.jpg': 'raw',
    'photos/c.png': 'png',
    'notes/todo.md': '# todo',
    'notes/.secret.md': 'hidden',
    '.config/x.md': 'hidden folder',
    'node_modules/pkg/readme.md': 'system',
    'photos/Thumbs.db': 'system file',
    'misc/archive.zip': 'unknown kind',
    'notes/draft.tmp.md': 'excluded',
  });
  try {
    const rules = compilePathRules({ include: ['*.jpg', '*.md'], exclude: ['photos/raw', '*.tmp.md'] });
    const { files, problems } = await scanRootToList(root, { rules, concurrency: 3 });
    assert.deepEqual(problems, []);
    const found = files.map((f) => f.relativePath).sort();
    assert.deepEqual(found, ['notes/todo.md', 'photos/a.jpg']);
    const jpg = files.find((f) => f.relativePath === 'photos/a.jpg')!;
    assert.equal(jpg.path, path.join(root, 'photos', 'a.jpg'));
    assert.equal(jpg.size, 'jpg bytes'.length);
    assert.equal(jpg.kind, 'image');
    assert.ok(Math.abs(jpg.mtimeMs - Date.now()) < 60_000);
    const all = await scanRootToList(root);
    assert.deepEqual(all.files.map((f) => f.relativePath).sort(), ['notes/draft.tmp.md', 'notes/todo.md', 'photos/a.jpg', 'photos/c.png', 'photos/raw/b.jpg']);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('symlink loops and links out of the root are not followed; files appear once', async () => {
  const outside = await tree({ 'elsewhere.md': 'outside the root' });
  const root = await tree({ 'a/one.md': '1', 'a/b/two.md': '2' });
  try {
    await symlink(root, path.join(root, 'a', 'b', 'loop-to-root'));
    await symlink(path.join(root, 'a'), path.join(root, 'a', 'b', 'loop-to-parent'));
    await symlink(path.join(root, 'x1'), path.join(root, 'x2'));
    await symlink(path.join(root, 'x2'), path.join(root, 'x1')); // x1 → x2 → x1
    await symlink(outside, path.join(root, 'out'));
    await symlink(path.join(root, 'a', 'one.md'), path.join(root, 'one-link.md'));
    const { files, problems } = await scanRootToList(root);
    assert.deepEqual(files.map((f) => f.relativePath).sort(), ['a/b/two.md', 'a/one.md']);
    assert.deepEqual(problems, []);
  } finally {
    await rm(root, { recursive: true, force: true });
    await rm(outside, { recursive: true, force: true });
  }
});

async function scanUnprivileged(root: string): Promise<{ files: string[]; problems: { code: string; message: string }[] }> {
  if (!runningAsRoot) {
    const { files, problems } = await scanRootToList(root);
    return { files: files.map((f) => f.relativePath), problems };
  }
  const child = fileURLToPath(new URL('./scan-root-child.ts', import.meta.url));
  const [command, ...args] = unprivilegedCommand([process.execPath, '--import', 'tsx', child, root]);
  const { stdout } = await promisify(execFile)(command!, args, { cwd: process.cwd(), env: { ...process.env, HOME: tmpdir() } });
  return JSON.parse(stdout);
}

test('an unreadable folder is a reported problem, not a crash', { skip: unprivilegedUnavailable() ?? false }, async () => {
  const root = await tree({ 'ok/a.md': 'a', 'locked/b.md': 'b' });
  try {
    await chmod(root, 0o755); // mkdtemp makes it owner-only; only `locked` is meant to be unreadable
    await chmod(path.join(root, 'locked'), 0o000);
    const { files, problems } = await scanUnprivileged(root);
    assert.deepEqual(files, ['ok/a.md']);
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.code, 'unreadable-directory');
    assert.match(problems[0]!.message, /grant read access or exclude it/);
  } finally {
    await chmod(path.join(root, 'locked'), 0o755);
    await rm(root, { recursive: true, force: true });
  }
});

test('a missing root throws ScanRootError root-missing; stopping early ends the walk', async () => {
  await assert.rejects(scanRootToList(path.join(tmpdir(), 'trove-no-such-root-4711')), (error: unknown) => error instanceof ScanRootError && error.code === 'root-missing');
  const files: Record<string, string> = {};
  for (let i = 0; i < 300; i += 1) files[`d${i % 10}/f${i}.txt`] = String(i);
  const root = await tree(files);
  try {
    let seen = 0;
    for await (const _file of scanRoot(root, { highWaterMark: 4 })) {
      seen += 1;
      if (seen === 5) break;
    }
    assert.equal(seen, 5);
    assert.equal((await scanRootToList(root, { highWaterMark: 3, concurrency: 2 })).files.length, 300, 'backpressure loses nothing');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
