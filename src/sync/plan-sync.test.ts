import { describe, expect, it } from 'vitest';
import { InvalidKeyError } from '../core/errors.js';
import { conflictName, planSync, type PlanInput } from './plan-sync.js';
import type { Direction, IndexEntry, LocalFile, Prefer, SyncAction, SyncPlan } from './types.js';

const NOW = new Date('2026-11-23T10:15:00.000Z');
const STAMP = '20261123-101500';
const REMOTE_TIME = '2026-11-20T12:00:00.000Z';

function entry(sha256: string, modifiedAt = REMOTE_TIME): IndexEntry {
  return { size: sha256.length, sha256, etag: `"etag-${sha256}"`, version: 1, modifiedBy: 'bob', modifiedAt };
}

function file(sha256: string, mtimeMs = Date.parse('2026-11-21T00:00:00.000Z')): LocalFile {
  return { size: sha256.length, sha256, mtimeMs };
}

/** Sides given as path -> sha (or a full LocalFile / IndexEntry when the times matter). */
interface Sides {
  local?: Record<string, string | LocalFile>;
  base?: Record<string, string | IndexEntry>;
  remote?: Record<string, string | IndexEntry>;
}

interface Options {
  direction?: Direction;
  prefer?: Prefer;
  ignored?: string[];
  member?: string;
}

function input(sides: Sides, options: Options = {}): PlanInput {
  const toEntries = (side: Record<string, string | IndexEntry> = {}): Map<string, IndexEntry> =>
    new Map(Object.entries(side).map(([path, v]) => [path, typeof v === 'string' ? entry(v) : v]));
  const ignored = new Set(options.ignored ?? []);
  return {
    local: new Map(
      Object.entries(sides.local ?? {}).map(([path, v]) => [path, typeof v === 'string' ? file(v) : v]),
    ),
    base: toEntries(sides.base),
    remote: toEntries(sides.remote),
    isIgnored: (path) => ignored.has(path),
    member: options.member ?? 'alice',
    now: NOW,
    direction: options.direction,
    prefer: options.prefer,
  };
}

function plan(sides: Sides, options?: Options): SyncPlan {
  return planSync(input(sides, options));
}

/** `kind path` or `kind from->to`, for compact assertions. */
function describeAction(action: SyncAction): string {
  return 'to' in action ? `${action.kind} ${action.from}->${action.to}` : `${action.kind} ${action.path}`;
}

function summary(result: SyncPlan): string[] {
  return result.actions.map(describeAction);
}

