import { createHash } from 'node:crypto';
import type pg from 'pg';
import { WharfError } from '../../core/errors.js';
import { MIGRATIONS, type Migration } from './migrations.js';
import { quoteIdent } from './sql-ident.js';
import { enableTrigram, EXTENSION_SCHEMA } from './trigram.js';

export interface MigrationReport {
  /** Versions this call applied (empty when the schema was already current). */
  applied: number[];
  /** Whether pg_trgm is usable from the catalog's schema (fuzzy search). */
  trigram: boolean;
  /** Schema holding pg_trgm, when installed. */
  trigramSchema?: string;
}

export { quoteIdent };

/**
 * Brings `schema` up to date: creates it if needed, then applies every migration not yet recorded in
 * `schema_migrations`, in order, each in its own transaction. A session advisory lock keyed on the schema
 * name serialises concurrent starters (two replicas booting at once): the second waits, then finds nothing
 * to do. An applied migration whose SQL changed since is refused (checksum mismatch) rather than ignored.
 *
 * Afterwards it tries to enable `pg_trgm` for fuzzy search (a trusted extension since PostgreSQL 13, so a
 * database owner may create it) in a schema of its own, `wharf_ext` (see `trigram.ts`); without the
 * privilege or the extension the catalog falls back to prefix matching. That step is repeated at every
 * start, so granting the extension later enables it.
 */
export async function runMigrations(
  client: pg.ClientBase,
  schema: string,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<MigrationReport> {
  if (schema === EXTENSION_SCHEMA) {
    throw new WharfError(
      'USAGE',
      `the catalog schema may not be ${EXTENSION_SCHEMA}, Wharf keeps pg_trgm there`,
      {
        hint: 'choose another schema for the catalog',
      },
    );
  }
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
