import { describe, expect, it } from 'vitest';
import { planRanges } from './range-plan.js';

describe('planRanges', () => {
  it('splits into inclusive ranges with a shorter last one', () => {
    expect(planRanges(10, 4)).toEqual([
      { index: 0, start: 0, end: 3 },
      { index: 1, start: 4, end: 7 },
      { index: 2, start: 8, end: 9 },
    ]);
  });

  it('gives equal ranges for an exact multiple', () => {
    expect(planRanges(8, 4)).toEqual([
      { index: 0, start: 0, end: 3 },
      { index: 1, start: 4, end: 7 },
    ]);
  });

  it('gives one range when the object fits in one', () => {
    expect(planRanges(1, 4)).toEqual([{ index: 0, start: 0, end: 0 }]);
    expect(planRanges(4, 4)).toEqual([{ index: 0, start: 0, end: 3 }]);
    expect(planRanges(3, 1000)).toEqual([{ index: 0, start: 0, end: 2 }]);
  });

  it('gives no ranges for an empty object', () => {
    expect(planRanges(0, 4)).toEqual([]);
  });

  it('covers every byte exactly once, in order', () => {
    for (const [size, rangeSize] of [
      [1, 1],
      [7, 1],
      [1_000_003, 65_536],
      [5 * 1024 * 1024, 1024 * 1024],
    ] as const) {
      const ranges = planRanges(size, rangeSize);
      expect(ranges.length).toBe(Math.ceil(size / rangeSize));
      let next = 0;
      ranges.forEach((r, i) => {
        expect(r.index).toBe(i);
        expect(r.start).toBe(next);
        expect(r.end).toBeGreaterThanOrEqual(r.start);
        expect(r.end - r.start + 1).toBeLessThanOrEqual(rangeSize);
        if (i < ranges.length - 1) expect(r.end - r.start + 1).toBe(rangeSize);
        next = r.end + 1;
      });
      expect(next).toBe(size);
    }
  });

  it('refuses invalid sizes', () => {
    expect(() => planRanges(-1, 4)).toThrow(RangeError);
    expect(() => planRanges(1.5, 4)).toThrow(RangeError);
    expect(() => planRanges(Number.NaN, 4)).toThrow(RangeError);
    expect(() => planRanges(2 ** 53, 4)).toThrow(RangeError);
    expect(() => planRanges(10, 0)).toThrow(RangeError);
    expect(() => planRanges(10, -4)).toThrow(RangeError);
    expect(() => planRanges(10, 2.5)).toThrow(RangeError);
  });
});