describe('planSync: the 3-way table', () => {
  // X is the base content, Y and Z other contents; '-' is absent.
  const cases: Array<{
    name: string;
    l: string;
    b: string;
    r: string;
    expected: Partial<SyncAction> | null;
  }> = [
    { name: 'unchanged everywhere', l: 'X', b: 'X', r: 'X', expected: null },
    { name: 'modified locally', l: 'Y', b: 'X', r: 'X', expected: { kind: 'upload', reason: 'modified' } },
    { name: 'added locally', l: 'Y', b: '-', r: '-', expected: { kind: 'upload', reason: 'added' } },
    { name: 'deleted locally', l: '-', b: 'X', r: 'X', expected: { kind: 'delete-remote' } },
    { name: 'modified remotely', l: 'X', b: 'X', r: 'Y', expected: { kind: 'download', reason: 'modified' } },
    { name: 'added remotely', l: '-', b: '-', r: 'Y', expected: { kind: 'download', reason: 'added' } },
    { name: 'deleted remotely', l: 'X', b: 'X', r: '-', expected: { kind: 'delete-local' } },
    { name: 'same edit on both sides', l: 'Y', b: 'X', r: 'Y', expected: { kind: 'adopt' } },
    { name: 'same file added on both sides', l: 'Y', b: '-', r: 'Y', expected: { kind: 'adopt' } },
    { name: 'deleted on both sides', l: '-', b: 'X', r: '-', expected: { kind: 'forget' } },
    {
      name: 'local edit vs remote delete',
      l: 'Y',
      b: 'X',
      r: '-',
      expected: { kind: 'upload', reason: 'added' },
    },
    {
      name: 'remote edit vs local delete',
      l: '-',
      b: 'X',
      r: 'Y',
      expected: { kind: 'download', reason: 'added' },
    },
    {
      name: 'different edits',
      l: 'Y',
      b: 'X',
      r: 'Z',
      expected: { kind: 'conflict', resolution: 'keep-both' },
    },
    {
      name: 'different adds',
      l: 'Y',
      b: '-',
      r: 'Z',
      expected: { kind: 'conflict', resolution: 'keep-both' },
    },
  ];

  it.each(cases)('$name (L=$l B=$b R=$r)', ({ l, b, r, expected }) => {
    const side = (sha: string): Record<string, string> => (sha === '-' ? {} : { 'f.txt': sha });
    const result = plan({ local: side(l), base: side(b), remote: side(r) });
    if (expected === null) {
      expect(result.actions).toEqual([]);
    } else {
      expect(result.actions).toHaveLength(1);
      expect(result.actions[0]).toMatchObject({ path: 'f.txt', ...expected });
    }
    expect(result.skipped).toEqual([]);
  });

  it('carries the sides each action needs', () => {
    const result = plan({
      local: { 'up.txt': 'Y', 'down.txt': 'X', 'gone-remote.txt': 'X' },
      base: { 'up.txt': 'X', 'down.txt': 'X', 'gone-local.txt': 'X', 'gone-remote.txt': 'X' },
      remote: { 'up.txt': 'X', 'down.txt': 'Y', 'gone-local.txt': 'X' },
    });
    expect(result.actions).toEqual([
      { kind: 'download', path: 'down.txt', reason: 'modified', remote: entry('Y'), local: file('X') },
      { kind: 'delete-remote', path: 'gone-local.txt', remote: entry('X') },
      { kind: 'delete-local', path: 'gone-remote.txt', local: file('X') },
      { kind: 'upload', path: 'up.txt', reason: 'modified', local: file('Y'), remote: entry('X') },
    ]);
  });

  it('lets an edit win over a delete, as an add without the deleted side', () => {
    const localEdit = plan({ local: { 'f.txt': 'Y' }, base: { 'f.txt': 'X' } });
    expect(localEdit.actions).toEqual([{ kind: 'upload', path: 'f.txt', reason: 'added', local: file('Y') }]);
    const remoteEdit = plan({ base: { 'f.txt': 'X' }, remote: { 'f.txt': 'Y' } });
    expect(remoteEdit.actions).toEqual([
      { kind: 'download', path: 'f.txt', reason: 'added', remote: entry('Y') },
    ]);
    expect(localEdit.deletions + remoteEdit.deletions).toBe(0);
  });

  it('adopts the remote entry when both sides reached the same content', () => {
    const remoteEntry = { ...entry('Y'), version: 4, modifiedBy: 'carol' };
    const result = plan({
      local: { 'f.txt': 'Y' },
      base: { 'f.txt': 'X' },
      remote: { 'f.txt': remoteEntry },
    });
    expect(result.actions).toEqual([{ kind: 'adopt', path: 'f.txt', remote: remoteEntry }]);
  });

  it('decides on content only, never on times', () => {
    const result = plan({
      local: { 'f.txt': file('X', Date.now()) },
      base: { 'f.txt': entry('X', '2001-01-01T00:00:00.000Z') },
      remote: { 'f.txt': entry('X', '2030-01-01T00:00:00.000Z') },
    });
    expect(result.actions).toEqual([]);
  });
});

