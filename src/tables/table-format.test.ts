import { describe, expect, it } from 'vitest';
import { fileKind } from './table-format.js';

describe('fileKind', () => {
  it('tells the format from the name, with .gz and .zip', () => {
    expect(fileKind('a/b.JSON')).toEqual({ kind: 'rows', format: 'json', gzip: false });
    expect(fileKind('b.jsonl.gz')).toEqual({ kind: 'rows', format: 'ndjson', gzip: true });
    expect(fileKind('c.csv.gz')).toEqual({ kind: 'rows', format: 'csv', gzip: true });
    expect(fileKind('d.zip')).toEqual({ kind: 'zip' });
    expect(fileKind('e.txt')).toEqual({ kind: 'unknown' });
    expect(fileKind('dir.json/file')).toEqual({ kind: 'unknown' });
  });

  it('tells Parquet by .parquet and .parq; a gzipped one is still Parquet (prepareInputs refuses it)', () => {
    expect(fileKind('x/part-0001.PARQUET')).toEqual({ kind: 'rows', format: 'parquet', gzip: false });
    expect(fileKind('b.parq')).toEqual({ kind: 'rows', format: 'parquet', gzip: false });
    expect(fileKind('c.parquet.gz')).toEqual({ kind: 'rows', format: 'parquet', gzip: true });
    expect(fileKind('d.pq')).toEqual({ kind: 'unknown' });
    expect(fileKind('e.bin', 'parquet')).toEqual({ kind: 'rows', format: 'parquet', gzip: false });
  });

  it('a forced format applies to every name but archives', () => {
    expect(fileKind('e.txt', 'ndjson')).toEqual({ kind: 'rows', format: 'ndjson', gzip: false });
    expect(fileKind('e.data.gz', 'csv')).toEqual({ kind: 'rows', format: 'csv', gzip: true });
    expect(fileKind('e.zip', 'csv')).toEqual({ kind: 'zip' });
  });
});
