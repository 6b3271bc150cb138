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

  it('a forced format applies to every name but archives', () => {
    expect(fileKind('e.txt', 'ndjson')).toEqual({ kind: 'rows', format: 'ndjson', gzip: false });
    expect(fileKind('e.data.gz', 'csv')).toEqual({ kind: 'rows', format: 'csv', gzip: true });
    expect(fileKind('e.zip', 'csv')).toEqual({ kind: 'zip' });
  });
});
