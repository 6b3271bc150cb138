import { describe, expect, it } from 'vitest';
import { datasetFolder } from './dataset-folder.js';
import { decodePaginationKey, encodePaginationKey } from './pagination-key.js';

describe('pagination keys', () => {
  const shape = { sortBy: 'created', ascending: false, releaseStatus: 'PENDING', approver: 'rita' };

  it('round-trip the position and are URL-safe', () => {
    const key = encodePaginationKey(shape, { value: '2026-01-01 10:00:00.123456+00', seq: '42' });
    expect(key).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodePaginationKey(key, shape)).toEqual({ value: '2026-01-01 10:00:00.123456+00', seq: '42' });
  });

  it('refuse keys from another listing shape and keys that were not issued', () => {
    const key = encodePaginationKey(shape, { value: 'x', seq: '1' });
    expect(() => decodePaginationKey(key, { ...shape, ascending: true })).toThrow(
      /another sort order or filter/,
    );
    expect(() => decodePaginationKey(key, { ...shape, approver: undefined })).toThrow(
      /another sort order or filter/,
    );
    expect(() => decodePaginationKey('not-a-key', shape)).toThrow(/not a key this service returned/);
    const forged = Buffer.from(
      JSON.stringify({ v: 1, s: 'created', a: false, r: 'PENDING', p: 'rita', k: 'x', q: '1; DROP' }),
    ).toString('base64url');
    expect(() => decodePaginationKey(forged, shape)).toThrow(/not a key this service returned/);
  });
});

describe('dataset folders', () => {
  it('are the id with unsafe characters replaced, one folder per id', () => {
    expect(datasetFolder('10378.1/1451860')).toBe('10378.1-1451860/');
    expect(datasetFolder('a_b-c/7')).toBe('a_b-c-7/');
  });
});
