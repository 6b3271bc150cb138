import { describe, expect, it } from 'vitest';
import { distinctNameWithin, NAME_MAX_BYTES, nameWithin } from './file-names.js';

describe('nameWithin', () => {
  it('keeps a name that fits and cuts a long one at a character boundary', () => {
    expect(nameWithin('short.csv', 24)).toBe('short.csv');
    const accents = 'é'.repeat(127); // 254 bytes
    const cut = nameWithin(accents, 24);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(NAME_MAX_BYTES - 24);
    expect(cut).toBe('é'.repeat(115));
  });

  it('gives two long names that share their start different cut names, the same one each time', () => {
    const a = `${'x'.repeat(250)}a`;
    const b = `${'x'.repeat(250)}b`;
    expect(distinctNameWithin(a, 12)).not.toBe(distinctNameWithin(b, 12));
    expect(distinctNameWithin(a, 12)).toBe(distinctNameWithin(a, 12));
    expect(Buffer.byteLength(distinctNameWithin(a, 12))).toBe(NAME_MAX_BYTES - 12);
    expect(distinctNameWithin('short', 12)).toBe('short');
  });
});
