import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigrations } from '../../src/datastore/catalog/migrate.js';
import { MIGRATIONS } from '../../src/datastore/catalog/migrations.js';
import { openPgCatalog } from '../../src/datastore/catalog/pg-catalog.js';
import { createScratchDatabase, type ScratchDatabase } from '../../src/datastore/catalog/scratch-database.js';
import { testPgUrl } from '../support/test-services.js';
import { seedTypoDataset, typoHits } from '../support/trigram-fixtures.js';

let db: ScratchDatabase;

beforeAll(async () => {
  db = await createScratchDatabase(testPgUrl(), 'ds_catalog');
});
afterAll(async () => {
  await db?.drop();
});

async function withClient<T>(work: (c: pg.Client) => Promise<T>): Promise<T> {
  return withUrl(db.url, work);
}

async function withUrl<T>(url: string, work: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

describe('datastore catalog migrations', () => {
  it('run once, in order, and a second run applies nothing', async () => {
    const first = await withClient((c) => runMigrations(c, 'twice'));
    expect(first.applied).toEqual(MIGRATIONS.map((m) => m.version));
    const second = await withClient((c) => runMigrations(c, 'twice'));
    expect(second.applied).toEqual([]);
    const tables = await withClient(async (c) =>
      (
        await c.query<{ table_name: string }>(
          `SELECT table_name FROM information_schema.tables WHERE table_schema = 'twice' ORDER BY table_name`,
        )
      ).rows.map((r) => r.table_name),
    );
    expect(tables).toEqual(
      expect.arrayContaining([
        'api_tokens',
        'audit_log',
        'dataset_grants',
        'datasets',
        'group_members',
        'id_counters',
        'metadata_history',
        'registry_entries',
        'release_history',
        'release_manifests',
        'reviewers',
        'schema_migrations',
        'service_settings',
        'system_roles',
      ]),
    );
  });

  it('are safe when several starters run them at the same moment (advisory lock)', async () => {
    const reports = await Promise.all(
      [1, 2, 3, 4].map(() => withClient((c) => runMigrations(c, 'concurrent'))),
    );
    const applied = reports.map((r) => r.applied);
    expect(applied.filter((a) => a.length > 0)).toEqual([MIGRATIONS.map((m) => m.version)]);
    expect(applied.filter((a) => a.length === 0)).toHaveLength(3);
    const recorded = await withClient(
      async (c) => (await c.query('SELECT version FROM concurrent.schema_migrations ORDER BY version')).rows,
    );
    expect(recorded).toEqual(MIGRATIONS.map((m) => ({ version: m.version })));
  });

  it('are also safe when whole catalogs open concurrently, and a later migration applies on top', async () => {
    const catalogs = await Promise.all(
      [1, 2].map(() => openPgCatalog({ connectionString: db.url, schema: 'replicas' })),
    );
    expect(catalogs.map((c) => c.migration.applied.length).sort()).toEqual([0, MIGRATIONS.length]);
    await Promise.all(catalogs.map((c) => c.close()));
    const extra = [...MIGRATIONS, { version: 99, name: 'later', sql: 'CREATE TABLE later_table (x int)' }];
    const report = await withClient((c) => runMigrations(c, 'replicas', extra));
    expect(report.applied).toEqual([99]);
  });

  it('upgrade a catalog made by migration 1 alone: its datasets become searchable, typos included', async () => {
    await withClient(async (c) => {
      await runMigrations(c, 'upgrade', MIGRATIONS.slice(0, 1));
      await c.query(`INSERT INTO upgrade.registry_entries (id, kind, display_name, data, created_by)
                     VALUES ('T/1', 'organisation', 'Org', '{}', 'alice')`);
      await c.query(
        `INSERT INTO upgrade.datasets (id, folder, owner, metadata, display_name, keywords_text,
           description_text, organisation_id, publisher_id)
         VALUES ('T/2', 'T-2/', 'alice', '{}', 'Seagrass meadow survey', 'seagrass bathymetry',
           'Quadrats along the shore', 'T/1', 'T/1')`,
      );
    });
    const catalog = await openPgCatalog({ connectionString: db.url, schema: 'upgrade' });
    try {
      expect(catalog.migration.applied).toEqual(MIGRATIONS.slice(1).map((m) => m.version));
      const ids = async (q: string) => (await catalog.searchDatasets(q, 25)).map((h) => h.record.id);
      expect(await ids('seagrass')).toEqual(['T/2']);
      expect(await ids('quadrat')).toEqual(['T/2']);
      if (catalog.fuzzySearch) {
        const typo = await catalog.searchDatasets('bathymtery', 25);
        expect(typo.map((h) => [h.record.id, h.match])).toEqual([['T/2', 'fuzzy']]);
      }
      expect(Number(await catalog.generation())).toBeGreaterThanOrEqual(1);
    } finally {
      await catalog.close();
    }
  });

  it('migration 5 reindexes existing names word for word (stop words and single letters too)', async () => {
    await withClient(async (c) => {
      await runMigrations(c, 'names', MIGRATIONS.slice(0, 4));
      await c.query(`INSERT INTO names.registry_entries (id, kind, display_name, data, created_by)
                     VALUES ('T/1', 'organisation', 'Org', '{}', 'alice')`);
      await c.query(
        `INSERT INTO names.datasets (id, folder, owner, metadata, display_name, keywords_text,
           description_text, organisation_id, publisher_id)
         VALUES ('T/2', 'T-2/', 'alice', '{}', 'AT&T network logs', '', 'Call records', 'T/1', 'T/1')`,
      );
    });
    const catalog = await openPgCatalog({ connectionString: db.url, schema: 'names' });
    try {
      expect(catalog.migration.applied).toEqual(MIGRATIONS.slice(4).map((m) => m.version));
      expect((await catalog.searchDatasets('at&t', 25)).map((h) => h.record.id)).toEqual(['T/2']);
    } finally {
      await catalog.close();
    }
  });

  it('refuse to start when an applied migration was edited', async () => {
    await withClient((c) => runMigrations(c, 'edited'));
    const edited = MIGRATIONS.map((m) => (m.version === 1 ? { ...m, sql: `${m.sql}\n-- edited` } : m));
    await expect(withClient((c) => runMigrations(c, 'edited', edited))).rejects.toThrow(
      /migration 1 .* differs from the one applied/,
    );
  });

  it('enable pg_trgm fuzzy search when the database allows it (it does on the test server)', async () => {
    const catalog = await openPgCatalog({ connectionString: db.url, schema: 'trgm' });
    try {
      // The scratch database is owned by the test user, and pg_trgm is trusted (PostgreSQL >= 13).
      expect(catalog.fuzzySearch).toBe(true);
      expect(catalog.migration.trigramSchema).toBe('wharf_ext');
    } finally {
      await catalog.close();
    }
    // A second catalog in another schema of the same database finds the extension where it is.
    const other = await openPgCatalog({ connectionString: db.url, schema: 'trgm_other' });
    try {
      expect(other.fuzzySearch).toBe(true);
    } finally {
      await other.close();
    }
  });

  it('refuse schema names that are not plain identifiers, and the schema that holds pg_trgm', async () => {
    await expect(openPgCatalog({ connectionString: db.url, schema: 'x"; DROP TABLE y; --' })).rejects.toThrow(
      /invalid catalog schema name/,
    );
    await expect(openPgCatalog({ connectionString: db.url, schema: 'wharf_ext' })).rejects.toThrow(
      'the catalog schema may not be wharf_ext, Wharf keeps pg_trgm there',
    );
  });
});

describe('datastore catalog pg_trgm, shared by the catalogs of one database', () => {
  it('lives in a schema of its own: dropping one catalog leaves the others their fuzzy search', async () => {
    const shared = await createScratchDatabase(testPgUrl(), 'ds_trgm_drop');
    const client = new pg.Client({ connectionString: shared.url });
    await client.connect();
    try {
      const first = await openPgCatalog({ connectionString: shared.url, schema: 'first' });
      await first.close();
      const second = await openPgCatalog({ connectionString: shared.url, schema: 'second' });
      try {
        await seedTypoDataset(client, 'second');
        expect(await typoHits(second)).toEqual([['T/2', 'fuzzy']]);
        // Someone removes the first catalog.
        await client.query('DROP SCHEMA first CASCADE');
        const indexes = await client.query(
          `SELECT schemaname FROM pg_indexes WHERE indexname = 'search_words_fuzzy'`,
        );
        expect(indexes.rows).toEqual([{ schemaname: 'second' }]);
        // The running catalog keeps finding typos (before, every search failed: "function similarity … does not exist").
        expect(await typoHits(second)).toEqual([['T/2', 'fuzzy']]);
        expect(second.migration.trigramSchema).toBe('wharf_ext');
      } finally {
        await second.close();
      }
    } finally {
      await client.end();
      await shared.drop();
    }
  });

  it('is created once when catalogs of a fresh database start at the same moment', async () => {
    const shared = await createScratchDatabase(testPgUrl(), 'ds_trgm_race');
    try {
      const catalogs = await Promise.all(
        ['one', 'two', 'three'].map((schema) => openPgCatalog({ connectionString: shared.url, schema })),
      );
      await Promise.all(catalogs.map((c) => c.close()));
      expect(catalogs.map((c) => [c.fuzzySearch, c.migration.trigramSchema])).toEqual(
        Array.from({ length: 3 }, () => [true, 'wharf_ext']),
      );
    } finally {
      await shared.drop();
    }
  });

  it('found in a catalog schema (older Wharf), stays while another session may depend on it and keeps working', async () => {
    const shared = await createScratchDatabase(testPgUrl(), 'ds_trgm_legacy');
    // An older Wharf's catalog: pg_trgm created in its schema, and a running process of it (its search_path
    // names that schema) — any session that is not this version's catalog.
    const older = new pg.Client({ connectionString: shared.url });
    await older.connect();
    try {
      await withUrl(shared.url, async (c) => {
        await c.query('CREATE SCHEMA legacy; CREATE EXTENSION pg_trgm WITH SCHEMA legacy');
        await runMigrations(c, 'legacy');
      });
      await older.query('SET search_path TO legacy');
      await seedTypoDataset(older, 'legacy');
      const catalogs = [
        await openPgCatalog({ connectionString: shared.url, schema: 'legacy' }),
        await openPgCatalog({ connectionString: shared.url, schema: 'newer' }),
      ];
      try {
        expect(catalogs.map((c) => c.migration.trigramSchema)).toEqual(['legacy', 'legacy']);
        expect(await typoHits(catalogs[0]!)).toEqual([['T/2', 'fuzzy']]);
        await seedTypoDataset(older, 'newer');
        expect(await typoHits(catalogs[1]!)).toEqual([['T/2', 'fuzzy']]);
        const old = await older.query(`SELECT similarity('bathymetry', 'bathymtery') > 0.3 AS close`);
        expect(old.rows).toEqual([{ close: true }]);
      } finally {
        await Promise.all(catalogs.map((c) => c.close()));
      }
    } finally {
      await older.end();
      await shared.drop();
    }
  });
});

describe('datastore catalog id numbers', () => {
  it('never hands out a number twice, under concurrency and after failed transactions', async () => {
    const catalog = await openPgCatalog({ connectionString: db.url, schema: 'ids', poolSize: 8 });
    try {
      const numbers = await Promise.all(Array.from({ length: 60 }, () => catalog.allocateNumber('10378.1')));
      expect(new Set(numbers).size).toBe(60);
      expect(Math.min(...numbers)).toBe(1);
      expect(Math.max(...numbers)).toBe(60);
      // A number taken by a call that then fails is gone for good.
      await expect(
        catalog.transaction(async () => {
          await catalog.allocateNumber('10378.1');
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect(await catalog.allocateNumber('10378.1')).toBe(62);
      expect(await catalog.allocateNumber('other')).toBe(1);
    } finally {
      await catalog.close();
    }
  });
});
