// Which folders may be roots: the pure path rules (shared with the UI tests' fake engine) and the
// on-disk checks (exists, is a folder, real path, links to system folders or into roots).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkRootFolderPath, expandHomeFolder, normaliseAbsolutePath, type RootFolderContext } from '../../../electron/engine/library/common/root-folder-rules.ts';
import { resolveRootFolder, RootFolderError } from '../../../electron/engine/library/node/root-folder.ts';

const linux = (existing: string[] = []): RootFolderContext => ({ home: '/home/ada', platform: 'linux', existing: existing.map((p) => ({ path: p })) });

function refusal(input: string, context: RootFolderContext): { problem: string; message: string } {
  const check = checkRootFolderPath(input, context);
  assert.equal(check.ok, false, `'${input}' should be refused`);
  return check as { problem: string; message: string };
}

describe('root folder path rules', () => {
  it('takes absolute paths, normalised, and expands a leading ~ to the home folder', () => {
    assert.deepEqual(checkRootFolderPath('/home/ada/Pictures/', linux()), { ok: true, path: '/home/ada/Pictures' });
    assert.deepEqual(checkRootFolderPath('/home/ada/./Pictures//2024/..', linux()), { ok: true, path: '/home/ada/Pictures' });
    assert.deepEqual(checkRootFolderPath('~/Pictures', linux()), { ok: true, path: '/home/ada/Pictures' });
    assert.deepEqual(checkRootFolderPath('  ~/Pictures  ', linux()), { ok: true, path: '/home/ada/Pictures' }, 'surrounding spaces from a paste');
    assert.deepEqual(checkRootFolderPath('~', linux()), { ok: true, path: '/home/ada' });
    assert.equal(expandHomeFolder('~/a', '/home/ada/', 'linux'), '/home/ada/a');
    assert.equal(expandHomeFolder('a/~', '/home/ada', 'linux'), 'a/~');
    assert.equal(normaliseAbsolutePath('relative/x', 'linux'), null);
  });

  it('refuses relative paths, with an example of what to type', () => {
    for (const input of ['.', './Pictures', 'Pictures', '../x', 'C:\\Users']) {
      const { problem, message } = refusal(input, linux());
      assert.equal(problem, 'relative', input);
      assert.match(message, /is not an absolute path; type the folder's full path, like \/home\/you\/Pictures or ~\/Pictures\./);
    }
    assert.equal(refusal('', linux()).problem, 'empty');
    assert.match(refusal('~bob/Pictures', linux()).message, /only ~ \(your own home folder\) is expanded/);
    assert.match(refusal('~/Pictures', { ...linux(), home: null }).message, /no home folder to put in for ~/);
  });

  it('refuses system folders, and everything inside the kernel and system ones', () => {
    for (const input of ['/', '/proc', '/proc/1', '/sys/class', '/dev', '/dev/shm', '/run/user/1000', '/boot', '/etc', '/usr', '/usr/lib/x', '/var', '/tmp', '/home', '/mnt']) {
      const { problem, message } = refusal(input, linux());
      assert.equal(problem, 'system', input);
      assert.match(message, /Trove does not index the operating system's own files\. Add the folders that hold your files instead/);
    }
    assert.match(refusal('/proc/1', linux()).message, /^'\/proc\/1' is inside the system folder '\/proc'/);
    for (const ok of ['/mnt/photos', '/srv/media/photos', '/tmp/trove-test', '/media/ada/usb', '/root', '/var/www/site']) {
      assert.equal(checkRootFolderPath(ok, { ...linux(), home: '/root' }).ok, true, ok);
    }
    assert.equal(refusal('/root', linux()).problem, 'system', "/root is someone else's home unless it is yours");
    assert.equal(checkRootFolderPath('~', { ...linux(), home: '/root' }).ok, true, 'your own home is always yours to add');
  });

  it('refuses a folder inside, around or equal to a root, naming that root and what to do', () => {
    const roots = linux(['/home/ada/Pictures', '/data/archive']);
    const inside = refusal('~/Pictures/2024', roots);
    assert.equal(inside.problem, 'inside-existing');
    assert.equal(inside.message, "'/home/ada/Pictures/2024' is inside '/home/ada/Pictures', which is already in the library, so its files are indexed already. To index only '/home/ada/Pictures/2024', remove '/home/ada/Pictures' first, then add it.");
    const around = refusal('/data', roots);
    assert.equal(around.problem, 'contains-existing');
    assert.equal(around.message, "'/data' contains '/data/archive', which is already in the library. Remove '/data/archive' first, then add '/data' (its files are then indexed as part of it).");
    assert.equal(refusal('/data/archive/', roots).problem, 'already-added');
    assert.equal(checkRootFolderPath('/data/archive-2', roots).ok, true, 'a sibling sharing a prefix is not inside');
    assert.equal(checkRootFolderPath('/home/ada/Pictures', linux([])).ok, true);
  });

  it('Windows and macOS: drive and UNC paths, their system folders, case-insensitive nesting', () => {
    const win: RootFolderContext = { home: 'C:\\Users\\ada', platform: 'win32', existing: [{ path: 'D:\\Photos' }] };
    assert.deepEqual(checkRootFolderPath('~\\Pictures', win), { ok: true, path: 'C:\\Users\\ada\\Pictures' });
    assert.deepEqual(checkRootFolderPath('e:/Archive/', win), { ok: true, path: 'E:\\Archive' });
    assert.deepEqual(checkRootFolderPath('\\\\nas\\share\\photos', win), { ok: true, path: '\\\\nas\\share\\photos' });
    assert.equal(refusal('C:\\Windows\\System32', win).problem, 'system');
    assert.equal(refusal('c:\\', win).problem, 'system');
    assert.equal(refusal('d:\\photos\\2024', win).problem, 'inside-existing');
    assert.match(refusal('Pictures', win).message, /like C:\\Users\\you\\Pictures/);
    const mac: RootFolderContext = { home: '/Users/ada', platform: 'darwin', existing: [{ path: '/Users/ada/Pictures' }] };
    assert.equal(refusal('/System/Library', mac).problem, 'system');
    assert.equal(refusal('/Applications', mac).problem, 'system');
    assert.equal(refusal('/users/ADA/pictures/trip', mac).problem, 'inside-existing');
    assert.deepEqual(checkRootFolderPath('~/Documents', mac), { ok: true, path: '/Users/ada/Documents' });
  });
});

describe('resolveRootFolder (on disk)', () => {
  let dir: string;
  before(() => {
    dir = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'trove-rootfolder-')));
    mkdirSync(path.join(dir, 'home', 'Pictures', 'trip'), { recursive: true });
    mkdirSync(path.join(dir, 'elsewhere'));
    writeFileSync(path.join(dir, 'home', 'notes.txt'), 'a file');
    symlinkSync(path.join(dir, 'elsewhere'), path.join(dir, 'home', 'link-to-elsewhere'));
    symlinkSync('/', path.join(dir, 'home', 'link-to-slash'));
    symlinkSync(path.join(dir, 'home', 'Pictures', 'trip'), path.join(dir, 'home', 'link-into-pictures'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const resolve = (input: string, existing: string[] = []) => resolveRootFolder(input, { existing: existing.map((p) => ({ path: p })), home: path.join(dir, 'home'), platform: 'linux' });
  const refused = async (input: string, existing: string[], code: string, message: RegExp) => {
    await assert.rejects(resolve(input, existing), (error: unknown) => {
      assert.ok(error instanceof RootFolderError, String(error));
      assert.equal(error.code, code, error.message);
      assert.match(error.message, message);
      return true;
    });
  };

  it('gives the real path of an existing folder, ~ expanded', async () => {
    assert.equal(await resolve('~/Pictures'), path.join(dir, 'home', 'Pictures'));
    assert.equal(await resolve(`${dir}/home/link-to-elsewhere`), path.join(dir, 'elsewhere'), 'a root given through a link is stored where it leads');
  });

  it('says when the folder is missing, a file, or relative', async () => {
    await refused('~/Pictrues', [], 'missing', /^Folder '.*\/home\/Pictrues' does not exist; check the spelling, or create it first\.$/);
    await refused('~/notes.txt', [], 'not-folder', /is a file, not a folder; add the folder that holds it \('.*\/home'\) instead\./);
    await refused('.', [], 'relative', /'\.' is not an absolute path/);
  });

  it('runs the rules again on the real path: a link to / or into a root is refused', async () => {
    await refused('~/link-to-slash', [], 'system', /is a link to '\/': '\/' is a system folder/);
    await refused('~/link-into-pictures', [path.join(dir, 'home', 'Pictures')], 'inside-existing', /is a link to '.*\/Pictures\/trip': .* is inside '.*\/home\/Pictures'/);
    await refused('~/Pictures', [path.join(dir, 'home', 'link-into-pictures')], 'contains-existing', /contains '.*\/Pictures\/trip'/);
  });
});