describe('planSync: conflicts', () => {
  const conflicting = (local: LocalFile, remote: IndexEntry): Sides => ({
    local: { 'data/report.csv': local },
    base: { 'data/report.csv': 'X' },
    remote: { 'data/report.csv': remote },
  });
  const localAt = (iso: string): LocalFile => file('Y', Date.parse(iso));

  it('keeps both by default, the local copy under a conflict name', () => {
    const result = plan(conflicting(file('Y'), entry('Z')));
    expect(result.actions).toEqual([
      {
        kind: 'conflict',
        path: 'data/report.csv',
        local: file('Y'),
        remote: entry('Z'),
        resolution: 'keep-both',
        conflictPath: `data/report.conflict-alice-${STAMP}.csv`,
      },
    ]);
    expect(result.counts.conflict).toBe(1);
  });

  it.each([
    { prefer: 'local', localTime: '2026-11-01T00:00:00.000Z', resolution: 'local' },
    { prefer: 'remote', localTime: '2026-11-22T00:00:00.000Z', resolution: 'remote' },
    { prefer: 'newer', localTime: '2026-11-22T00:00:00.000Z', resolution: 'local' },
    { prefer: 'newer', localTime: '2026-11-01T00:00:00.000Z', resolution: 'remote' },
    { prefer: 'newer', localTime: REMOTE_TIME, resolution: 'remote' },
  ] as const)('prefer $prefer with the local file from $localTime -> $resolution', (c) => {
    const [action] = plan(conflicting(localAt(c.localTime), entry('Z')), { prefer: c.prefer }).actions;
    expect(action).toMatchObject({ kind: 'conflict', path: 'data/report.csv', resolution: c.resolution });
    expect(action).not.toHaveProperty('conflictPath');
  });

  it("prefer newer compares the remote edit's own mtime, not its later commit time", () => {
    // The remote edit was made on 2026-11-19 but committed on 2026-11-22; the local edit is from 2026-11-21.
    const remote: IndexEntry = {
      ...entry('Z', '2026-11-22T00:00:00.000Z'),
      mtimeMs: Date.parse('2026-11-19T00:00:00.000Z'),
    };
    const [action] = plan(conflicting(localAt('2026-11-21T00:00:00.000Z'), remote), {
      prefer: 'newer',
    }).actions;
    expect(action).toMatchObject({ kind: 'conflict', resolution: 'local' });
    const later = { ...remote, mtimeMs: Date.parse('2026-11-21T12:00:00.000Z') };
    const [other] = plan(conflicting(localAt('2026-11-21T00:00:00.000Z'), later), {
      prefer: 'newer',
    }).actions;
    expect(other).toMatchObject({ kind: 'conflict', resolution: 'remote' });
  });

  it('picks a conflict name no side uses yet', () => {
    const name = (suffix: string): string => `data/report.conflict-alice-${STAMP}${suffix}.csv`;
    const result = plan({
      local: { 'data/report.csv': 'Y', [name('')]: 'P' },
      base: { 'data/report.csv': 'X', [name('-3')]: 'Q' },
      remote: { 'data/report.csv': 'Z', [name('-2')]: 'R' },
    });
    const conflict = result.actions.find((action) => action.kind === 'conflict');
    expect(conflict).toMatchObject({ path: 'data/report.csv', conflictPath: name('-4') });
  });

  it('avoids conflict names of ignored paths too', () => {
    const taken = `notes.conflict-alice-${STAMP}.md`;
    const result = plan(
      {
        local: { 'notes.md': 'Y' },
        base: { 'notes.md': 'X', [taken]: 'P' },
        remote: { 'notes.md': 'Z', [taken]: 'P' },
      },
      { ignored: [taken] },
    );
    expect(result.actions).toEqual([
      expect.objectContaining({ kind: 'conflict', conflictPath: `notes.conflict-alice-${STAMP}-2.md` }),
    ]);
  });
});

