/**
 * A root made by an older berth opens with the current schema: the tables it lacks are made and
 * the columns added since (schema.sql.ts's ADDED_COLUMNS) come with their defaults, keeping its
 * rows. A column already there (another process migrated first) is not added twice.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Sqlite from 'better-sqlite3';
import { Metadata } from '../../src/store/metadata.ts';
import { SCHEMA_VERSION } from '../../src/store/schema.sql.ts';

const dir = mkdtempSync(join(tmpdir(), 'berth-migrate-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const LAYER = `sha256:${'a'.repeat(64)}`;

/** The build cache table as schema 8 made it, with one step entry. */
function schema8Root(name: string): string {
  const path = join(dir, name);
  const db = new Sqlite(path);
  db.exec('CREATE TABLE build_cache (cache_key TEXT PRIMARY KEY, result TEXT NOT NULL, created INTEGER NOT NULL, last_used INTEGER NOT NULL)');
  db.prepare('INSERT INTO build_cache VALUES (?, ?, ?, ?)').run('old-step', JSON.stringify({ layers: [LAYER], size: 5 }), 1000, 2000);
  db.pragma('user_version = 8');
  db.close();
  return path;
}

describe('schema migration', () => {
  it('a schema 8 root gains usage_count, its entries counted as used once, and counts hits from then on', () => {
    const path = schema8Root('old.db');
    const m = new Metadata(path);
    try {
      assert.deepEqual(
        m.buildCache.steps().map((s) => [s.key, s.diffId, s.usageCount, s.lastUsed]),
        [['old-step', LAYER, 1, 2000]],
      );
      m.buildCache.recordHit('old-step', 3000);
      assert.equal(m.buildCache.entryTimes('old-step')?.usageCount, 2);
      assert.equal(m.integrityProblems().length, 0);
    } finally {
      m.close();
    }
    const db = new Sqlite(path, { readonly: true });
    assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    db.close();
  });

  it('a root another process migrated after this one read its version (the column there, the version 8) opens', () => {
    const path = schema8Root('raced.db');
    const db = new Sqlite(path);
    db.exec('ALTER TABLE build_cache ADD COLUMN usage_count INTEGER NOT NULL DEFAULT 1');
    db.close();
    const m = new Metadata(path);
    try {
      assert.equal(m.buildCache.entryTimes('old-step')?.usageCount, 1);
    } finally {
      m.close();
    }
  });
});
