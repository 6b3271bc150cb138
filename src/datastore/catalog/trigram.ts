import type pg from 'pg';
import { quoteIdent } from './sql-ident.js';

/**
 * The schema pg_trgm is installed in when Wharf installs it: its own, never a catalog's. Several catalogs
 * (schemas) may share one database, and an extension belongs to one schema: inside a catalog's schema,
 * `DROP SCHEMA that_catalog CASCADE` would drop the extension and, with it, every other catalog's trigram
 * index and fuzzy search.
 */
export const EXTENSION_SCHEMA = 'wharf_ext';

/** `application_name` of the catalog's sessions; it tells a move of pg_trgm that a session copes with it. */
export const CATALOG_APPLICATION_NAME = 'wharf-catalog';

/** Serialises the extension step of every catalog of the database (taken inside a catalog's own lock). */
const LOCK_KEY = 'wharf-datastore-pg_trgm';

async function trigramLocation(client: pg.ClientBase): Promise<string | undefined> {
  const found = await client.query<{ nspname: string }>(
    `SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'`,
  );
  return found.rows[0]?.nspname;
}

/** Runs `sql` in a transaction; false (rolled back) when PostgreSQL refuses it. */
async function attempt(client: pg.ClientBase, sql: string[]): Promise<boolean> {
  await client.query('BEGIN');
  try {
    for (const statement of sql) await client.query(statement);
    await client.query('COMMIT');
    return true;
  } catch {
    await client.query('ROLLBACK');
    return false;
  }
}

/** Creates EXTENSION_SCHEMA if missing, with USAGE for every role (as `public` has); one made by a DBA is kept as is. */
async function extensionSchemaStatements(client: pg.ClientBase): Promise<string[]> {
  const exists = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [EXTENSION_SCHEMA]);
  if ((exists.rowCount ?? 0) > 0) return [];
  const ext = quoteIdent(EXTENSION_SCHEMA);
  return [`CREATE SCHEMA ${ext}`, `GRANT USAGE ON SCHEMA ${ext} TO PUBLIC`];
}

/** Whether `schema` holds a Wharf catalog (its migration table). */
async function isCatalogSchema(client: pg.ClientBase, schema: string): Promise<boolean> {
  const r = await client.query<{ found: string | null }>('SELECT to_regclass($1) AS found', [
    `${quoteIdent(schema)}.schema_migrations`,
  ]);
  return r.rows[0]?.found != null;
}

/**
 * Sessions of this database that may have resolved pg_trgm through a search_path naming the schema it is in
 * now: any client that is not a catalog session of this version (which also searches EXTENSION_SCHEMA).
 */
async function otherSessions(client: pg.ClientBase): Promise<number> {
  const r = await client.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity
     WHERE datname = current_database() AND pid <> pg_backend_pid()
       AND coalesce(backend_type, 'client backend') = 'client backend'
       AND application_name IS DISTINCT FROM $1`,
    [CATALOG_APPLICATION_NAME],
  );
  return r.rows[0]?.n ?? 0;
}

/**
 * Makes pg_trgm usable from `schema` and creates the catalog's trigram index; returns the extension's schema,
 * or undefined when fuzzy search is off (no extension and no right to create it: not the database owner,
 * PostgreSQL < 13, or not installed on the server — see docs/datastore.md).
 *
 * - Not installed: created in EXTENSION_SCHEMA (a schema of its own, USAGE for everyone like `public`).
 * - Installed in another schema that is not a catalog (`public`, a DBA's `extensions`): used where it is.
 * - Installed in a catalog's schema (Wharf before this layout put it in the first catalog's): moved with
 *   `ALTER EXTENSION pg_trgm SET SCHEMA`, which keeps every index built on it (they refer to its operator
 *   classes by oid). Only when it is safe and allowed: a session already running resolves `similarity` and
 *   `%` through its search_path, so the move waits while any session of the database other than this
 *   version's catalog sessions is connected (an older Wharf would lose fuzzy search, every search in fact,
 *   until restarted); and it needs the owner of the extension's functions — a superuser, since a trusted
 *   extension's objects belong to the bootstrap superuser. Otherwise the extension stays and keeps working;
 *   the next start tries again, and a DBA can move it by hand (docs/datastore.md).
 */
export async function enableTrigram(client: pg.ClientBase, schema: string): Promise<string | undefined> {
  await client.query('SELECT pg_advisory_lock(hashtext($1))', [LOCK_KEY]);
  try {
    let location = await trigramLocation(client);
    if (location === undefined) {
      const available = await client.query(`SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'`);
      if (available.rowCount === 0) return undefined;
      await attempt(client, [
        ...(await extensionSchemaStatements(client)),
        `CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA ${quoteIdent(EXTENSION_SCHEMA)}`,
      ]);
      // Re-read: an older Wharf (which takes no lock for this) may have created it meanwhile, elsewhere.
      location = await trigramLocation(client);
      if (location === undefined) return undefined;
    } else if (location !== EXTENSION_SCHEMA && (await isCatalogSchema(client, location))) {
      const superuser = (
        await client.query<{ on: boolean }>(`SELECT current_setting('is_superuser') = 'on' AS on`)
      ).rows[0]?.on;
      // Checked first, so that a non-superuser does not leave an error in the server log at every start.
      if (superuser && (await otherSessions(client)) === 0) {
        const moved = await attempt(client, [
          ...(await extensionSchemaStatements(client)),
          `ALTER EXTENSION pg_trgm SET SCHEMA ${quoteIdent(EXTENSION_SCHEMA)}`,
        ]);
        if (moved) location = EXTENSION_SCHEMA;
      }
    }
    await client.query(`SET search_path TO ${quoteIdent(schema)}, ${quoteIdent(location)}`);
    // Qualified: unqualified, a catalog without the table (before migration 2) would index another's.
    const words = `${quoteIdent(schema)}.search_words`;
    if ((await client.query<{ t: string | null }>('SELECT to_regclass($1) AS t', [words])).rows[0]?.t) {
      await client.query(
        `CREATE INDEX IF NOT EXISTS search_words_fuzzy ON ${words} USING gin (word ${quoteIdent(location)}.gin_trgm_ops)`,
      );
    }
    return location;
  } finally {
    await client.query('SELECT pg_advisory_unlock(hashtext($1))', [LOCK_KEY]).catch(() => undefined);
  }
}
