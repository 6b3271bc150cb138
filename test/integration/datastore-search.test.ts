import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPgCatalog, type PgCatalog } from '../../src/datastore/catalog/pg-catalog.js';
import { createScratchDatabase, type ScratchDatabase } from '../../src/datastore/catalog/scratch-database.js';
import type { DatasetRecord } from '../../src/datastore/model/dataset.js';
import type { DatasetMetadataInput } from '../../src/datastore/model/metadata.js';
import { sampleMetadata } from '../support/datastore-fixtures.js';
import { DatastoreService } from '../../src/datastore/service/datastore-service.js';
import { openStorage } from '../../src/storage/registry.js';
import { testPgUrl } from '../support/test-services.js';

const alice = { actor: 'alice' };
let db: ScratchDatabase;
let catalog: PgCatalog;
let service: DatastoreService;
let dir: string;
let orgId: string;

function metadata(
  name: string,
  extra: { keywords?: string[]; description?: string } = {},
): DatasetMetadataInput {
  return sampleMetadata(name, {
    organisationId: orgId,
    description: 'Plain description',
    createdDate: null,
    keywords: [],
    ...extra,
  });
}

beforeAll(async () => {
  db = await createScratchDatabase(testPgUrl(), 'ds_search');
  catalog = await openPgCatalog({ connectionString: db.url, schema: 'wharf' });
  dir = await mkdtemp(join(tmpdir(), 'wharf-ds-search-'));
  service = new DatastoreService({ catalog, store: await openStorage(dir), idPrefix: 'T1' });
  orgId = (await service.registerOrganisation({ name: 'Org' }, alice)).id;
});

afterAll(async () => {
  await catalog?.close();
  await db?.drop();
  await rm(dir, { recursive: true, force: true });
});

describe('datastore search', () => {
  it('ranks a match in the id above name, name above keywords, keywords above description', async () => {
    const description = await service.mintDataset(
      metadata('Alpha', { description: 'Notes on kelp growth' }),
      alice,
    );
    const keywords = await service.mintDataset(metadata('Beta', { keywords: ['kelp', 'reef'] }), alice);
    const name = await service.mintDataset(metadata('Kelp canopy survey'), alice);
    const hits = await service.searchDatasets({ query: 'kelp' });
    expect(hits.map((h) => h.id)).toEqual([name.id, keywords.id, description.id]);
    expect(hits.every((h) => h.match === 'fulltext')).toBe(true);
    expect(hits[0]!.score).toBeGreaterThan(hits[1]!.score);
    expect(hits[1]!.score).toBeGreaterThan(hits[2]!.score);

    // The id itself outranks the same text in a name, keywords or description.
    const target = await service.mintDataset(metadata('Gamma'), alice);
    const inDescription = await service.mintDataset(
      metadata('Delta', { description: `Supersedes ${target.id}` }),
      alice,
    );
    const inKeywords = await service.mintDataset(metadata('Epsilon', { keywords: [target.id] }), alice);
    const inName = await service.mintDataset(metadata(`Copy of ${target.id}`), alice);
    const byId = await service.searchDatasets({ query: target.id });
    expect(byId.map((h) => h.id)).toEqual([target.id, inName.id, inKeywords.id, inDescription.id]);
  });

  it('matches stems, word prefixes and, with pg_trgm, typos (ranked below full-text hits)', async () => {
    const ocean = await service.mintDataset(
      metadata('Ocean temperature records', { keywords: ['salinity'] }),
      alice,
    );
    expect((await service.searchDatasets({ query: 'temperatures' })).map((h) => h.id)).toContain(ocean.id);
    expect((await service.searchDatasets({ query: 'salin' })).map((h) => h.id)).toContain(ocean.id);
    const typo = await service.searchDatasets({ query: 'temperture' });
    if (catalog.fuzzySearch) {
      expect(typo[0]).toMatchObject({ id: ocean.id, match: 'fuzzy' });
      expect(typo[0]!.score).toBeGreaterThan(0.5);
    } else {
      expect(typo).toEqual([]);
    }
    expect(await service.searchDatasets({ query: 'zzqqxx' })).toEqual([]);
    await expect(service.searchDatasets({ query: '' })).rejects.toThrow(/query: must not be empty/);
    const limited = await service.searchDatasets({ query: 'plain description', limit: 2 });
    expect(limited).toHaveLength(2);
  });
});

