import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiToken } from '../../src/app/api-tokens.js';
import { AUTH_CACHE_MS } from '../../src/datastore/catalog/pg-access.js';
import { openPgCatalog, type PgCatalog } from '../../src/datastore/catalog/pg-catalog.js';
import { createScratchDatabase, type ScratchDatabase } from '../../src/datastore/catalog/scratch-database.js';
import { DatastoreService } from '../../src/datastore/service/datastore-service.js';
import { openStorage } from '../../src/storage/registry.js';
import { sampleMetadata } from '../support/datastore-fixtures.js';
import { testPgUrl } from '../support/test-services.js';

/**
 * The access catalog caches token lookups and user facts for AUTH_CACHE_MS (every authenticated request needs
 * both). Changes through the same process apply at once; through another replica, within AUTH_CACHE_MS.
 */

let db: ScratchDatabase;
let a: PgCatalog;
let b: PgCatalog; // a second replica on the same catalog

beforeAll(async () => {
  db = await createScratchDatabase(testPgUrl(), 'ds_auth_cache');
  a = await openPgCatalog({ connectionString: db.url });
  b = await openPgCatalog({ connectionString: db.url });
});
afterAll(async () => {
  await a?.close();
  await b?.close();
  await db?.drop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function newToken(username: string, expiresAt: Date | null = null) {
  const t = generateApiToken();
  await a.access.createToken({ tokenId: t.tokenId, hash: t.hash, username, name: 'test', expiresAt });
  return t;
}

describe('auth cache', () => {
  it('is short: at most one second', () => {
    expect(AUTH_CACHE_MS).toBeGreaterThan(0);
    expect(AUTH_CACHE_MS).toBeLessThanOrEqual(1000);
  });

  it('a token revoked through this process is refused at once, even when it was just used', async () => {
    const t = await newToken('rita');
    expect((await a.access.findActiveToken(t.hash))?.tokenId).toBe(t.tokenId);
    expect(await a.access.revokeToken(t.tokenId)).toBe(true);
    expect(await a.access.findActiveToken(t.hash)).toBeUndefined();
  });

  it('a token revoked through another replica is refused there at once and here within AUTH_CACHE_MS', async () => {
    const t = await newToken('sam');
    expect((await a.access.findActiveToken(t.hash))?.username).toBe('sam');
    expect(await b.access.revokeToken(t.tokenId)).toBe(true);
    expect(await b.access.findActiveToken(t.hash)).toBeUndefined();
    // replica a may still accept it from its cache, but not after AUTH_CACHE_MS
    await sleep(AUTH_CACHE_MS + 100);
    expect(await a.access.findActiveToken(t.hash)).toBeUndefined();
  });

  it('an expired token is refused even while cached', async () => {
    const t = await newToken('tom', new Date(Date.now() + 400));
    expect((await a.access.findActiveToken(t.hash))?.username).toBe('tom');
    await sleep(500);
    expect(await a.access.findActiveToken(t.hash)).toBeUndefined();
  });

  it('system roles, groups and the reviewer pool changed through this process apply at once', async () => {
    expect(await a.access.userFacts('uma')).toEqual({ systemRoles: [], groups: [] });
    await a.access.grantSystemRole('uma', 'sys-admin', 'admin');
    expect((await a.access.userFacts('uma')).systemRoles).toEqual(['sys-admin']);
    await a.access.addGroupMember('ocean', 'uma');
    expect((await a.access.userFacts('uma')).groups).toEqual(['ocean']);
    await a.transaction((tx) => tx.addReviewer('uma', 'admin'));
    expect((await a.access.userFacts('uma')).systemRoles).toEqual(['reviewer', 'sys-admin']);
    await a.transaction((tx) => tx.removeReviewer('uma'));
    await a.access.removeGroupMember('ocean', 'uma');
    await a.access.revokeSystemRole('uma', 'sys-admin');
    expect(await a.access.userFacts('uma')).toEqual({ systemRoles: [], groups: [] });
  });

  it('changes through another replica apply within AUTH_CACHE_MS; callers cannot mutate the cached facts', async () => {
    const facts = await a.access.userFacts('vic');
    facts.groups.push('not-really');
    expect((await a.access.userFacts('vic')).groups).toEqual([]);
    await b.access.addGroupMember('reef', 'vic');
    expect((await b.access.userFacts('vic')).groups).toEqual(['reef']);
    await sleep(AUTH_CACHE_MS + 100);
    expect((await a.access.userFacts('vic')).groups).toEqual(['reef']);
  });
});

describe('who sees what in list and search (list checks grants per row, search hashes them once)', () => {
  it('owner, user grant, group grant and metadata-public count; nothing else', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wharf-ds-visibility-'));
    try {
      const service = new DatastoreService({ catalog: a, store: await openStorage(dir), idPrefix: 'V1' });
      const owner = { actor: 'olga' };
      const org = (await service.registerOrganisation({ name: 'Org' }, owner)).id;
      const mint = (name: string) =>
        service.mintDataset(sampleMetadata(name, { organisationId: org, keywords: ['kelp'] }), owner);
      const [byUser, byGroup, open, hidden, own] = await Promise.all(
        ['by user', 'by group', 'public', 'hidden', 'own'].map((n) => mint(`Kelp ${n}`)),
      );
      await a.access.grantDatasetRole(byUser!.id, 'user', 'pia', 'metadata-read', 'olga');
      await a.access.grantDatasetRole(byGroup!.id, 'group', 'divers', 'data-read', 'olga');
      await a.access.grantDatasetRole(hidden!.id, 'user', 'someone-else', 'admin', 'olga');
      await a.access.grantDatasetRole(hidden!.id, 'group', 'other-group', 'admin', 'olga');
      await a.access.addGroupMember('divers', 'pia');
      await a.access.setMetadataPublic(open!.id, true);
      const hers = await service.mintDataset(
        sampleMetadata('Kelp hers', { organisationId: org, keywords: ['kelp'] }),
        {
          actor: 'pia',
        },
      );

      const seen = async (username: string | null) => {
        const scope = { visibleTo: { username } };
        const listed = (await service.listDatasets({ pageSize: 1000 }, scope)).items.map((r) => r.id);
        const found = (await service.searchDatasets({ query: 'kelp', limit: 1000 }, scope)).map((h) => h.id);
        expect(found.sort()).toEqual([...listed].sort());
        return listed.sort();
      };
      expect(await seen('pia')).toEqual([byUser!.id, byGroup!.id, open!.id, hers.id].sort());
      expect(await seen(null)).toEqual([open!.id]);
      expect(await seen('olga')).toEqual([byUser!.id, byGroup!.id, open!.id, hidden!.id, own!.id].sort());
      await a.access.removeGroupMember('divers', 'pia');
      expect(await seen('pia')).toEqual([byUser!.id, open!.id, hers.id].sort());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
