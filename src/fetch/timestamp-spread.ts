import { PreconditionFailedError, UsageError } from '../core/errors.js';

export interface TimestampedObject {
  key: string;
  lastModified?: Date;
}

const HOUR_MS = 3_600_000;

/**
 * Guards against fetching an export that is still being written (or a mix of two exports): throws
 * PreconditionFailedError when the newest and oldest `lastModified` are more than `toleranceHours` apart,
 * naming both objects. Objects without a (valid) `lastModified` are ignored. `display` turns a key into
 * what messages show (default: the key). Throws UsageError unless the tolerance is a finite number ≥ 0.
 */
export function checkTimestampSpread(
  objects: Iterable<TimestampedObject>,
  toleranceHours: number,
  display: (key: string) => string = (key) => key,
): void {
  if (typeof toleranceHours !== 'number' || !Number.isFinite(toleranceHours) || toleranceHours < 0) {
    throw new UsageError(`timestamp tolerance ${String(toleranceHours)} is not a number of hours ≥ 0`, {
      hint: 'give --timestamp-tolerance as hours, e.g. 2 or 0.5',
    });
  }
  let oldest: { key: string; time: number } | undefined;
  let newest: { key: string; time: number } | undefined;
  for (const object of objects) {
    const time = object.lastModified?.getTime();
    if (time === undefined || Number.isNaN(time)) continue;
    if (!oldest || time < oldest.time) oldest = { key: object.key, time };
    if (!newest || time > newest.time) newest = { key: object.key, time };
  }
  if (!oldest || !newest) return;
  const spreadMs = newest.time - oldest.time;
  if (spreadMs <= toleranceHours * HOUR_MS) return;
  // Hours with a decimal, but a spread under six minutes in seconds or minutes ("0.0 h apart" said nothing).
  const apart =
    spreadMs >= HOUR_MS / 10
      ? `${(spreadMs / HOUR_MS).toFixed(1)} h`
      : spreadMs >= 60_000
        ? `${(spreadMs / 60_000).toFixed(1)} min`
        : `${(spreadMs / 1000).toFixed(1)} s`;
  throw new PreconditionFailedError(
    `the selected objects were modified ${apart} apart, more than the tolerance of ${toleranceHours} h: ` +
      `oldest ${display(oldest.key)} at ${new Date(oldest.time).toISOString()}, ` +
      `newest ${display(newest.key)} at ${new Date(newest.time).toISOString()}`,
    { hint: 'wait until the export has finished, or raise --timestamp-tolerance' },
  );
}
