import { describe, expect, it } from 'vitest';
import { MemoryDriver } from '../storage/memory/memory-driver.js';
import { ingestTablesDetailed, normaliseInstant, quoteTableName, splitName } from './ingest-tables.js';

describe('table names', () => {
  it('reads schema.table with SQL double quotes, so that a name with a dot or a quote can be named', () => {
    expect(splitName('orders', 'public')).toEqual({ schema: 'public', table: 'orders' });
    expect(splitName('sales.orders', 'public')).toEqual({ schema: 'sales', table: 'orders' });
    expect(splitName('"s.t"', 'public')).toEqual({ schema: 'public', table: 's.t' });
    expect(splitName('sales."Q1 ""final"""', 'public')).toEqual({ schema: 'sales', table: 'Q1 "final"' });
    expect(splitName('"my.schema"."a.b"', 'public')).toEqual({ schema: 'my.schema', table: 'a.b' });
    for (const name of ['s.t', 'plain', 'say "hi"']) {
      expect(splitName(quoteTableName(name), 'public')).toEqual({ schema: 'public', table: name });
    }
  });
});

describe('ingest options', () => {
  it('normalises instants to UTC with microseconds', () => {
    expect(normaliseInstant('2000-01-01T00:00:00Z', 'x')).toBe('2000-01-01T00:00:00.000000Z');
    expect(normaliseInstant('2000-01-01T02:00:00.5+02:00', 'x')).toBe('2000-01-01T00:00:00.500000Z');
    expect(normaliseInstant('2000-01-01', 'x')).toBe('2000-01-01T00:00:00.000000Z');
    expect(normaliseInstant('-infinity', 'x')).toBe('-infinity');
    expect(() => normaliseInstant('2000-01-01T00:00:00', '--initial')).toThrow(
      /--initial must be an ISO instant with a zone/,
    );
  });

  it('validates eagerly, before connecting to anything', async () => {
    const store = new MemoryDriver();
    await expect(ingestTablesDetailed({ dest: 'x', store })).rejects.toThrow(/--tables a,b/);
    await expect(ingestTablesDetailed({ dest: 'x', store, tables: ['t'], lagSeconds: -1 })).rejects.toThrow(
      /--lag/,
    );
    await expect(ingestTablesDetailed({ dest: 'x', store, tables: ['t'], maxFileSize: 10 })).rejects.toThrow(
      /--max-file-size/,
    );
    await expect(
      ingestTablesDetailed({ dest: 'x', store, tables: ['t'], layout: '{table}/x.parquet' }),
    ).rejects.toThrow(/layout/);
  });
});
