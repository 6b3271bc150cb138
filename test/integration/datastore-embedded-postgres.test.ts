import { chmod, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../../src/datastore/catalog/embedded-postgres.js';
import { openPgCatalog } from '../../src/datastore/catalog/pg-catalog.js';

let parent: string | undefined;
afterAll(async () => {
  if (parent) await rm(parent, { recursive: true, force: true });
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
});
