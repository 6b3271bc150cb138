import { describe, expect, it } from 'vitest';
import { UsageError } from '../core/errors.js';
import {
  checkGuards,
  DEFAULT_MAX_DELETE_COUNT,
  DEFAULT_MAX_DELETE_PERCENT,
  parseMaxDelete,
  type GuardInput,
} from './sync-guards.js';
import type { IndexEntry, LocalFile, SyncAction, SyncPlan } from './types.js';

const remote: IndexEntry = {
  size: 1,
  sha256: 'R',
  etag: '"r"',
  version: 1,
  modifiedBy: 'bob',
  modifiedAt: '2026-11-20T12:00:00.000Z',
};
const local: LocalFile = { size: 1, sha256: 'L', mtimeMs: 0 };

const deleteRemote = (path: string): SyncAction => ({ kind: 'delete-remote', path, remote });
const deleteLocal = (path: string): SyncAction => ({ kind: 'delete-local', path, local });
const modified = (path: string): SyncAction => ({ kind: 'upload', path, reason: 'modified', local, remote });
const moved = (from: string): SyncAction => ({
  kind: 'move-remote',
  from,
  to: `moved/${from}`,
  remote,
  local,
});
const conflict = (path: string): SyncAction => ({
  kind: 'conflict',
  path,
  local,
  remote,
  resolution: 'local',
});

function numbered(count: number, make: (path: string) => SyncAction): SyncAction[] {
  return Array.from({ length: count }, (_, i) => make(`f${i}.txt`));
}

/** A plan as planSync would summarise these actions. */
function planOf(actions: SyncAction[], tracked: number): SyncPlan {
  const counts: SyncPlan['counts'] = {
    upload: 0,
    download: 0,
    'delete-remote': 0,
    'delete-local': 0,
    'move-remote': 0,
    'move-local': 0,
    conflict: 0,
    adopt: 0,
    forget: 0,
  };
  for (const action of actions) counts[action.kind]++;
  return {
    actions,
    skipped: [],
    refused: [],
    tracked,
    counts,
    deletions: counts['delete-remote'] + counts['delete-local'],
  };
}

function guards(plan: SyncPlan, options: Partial<GuardInput> = {}): string[] {
  return checkGuards({ plan, localFileCount: 5, folderExists: true, ...options }).map((trip) => trip.guard);
}

function messages(plan: SyncPlan, options: Partial<GuardInput> = {}): string[] {
  return checkGuards({ plan, localFileCount: 5, folderExists: true, ...options }).map((trip) => trip.message);
}

describe('parseMaxDelete', () => {
  it.each([
    ['25', { kind: 'count', value: 25 }],
    ['0', { kind: 'count', value: 0 }],
    [' 1000 ', { kind: 'count', value: 1000 }],
    ['10%', { kind: 'percent', value: 10 }],
    ['12.5%', { kind: 'percent', value: 12.5 }],
    ['100%', { kind: 'percent', value: 100 }],
    ['0%', { kind: 'percent', value: 0 }],
    ['5 %', { kind: 'percent', value: 5 }],
  ])('%j -> %j', (text, expected) => {
    expect(parseMaxDelete(text)).toEqual(expected);
  });

  it.each([
    ['-5', /invalid --max-delete "-5": must not be negative/],
    ['-10%', /must not be negative/],
    ['101%', /invalid --max-delete "101%": a percentage must be at most 100%/],
    ['12.5', /a number of files must be a whole number/],
    ['', /expected a number of files \(e\.g\. 25\) or a percentage \(e\.g\. 10%\)/],
    ['lots', /invalid --max-delete "lots": expected a number of files/],
    ['10%%', /expected a number of files/],
    ['1e3', /expected a number of files/],
    ['%', /expected a number of files/],
  ])('rejects %j', (text, message) => {
    expect(() => parseMaxDelete(text)).toThrow(UsageError);
    expect(() => parseMaxDelete(text)).toThrow(message);
  });
});