describe('conflictName', () => {
  it.each([
    ['a/b/report.csv', `a/b/report.conflict-alice-${STAMP}.csv`],
    ['README', `README.conflict-alice-${STAMP}`],
    ['.env', `.env.conflict-alice-${STAMP}`],
    ['config/.env', `config/.env.conflict-alice-${STAMP}`],
    ['.env.local', `.env.conflict-alice-${STAMP}.local`],
    ['x.tar.gz', `x.tar.conflict-alice-${STAMP}.gz`],
    ['v1.2/notes', `v1.2/notes.conflict-alice-${STAMP}`],
    ['odd.', `odd..conflict-alice-${STAMP}`],
  ])('%s -> %s', (path, expected) => {
    expect(conflictName(path, 'alice', NOW)).toBe(expected);
  });

  it('uses UTC whatever the time zone of the machine', () => {
    expect(conflictName('f.txt', 'alice', new Date('2026-01-02T23:04:05+05:00'))).toBe(
      'f.conflict-alice-20260102-180405.txt',
    );
  });

  it('makes the member name safe for a file name', () => {
    expect(conflictName('f.txt', 'Ann Lee/laptop\\2', NOW)).toBe(`f.conflict-Ann_Lee_laptop_2-${STAMP}.txt`);
    expect(conflictName('f.txt', 'ann.lee@corp-1_x', NOW)).toBe(`f.conflict-ann.lee@corp-1_x-${STAMP}.txt`);
    expect(conflictName('f.txt', 'zoë:*?', NOW)).toBe(`f.conflict-zo____-${STAMP}.txt`);
  });

  it('shortens a long base name so the copy fits 255 bytes, keeping the extension and the suffix whole', () => {
    const bytes = (name: string): number => Buffer.byteLength(name, 'utf8');
    const long = `${'a'.repeat(246)}.csv`;
    const copy = conflictName(`data/${long}`, 'alice', NOW);
    expect(copy).toBe(
      `data/${'a'.repeat(255 - bytes(`.conflict-alice-${STAMP}.csv`))}.conflict-alice-${STAMP}.csv`,
    );
    expect(bytes(copy.slice('data/'.length))).toBe(255);
    // Multi-byte characters are never cut in half.
    const accented = conflictName(`${'é'.repeat(120)}.txt`, 'alice', NOW);
    expect(bytes(accented)).toBeLessThanOrEqual(255);
    expect(accented).toMatch(new RegExp(`^é+\\.conflict-alice-${STAMP}\\.txt$`));
    expect(bytes(conflictName('b'.repeat(250), 'alice', NOW))).toBe(255);
    // A short name is left as it is.
    expect(conflictName('f.txt', 'alice', NOW)).toBe(`f.conflict-alice-${STAMP}.txt`);
  });
});

describe('planSync: moves', () => {
  it('turns a local rename into a move-remote', () => {
    const result = plan({ local: { 'new/a.txt': 'X' }, base: { 'a.txt': 'X' }, remote: { 'a.txt': 'X' } });
    expect(result.actions).toEqual([
      { kind: 'move-remote', from: 'a.txt', to: 'new/a.txt', remote: entry('X'), local: file('X') },
    ]);
    expect(result.deletions).toBe(0);
    expect(result.counts['move-remote']).toBe(1);
  });

  it('turns a remote rename into a move-local', () => {
    const result = plan({ local: { 'a.txt': 'X' }, base: { 'a.txt': 'X' }, remote: { 'b.txt': 'X' } });
    expect(result.actions).toEqual([
      { kind: 'move-local', from: 'a.txt', to: 'b.txt', remote: entry('X'), local: file('X') },
    ]);
    expect(result.deletions).toBe(0);
  });

  it('pairs files with the same content in path order, each source once', () => {
    const result = plan({
      local: { 'new/a.txt': 'X', 'new/b.txt': 'X', 'new/c.txt': 'X' },
      base: { 'old/a.txt': 'X', 'old/b.txt': 'X' },
      remote: { 'old/a.txt': 'X', 'old/b.txt': 'X' },
    });
    expect(summary(result)).toEqual([
      'move-remote old/a.txt->new/a.txt',
      'move-remote old/b.txt->new/b.txt',
      'upload new/c.txt',
    ]);
  });

  it('leaves extra deletions of the same content as deletions', () => {
    const result = plan({
      local: { 'new.txt': 'X' },
      base: { 'a.txt': 'X', 'b.txt': 'X' },
      remote: { 'a.txt': 'X', 'b.txt': 'X' },
    });
    expect(summary(result)).toEqual(['delete-remote b.txt', 'move-remote a.txt->new.txt']);
    expect(result.deletions).toBe(1);
  });

  it('does not move a source that changed remotely', () => {
    const result = plan({ local: { 'b.txt': 'X' }, base: { 'a.txt': 'X' }, remote: { 'a.txt': 'Y' } });
    expect(summary(result)).toEqual(['download a.txt', 'upload b.txt']);
  });

  it('does not move a source the other side renamed too', () => {
    // Both sides renamed a.txt, to different names: both names stay, nothing is deleted.
    const result = plan({ local: { 'b.txt': 'X' }, base: { 'a.txt': 'X' }, remote: { 'c.txt': 'X' } });
    expect(summary(result)).toEqual(['forget a.txt', 'upload b.txt', 'download c.txt']);
  });

  it('does not treat a renamed and edited file as a move', () => {
    const result = plan({ local: { 'b.txt': 'Y' }, base: { 'a.txt': 'X' }, remote: { 'a.txt': 'X' } });
    expect(summary(result)).toEqual(['delete-remote a.txt', 'upload b.txt']);
  });

  it('does not move onto a path the base tracks (edit against delete)', () => {
    const result = plan({
      local: { 'p.txt': 'Y' },
      base: { 'p.txt': 'X', 'q.txt': 'Y' },
      remote: { 'q.txt': 'Y' },
    });
    expect(summary(result)).toEqual(['upload p.txt', 'delete-remote q.txt']);
  });

  it('finds moves on both sides in one plan', () => {
    const result = plan({
      local: { 'mine-new.txt': 'M', 'theirs-old.txt': 'T' },
      base: { 'mine-old.txt': 'M', 'theirs-old.txt': 'T' },
      remote: { 'mine-old.txt': 'M', 'theirs-new.txt': 'T' },
    });
    expect(summary(result)).toEqual([
      'move-remote mine-old.txt->mine-new.txt',
      'move-local theirs-old.txt->theirs-new.txt',
    ]);
  });
});

