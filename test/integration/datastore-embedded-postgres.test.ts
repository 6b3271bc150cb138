import { chmod, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../../src/datastore/catalog/embedded-postgres.js';
import { runMigrations } from '../../src/datastore/catalog/migrate.js';
import { openPgCatalog, type PgCatalog } from '../../src/datastore/catalog/pg-catalog.js';
import { seedTypoDataset, typoHits } from '../support/trigram-fixtures.js';

let parent: string | undefined;
let moveParent: string | undefined;
afterAll(async () => {
  if (parent) await rm(parent, { recursive: true, force: true });
  if (moveParent) await rm(moveParent, { recursive: true, force: true });
});

describe('embedded PostgreSQL', () => {
  it('initialises once, serves the catalog, and keeps the data across restarts', async () => {
    parent = await mkdtemp(join(tmpdir(), 'wharf-embedded-'));
    // mkdtemp makes the folder 0700; as root the server runs as "postgres" and must be able to enter it.
    await chmod(parent, 0o755);
    const dataDir = join(parent, '.wharf-data');

    const first = await startEmbeddedPostgres({ dataDir });
    try {
      expect(first.url).toMatch(/^postgres:\/\/wharf:[^@]+@127\.0\.0\.1:\d+\/wharf$/);
      const catalog = await openPgCatalog({ connectionString: first.url });
      expect(catalog.migration.applied.length).toBeGreaterThan(0);
      expect(await catalog.allocateNumber('E')).toBe(1);
      await catalog.close();
    } finally {
      await first.stop();
    }
    expect(((await stat(join(dataDir, 'credentials.json'))).mode & 0o777).toString(8)).toBe('600');

    const second = await startEmbeddedPostgres({ dataDir });
    try {
      const catalog = await openPgCatalog({ connectionString: second.url });
      expect(catalog.migration.applied).toEqual([]);
      expect(await catalog.allocateNumber('E')).toBe(2);
      await catalog.close();
      // A second server on the same folder (another wharf serve) is refused, saying so.
      const refused = startEmbeddedPostgres({ dataDir });
      await expect(refused).rejects.toThrow(
        /^the data folder .*\.wharf-data is in use: its PostgreSQL \(PID \d+\) is already running, most likely for another wharf serve$/,
      );
      await expect(refused).rejects.toMatchObject({
        hint: expect.stringMatching(/^stop the other wharf serve/),
      });
    } finally {
      await second.stop();
    }
  });

  // The embedded server's user is a superuser: the one case where pg_trgm (its objects owned by the bootstrap
  // superuser) may be moved out of the catalog schema an older Wharf created it in.
  it('moves pg_trgm out of a catalog schema once no older session can depend on it', async () => {
    moveParent = await mkdtemp(join(tmpdir(), 'wharf-embedded-trgm-'));
    await chmod(moveParent, 0o755);
    const server = await startEmbeddedPostgres({ dataDir: join(moveParent, '.wharf-data') });
    const older = new pg.Client({ connectionString: server.url });
    const catalogs: PgCatalog[] = [];
    try {
      // An older Wharf's catalog with pg_trgm in its schema, and a process of it still connected.
      await older.connect();
      const setup = new pg.Client({ connectionString: server.url });
      await setup.connect();
      await setup.query('CREATE SCHEMA wharf; CREATE EXTENSION pg_trgm WITH SCHEMA wharf');
      await runMigrations(setup, 'wharf');
      await seedTypoDataset(setup, 'wharf');
      await setup.end();
      await older.query('SET search_path TO wharf');

      // Upgraded replicas of two catalogs start while the older process runs: nothing moves.
      catalogs.push(await openPgCatalog({ connectionString: server.url, schema: 'other' }));
      expect(catalogs[0]!.migration.trigramSchema).toBe('wharf');
      await seedTypoDataset(older, 'other');
      expect(await typoHits(catalogs[0]!)).toEqual([['T/2', 'fuzzy']]);
      expect((await older.query(`SELECT similarity('kelp', 'kelps') > 0 AS ok`)).rows).toEqual([
        { ok: true },
      ]);
      await older.end();

      // The older process is gone: the next start moves the extension; the running catalog keeps fuzzy search.
      catalogs.push(await openPgCatalog({ connectionString: server.url, schema: 'wharf' }));
      expect(catalogs[1]!.migration.trigramSchema).toBe('wharf_ext');
      for (const catalog of catalogs) expect(await typoHits(catalog)).toEqual([['T/2', 'fuzzy']]);

      // Dropping the catalog that created it no longer takes it from the other.
      await catalogs.pop()!.close();
      const admin = new pg.Client({ connectionString: server.url });
      await admin.connect();
      try {
        await admin.query('DROP SCHEMA wharf CASCADE');
        const where = await admin.query(
          `SELECT extnamespace::regnamespace::text AS schema FROM pg_extension WHERE extname = 'pg_trgm'`,
        );
        expect(where.rows).toEqual([{ schema: 'wharf_ext' }]);
      } finally {
        await admin.end();
      }
      expect(await typoHits(catalogs[0]!)).toEqual([['T/2', 'fuzzy']]);
    } finally {
      await older.end().catch(() => undefined);
      for (const catalog of catalogs) await catalog.close();
      await server.stop();
    }
  });
});