describe('datastore search: excluded words', () => {
  it('a -word or -"phrase" excludes every dataset that has it, in every form of the query (prefix, typos)', async () => {
    const kelp = await service.mintDataset(metadata('Giant kelp holdfast census'), alice);
    const zebra = await service.mintDataset(
      metadata('Zebra mussel counts', { keywords: ['kelp'], description: 'Zebra mussels among the kelp' }),
      alice,
    );
    const ids = async (query: string) => (await service.searchDatasets({ query })).map((h) => h.id);
    expect(await ids('kelp')).toEqual(expect.arrayContaining([kelp.id, zebra.id]));
    expect(await ids('kelp -zebra')).toContain(kelp.id);
    expect(await ids('kelp -zebra')).not.toContain(zebra.id);
    // The stemmed form is excluded too (english), and a phrase.
    expect(await ids('kelp -zebras')).not.toContain(zebra.id);
    expect(await ids('kelp -"zebra mussel"')).not.toContain(zebra.id);
    expect(await ids('holdf -zebra')).toEqual([kelp.id]);
    expect(await ids('-zebra')).not.toContain(zebra.id);
    expect(await ids('zebra')).toContain(zebra.id);
    // A misspelt word beside an excluded one: the correction does not bring the excluded one back.
    if (catalog.fuzzySearch) expect(await ids('kelpp -zebra')).not.toContain(zebra.id);
  });
});

describe('datastore search: names with stop words and single letters', () => {
  it('finds a name by its words as typed, whatever the english configuration drops; ranks stay by field', async () => {
    const att = await service.mintDataset(metadata('AT&T network logs'), alice);
    const about = await service.mintDataset(metadata('Carrier study', { keywords: ['network'] }), alice);
    for (const query of ['AT&T', 'at&t', 'AT&T network logs', 'at&t netw']) {
      const hits = await service.searchDatasets({ query });
      expect(hits[0]?.id, query).toBe(att.id);
    }
    // The name still outranks keywords.
    const network = (await service.searchDatasets({ query: 'network' })).map((h) => h.id);
    expect(network.indexOf(att.id)).toBeLessThan(network.indexOf(about.id));
  });
});

describe('datastore search: typos and generation', () => {
  it('corrects each misspelt word towards the words of names and keywords', async () => {
    const reef = await service.mintDataset(
      metadata('Seagrass meadow mapping', { keywords: ['bathymetry'] }),
      alice,
    );
    const hits = await service.searchDatasets({ query: 'seagras medow' });
    if (!catalog.fuzzySearch) return;
    expect(hits[0]).toMatchObject({ id: reef.id, match: 'fuzzy' });
    // One word right and one misspelt: the right one stays as typed.
    expect((await service.searchDatasets({ query: 'seagrass bathymtery' }))[0]).toMatchObject({
      id: reef.id,
      match: 'fuzzy',
    });
    // A word nothing resembles finds nothing rather than everything.
    expect(await service.searchDatasets({ query: 'qqqzzzxxx' })).toEqual([]);
  });

  it('follows renames and visibility changes (the search table is kept by triggers)', async () => {
    const record = await service.mintDataset(metadata('Wombat burrow census'), alice);
    expect((await service.searchDatasets({ query: 'wombat' })).map((h) => h.id)).toContain(record.id);
    await service.updateDatasetMetadata(record.id, 'rename', metadata('Echidna burrow census'), alice);
    expect((await service.searchDatasets({ query: 'wombat' })).map((h) => h.id)).not.toContain(record.id);
    expect((await service.searchDatasets({ query: 'echidna' })).map((h) => h.id)).toEqual([record.id]);
    const anonymous = { visibleTo: { username: null } };
    expect(await service.searchDatasets({ query: 'echidna' }, anonymous)).toEqual([]);
    await catalog.access.setMetadataPublic(record.id, true);
    expect((await service.searchDatasets({ query: 'echidna' }, anonymous)).map((h) => h.id)).toEqual([
      record.id,
    ]);
  });

  it('moves the generation once per committed change of datasets or grants, never on reads', async () => {
    const before = BigInt(await catalog.generation());
    const record = await service.mintDataset(metadata('Generation probe'), alice);
    const afterMint = BigInt(await catalog.generation());
    expect(afterMint).toBe(before + 1n);
    await service.searchDatasets({ query: 'generation probe' });
    await service.listDatasets();
    await service.fetchDataset(record.id);
    expect(BigInt(await catalog.generation())).toBe(afterMint);
    await catalog.access.grantDatasetRole(record.id, 'user', 'bob', 'metadata-read', 'alice');
    const afterGrant = BigInt(await catalog.generation());
    expect(afterGrant).toBe(afterMint + 1n);
    await catalog.access.addGroupMember('surveyors', 'bob');
    expect(BigInt(await catalog.generation())).toBe(afterGrant + 1n);
    // Several changes in one transaction move it once; a rolled-back change not at all.
    const client = new pg.Client({ connectionString: db.url, options: '-c search_path=wharf' });
    await client.connect();
    try {
      const grant = `INSERT INTO dataset_grants (dataset_id, principal_kind, principal, role, granted_by)
                     VALUES ($1, 'user', $2, 'data-read', 'alice')`;
      await client.query('BEGIN');
      await client.query(grant, [record.id, 'carl']);
      await client.query(grant, [record.id, 'dora']);
      await client.query(`UPDATE datasets SET owner = owner WHERE id = $1`, [record.id]);
      await client.query('COMMIT');
      expect(BigInt(await catalog.generation())).toBe(afterGrant + 2n);
      await client.query('BEGIN');
      await client.query(grant, [record.id, 'erin']);
      await client.query('ROLLBACK');
    } finally {
      await client.end();
    }
    expect(BigInt(await catalog.generation())).toBe(afterGrant + 2n);
  });
});

