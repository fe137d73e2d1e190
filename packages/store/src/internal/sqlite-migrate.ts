// Versioned schema migrations for the SQLite store. Migrations are the ordered SQL scripts in
// src/migrations/sqlite/, named NNNN-name.sql and numbered 1, 2, 3, … without gaps. A database records
// every script it has run in schema_version (version, name); opening it runs the missing ones, all in
// one IMMEDIATE transaction, so a crash mid-upgrade leaves the old schema and two processes opening the
// same file at once upgrade it once. Scripts must therefore not contain BEGIN or COMMIT themselves. A database with a version this code does not know was written by
// a newer Sotto: it is refused (ERR_STORE_SCHEMA_TOO_NEW), never opened and half-understood.

import type Database from 'better-sqlite3';
import { loadMigrations, pendingMigrations, type Migration } from './migrations.ts';

const SQLITE_MIGRATIONS_DIR = new URL('../migrations/sqlite/', import.meta.url);
let bundled: readonly Migration[] | undefined;

/** The SQLite store's migrations (read once per process). */
export function bundledSqliteMigrations(): readonly Migration[] {
  bundled ??= loadMigrations(SQLITE_MIGRATIONS_DIR);
  return bundled;
}

/** Brings `db` to the latest version of `migrations`; resolves to the version it now has. */
export function migrate(db: Database.Database, migrations: readonly Migration[]): number {
  const latest = migrations.length;
  return db
    .transaction(() => {
      db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL) STRICT');
      const applied = db.prepare('SELECT version, name FROM schema_version ORDER BY version').all() as { version: number; name: string }[];
      const pending = pendingMigrations(applied, migrations);
      const insert = db.prepare('INSERT INTO schema_version (version, name) VALUES (?, ?)');
      for (const m of pending) {
        db.exec(m.sql);
        insert.run(m.version, m.name);
      }
      return latest;
    })
    .immediate();
}
