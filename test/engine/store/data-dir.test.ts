// Where the data folder is, and the lock that keeps two engines out of one folder.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { dataDirLayout, lockDataDir, resolveDataDir } from '../../../electron/engine/store/node/data-dir.ts';
import { Store } from '../../../electron/engine/store/node/store.ts';
import { tempDir } from './store-fixtures.ts';

describe('data folder', () => {
  it('resolves --data, then TROVE_DATA_DIR, then the OS app-data folder', () => {
    assert.equal(resolveDataDir({ flag: 'rel/dir', env: { TROVE_DATA_DIR: '/env' } }), path.resolve('rel/dir'));
    assert.equal(resolveDataDir({ env: { TROVE_DATA_DIR: '/env/trove' } }), '/env/trove');
    assert.equal(resolveDataDir({ env: {}, platform: 'linux', home: '/home/ana' }), '/home/ana/.local/share/trove');
    assert.equal(resolveDataDir({ env: { XDG_DATA_HOME: '/xdg' }, platform: 'linux', home: '/home/ana' }), '/xdg/trove');
    assert.equal(resolveDataDir({ env: { XDG_DATA_HOME: 'relative' }, platform: 'linux', home: '/home/ana' }), '/home/ana/.local/share/trove');
    assert.equal(resolveDataDir({ env: {}, platform: 'darwin', home: '/Users/ana' }), '/Users/ana/Library/Application Support/Trove');
    assert.equal(resolveDataDir({ env: { APPDATA: 'C:\\Users\\ana\\AppData\\Roaming' }, platform: 'win32', home: 'C:\\Users\\ana' }), 'C:\\Users\\ana\\AppData\\Roaming\\Trove');
    assert.throws(() => resolveDataDir({ flag: ' ' }), /needs a folder path/);
    assert.equal(resolveDataDir('/given'), '/given', 'a bare string is the --data value');
    assert.equal(resolveDataDir(undefined), resolveDataDir({}));
  });

  it('creates the folder on demand and locks it; a second lock names the holder', () => {
    const { dir, cleanup } = tempDir('lock');
    try {
      const data = path.join(dir, 'nested', 'data');
      const store = Store.open(data);
      assert.ok(existsSync(dataDirLayout(data).database));
      assert.equal(JSON.parse(readFileSync(dataDirLayout(data).lock, 'utf8')).pid, process.pid);
      assert.throws(() => Store.open(data), /already open in this process/);
      store.close();
      assert.equal(existsSync(dataDirLayout(data).lock), false, 'close releases the lock');
      Store.open(data).close();
    } finally {
      cleanup();
    }
  });

  it('refuses a folder locked by a live process, and takes over a stale lock', async () => {
    const { dir, cleanup } = tempDir('lock');
    const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    try {
      const lockFile = dataDirLayout(dir).lock;
      writeFileSync(lockFile, JSON.stringify({ pid: sleeper.pid, host: hostname(), since: 0 }));
      assert.throws(() => lockDataDir(dir), new RegExp(`another Trove engine \\(pid ${sleeper.pid}\\)`));
      sleeper.kill('SIGKILL');
      await new Promise((resolve) => sleeper.once('exit', resolve));
      const lock = lockDataDir(dir);
      assert.equal(JSON.parse(readFileSync(lockFile, 'utf8')).pid, process.pid);
      lock.release();
      writeFileSync(lockFile, '{"pid": 12'); // half-written by a killed process
      lockDataDir(dir).release();
      writeFileSync(lockFile, JSON.stringify({ pid: 1, host: 'another-machine', since: 0 }));
      assert.throws(() => lockDataDir(dir), /in use by process 1 on host another-machine/);
    } finally {
      sleeper.kill('SIGKILL');
      cleanup();
    }
  });
});
