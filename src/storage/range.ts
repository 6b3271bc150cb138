import type { ByteRange } from './types.js';
import { ValidationError } from '../core/errors.js';

/**
 * Resolves a ByteRange against an object size the way S3 does: `end` past the object is clamped,
 * a suffix longer than the object means the whole object, a start at or past the end is unsatisfiable.
 * Returns inclusive offsets; `end < start` only for a whole read of an empty object.
 */
export function resolveRange(range: ByteRange | undefined, size: number): { start: number; end: number } {
  if (range === undefined) return { start: 0, end: size - 1 };
  if ('suffix' in range) {
    if (!Number.isInteger(range.suffix) || range.suffix <= 0) {
      throw new ValidationError(`invalid suffix range: ${range.suffix} (must be a positive integer)`);
    }
    if (size === 0) throw rangeNotSatisfiable(range, size);
    return { start: Math.max(0, size - range.suffix), end: size - 1 };
  }
  const { start, end } = range;
  if (
    !Number.isInteger(start) ||
    start < 0 ||
    (end !== undefined && (!Number.isInteger(end) || end < start))
  ) {
    throw new ValidationError(`invalid byte range ${formatRange(range)}`);
  }
  if (start >= size) throw rangeNotSatisfiable(range, size);
  return { start, end: Math.min(end ?? size - 1, size - 1) };
}

/** The HTTP Range header value for a ByteRange. */
export function formatRange(range: ByteRange): string {
  if ('suffix' in range) return `bytes=-${range.suffix}`;
  return `bytes=${range.start}-${range.end ?? ''}`;
}

function rangeNotSatisfiable(range: ByteRange, size: number): ValidationError {
  return new ValidationError(`byte range ${formatRange(range)} is outside the object (${size} bytes)`);
}
