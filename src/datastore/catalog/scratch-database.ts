import { randomBytes } from 'node:crypto';
import pg from 'pg';
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
  const admin = new pg.Client({ connectionString: serverUrl });
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
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