describe('checkGuards: max-delete', () => {
  it(`trips by default above ${DEFAULT_MAX_DELETE_PERCENT} % of the tracked files`, () => {
    const plan = planOf([...numbered(6, deleteRemote), ...numbered(6, deleteLocal)], 20);
    expect(messages(plan)).toEqual([
      'the plan deletes 12 of 20 tracked files (60 %), more than the default --max-delete 50 %; ' +
        'check the folder, or pass --max-delete N / --force',
    ]);
  });

  it('does not trip at exactly the limit', () => {
    expect(guards(planOf(numbered(10, deleteRemote), 20))).toEqual([]);
    expect(
      guards(planOf(numbered(1, deleteRemote), 8), { maxDelete: { kind: 'percent', value: 12.5 } }),
    ).toEqual([]);
  });

  it(`trips by default above ${DEFAULT_MAX_DELETE_COUNT} files even when that is a small share`, () => {
    const plan = planOf(numbered(1001, deleteRemote), 10_000);
    expect(messages(plan)).toEqual([
      'the plan deletes 1001 of 10000 tracked files (10.0 %), more than the default --max-delete 1000; ' +
        'check the folder, or pass --max-delete N / --force',
    ]);
    expect(guards(planOf(numbered(1000, deleteRemote), 10_000))).toEqual([]);
  });

  it('uses only the given limit when there is one', () => {
    const plan = planOf(numbered(1500, deleteRemote), 2000);
    expect(guards(plan, { maxDelete: { kind: 'percent', value: 80 } })).toEqual([]);
    expect(guards(plan, { maxDelete: { kind: 'count', value: 2000 } })).toEqual([]);
    expect(messages(plan, { maxDelete: { kind: 'count', value: 1499 } })).toEqual([
      'the plan deletes 1500 of 2000 tracked files (75 %), more than --max-delete 1499; ' +
        'check the folder, or pass --max-delete N / --force',
    ]);
    expect(messages(plan, { maxDelete: { kind: 'percent', value: 12.5 } })[0]).toContain(
      'more than --max-delete 12.5 %',
    );
  });

  it('trips on any deletion with --max-delete 0', () => {
    expect(guards(planOf(numbered(1, deleteLocal), 100), { maxDelete: { kind: 'count', value: 0 } })).toEqual(
      ['max-delete'],
    );
    expect(guards(planOf([], 100), { maxDelete: { kind: 'count', value: 0 } })).toEqual([]);
  });

  it('does not count moves as deletions', () => {
    expect(guards(planOf(numbered(9, moved), 10))).toEqual([]);
  });

  it('does not trip when nothing is tracked', () => {
    expect(guards(planOf([], 0), { maxDelete: { kind: 'count', value: 0 } })).toEqual([]);
  });
});

describe('checkGuards: empty-folder', () => {
  it('trips on a missing folder while the base tracks files, whatever the plan', () => {
    const trips = checkGuards({ plan: planOf([], 3), localFileCount: 0, folderExists: false });
    expect(trips).toEqual([
      {
        guard: 'empty-folder',
        message:
          'the folder does not exist but the last sync tracked 3 files; if it is on a removable or network disk, ' +
          'check that it is mounted, or pass --force if the files really were deleted',
      },
    ]);
  });

  it('trips on an empty folder, along with the deletions it causes', () => {
    const plan = planOf(numbered(3, deleteRemote), 3);
    expect(guards(plan, { localFileCount: 0 })).toEqual(['empty-folder', 'max-delete']);
    expect(messages(plan, { localFileCount: 0 })[0]).toMatch(
      /^the folder is empty but the last sync tracked 3 files;/,
    );
  });

  it('does not trip for a new member with nothing tracked, or a folder with files', () => {
    expect(guards(planOf([], 0), { localFileCount: 0, folderExists: false })).toEqual([]);
    expect(guards(planOf([], 0), { localFileCount: 0 })).toEqual([]);
    expect(guards(planOf([], 1), { localFileCount: 1 })).toEqual([]);
  });
});

describe('checkGuards: all-changed', () => {
  it('trips when every tracked file changed locally', () => {
    const actions = [
      ...numbered(7, modified),
      deleteRemote('gone.txt'),
      moved('old.txt'),
      conflict('both.txt'),
    ];
    expect(guards(planOf(actions, 10))).toEqual(['all-changed']);
    expect(messages(planOf(actions, 10))[0]).toMatch(/^every one of the 10 tracked files changed locally, /);
  });

  it('does not trip when one tracked file is unchanged', () => {
    expect(guards(planOf(numbered(9, modified), 10))).toEqual([]);
  });

  it('does not trip below 10 tracked files', () => {
    expect(guards(planOf(numbered(9, modified), 9))).toEqual([]);
  });

  it('does not count new files or remote changes', () => {
    const added: SyncAction[] = numbered(5, (path) => ({ kind: 'upload', path, reason: 'added', local }));
    const downloads: SyncAction[] = numbered(5, (path) => ({
      kind: 'download',
      path: `d/${path}`,
      reason: 'modified',
      remote,
    }));
    expect(guards(planOf([...numbered(9, modified), ...added, ...downloads], 10))).toEqual([]);
  });

  it('does not trip on local changes a pull leaves alone', () => {
    const plan = planOf([], 10);
    plan.skipped = Array.from({ length: 10 }, (_, i) => ({
      path: `f${i}.txt`,
      reason: 'local change (push to send it)',
    }));
    expect(guards(plan)).toEqual([]);
  });

  it('counts a path once however it appears', () => {
    expect(guards(planOf([...numbered(9, modified), ...numbered(9, modified)], 10))).toEqual([]);
  });
});

describe('checkGuards: a normal plan', () => {
  it('trips nothing', () => {
    const plan = planOf([modified('a.txt'), deleteRemote('b.txt'), moved('c.txt')], 40);
    expect(checkGuards({ plan, localFileCount: 40, folderExists: true })).toEqual([]);
  });
});
