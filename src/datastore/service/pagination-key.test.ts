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

  it('refuse forged positions that PostgreSQL could not read: a bad time, a bigint out of range', () => {
    const created = { sortBy: 'created', ascending: false };
    const forge = (k: string, q: string, sortBy = 'created') =>
      Buffer.from(JSON.stringify({ v: 1, s: sortBy, a: false, r: null, p: null, k, q })).toString(
        'base64url',
      );
    for (const [k, q] of [
      ['not a date', '1'],
      ['2026-02-30 10:00:00+00', '1'],
      ['2026-01-01 24:00:00+00', '1'],
      ['2026-01-01 10:00:00.123456+00', '99999999999999999999999'],
      ['2026-01-01 10:00:00.123456+00', '9223372036854775808'],
      ['2026-01-01 10:00:00.123456+00', '-1'],
    ]) {
      expect(() => decodePaginationKey(forge(k!, q!), created), `${k} ${q}`).toThrow(
        /not a key this service returned/,
      );
    }
    expect(decodePaginationKey(forge('2026-01-01 10:00:00+00', '9223372036854775807'), created).seq).toBe(
      '9223372036854775807',
    );
    const release = { sortBy: 'releaseTime', ascending: false };
    expect(decodePaginationKey(forge('-infinity', '3', 'releaseTime'), release).value).toBe('-infinity');
    expect(() => decodePaginationKey(forge('yesterday', '3', 'releaseTime'), release)).toThrow(
      /not a key this service returned/,
    );
    const byName = { sortBy: 'displayName', ascending: false };
    expect(decodePaginationKey(forge('any name', '3', 'displayName'), byName).value).toBe('any name');
    expect(() => decodePaginationKey(forge('a\u0000b', '3', 'displayName'), byName)).toThrow(
      /not a key this service returned/,
    );
  });
});

describe('dataset folders', () => {
  it('are the id with unsafe characters replaced, one folder per id', () => {
    expect(datasetFolder('10378.1/1451860')).toBe('10378.1-1451860/');
    expect(datasetFolder('a_b-c/7')).toBe('a_b-c-7/');
  });
});