describe('planSync: ignored paths', () => {
  it('never deletes an ignored path that is missing locally, and keeps it out of the plan', () => {
    const result = plan(
      { local: {}, base: { 'build/out.bin': 'X' }, remote: { 'build/out.bin': 'X' } },
      { ignored: ['build/out.bin'] },
    );
    expect(result.actions).toEqual([]);
    expect(result.skipped).toEqual([]);
    expect(result.tracked).toBe(0); // ignored base paths do not count towards the guards
  });

  it('neither downloads nor uploads nor forgets ignored paths', () => {
    const result = plan(
      {
        local: { 'local.tmp': 'A' },
        base: { 'gone.tmp': 'B', 'changed.tmp': 'C' },
        remote: { 'remote.tmp': 'D', 'changed.tmp': 'E' },
      },
      { ignored: ['local.tmp', 'gone.tmp', 'changed.tmp', 'remote.tmp'] },
    );
    expect(result.actions).toEqual([]);
  });

  it('never pairs an ignored path into a move', () => {
    const result = plan(
      { local: { 'b.txt': 'X' }, base: { 'a.txt': 'X' }, remote: { 'a.txt': 'X' } },
      { ignored: ['a.txt'] },
    );
    expect(summary(result)).toEqual(['upload b.txt']);
  });
});

