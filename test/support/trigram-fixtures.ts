import type pg from 'pg';
import type { PgCatalog } from '../../src/datastore/catalog/pg-catalog.js';

/** A dataset whose keyword 'bathymetry' a typo ('bathymtery') finds only by trigram similarity. */
export async function seedTypoDataset(client: pg.ClientBase, schema: string): Promise<void> {
  await client.query(`INSERT INTO ${schema}.registry_entries (id, kind, display_name, data, created_by)
                      VALUES ('T/1', 'organisation', 'Org', '{}', 'alice')`);
  await client.query(
    `INSERT INTO ${schema}.datasets (id, folder, owner, metadata, display_name, keywords_text,
       description_text, organisation_id, publisher_id)
     VALUES ('T/2', 'T-2/', 'alice', '{}', 'Seagrass meadow survey', 'seagrass bathymetry', 'Quadrats', 'T/1', 'T/1')`,
  );
}

/** What a search for the typo finds: [id, match] pairs. */
export async function typoHits(catalog: Pick<PgCatalog, 'searchDatasets'>): Promise<string[][]> {
  return (await catalog.searchDatasets('bathymtery', 25)).map((h) => [h.record.id, h.match]);
}
