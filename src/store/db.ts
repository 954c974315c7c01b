/**
 * The metadata database: SQLite in WAL mode, shared safely by concurrent berth processes.
 * Every multi-statement change runs in a `BEGIN IMMEDIATE` transaction so two writers
 * serialize instead of interleaving; readers never block writers.
 *
 * better-sqlite3's JavaScript is bundled with the CLI (scripts/bundle.mjs), so V8's code cache
 * covers it, and its native addon is loaded by path, skipping the `bindings` package's search
 * of the file system: both are paid by every command that opens the store.
 */
import { closeSync, constants as fsc, existsSync, openSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import Sqlite from 'better-sqlite3';
import { errnoCode } from '../errors/index.ts';
import { ADDED_COLUMNS, SCHEMA, SCHEMA_VERSION } from './schema.sql.ts';

export type Database = Sqlite.Database;

let addon: string | undefined;

/** The addon beside the package's package.json; undefined (a prebuilt elsewhere) leaves the search to the package. */
function addonPath(): string | undefined {
  if (addon === undefined) {
    try {
      addon = join(dirname(createRequire(import.meta.url).resolve('better-sqlite3/package.json')), 'build', 'Release', 'better_sqlite3.node');
      if (!existsSync(addon)) addon = '';
    } catch {
      addon = '';
    }
  }
  return addon || undefined;
}

export function openDatabase(path: string): Database {
  // SQLite makes a new database 0644, and its -wal and -shm files with the database's mode:
  // made here first (one open that finds it there on every later command), all three are 0600.
  try {
    closeSync(openSync(path, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o600));
  } catch (e) {
    if (errnoCode(e) !== 'EEXIST') throw e;
  }
  const db = new Sqlite(path, { timeout: 30_000, nativeBinding: addonPath() });
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version < SCHEMA_VERSION) {
    immediate(db, () => {
      db.exec(SCHEMA);
      // Checked by name, so a second process migrating the same root after the first adds nothing twice.
      for (const c of ADDED_COLUMNS) {
        if (c.version <= version) continue;
        const columns = db.pragma(`table_info(${c.table})`) as Array<{ name: string }>;
        if (!columns.some((col) => col.name === c.column)) db.exec(`ALTER TABLE ${c.table} ADD COLUMN ${c.column} ${c.definition}`);
      }
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
    });
  }
  return db;
}

export function immediate<T>(db: Database, fn: () => T): T {
  return db.transaction(fn).immediate();
}

/** Whether `e` is SQLite refusing a row whose key or unique column is taken. */
export function isUniqueViolation(e: unknown): boolean {
  const code = typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : '';
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
