import { describe, expect, it } from 'vitest';
import { checkTimestampSpread } from './timestamp-spread.js';

const at = (iso: string) => new Date(iso);

describe('checkTimestampSpread', () => {
  const objects = [
    { key: 'b.json', lastModified: at('2024-05-01T12:00:00.000Z') },
    { key: 'a.json', lastModified: at('2024-05-01T10:00:00.000Z') },
    { key: 'no-date.json' },
    { key: 'c.json', lastModified: at('2024-05-01T15:30:00.000Z') },
  ];

  it('passes when the spread is within the tolerance (inclusive)', () => {
    expect(() => checkTimestampSpread(objects, 5.5)).not.toThrow();
    expect(() => checkTimestampSpread(objects, 24)).not.toThrow();
    expect(() => checkTimestampSpread([], 0)).not.toThrow();
    expect(() => checkTimestampSpread([{ key: 'x' }, { key: 'y' }], 0)).not.toThrow();
    const same = at('2024-01-01T00:00:00Z');
    expect(() =>
      checkTimestampSpread(
        [
          { key: 'x', lastModified: same },
          { key: 'y', lastModified: same },
        ],
        0,
      ),
    ).not.toThrow();
  });

  it('throws PreconditionFailedError naming oldest and newest with ISO times, the spread and a hint', () => {
    let caught: unknown;
    try {
      checkTimestampSpread(objects, 2, (key) => `s3://bkt/run/${key}`);
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({
      code: 'PRECONDITION_FAILED',
      message:
        'the selected objects were modified 5.5 h apart, more than the tolerance of 2 h: ' +
        'oldest s3://bkt/run/a.json at 2024-05-01T10:00:00.000Z, newest s3://bkt/run/c.json at 2024-05-01T15:30:00.000Z',
      hint: 'wait until the export has finished, or raise --timestamp-tolerance',
    });
    expect((caught as Error).message).not.toContain('\n');
  });

  it('counts tolerance 0 as "all the same time" and says the spread in s, min or h, to one decimal', () => {
    const close = [
      { key: 'x', lastModified: at('2024-01-01T00:00:00.000Z') },
      { key: 'y', lastModified: at('2024-01-01T00:00:00.001Z') },
    ];
    expect(() => checkTimestampSpread(close, 0)).toThrow(/0\.0 s apart.*oldest x .*newest y /);
    const minutes = [
      { key: 'x', lastModified: at('2024-01-01T00:00:00Z') },
      { key: 'y', lastModified: at('2024-01-01T00:00:32Z') },
      { key: 'z', lastModified: at('2024-01-01T00:04:30Z') },
    ];
    expect(() => checkTimestampSpread(minutes.slice(0, 2), 0)).toThrow(/modified 32\.0 s apart/);
    expect(() => checkTimestampSpread(minutes, 0)).toThrow(/modified 4\.5 min apart/);
    const apart = [
      { key: 'x', lastModified: at('2024-01-01T00:00:00Z') },
      { key: 'y', lastModified: at('2024-01-01T01:14:00Z') },
    ];
    expect(() => checkTimestampSpread(apart, 1)).toThrow(/1\.2 h apart/);
  });

  it('refuses a tolerance that is negative or not finite', () => {
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => checkTimestampSpread(objects, bad)).toThrow(expect.objectContaining({ code: 'USAGE' }));
    }
  });
});
