import { describe, expect, it } from 'vitest';
import { knownTableNames, resolveTable, validateTablesConfig } from './table-config.js';

describe('resolveTable', () => {
  it('maps pega-datamart names under --from and the datamart folder', () => {
    expect(resolveTable('modelSnapshot', { from: 's3://bkt' })).toEqual({
      name: 'modelSnapshot',
      source: 's3://bkt/datamart/Data-Decision-ADM-ModelSnapshot_pzModelSnapshots/',
      origin: 'pega-datamart',
    });
    expect(resolveTable('histogram', { from: 's3://bkt/exports/', datamartFolder: 'dm' }).source).toBe(
      's3://bkt/exports/dm/Data-DM-Histogram/',
    );
    expect(() => resolveTable('snapshot')).toThrow(
      /table "snapshot" needs a base location: it lives under datamart\/Data-DM-Snapshot\//,
    );
  });

  it('prefers config definitions; relative prefixes go under from', () => {
    const config = validateTablesConfig(
      {
        from: 's3://bkt',
        define: {
          orders: { prefix: 'exports/orders', include: ['**/*.csv.gz'], format: 'csv' },
          snapshot: { prefix: 's3://other/snap/' },
        },
      },
      'wharf.config.json',
    );
    expect(resolveTable('orders', { config })).toEqual({
      name: 'orders',
      source: 's3://bkt/exports/orders',
      origin: 'config',
      include: ['**/*.csv.gz'],
      format: 'csv',
    });
    expect(resolveTable('snapshot', { config }).source).toBe('s3://other/snap/');
    expect(knownTableNames(config).slice(0, 3)).toEqual(['orders', 'snapshot', 'modelSnapshot']);
  });

  it('takes locations as they are and names the table after the last folder', () => {
    expect(resolveTable('s3://bkt/x/sales/')).toMatchObject({
      name: 'sales',
      source: 's3://bkt/x/sales/',
      origin: 'location',
    });
    expect(resolveTable('./exports/q1')).toMatchObject({ name: 'q1', source: './exports/q1' });
  });

  it('names the known tables when a name is unknown', () => {
    expect(() => resolveTable('modelsnapshot', { from: 's3://bkt' })).toThrow(
      /unknown table "modelsnapshot"; known names: modelSnapshot, predictorSnapshot/,
    );
  });
});

describe('validateTablesConfig', () => {
  it('names the field that is wrong', () => {
    expect(() => validateTablesConfig({ define: { t: { prefix: 'x', format: 'xml' } } }, 'cfg.json')).toThrow(
      'cfg.json: tables.define.t.format must be one of auto, json, ndjson, csv',
    );
    expect(() => validateTablesConfig({ define: { t: {} } }, 'cfg.json')).toThrow(
      'tables.define.t.prefix must be a non-empty string',
    );
    expect(() => validateTablesConfig({ form: 's3://bkt' }, 'cfg.json')).toThrow(
      'tables.form is not a known setting',
    );
    expect(() =>
      validateTablesConfig({ define: { t: { prefix: 'x', encoding: 'ascii' } } }, 'cfg.json'),
    ).toThrow(
      'cfg.json: tables.define.t.encoding must be one of utf-8, utf-16, latin-1, windows-1252 (or utf8, utf16, latin1, iso-8859-1, cp1252)',
    );
  });

  it('takes a table’s CSV encoding by any of its names, for resolveTable to pass on', () => {
    const config = validateTablesConfig(
      { define: { crm: { prefix: 's3://bkt/crm/', encoding: 'CP1252' } } },
      'c',
    );
    expect(config.define?.crm?.encoding).toBe('windows-1252');
    expect(resolveTable('crm', { config })).toMatchObject({
      source: 's3://bkt/crm/',
      encoding: 'windows-1252',
    });
  });
});
