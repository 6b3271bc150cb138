import { describe, expect, it } from 'vitest';
import {
  diffSchema,
  numericPrecision,
  parquetColumnNames,
  planColumn,
  type CatalogColumn,
} from './column-types.js';

const col = (base: string, extra: Partial<CatalogColumn> = {}): CatalogColumn => ({
  name: 'c',
  declared: base,
  base,
  kind: 'b',
  typmod: -1,
  ...extra,
});
const numericTypmod = (p: number, s: number): number => ((p << 16) | (s & 0x7ff)) + 4;

describe('column types', () => {
  it('maps catalog types to exact Parquet types', () => {
    const cases: [CatalogColumn, string][] = [
      [col('int2'), 'SMALLINT'],
      [col('int4'), 'INTEGER'],
      [col('int8'), 'BIGINT'],
      [col('numeric', { typmod: numericTypmod(12, 4) }), 'DECIMAL(12,4)'],
      [col('numeric', { typmod: numericTypmod(38, 0) }), 'DECIMAL(38,0)'],
      [col('numeric', { typmod: numericTypmod(39, 2) }), 'VARCHAR'],
      [col('numeric', { typmod: numericTypmod(5, -2) }), 'VARCHAR'],
      [col('numeric'), 'VARCHAR'],
      [col('float4'), 'FLOAT'],
      [col('float8'), 'DOUBLE'],
      [col('bool'), 'BOOLEAN'],
      [col('bpchar'), 'VARCHAR'],
      [col('timestamptz'), 'TIMESTAMPTZ'],
      [col('interval'), 'STRUCT(months INTEGER, days INTEGER, micros BIGINT)'],
      [col('jsonb'), 'JSON'],
      [col('uuid'), 'UUID'],
      [col('bytea'), 'BLOB'],
      [col('mood', { kind: 'e' }), 'VARCHAR'],
      [col('_int4', { element: { base: 'int4', kind: 'b' } }), 'INTEGER[]'],
      [
        col('_numeric', { element: { base: 'numeric', kind: 'b' }, typmod: numericTypmod(5, 2) }),
        'DECIMAL(5,2)[]',
      ],
      [col('_mood', { element: { base: 'mood', kind: 'e' } }), 'VARCHAR[]'],
      [col('_bytea', { element: { base: 'bytea', kind: 'b' } }), 'JSON'],
      [col('_jsonb', { element: { base: 'jsonb', kind: 'b' } }), 'JSON[]'],
      [col('_json', { element: { base: 'json', kind: 'b' } }), 'JSON[]'],
      [col('inet'), 'VARCHAR'],
    ];
    for (const [column, type] of cases) expect(planColumn(column).parquetType, column.declared).toBe(type);
  });

  it('decodes numeric typmods, including negative scales', () => {
    expect(numericPrecision(numericTypmod(12, 4))).toEqual({ precision: 12, scale: 4 });
    expect(numericPrecision(numericTypmod(5, -2))).toEqual({ precision: 5, scale: -2 });
    expect(numericPrecision(-1)).toBeUndefined();
  });

  it('sends arrays as JSON strings so numerics never pass through a double', () => {
    const plan = planColumn(
      col('_numeric', { element: { base: 'numeric', kind: 'b' }, typmod: numericTypmod(20, 6) }),
    );
    expect(plan.pgExpr('"a"')).toBe('array_to_json("a"::text[])::text');
    expect(plan.duckExpr('"c0"')).toBe('CAST(CAST("c0" AS JSON) AS DECIMAL(20,6)[])');
  });

  it('reports added, removed and retyped columns', () => {
    expect(diffSchema([{ name: 'a', type: 'INTEGER' }], [{ name: 'a', type: 'INTEGER' }])).toBeUndefined();
    expect(
      diffSchema(
        [
          { name: 'a', type: 'INTEGER' },
          { name: 'b', type: 'VARCHAR' },
        ],
        [
          { name: 'a', type: 'BIGINT' },
          { name: 'c', type: 'DATE' },
        ],
      ),
    ).toEqual({ added: ['c'], removed: ['b'], changed: ['a'] });
  });

  it('renames a column whose name differs from an earlier one only by case, to the first free suffix', () => {
    expect(parquetColumnNames(['ID', 'id', 'Name', 'name', 'x'])).toEqual([
      'ID',
      'id_1',
      'Name',
      'name_1',
      'x',
    ]);
    expect(parquetColumnNames(['a', 'A', 'a_1', 'A_1'])).toEqual(['a', 'A_2', 'a_1', 'A_1_1']);
    expect(parquetColumnNames(['a', 'b'])).toEqual(['a', 'b']);
  });
});