describe('planSync: direction', () => {
  // One of every kind of change; the conflict's resolution depends on `prefer`.
  const everything: Sides = {
    local: {
      'up.txt': 'Y',
      'down.txt': 'X',
      'del-local.txt': 'X',
      'same.txt': 'Y',
      'c.txt': 'Y',
      'mv-l-src': 'M',
    },
    base: {
      'up.txt': 'X',
      'down.txt': 'X',
      'del-remote.txt': 'X',
      'del-local.txt': 'X',
      'same.txt': 'X',
      'both-gone.txt': 'X',
      'c.txt': 'X',
      'mv-l-src': 'M',
      'mv-r-src': 'N',
    },
    remote: {
      'up.txt': 'X',
      'down.txt': 'Y',
      'del-remote.txt': 'X',
      'same.txt': 'Y',
      'c.txt': 'Z',
      'mv-l-dst': 'M',
      'mv-r-src': 'N',
    },
  };
  const withLocalMove: Sides = { ...everything, local: { ...everything.local, 'mv-r-dst': 'N' } };

  it('does everything both ways by default', () => {
    const result = plan(withLocalMove);
    expect(summary(result)).toEqual([
      'forget both-gone.txt',
      'conflict c.txt',
      'delete-local del-local.txt',
      'delete-remote del-remote.txt',
      'download down.txt',
      'move-local mv-l-src->mv-l-dst',
      'move-remote mv-r-src->mv-r-dst',
      'adopt same.txt',
      'upload up.txt',
    ]);
    expect(result.skipped).toEqual([]);
  });

  it('push changes only the remote and lists what it leaves', () => {
    const result = plan(withLocalMove, { direction: 'push' });
    expect(summary(result)).toEqual([
      'forget both-gone.txt',
      'delete-remote del-remote.txt',
      'move-remote mv-r-src->mv-r-dst',
      'adopt same.txt',
      'upload up.txt',
    ]);
    expect(result.skipped).toEqual([
      { path: 'c.txt', reason: 'conflict (sync both ways to resolve)' },
      { path: 'del-local.txt', reason: 'remote change (pull to get it)' },
      { path: 'down.txt', reason: 'remote change (pull to get it)' },
      { path: 'mv-l-dst', reason: 'remote change (pull to get it)' },
    ]);
    expect(result.deletions).toBe(1);
  });

  it('pull changes only the local folder and lists what it leaves', () => {
    const result = plan(withLocalMove, { direction: 'pull' });
    expect(summary(result)).toEqual([
      'forget both-gone.txt',
      'delete-local del-local.txt',
      'download down.txt',
      'move-local mv-l-src->mv-l-dst',
      'adopt same.txt',
    ]);
    expect(result.skipped).toEqual([
      { path: 'c.txt', reason: 'conflict (sync both ways to resolve)' },
      { path: 'del-remote.txt', reason: 'local change (push to send it)' },
      { path: 'mv-r-dst', reason: 'local change (push to send it)' },
      { path: 'up.txt', reason: 'local change (push to send it)' },
    ]);
  });

  it.each([
    { direction: 'push', prefer: 'local', kept: true },
    { direction: 'push', prefer: 'remote', kept: false },
    { direction: 'pull', prefer: 'remote', kept: true },
    { direction: 'pull', prefer: 'local', kept: false },
    { direction: 'push', prefer: undefined, kept: false },
    { direction: 'pull', prefer: undefined, kept: false },
  ] as const)(
    '$direction keeps a conflict resolved by prefer $prefer: $kept',
    ({ direction, prefer, kept }) => {
      const result = plan(
        { local: { 'c.txt': 'Y' }, base: { 'c.txt': 'X' }, remote: { 'c.txt': 'Z' } },
        { direction, prefer },
      );
      expect(result.counts.conflict).toBe(kept ? 1 : 0);
      expect(result.skipped).toEqual(
        kept ? [] : [{ path: 'c.txt', reason: 'conflict (sync both ways to resolve)' }],
      );
    },
  );
});

describe('planSync: output', () => {
  it('sorts actions by path, moves by their destination', () => {
    const result = plan({
      local: { 'b.txt': 'B', 'm/z.txt': 'X', 'a.txt': 'A' },
      base: { 'zz-old.txt': 'X' },
      remote: { 'zz-old.txt': 'X', 'c.txt': 'C' },
    });
    expect(summary(result)).toEqual([
      'upload a.txt',
      'upload b.txt',
      'download c.txt',
      'move-remote zz-old.txt->m/z.txt',
    ]);
  });

  it('counts every kind, zeros included, and the tracked files', () => {
    const result = plan({
      local: { 'keep.txt': 'K', 'new.txt': 'N' },
      base: { 'keep.txt': 'K', 'gone.txt': 'G', 'gone2.txt': 'H' },
      remote: { 'keep.txt': 'K', 'gone.txt': 'G' },
    });
    expect(result.counts).toEqual({
      upload: 1,
      download: 0,
      'delete-remote': 1,
      'delete-local': 0,
      'move-remote': 0,
      'move-local': 0,
      conflict: 0,
      adopt: 0,
      forget: 1,
    });
    expect(result.tracked).toBe(3);
    expect(result.deletions).toBe(1);
  });

  it('plans nothing for an empty folder, base and remote', () => {
    const result = plan({});
    expect(result).toMatchObject({ actions: [], skipped: [], tracked: 0, deletions: 0 });
    expect(Object.values(result.counts).every((count) => count === 0)).toBe(true);
  });

  it('does not change its inputs', () => {
    const planInput = input({ local: { 'b.txt': 'X' }, base: { 'a.txt': 'X' }, remote: { 'a.txt': 'X' } });
    const copies = [new Map(planInput.local), new Map(planInput.base), new Map(planInput.remote)];
    planSync(planInput);
    expect([planInput.local, planInput.base, planInput.remote]).toEqual(copies);
  });
});

