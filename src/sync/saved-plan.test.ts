import { describe, expect, it } from 'vitest';
import { planSync, type PlanInput } from './plan-sync.js';
import { actionRecord, checkSavedPlan, LEFT_FOR_NEXT_SYNC, savedConflictNames } from './saved-plan.js';
import type { IndexEntry, LocalFile, SyncPlan } from './types.js';

const entry = (sha256: string): IndexEntry => ({
  size: 1,
  sha256,
  etag: `"${sha256}"`,
  version: 1,
  modifiedBy: 'bob',
  modifiedAt: '2026-11-20T12:00:00.000Z',
});
const file = (sha256: string): LocalFile => ({ size: 1, sha256, mtimeMs: 0 });

/** local/base/remote as path -> content letter. */
function plan(
  sides: { local?: Record<string, string>; base?: Record<string, string>; remote?: Record<string, string> },
  extra: Partial<PlanInput> = {},
): SyncPlan {
  const map = <T>(side: Record<string, string> | undefined, make: (s: string) => T) =>
    new Map(Object.entries(side ?? {}).map(([p, s]) => [p, make(s)] as [string, T]));
  return planSync({
    local: map(sides.local, file),
    base: map(sides.base, entry),
    remote: map(sides.remote, entry),
    isIgnored: () => false,
    member: 'alice',
    now: new Date('2026-11-23T10:15:00.000Z'),
    ...extra,
  });
}

const conflictSides = { local: { 'f.txt': 'Y' }, base: { 'f.txt': 'X' }, remote: { 'f.txt': 'Z' } };

describe('checkSavedPlan', () => {
  it('a conflict planned a second (or a day) later still matches, and the saved copy name is reused', () => {
    const saved = plan(conflictSides).actions.map(actionRecord);
    expect(saved[0]?.conflictPath).toBe('f.conflict-alice-20261123-101500.txt');
    const later = { now: new Date('2026-11-24T08:00:01.000Z') };
    expect(plan(conflictSides, later).actions[0]).toMatchObject({
      conflictPath: 'f.conflict-alice-20261124-080001.txt',
    });
    const check = checkSavedPlan(saved, plan(conflictSides, later));
    expect(check).toMatchObject({ stale: [], leftOut: 0 });

    const reused = plan(conflictSides, { ...later, conflictNames: savedConflictNames(saved) });
    expect(reused.actions[0]).toMatchObject({ conflictPath: 'f.conflict-alice-20261123-101500.txt' });
  });

  it('a saved conflict name is not reused when taken now, or when it is not a conflict name of that file', () => {
    const taken = plan(
      { ...conflictSides, remote: { ...conflictSides.remote, 'f.conflict-alice-20261123-101500.txt': 'Q' } },
      { conflictNames: new Map([['f.txt', 'f.conflict-alice-20261123-101500.txt']]) },
    );
    expect(taken.actions.find((a) => a.kind === 'conflict')).toMatchObject({
      conflictPath: 'f.conflict-alice-20261123-101500-2.txt',
    });
    for (const wanted of ['../../etc/passwd', 'g.conflict-alice-20261123-101500.txt', 'f.txt.bak']) {
      const p = plan(conflictSides, { conflictNames: new Map([['f.txt', wanted]]) });
      expect(p.actions[0]).toMatchObject({ conflictPath: 'f.conflict-alice-20261123-101500.txt' });
    }
  });

  it('changes on paths the plan does not touch are left for the next sync', () => {
    const saved = plan({ local: { 'mine.txt': 'M' } }).actions.map(actionRecord);
    const now = plan({ local: { 'mine.txt': 'M' }, remote: { 'other.txt': 'O' } });
    const check = checkSavedPlan(saved, now);
    expect(check.stale).toEqual([]);
    expect(check.leftOut).toBe(1);
    expect(check.plan.actions.map((a) => a.kind)).toEqual(['upload']);
    expect(check.plan.counts).toMatchObject({ upload: 1, download: 0 });
    expect(check.plan.skipped).toEqual([{ path: 'other.txt', reason: LEFT_FOR_NEXT_SYNC }]);
  });

  it('is stale when a touched path changed: other content, another kind, or a saved action gone', () => {
    const saved = plan({
      local: { 'a.txt': 'Y' },
      base: { 'a.txt': 'X' },
      remote: { 'a.txt': 'X' },
    }).actions.map(actionRecord);
    // Another member changed a.txt meanwhile: the upload became a conflict.
    const conflict = plan({ local: { 'a.txt': 'Y' }, base: { 'a.txt': 'X' }, remote: { 'a.txt': 'Z' } });
    expect(checkSavedPlan(saved, conflict).stale).toEqual(['upload a.txt', 'conflict a.txt']);
    // The local file was edited again: same kind and path, other content.
    const edited = plan({ local: { 'a.txt': 'W' }, base: { 'a.txt': 'X' }, remote: { 'a.txt': 'X' } });
    expect(checkSavedPlan(saved, edited).stale).toEqual(['upload a.txt', 'upload a.txt']);
    // The edit was undone: nothing to do on a.txt any more.
    const undone = plan({ local: { 'a.txt': 'X' }, base: { 'a.txt': 'X' }, remote: { 'a.txt': 'X' } });
    expect(checkSavedPlan(saved, undone).stale).toEqual(['upload a.txt']);
  });
});
