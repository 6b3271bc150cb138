import { describe, expect, it } from 'vitest';
import { duckdbWriteError, UnwritableValueError } from './conversion-error.js';

const plans = [
  { name: 'id', parquetType: 'INTEGER' },
  { name: 'price', parquetType: 'DECIMAL(10,2)' },
  { name: 'tz', parquetType: 'TIMESTAMPTZ' },
  { name: 'a', parquetType: 'DECIMAL(5,2)[]' },
];

describe('duckdbWriteError', () => {
  it('a CSV reader conversion: the column by name, the value, no line of the internal stream', () => {
    const error = duckdbWriteError(
      new Error(
        'Conversion Error: CSV Error on Line: 1000\nOriginal Line: 777,NaN\nError when converting column "c1". ' +
          'Could not convert string "NaN" to \'DECIMAL\'\n\nColumn c1 is being converted as type DECIMAL',
      ),
      plans,
    );
    expect(error).toBeInstanceOf(UnwritableValueError);
    const e = error as UnwritableValueError;
    expect(e.message).toBe(
      'writing Parquet failed: Conversion Error: column "price": Could not convert string "NaN" to \'DECIMAL\'',
    );
    expect([e.columns, e.value, e.reason]).toEqual([
      ['price'],
      'NaN',
      'Could not convert string "NaN" to \'DECIMAL\'',
    ]);
  });

  it('a CAST naming its source column, and one naming none (the suspects by type)', () => {
    const cast = duckdbWriteError(
      new Error(
        'Conversion Error: timestamp field value out of range: "294276-12-31 23:59:59+00" when casting from source column c2',
      ),
      plans,
    ) as UnwritableValueError;
    expect([cast.columns, cast.value]).toEqual([['tz'], '294276-12-31 23:59:59+00']);
    expect(cast.message).toMatch(/when casting from column "tz"$/);
    const element = duckdbWriteError(
      new Error('Conversion Error: Failed to cast value to decimal: "NaN"\n\nLINE 1: ...'),
      plans,
    ) as UnwritableValueError;
    expect([element.columns, element.value]).toEqual([['a'], 'NaN']);
  });

  it('a full disk is IO, not a value error', () => {
    const error = duckdbWriteError(new Error('IO Error: No space left on device'), plans);
    expect(error).not.toBeInstanceOf(UnwritableValueError);
    expect(error.code).toBe('IO');
  });
});
