/**
 * The metadata database: SQLite in WAL mode, shared safely by concurrent berth processes.
 * Every multi-statement change runs in a `BEGIN IMMEDIATE` transaction so two writers
 * serialize instead of interleaving; readers never block writers. better-sqlite3 is
 * loaded lazily because it is a native module and not every command needs it.
 */
import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';
import { SCHEMA, SCHEMA_VERSION } from './schema.sql.ts';

export type Database = BetterSqlite3.Database;

export function openDatabase(path: string): Database {
  const require = createRequire(import.meta.url);
  const Sqlite = require('better-sqlite3') as typeof BetterSqlite3;
  const db = new Sqlite(path, { timeout: 30_000 });
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version < SCHEMA_VERSION) {
    immediate(db, () => {
      db.exec(SCHEMA);
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
    });
  }
  return db;
}

/** Runs `fn` in a write transaction taken up front (BEGIN IMMEDIATE). */
export function immediate<T>(db: Database, fn: () => T): T {
  return db.transaction(fn).immediate();
}