describe('datastore list', () => {
  let all: DatasetRecord[];

  beforeAll(async () => {
    // A separate prefix keeps the listing assertions independent of the search datasets above.
    for (let i = 0; i < 30; i += 1) {
      await service.mintDataset(metadata(`List item ${String(30 - i).padStart(2, '0')}`), alice);
    }
    all = [];
    for await (const record of service.listAllDatasets({ sortBy: 'created', ascending: true }))
      all.push(record);
  });

  it('pages 20 at a time by default, newest first, with an opaque key', async () => {
    const first = await service.listDatasets();
    expect(first.items).toHaveLength(20);
    expect(first.paginationKey).toMatch(/^[A-Za-z0-9_-]+$/);
    const created = first.items.map((r) => Date.parse(r.createdAt));
    expect([...created].sort((a, b) => b - a)).toEqual(created);
    expect(first.items[0]!.id).toBe(all.at(-1)!.id);
    const ids: string[] = [];
    for await (const r of service.listAllDatasets()) ids.push(r.id);
    expect(ids).toEqual(all.map((r) => r.id).reverse());
  });

  it('sorts by display name and updated time, both directions', async () => {
    const names: string[] = [];
    for await (const r of service.listAllDatasets({ sortBy: 'displayName', ascending: true, pageSize: 7 })) {
      names.push(r.metadata.datasetInfo.name);
    }
    expect(names).toEqual([...names].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase(), 'en')));
    const desc = (await service.listDatasets({ sortBy: 'displayName', ascending: false, pageSize: 3 })).items;
    expect(desc.map((r) => r.metadata.datasetInfo.name)).toEqual([...names].reverse().slice(0, 3));

    const touched = all[3]!;
    await service.updateDatasetMetadata(
      touched.id,
      'touch',
      metadata(touched.metadata.datasetInfo.name),
      alice,
    );
    const updated = await service.listDatasets({ sortBy: 'updated', pageSize: 1 });
    expect(updated.items[0]!.id).toBe(touched.id);
  });

  it('sorts names without regard to accents or case, whatever the database collation', async () => {
    const names = [
      'zebra survey',
      'École data',
      'apple orchard',
      'Éa basin',
      'eb tides',
      'Ökologie',
      'oz reef',
    ];
    const ids = new Map<string, string>();
    for (const name of names) ids.set((await service.mintDataset(metadata(name), alice)).id, name);
    const sorted: string[] = [];
    for await (const r of service.listAllDatasets({ sortBy: 'displayName', ascending: true, pageSize: 4 })) {
      if (ids.has(r.id)) sorted.push(ids.get(r.id)!);
    }
    expect(sorted).toEqual([
      'apple orchard',
      'Éa basin',
      'eb tides',
      'École data',
      'Ökologie',
      'oz reef',
      'zebra survey',
    ]);
  });

  it('stays stable while datasets are inserted between pages: every existing dataset exactly once', async () => {
    for (const sortBy of ['created', 'displayName'] as const) {
      for (const ascending of [true, false]) {
        const before: string[] = [];
        for await (const r of service.listAllDatasets({ sortBy, ascending })) before.push(r.id);
        const seen: string[] = [];
        let key: string | undefined;
        let inserted = 0;
        do {
          const page = await service.listDatasets({
            sortBy,
            ascending,
            pageSize: 6,
            ...(key ? { paginationKey: key } : {}),
          });
          seen.push(...page.items.map((r) => r.id));
          key = page.paginationKey;
          // Concurrent writers: two new datasets land on both sides of the cursor while we page.
          await Promise.all([
            service.mintDataset(metadata(`AAA inserted ${sortBy} ${inserted}`), alice),
            service.mintDataset(metadata(`zzz inserted ${sortBy} ${inserted}`), alice),
          ]);
          inserted += 1;
        } while (key !== undefined);
        expect(new Set(seen).size).toBe(seen.length);
        const seenSet = new Set(seen);
        expect(before.filter((id) => !seenSet.has(id))).toEqual([]);
        // And the pre-existing ones came in the same order as a quiet listing.
        expect(seen.filter((id) => before.includes(id))).toEqual(before);
      }
    }
  });

  it('filters by release status and approver, and sorts by release time', async () => {
    await service.addDatasetReviewer('rita', alice);
    await service.addDatasetReviewer('ravi', alice);
    const [a, b, c] = all;
    await service.datasetApprovalRequest(a!.id, 'rita', 'r1', alice);
    await service.datasetApprovalRequest(b!.id, 'ravi', 'r2', alice);
    await service.datasetApprovalRequest(c!.id, 'rita', 'r3', alice);
    await service.actionApprovalRequest(c!.id, 'approve', 'ok', { actor: 'rita' });

    const pending = await service.listDatasets({ releaseStatus: 'PENDING' });
    expect(pending.items.map((r) => r.id).sort()).toEqual([a!.id, b!.id].sort());
    const rita = await service.listDatasets({ approver: 'rita' });
    expect(rita.items.map((r) => r.id).sort()).toEqual([a!.id, c!.id].sort());
    const released = await service.listDatasets({ releaseStatus: 'RELEASED', approver: 'rita' });
    expect(released.items.map((r) => r.id)).toEqual([c!.id]);
    const byRelease = await service.listDatasets({ sortBy: 'releaseTime', pageSize: 3 });
    expect(byRelease.items.map((r) => r.id)).toEqual([c!.id, b!.id, a!.id]);
    // Paging through never-released datasets (sorted as -infinity) loses and repeats nothing.
    const total = (await service.listDatasets({ pageSize: 1000 })).items.length;
    const ids: string[] = [];
    for await (const r of service.listAllDatasets({ sortBy: 'releaseTime', ascending: true, pageSize: 4 })) {
      ids.push(r.id);
    }
    expect(new Set(ids).size).toBe(total);
    expect(ids.slice(-3)).toEqual([a!.id, b!.id, c!.id]);
  });

  it('refuses a tampered key or one from another sort order, and bad query options', async () => {
    const page = await service.listDatasets({ pageSize: 2 });
    await expect(service.listDatasets({ paginationKey: 'garbage!' })).rejects.toThrow(
      /not a key this service returned/,
    );
    await expect(
      service.listDatasets({ sortBy: 'displayName', paginationKey: page.paginationKey! }),
    ).rejects.toThrow(/another sort order or filter/);
    await expect(service.listDatasets({ pageSize: 0 })).rejects.toThrow(/pageSize/);
    await expect(service.listDatasets({ sortBy: 'size' as never })).rejects.toThrow(/sortBy/);
  });
});
