/** One byte range of an object, `start`..`end` inclusive, numbered from 0. */
export interface PlannedRange {
  index: number;
  start: number;
  end: number;
}

/** Splits `size` bytes into ranges of `rangeSize` (the last one shorter). An empty object has no ranges. */
export function planRanges(size: number, rangeSize: number): PlannedRange[] {
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`invalid object size ${size}`);
  if (!Number.isSafeInteger(rangeSize) || rangeSize < 1)
    throw new RangeError(`invalid range size ${rangeSize}`);
  const ranges: PlannedRange[] = [];
  for (let start = 0, index = 0; start < size; start += rangeSize, index++) {
    ranges.push({ index, start, end: Math.min(start + rangeSize, size) - 1 });
  }
  return ranges;
}