describe('planSync: paths the remote cannot hold', () => {
  // A store that takes keys of at most 20 bytes (S3's 1,024, scaled down).
  const keyRefusal = (path: string): InvalidKeyError | undefined =>
    Buffer.byteLength(path) > 20
      ? new InvalidKeyError(path, `the key is ${Buffer.byteLength(path)} bytes; the store allows 20`, {
          hint: 'shorten it',
        })
      : undefined;
  const refusing = (sides: Sides, options: Partial<PlanInput> = {}): SyncPlan =>
    planSync({ ...input(sides), keyRefusal, ...options });
  const refusedOf = (result: SyncPlan): [string, string][] =>
    result.refused.map((r) => [r.path, r.error.reason]);

  it('an upload onto a refused key is left out as refused; the rest is planned', () => {
    const result = refusing({ local: { 'a-very-long-file-name.txt': 'L', 'ok.txt': 'O' } });
    expect(summary(result)).toEqual(['upload ok.txt']);
    expect(refusedOf(result)).toEqual([
      ['a-very-long-file-name.txt', 'the key is 25 bytes; the store allows 20'],
    ]);
    expect(result.refused[0]!.error).toMatchObject({ code: 'INVALID_KEY', hint: 'shorten it' });
    expect(result.counts.upload).toBe(1);
  });

  it('a rename onto a refused key moves nothing and deletes nothing: the remote keeps the old path', () => {
    const result = refusing({
      local: { 'a-very-long-new-name.txt': 'X' },
      base: { 'old.txt': 'X' },
      remote: { 'old.txt': 'X' },
    });
    expect(summary(result)).toEqual([]);
    expect(result.deletions).toBe(0);
    expect(refusedOf(result)).toEqual([
      ['a-very-long-new-name.txt', 'the key is 24 bytes; the store allows 20'],
    ]);
  });

  it('a keep-both conflict whose copy would get a refused key is refused; --prefer still resolves it', () => {
    const sides = { local: { 'notes.txt': 'Y' }, base: { 'notes.txt': 'X' }, remote: { 'notes.txt': 'Z' } };
    const result = refusing(sides);
    expect(summary(result)).toEqual([]);
    expect(result.refused).toHaveLength(1);
    expect(result.refused[0]!.path).toBe('notes.txt');
    expect(result.refused[0]!.error.reason).toMatch(
      /^the key is \d+ bytes; the store allows 20 \(the copy of your version of notes\.txt\)$/,
    );
    expect(result.refused[0]!.error.hint).toMatch(/--prefer local or --prefer remote/);
    expect(summary(refusing(sides, { prefer: 'local' }))).toEqual(['conflict notes.txt']);
  });

  it('downloads and deletions are never refused: they create no key', () => {
    const result = refusing({
      local: { 'gone-remotely-but-long.txt': 'G' },
      base: { 'gone-remotely-but-long.txt': 'G', 'deleted-here-long.txt': 'D' },
      remote: { 'deleted-here-long.txt': 'D', 'new-remote-long-name.txt': 'N' },
    });
    expect(summary(result)).toEqual([
      'delete-remote deleted-here-long.txt',
      'delete-local gone-remotely-but-long.txt',
      'download new-remote-long-name.txt',
    ]);
    expect(result.refused).toEqual([]);
  });

  it("names the scan refused are reported unless the direction is 'pull'; pull leaves local changes alone", () => {
    const scanRefused = [
      { path: 'back\\slash.txt', error: new InvalidKeyError('back\\slash.txt', 'backslash') },
    ];
    const both = refusing({ local: { 'ok.txt': 'O' } }, { refused: scanRefused });
    expect(result(both)).toEqual(['back\\slash.txt']);
    const pushed = refusing({ local: { 'a-very-long-file-name.txt': 'L' } }, { direction: 'push' });
    expect(result(pushed)).toEqual(['a-very-long-file-name.txt']);
    const pulled = refusing(
      { local: { 'a-very-long-file-name.txt': 'L' } },
      { direction: 'pull', refused: scanRefused },
    );
    expect(pulled.refused).toEqual([]);
    expect(pulled.skipped).toEqual([
      { path: 'a-very-long-file-name.txt', reason: 'local change (push to send it)' },
    ]);

    function result(p: SyncPlan): string[] {
      return p.refused.map((r) => r.path);
    }
  });
});
