// What the SQLite and PostgreSQL stores share about versioned schema migrations: the scripts are
// src/migrations/<engine>/NNNN-name.sql, numbered 1..n without gaps; a database records every script it
// ran in schema_version (version, name). Each engine runs the pending scripts in one transaction of its
// own (internal/sqlite-migrate.ts, internal/pg-migrate.ts); the rules for what is pending live here once.

import { readdirSync, readFileSync } from 'node:fs';
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

/** One row of schema_version as read back from a database. */
export interface AppliedMigration {
  readonly version: number;
  readonly name: string;
}

/**
 * The scripts still to run, after checking what the database already ran: a version this code does
 * not know means a newer Sotto wrote it (ERR_STORE_SCHEMA_TOO_NEW, never opened half-understood), and
 * recorded rows must be exactly the first scripts, same versions and names (ERR_STORE_SCHEMA_INVALID).
 */
export function pendingMigrations(applied: readonly AppliedMigration[], migrations: readonly Migration[]): readonly Migration[] {
  const latest = migrations.length;
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
  return migrations.slice(applied.length);
}
