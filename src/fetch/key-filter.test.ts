import { describe, expect, it } from 'vitest';
import { GLOB_DIALECT_HELP, createKeyFilter } from './key-filter.js';

const keys = ['a.csv', 'b.json', '.hidden.csv', 'sub/c.csv', 'sub/deep/d.csv', 'sub/.meta/e.csv', 'x1.txt'];
const pick = (options: Parameters<typeof createKeyFilter>[0]) => keys.filter(createKeyFilter(options));

describe('createKeyFilter', () => {
  it('includes everything without patterns', () => {
    expect(pick({})).toEqual(keys);
    expect(pick({ include: [], exclude: [] })).toEqual(keys);
  });

  it('anchors patterns at the prefix: * stays within one folder, ** crosses folders', () => {
    expect(pick({ include: ['*.csv'] })).toEqual(['a.csv', '.hidden.csv']);
    expect(pick({ include: ['**/*.csv'] })).toEqual([
      'a.csv',
      '.hidden.csv',
      'sub/c.csv',
      'sub/deep/d.csv',
      'sub/.meta/e.csv',
    ]);
    expect(pick({ include: ['sub/*.csv'] })).toEqual(['sub/c.csv']);
    expect(pick({ include: ['sub/**'] })).toEqual(['sub/c.csv', 'sub/deep/d.csv', 'sub/.meta/e.csv']);
    // no basename matching: a bare name does not match the same name in a sub-folder
    expect(pick({ include: ['c.csv'] })).toEqual([]);
  });

  it("matches names starting with '.' (dot: true)", () => {
    expect(pick({ include: ['.*'] })).toEqual(['.hidden.csv']);
    expect(pick({ include: ['sub/*/*.csv'] })).toEqual(['sub/deep/d.csv', 'sub/.meta/e.csv']);
  });

  it('supports ?, character classes and braces', () => {
    expect(pick({ include: ['x?.txt'] })).toEqual(['x1.txt']);
    expect(pick({ include: ['x[0-9].txt'] })).toEqual(['x1.txt']);
    expect(pick({ include: ['x[abc].txt'] })).toEqual([]);
    expect(pick({ include: ['{a,b}.*'] })).toEqual(['a.csv', 'b.json']);
    // Negated classes, both spellings (picomatch 4.0.7 inverts '[!…]' unless told to read POSIX brackets).
    expect(pick({ include: ['[!a]*.*'] })).toEqual(pick({ include: ['[^a]*.*'] }));
    expect(pick({ include: ['[!a]*.*'] })).not.toContain('a.csv');
    expect(pick({ include: ['[!a]*.*'] })).toContain('b.json');
    expect(pick({ include: ['x[!0-9].txt'] })).toEqual([]);
    expect(pick({ include: ['x[[:digit:]].txt'] })).toEqual(['x1.txt']);
  });

  it('ORs several includes and lets any exclude win', () => {
    expect(pick({ include: ['*.json', 'x*'] })).toEqual(['b.json', 'x1.txt']);
    expect(pick({ include: ['**/*.csv'], exclude: ['sub/deep/**', '.*'] })).toEqual([
      'a.csv',
      'sub/c.csv',
      'sub/.meta/e.csv',
    ]);
    expect(pick({ exclude: ['**/*.csv'] })).toEqual(['b.json', 'x1.txt']);
    expect(pick({ include: ['a.csv'], exclude: ['a.csv'] })).toEqual([]);
  });

  it('refuses empty, absolute and folder-only patterns with the fix', () => {
    expect(() => createKeyFilter({ include: [''] })).toThrow(
      expect.objectContaining({ code: 'USAGE', message: '--include pattern "" is empty' }),
    );
    expect(() => createKeyFilter({ exclude: ['   '] })).toThrow(
      expect.objectContaining({ code: 'USAGE', message: expect.stringMatching(/--exclude pattern " {3}"/) }),
    );
    expect(() => createKeyFilter({ include: ['/data/*.csv'] })).toThrow(
      expect.objectContaining({
        code: 'USAGE',
        message: expect.stringContaining('"/data/*.csv"'),
        hint: expect.stringContaining('"data/*.csv"'),
      }),
    );
    expect(() => createKeyFilter({ include: ['data/'] })).toThrow(
      expect.objectContaining({ code: 'USAGE', hint: expect.stringContaining('"data/**"') }),
    );
  });

  it('takes keys with glob characters in them literally when the character is escaped, as the help says', () => {
    const odd = ['sub/q?.csv', 'sub/qx.csv', 'sub/star*.csv', 'sub/starx.csv', 'sub/d[1].csv', 'sub/d1.csv'];
    const take = (include: string) => odd.filter(createKeyFilter({ include: [include] }));
    expect(take('**/q\\?.csv')).toEqual(['sub/q?.csv']);
    expect(take('**/star\\*.csv')).toEqual(['sub/star*.csv']);
    expect(take('**/d\\[1\\].csv')).toEqual(['sub/d[1].csv']);
    expect(GLOB_DIALECT_HELP).toContain("'**/q\\?.csv' takes q?.csv");
  });

  it('reads ( ) | ! + @ as plain characters: no regex groups, extglobs or negated patterns', () => {
    const names = [
      'report (1).csv',
      'report 1.csv',
      'a|b.csv',
      'ab.csv',
      '!x.csv',
      'y.csv',
      '@(a).csv',
      'a.csv',
    ];
    const take = (include: string) => names.filter(createKeyFilter({ include: [include] }));
    expect(take('* (1).csv')).toEqual(['report (1).csv']);
    expect(take('*(1).csv')).toEqual(['report (1).csv']);
    expect(take('a(b|c).csv')).toEqual([]);
    expect(take('a|b.csv')).toEqual(['a|b.csv']);
    expect(take('!x.csv')).toEqual(['!x.csv']);
    expect(take('@(a).csv')).toEqual(['@(a).csv']);
    expect(take('+(a).csv')).toEqual([]);
    // Escaped by the user: still the character itself; braces and classes still work around them.
    expect(take('report \\(1\\).csv')).toEqual(['report (1).csv']);
    expect(take('{report (1),ab}.csv')).toEqual(['report (1).csv', 'ab.csv']);
    expect(take('report [(]1[)].csv')).toEqual(['report (1).csv']);
    expect(names.filter(createKeyFilter({ exclude: ['* (1).csv'] }))).toEqual(names.slice(1));
  });

  it('turns a pattern picomatch cannot compile into a UsageError', () => {
    expect(() => createKeyFilter({ include: ['a'.repeat(70_000)] })).toThrow(
      expect.objectContaining({ code: 'USAGE', message: expect.stringMatching(/not a valid glob/) }),
    );
  });

  it('has a short help text', () => {
    expect(GLOB_DIALECT_HELP).toMatch(/\*\*/);
    expect(GLOB_DIALECT_HELP.split('\n').length).toBeLessThanOrEqual(6);
  });
});
