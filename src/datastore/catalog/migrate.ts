import { createHash } from 'node:crypto';
import type pg from 'pg';
import { WharfError } from '../../core/errors.js';
import { MIGRATIONS, type Migration } from './migrations.js';

export interface MigrationReport {
  /** Versions this call applied (empty when the schema was already current). */
  applied: number[];
  /** Whether pg_trgm is usable from the catalog's schema (fuzzy search). */
  trigram: boolean;
  /** Schema holding pg_trgm, when installed. */
  trigramSchema?: string;
}

/** A quoted SQL identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * Brings `schema` up to date: creates it if needed, then applies every migration not yet recorded in
 * `schema_migrations`, in order, each in its own transaction. A session advisory lock keyed on the schema
 * name serialises concurrent starters (two replicas booting at once): the second waits, then finds nothing
 * to do. An applied migration whose SQL changed since is refused (checksum mismatch) rather than ignored.
 *
 * Afterwards it tries to enable `pg_trgm` for fuzzy search (a trusted extension since PostgreSQL 13, so a
 * database owner may create it); without the privilege or the extension the catalog falls back to prefix
 * matching. That step is repeated at every start, so granting the extension later enables it.
 */
export async function runMigrations(
  client: pg.ClientBase,
  schema: string,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<MigrationReport> {
  const s = quoteIdent(schema);
  const lockKey = `wharf-datastore-migrations:${schema}`;
  await client.query('SELECT pg_advisory_lock(hashtext($1))', [lockKey]);
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await client.query(`SET search_path TO ${s}`);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version     integer PRIMARY KEY,
      name        text NOT NULL,
      checksum    text NOT NULL,
      applied_at  timestamptz NOT NULL DEFAULT now())`);
    const done = new Map<number, string>();
    for (const row of (
      await client.query<{ version: number; checksum: string }>(
        'SELECT version, checksum FROM schema_migrations',
      )
    ).rows) {
      done.set(row.version, row.checksum);
    }
    const applied: number[] = [];
    const ordered = [...migrations].sort((a, b) => a.version - b.version);
    for (const migration of ordered) {
      const checksum = createHash('sha256').update(migration.sql).digest('hex');
      const recorded = done.get(migration.version);
      if (recorded !== undefined) {
        if (recorded !== checksum) {
          throw new WharfError(
            'INTERNAL',
            `catalog migration ${migration.version} (${migration.name}) differs from the one applied to schema ${schema}`,
            { hint: 'never edit an applied migration; append a new one instead' },
          );
        }
        continue;
      }
      await client.query('BEGIN');
      try {
        await client.query(migration.sql);
        await client.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
          migration.version,
          migration.name,
          checksum,
        ]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw new WharfError(
          'INTERNAL',
          `catalog migration ${migration.version} (${migration.name}) failed in schema ${schema}: ${(error as Error).message}`,
          { cause: error },
        );
      }
      applied.push(migration.version);
    }
    const trigramSchema = await enableTrigram(client, schema);
    return trigramSchema === undefined
      ? { applied, trigram: false }
      : { applied, trigram: true, trigramSchema };
  } finally {
    await client.query('SELECT pg_advisory_unlock(hashtext($1))', [lockKey]).catch(() => undefined);
  }
}

async function trigramLocation(client: pg.ClientBase): Promise<string | undefined> {
  const found = await client.query<{ nspname: string }>(
    `SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'`,
  );
  return found.rows[0]?.nspname;
}

/** Enables pg_trgm and the trigram index if possible; returns the extension's schema, or undefined. */
async function enableTrigram(client: pg.ClientBase, schema: string): Promise<string | undefined> {
  let location = await trigramLocation(client);
  if (location === undefined) {
    const available = await client.query(`SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'`);
    if (available.rowCount === 0) return undefined;
    await client.query('BEGIN');
    try {
      await client.query(`CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA ${quoteIdent(schema)}`);
      await client.query('COMMIT');
    } catch {
      // No privilege (not the database owner, PostgreSQL < 13): fuzzy search falls back, see docs/datastore.md.
      await client.query('ROLLBACK');
    }
    // Re-read: a concurrent starter (of another schema) may have created it meanwhile.
    location = await trigramLocation(client);
    if (location === undefined) return undefined;
  }
  await client.query(`SET search_path TO ${quoteIdent(schema)}, ${quoteIdent(location)}`);
  await client.query(
    'CREATE INDEX IF NOT EXISTS search_words_fuzzy ON search_words USING gin (word gin_trgm_ops)',
  );
  return location;
}
