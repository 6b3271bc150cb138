import { expect, it } from 'vitest';
import { contentTypeFor, uploadContentTypeFor } from './content-type.js';

it('gives the type of a known extension, whatever its case and folder; none for unknown or missing ones', () => {
  expect(contentTypeFor('data/2024/sales.CSV')).toBe('text/csv');
  expect(contentTypeFor('part-0.parquet')).toBe('application/vnd.apache.parquet');
  expect(contentTypeFor('archive.tar.gz')).toBe('application/gzip');
  expect(contentTypeFor('a.dir/README')).toBeUndefined();
  expect(contentTypeFor('.csv')).toBeUndefined();
  expect(contentTypeFor('x.unknownext')).toBeUndefined();
});

it('sends application/octet-stream for an unknown extension, never nothing', () => {
  expect(uploadContentTypeFor('x.unknownext')).toBe('application/octet-stream');
  expect(uploadContentTypeFor('README')).toBe('application/octet-stream');
  expect(uploadContentTypeFor('a.csv')).toBe('text/csv');
});
