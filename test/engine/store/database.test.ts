// Opening the database: migrations from empty, WAL and the other pragmas, version guards.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { openReader, openWriter } from '../../../electron/engine/store/node/database.ts';
import { migrate, SCHEMA_VERSION, type Migration } from '../../../electron/engine/store/node/migrations.ts';
import { tempDir } from './store-fixtures.ts';

describe('database', () => {
  it('migrates an empty file to the latest schema with WAL, foreign keys and synchronous=NORMAL', () => {
    const { dir, cleanup } = tempDir('db');
    try {
      const db = openWriter(path.join(dir, 'trove.db'));
      assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
      assert.equal(db.pragma('synchronous', { simple: true }), 1, 'NORMAL is 1');
      const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type IN ('table') ORDER BY name`).pluck().all() as string[];
      for (const t of ['roots', 'files', 'items', 'thumbnails', 'models', 'vectors', 'items_fts', 'staged_items']) assert.ok(tables.includes(t), `missing table ${t}`);
      db.close();
      // Reopening applies nothing twice.
      const again = openWriter(path.join(dir, 'trove.db'));
      assert.deepEqual(migrate(again), { from: SCHEMA_VERSION, to: SCHEMA_VERSION });
      again.close();
    } finally {
      cleanup();
    }
  });

  it('a read-only connection reads what the writer committed and refuses to write', () => {
    const { dir, cleanup } = tempDir('db');
    try {
      const file = path.join(dir, 'trove.db');
      const writer = openWriter(file);
      writer.prepare(`INSERT INTO roots (path, added_at) VALUES ('/a', 1)`).run();
      const reader = openReader(file);
      assert.equal(reader.prepare('SELECT count(*) FROM roots').pluck().get(), 1);
      assert.throws(() => reader.prepare(`INSERT INTO roots (path, added_at) VALUES ('/b', 1)`).run(), /readonly|read-only|query_only/i);
      reader.close();
      writer.close();
    } finally {
      cleanup();
    }
  });

  it('a failing migration is rolled back whole and the version stays', () => {
    const { dir, cleanup } = tempDir('db');
    try {
      const db = openWriter(path.join(dir, 'trove.db'));
      const broken: Migration[] = [{ version: SCHEMA_VERSION + 1, name: 'broken', sql: 'CREATE TABLE extra (x); INSERT INTO nowhere VALUES (1);' }];
      assert.throws(() => migrate(db, [...migrationsUpTo(db), ...broken]), /migration .* failed and was rolled back/);
      assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
      assert.equal(db.prepare(`SELECT count(*) FROM sqlite_master WHERE name = 'extra'`).pluck().get(), 0);
      db.close();
    } finally {
      cleanup();
    }
  });

  it('refuses a database made by a newer Trove', () => {
    const { dir, cleanup } = tempDir('db');
    try {
      const file = path.join(dir, 'trove.db');
      const db = openWriter(file);
      db.pragma(`user_version = ${SCHEMA_VERSION + 5}`);
      db.close();
      assert.throws(() => openWriter(file), /newer than this Trove knows/);
    } finally {
      cleanup();
    }
  });
});

function migrationsUpTo(_db: unknown): Migration[] {
  // Already-applied migrations are skipped by version; an empty stand-in keeps the list ordered.
  return [{ version: SCHEMA_VERSION, name: 'applied', sql: '' }];
}
