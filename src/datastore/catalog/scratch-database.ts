import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { loadPg } from './load-pg.js';
import { quoteIdent } from './migrate.js';

export interface ScratchDatabase {
  /** Connection string of the new, empty database. */
  url: string;
  name: string;
  /** Drops the database (terminating its connections). */
  drop(): Promise<void>;
}

/**
 * Creates a fresh, empty database next to the one `serverUrl` names (the user needs CREATEDB), for tests
 * and throw-away setups that must not touch anyone else's tables. Its owner is the connecting user, so
 * trusted extensions such as pg_trgm can be created in it.
 */
export async function createScratchDatabase(serverUrl: string, label = 'scratch'): Promise<ScratchDatabase> {
  const name = `wharf_${label.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
  const admin = new (await loadPg()).Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${quoteIdent(name)}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const client = new (await loadPg()).Client({ connectionString: serverUrl });
      await client.connect();
      try {
        await dropDatabase(client, name);
      } finally {
        await client.end();
      }
    },
  };
}

/**
 * `DROP DATABASE … WITH (FORCE)` terminates the database's sessions, but a non-superuser may not terminate an
 * autovacuum worker that happens to be in it ("permission denied to terminate process", 42501); a plain DROP
 * cancels autovacuum itself and fails only while a client is still connected (55006). So: FORCE, else plain,
 * a few times over a few seconds.
 */
async function dropDatabase(client: pg.Client, name: string): Promise<void> {
  const retryable = new Set(['42501', '55006']);
  for (let attempt = 1; ; attempt += 1) {
    try {
      await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
      return;
    } catch (error) {
      if (!retryable.has((error as { code?: string }).code ?? '')) throw error;
      try {
        await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)}`);
        return;
      } catch (again) {
        if (attempt >= 20 || !retryable.has((again as { code?: string }).code ?? '')) throw again;
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}
