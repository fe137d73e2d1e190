// Versioned schema migrations for the PostgreSQL store: the ordered scripts in
// src/migrations/postgres/ (NNNN-name.sql, numbered 1..n without gaps, checked by loadMigrations),
// with the schema_version semantics shared with the SQLite store (internal/migrations.ts): the missing
// scripts run in one transaction and are recorded in schema_version (version, name); a database with
// a version this code does not know is refused (ERR_STORE_SCHEMA_TOO_NEW); recorded names that differ
// from the scripts are ERR_STORE_SCHEMA_INVALID. DDL is transactional in PostgreSQL, so a failed
// upgrade leaves the database as it was.
//
// Several server processes may start at once against one database. The transaction therefore first
// takes a transaction-scoped advisory lock (pg_advisory_xact_lock, released by COMMIT or ROLLBACK):
// the others wait for it, then find the scripts recorded and run nothing. Scripts must not contain
// BEGIN or COMMIT.

import type { PoolClient } from 'pg';
import { loadMigrations, pendingMigrations, type Migration } from './migrations.ts';

/** The advisory lock key every Sotto store migration takes: the bytes of 'SottoMig' as a bigint. It
 *  is database-wide (schemas share it), which only makes upgrades of two schemas take turns. */
export const MIGRATION_LOCK_KEY = '6012152070995274087';

const PG_MIGRATIONS_DIR = new URL('../migrations/postgres/', import.meta.url);
let bundled: readonly Migration[] | undefined;

/** The PostgreSQL store's migrations (read once per process). */
export function bundledPostgresMigrations(): readonly Migration[] {
  bundled ??= loadMigrations(PG_MIGRATIONS_DIR);
  return bundled;
}

/** Brings the database `client` is connected to (its first search_path schema) to the latest version
 *  of `migrations`, in one transaction under the migration lock; resolves to the version it now has. */
export async function migratePostgres(client: PoolClient, migrations: readonly Migration[]): Promise<number> {
  const latest = migrations.length;
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
    await client.query('CREATE TABLE IF NOT EXISTS schema_version (version bigint NOT NULL PRIMARY KEY, name text NOT NULL)');
    const applied = (await client.query<{ version: string; name: string }>('SELECT version, name FROM schema_version ORDER BY version')).rows.map((r) => ({
      version: Number(r.version),
      name: r.name,
    }));
    for (const m of pendingMigrations(applied, migrations)) {
      await client.query(m.sql);
      await client.query('INSERT INTO schema_version (version, name) VALUES ($1, $2)', [m.version, m.name]);
    }
    await client.query('COMMIT');
    return latest;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}
