// Versioned schema migrations for the SQLite store. Migrations are the ordered SQL scripts in
// src/migrations/sqlite/, named NNNN-name.sql and numbered 1, 2, 3, … without gaps. A database records
// every script it has run in schema_version (version, name); opening it runs the missing ones, all in
// one IMMEDIATE transaction, so a crash mid-upgrade leaves the old schema and two processes opening the
// same file at once upgrade it once. Scripts must therefore not contain BEGIN or COMMIT themselves. A database with a version this code does not know was written by
// a newer Sotto: it is refused (ERR_STORE_SCHEMA_TOO_NEW), never opened and half-understood.

import { readdirSync, readFileSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { StoreError } from '../errors.ts';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

const MIGRATION_FILE = /^(\d{4})-([a-z0-9-]+)\.sql$/;

/** Reads and checks a directory of NNNN-name.sql scripts: versions must be exactly 1..n. */
export function loadMigrations(dir: URL): readonly Migration[] {
  const migrations: Migration[] = [];
  for (const file of readdirSync(dir).sort()) {
    const m = MIGRATION_FILE.exec(file);
    if (m === null) throw new StoreError('ERR_STORE_SCHEMA_INVALID', `migration file name: expected NNNN-name.sql, got ${file}`);
    const version = Number(m[1]);
    if (version !== migrations.length + 1) {
      throw new StoreError('ERR_STORE_SCHEMA_INVALID', `migration ${file}: expected version ${migrations.length + 1}, got ${version}`);
    }
    migrations.push({ version, name: m[2] ?? '', sql: readFileSync(new URL(file, dir), 'utf8') });
  }
  if (migrations.length === 0) throw new StoreError('ERR_STORE_SCHEMA_INVALID', 'expected at least one migration, got none');
  return migrations;
}

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
      const current = applied.length;
      const newest = applied[applied.length - 1]?.version ?? 0;
      if (newest > latest) {
        throw new StoreError('ERR_STORE_SCHEMA_TOO_NEW', `the database has schema version ${newest}; this version of Sotto knows up to ${latest}`);
      }
      applied.forEach((row, i) => {
        const expected = migrations[i];
        if (expected === undefined || row.version !== expected.version || row.name !== expected.name) {
          throw new StoreError('ERR_STORE_SCHEMA_INVALID', `schema_version row ${i + 1}: expected version ${i + 1} (${expected?.name ?? 'none'}), got version ${row.version} (${row.name})`);
        }
      });
      const insert = db.prepare('INSERT INTO schema_version (version, name) VALUES (?, ?)');
      for (const m of migrations.slice(current)) {
        db.exec(m.sql);
        insert.run(m.version, m.name);
      }
      return latest;
    })
    .immediate();
}
