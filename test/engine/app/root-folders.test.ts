// roots.add on the real engine (the UI tests' fake engine shares only the path rules): absolute
// paths only (~ expanded), existing folders, no system folders, no folder inside or around a root,
// stored by real path. Runs from an empty working folder, so a relative path that slipped through
// would be added as that folder (as '.' was: resolved against the server's working folder).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ApiError, dispatchApiCall } from '../../../electron/contract/common/trove-api.ts';
import type { Root } from '../../../electron/contract/common/entities.ts';
import { openTroveEngine } from '../../../electron/engine/app/node/trove-engine.ts';
import type { TroveEngine } from '../../../electron/engine/app/node/trove-engine-types.ts';

let dir = '';
let home = '';
let engine: TroveEngine;
const savedHome = process.env.HOME;
const savedCwd = process.cwd();

const call = <T>(method: string, params: unknown) => dispatchApiCall(engine.handlers, method, params) as Promise<T>;

async function refused(params: { path: string; include?: string[]; exclude?: string[] }, code: string, message: RegExp): Promise<void> {
  await assert.rejects(call('roots.add', params), (error: unknown) => {
    assert.ok(error instanceof ApiError, `roots.add ${JSON.stringify(params)} should fail with an ApiError, not ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.match(error.message, message);
    return true;
  });
}

before(async () => {
  dir = await realpath(await mkdtemp(path.join(tmpdir(), 'trove-root-folders-')));
  home = path.join(dir, 'home');
  await mkdir(path.join(home, 'Pictures', '2024'), { recursive: true });
  await mkdir(path.join(dir, 'cwd'));
  await mkdir(path.join(dir, 'archive'));
  await writeFile(path.join(home, 'Pictures', 'beach.md'), 'sand and sea');
  await symlink(path.join(dir, 'archive'), path.join(home, 'archive-link'));
  process.env.HOME = home;
  process.chdir(path.join(dir, 'cwd'));
  engine = await openTroveEngine({ dataDir: path.join(dir, 'data'), watch: false });
});

after(async () => {
  await engine?.close();
  process.chdir(savedCwd);
  if (savedHome === undefined) delete process.env.HOME;
  else process.env.HOME = savedHome;
  await rm(dir, { recursive: true, force: true });
});

test('relative paths are refused, not resolved against the engine working folder', async () => {
  for (const relative of ['.', 'Pictures', './Pictures', '../home']) {
    await refused({ path: relative }, 'invalid-params', /is not an absolute path; type the folder's full path, like .*~\/Pictures/);
  }
  assert.deepEqual(await call('roots.list', {}), [], 'nothing was added');
});

test('~ is the home folder; the root is stored by its real path', async () => {
  const added = await call<Root>('roots.add', { path: '~/Pictures' });
  assert.equal(added.path, path.join(home, 'Pictures'));
  const linked = await call<Root>('roots.add', { path: '~/archive-link' });
  assert.equal(linked.path, path.join(dir, 'archive'), 'a folder given through a link is stored where it leads');
  assert.deepEqual(
    (await call<Root[]>('roots.list', {})).map((r) => r.path),
    [path.join(dir, 'archive'), path.join(home, 'Pictures')],
  );
});

test('a folder inside, around or equal to a root is refused with a sentence naming it', async () => {
  const outer = path.join(dir, 'nest', 'outer');
  await mkdir(path.join(outer, 'inner'), { recursive: true });
  await call<Root>('roots.add', { path: outer });
  await refused({ path: path.join(outer, 'inner') }, 'invalid-params', new RegExp(`is inside '${outer}', which is already in the library, so its files are indexed already\\. To index only .* remove '${outer}' first`));
  const nest = path.join(dir, 'nest');
  await refused({ path: nest }, 'invalid-params', new RegExp(`'${nest}' contains '${outer}', which is already in the library\\. Remove '${outer}' first, then add '${nest}'`));
  await refused({ path: `${outer}/` }, 'invalid-params', /is already in the library\. To index it with other patterns, remove it first/);
  await refused({ path: '~/Pictures/2024' }, 'invalid-params', /is inside '.*\/home\/Pictures', which is already in the library/);
  assert.deepEqual(
    (await call<Root[]>('roots.list', {})).map((r) => r.path).filter((p) => p.startsWith(nest)),
    [outer],
  );
});

test('missing folders, files and system folders are refused, saying what to do', async () => {
  await refused({ path: '~/Pictrues' }, 'not-found', /^Folder '.*\/home\/Pictrues' does not exist; check the spelling, or create it first\.$/);
  await refused({ path: '~/Pictures/beach.md' }, 'not-found', /is a file, not a folder; add the folder that holds it/);
  for (const system of ['/', '/proc', '/sys', '/dev', '/etc']) {
    await refused({ path: system }, 'invalid-params', /system folder.*Trove does not index the operating system's own files/);
  }
  assert.equal((await call<Root[]>('roots.list', {})).length, 3, 'nothing more was added');
});

test('malformed include and exclude patterns are refused when the folder is added, saying how to fix them', async () => {
  const before = (await call<Root[]>('roots.list', {})).length;
  const folder = path.join(dir, 'patterned');
  await mkdir(folder);
  await refused({ path: folder, exclude: ['*.{tmp,bak'] }, 'invalid-params', /^Pattern '\*\.\{tmp,bak' has a '\{' without a matching '\}'; close the group or write '\\\{'\.$/);
  await refused({ path: folder, include: ['img[0-9.png'] }, 'invalid-params', /has a '\[' without a matching '\]'/);
  assert.equal((await call<Root[]>('roots.list', {})).length, before, 'nothing was added');
});
