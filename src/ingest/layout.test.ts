import { describe, expect, it } from 'vitest';
import { DEFAULT_LAYOUT, instantOfKey, runKeys, tableFolder, tablePrefix, validateLayout } from './layout.js';

describe('layout', () => {
  it('renders the run time in UTC with microseconds, zero-padded, and numbers parts', () => {
    expect(runKeys(DEFAULT_LAYOUT, 'orders', '2024-03-05T07:08:09.000123Z', 1)).toEqual([
      'orders/2024/03/05/070809000123.parquet',
    ]);
    expect(runKeys(DEFAULT_LAYOUT, 'orders', '2024-03-05T07:08:09.000123Z', 2)).toEqual([
      'orders/2024/03/05/070809000123-0001.parquet',
      'orders/2024/03/05/070809000123-0002.parquet',
    ]);
  });

  it('parses a key back into the instant, parts included, and ignores foreign keys', () => {
    const instant = '1999-12-31T23:59:59.999999Z';
    for (const key of runKeys(DEFAULT_LAYOUT, 'a.b', instant, 3)) {
      expect(instantOfKey(DEFAULT_LAYOUT, 'a.b', key)).toBe(instant);
    }
    expect(instantOfKey(DEFAULT_LAYOUT, 'a.b', 'a.b/1999/12/31/notes.txt')).toBeUndefined();
    expect(instantOfKey(DEFAULT_LAYOUT, 'a.b', 'axb/1999/12/31/235959999999.parquet')).toBeUndefined();
    expect(tablePrefix(DEFAULT_LAYOUT, 'orders')).toBe('orders/');
  });

  it('lexical order of keys is time order', () => {
    const instants = [
      '2024-01-01T00:00:00.000000Z',
      '2024-01-01T00:00:00.000001Z',
      '2024-01-01T10:00:00.000000Z',
      '2025-01-01T00:00:00.000000Z',
    ];
    const keys = instants.flatMap((i) => runKeys(DEFAULT_LAYOUT, 't', i, 1));
    expect([...keys].sort()).toEqual(keys);
  });

  it('validates templates and encodes odd table names into one safe segment', () => {
    expect(() => validateLayout('{table}/{yyyy}/{mm}/{dd}/{hhmmssffffff}{part}.parquet')).not.toThrow();
    expect(() => validateLayout('{table}/{yyyy}/{dd}/{mm}/{hhmmssffffff}{part}.parquet')).toThrow(/order/);
    expect(() => validateLayout('{table}/{yyyy}/{mm}/{dd}/{hhmmssffffff}.parquet')).toThrow(/\{part\}/);
    expect(() => validateLayout('x/{table}/{yyyy}/{mm}/{dd}/{hhmmssffffff}{part}.parquet')).toThrow(/start/);
    expect(tableFolder('public', 'orders')).toBe('orders');
    expect(tableFolder('sales', 'orders')).toBe('sales.orders');
    expect(tableFolder('public', 'a/../b"c')).toBe('a%2F%2E%2E%2Fb%22c');
    expect(tableFolder('public', '..')).toBe('%2E%2E');
    // A dot inside a name is encoded: the table "s.t" and the table t of schema s get different folders.
    expect(tableFolder('public', 's.t')).toBe('s%2Et');
    expect(tableFolder('s', 't')).toBe('s.t');
    expect(tableFolder('my.schema', 'Orders 2024')).toBe('my%2Eschema.Orders%202024');
    // Characters encodeURIComponent keeps: a glob `a*` must not also read the table `abc`.
    expect(tableFolder('public', "a*!~'()")).toBe('a%2A%21%7E%27%28%29');
  });
});
