import { describe, expect, it } from 'vitest';
import { assertValidDatasetId, datasetFingerprint } from './dataset-id.js';

const base = {
  store: 's3://bkt',
  prefix: 'exports/daily-run/',
  include: ['**/*.json', '*.csv'],
  exclude: [],
  metaFiles: false,
};

describe('datasetFingerprint', () => {
  it('is <last prefix segment>-<12 hex> and stable', () => {
    const id = datasetFingerprint(base);
    expect(id).toMatch(/^daily-run-[0-9a-f]{12}$/);
    expect(datasetFingerprint({ ...base })).toBe(id);
    expect(() => assertValidDatasetId(id)).not.toThrow();
  });

  it('ignores pattern order, repeats, and slashes that do not change the selection', () => {
    const id = datasetFingerprint(base);
    expect(datasetFingerprint({ ...base, include: ['*.csv', '**/*.json', '*.csv'] })).toBe(id);
    expect(datasetFingerprint({ ...base, prefix: 'exports/daily-run' })).toBe(id);
    expect(datasetFingerprint({ ...base, store: 's3://bkt/' })).toBe(id);
    expect(datasetFingerprint({ ...base, endpoint: 'http://127.0.0.1:7480/' })).toBe(
      datasetFingerprint({ ...base, endpoint: 'http://127.0.0.1:7480' }),
    );
  });

  it('changes with every input that changes the selection', () => {
    const id = datasetFingerprint(base);
    const variants = [
      { ...base, endpoint: 'http://127.0.0.1:7480' },
      { ...base, store: 's3://other' },
      { ...base, store: '/srv/bkt' },
      { ...base, prefix: 'exports/' },
      { ...base, include: ['*.csv'] },
      { ...base, include: [] },
      { ...base, exclude: ['*.csv'] },
      // the same pattern as include or exclude means different things
      { ...base, include: [], exclude: ['**/*.json', '*.csv'] },
      { ...base, manifest: 'manifest' },
      { ...base, metaFiles: true },
    ];
    const ids = variants.map(datasetFingerprint);
    expect(new Set([id, ...ids]).size).toBe(variants.length + 1);
  });

  it('sanitises the name part and falls back to the store name', () => {
    expect(datasetFingerprint({ ...base, prefix: 'a/Q2 data (final)/' })).toMatch(
      /^Q2-data-final-[0-9a-f]{12}$/,
    );
    expect(datasetFingerprint({ ...base, prefix: 'a/.hidden/' })).toMatch(/^hidden-[0-9a-f]{12}$/);
    expect(datasetFingerprint({ ...base, prefix: 'x'.repeat(100) })).toMatch(/^x{40}-[0-9a-f]{12}$/);
    expect(datasetFingerprint({ ...base, prefix: '' })).toMatch(/^bkt-[0-9a-f]{12}$/);
    expect(datasetFingerprint({ ...base, store: '/', prefix: '' })).toMatch(/^dataset-[0-9a-f]{12}$/);
    expect(datasetFingerprint({ ...base, prefix: 'über/日本/' })).toMatch(/^dataset-[0-9a-f]{12}$/);
    for (const prefix of ['..', 'a/...---/', '-x-/', 'ü-a/']) {
      expect(() => assertValidDatasetId(datasetFingerprint({ ...base, prefix }))).not.toThrow();
    }
  });
});

describe('assertValidDatasetId', () => {
  it('accepts one safe path segment', () => {
    for (const id of ['a', 'daily-run-0123456789ab', 'A.b_c-1', 'x'.repeat(128), 'a..b']) {
      expect(() => assertValidDatasetId(id)).not.toThrow();
    }
  });

  it('refuses anything else with a UsageError', () => {
    for (const id of ['', '.', '..', '.hidden', 'a/b', 'a\\b', 'a b', 'ü', 'x'.repeat(129), 'a\0']) {
      expect(() => assertValidDatasetId(id)).toThrow(
        expect.objectContaining({ code: 'USAGE', message: `dataset id ${JSON.stringify(id)} is not valid` }),
      );
    }
  });
});
