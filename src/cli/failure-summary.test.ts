import { describe, expect, it } from 'vitest';
import { AccessDeniedError, ConflictError } from '../core/errors.js';
import { summariseFailures } from './failure-summary.js';

const denied = (path: string) => ({
  path,
  error: new AccessDeniedError(`writing /d/${path}: permission denied`, { hint: 'change its permissions' }),
});
const conflict = (path: string) => ({ path, error: new ConflictError(`${path}: in the way`) });

describe('summariseFailures', () => {
  it('shows a few failures of a code one by one and counts the rest in one line', () => {
    const failures = [
      ...Array.from({ length: 1250 }, (_, i) => denied(`f${i}`)),
      conflict('x'),
      conflict('y'),
    ];
    const lines = summariseFailures(failures, 5);
    expect(lines.map((e) => e.message)).toEqual([
      'writing /d/f0: permission denied',
      'writing /d/f1: permission denied',
      'writing /d/f2: permission denied',
      'writing /d/f3: permission denied',
      'writing /d/f4: permission denied',
      '1245 more files failed with ACCESS_DENIED like the ones above',
      'x: in the way',
      'y: in the way',
    ]);
    expect(lines[5]).toMatchObject({
      code: 'ACCESS_DENIED',
      hint: 'change its permissions; --json lists every failure',
    });
  });

  it('prints every failure when a summary line would save nothing', () => {
    const failures = Array.from({ length: 6 }, (_, i) => denied(`f${i}`));
    expect(summariseFailures(failures, 5)).toHaveLength(6);
    expect(summariseFailures([], 5)).toEqual([]);
  });
});
