/**
 * `wharf sync` end to end in-process: members are temp folders linked to one prefix of a real S3 bucket (Ceph
 * RGW from scripts/test-services), synced with `syncFolder`. Every test uses a fresh prefix.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPool } from '../../src/core/pool.js';
import type { StorageDriver } from '../../src/storage/types.js';
import { readIndexDocument, TRASH_PREFIX } from '../../src/sync/remote-index.js';
import { listTrash, purgeTrash, resetSync, restoreFromTrash, syncLog } from '../../src/sync/sync-admin.js';
import type { SyncIndex, SyncAction } from '../../src/sync/types.js';
import { createTestBucket, deleteTestBucket, putRaw } from '../support/s3-buckets.js';
import {
  createMembers,
  makeWorkDir,
  observeWrites,
  openRemote,
  readObject,
  remoteData,
  remoteObjects,
  type Member,
  type SyncRun,
} from '../support/sync-members.js';

let bucket: string;
let work: string;
let prefixes = 0;
const stores: StorageDriver[] = [];

beforeAll(async () => {
  bucket = await createTestBucket('sync');
  work = await makeWorkDir('sync-it');
});

afterAll(async () => {
  for (const store of stores) await store.close?.();
  if (bucket) await deleteTestBucket(bucket);
  if (work) await rm(work, { recursive: true, force: true });
});

const sha = (text: string): string => createHash('sha256').update(text).digest('hex');
const TRASH_STAMP = /^\d{8}T\d{6}\.\d{3}Z$/;
/** Files of the big-folder test (WHARF_TEST_SYNC_FILES overrides the 10,000). */
const BIG_FOLDER_FILES = Number(process.env.WHARF_TEST_SYNC_FILES ?? 10_000);

interface Team {
  remote: string;
  /** The prefix as a store, for looking at what the members left there. */
  store: StorageDriver;
  members: Member[];
  index(): Promise<SyncIndex>;
}

/** Members linked to a fresh prefix. */
async function team(names: string[]): Promise<Team> {
  const prefix = `t${++prefixes}`;
  const remote = `s3://${bucket}/${prefix}`;
  const members = await createMembers(join(work, prefix), remote, names);
  const store = await openRemote(remote);
  stores.push(store);
  return { remote, store, members, index: async () => (await readIndexDocument(store)).index };
}

/** Two members sharing `files` (alice pushes them, bob pulls them). */
async function pair(files: Record<string, string>): Promise<Team & { alice: Member; bob: Member }> {
  const t = await team(['alice', 'bob']);
  const [alice, bob] = t.members as [Member, Member];
  for (const [path, content] of Object.entries(files)) await alice.write(path, content);
  const push = await alice.sync();
  expect(push.plan.counts.upload).toBe(Object.keys(files).length);
  expect(push.committed).toBe(true);
  const pull = await bob.sync();
  expect(pull.plan.counts.download).toBe(Object.keys(files).length);
  expect(await bob.files()).toEqual(await alice.files());
  return { ...t, alice, bob };
}

/** path -> sha256 of the index entries. */
function indexShas(index: SyncIndex): Record<string, string> {
  return Object.fromEntries(Object.entries(index.entries).map(([path, e]) => [path, e.sha256]));
}

function shasOf(files: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(files).map(([path, content]) => [path, sha(content)]));
}

function mapOf(files: Record<string, string>): Map<string, string> {
  return new Map(Object.entries(files).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** The remote trash: `<stamp>/<path>` -> content. */
async function remoteTrash(store: StorageDriver): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const key of [...(await remoteObjects(store, TRASH_PREFIX)).keys()].sort()) {
    out.set(key.slice(TRASH_PREFIX.length), await readObject(store, key));
  }
  return out;
}

/** Trash map (`<stamp>/<path>` -> content) as `path -> [contents]`, checking every stamp's format. */
function byPath(trash: Map<string, string>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [key, content] of trash) {
    const slash = key.indexOf('/');
    expect(key.slice(0, slash)).toMatch(TRASH_STAMP);
    (out[key.slice(slash + 1)] ??= []).push(content);
  }
  return out;
}

function actionsOf<K extends SyncAction['kind']>(run: SyncRun, kind: K): Extract<SyncAction, { kind: K }>[] {
  return run.plan.actions.filter((a): a is Extract<SyncAction, { kind: K }> => a.kind === kind);
}

/**
 * A sync "killed" right after its last transfer finished (aborted from the `file` event): uploads made, index
 * not committed. Returns how many actions the plan had.
 */
async function killedBeforeCommit(member: Member): Promise<number> {
  const controller = new AbortController();
  let planned = -1;
  let done = 0;
  await expect(
    member.sync({
      signal: controller.signal,
      onEvent: (event) => {
        if (event.type === 'planned') planned = event.plan.actions.length;
        if (event.type === 'file' && ++done === planned) controller.abort();
      },
    }),
  ).rejects.toThrow();
  expect(done).toBe(planned);
  return planned;
}

/** A sync that found nothing to do. */
function expectIdle(run: SyncRun): void {
  expect(run.plan.actions).toEqual([]);
  expect(run.committed).toBe(false);
  expect(run.failed).toEqual([]);
}

describe('two members', () => {
  it('create, modify and delete on either side reach the other; deletions land in the trash', async () => {
    const { alice, bob, store, index } = await pair({ 'a.txt': 'a1', 'b.txt': 'b1', 'docs/c.txt': 'c1' });
    const first = await index();
    expect(first.generation).toBe(1);
    expect(indexShas(first)).toEqual(shasOf({ 'a.txt': 'a1', 'b.txt': 'b1', 'docs/c.txt': 'c1' }));
    expect(first.entries['a.txt']).toMatchObject({ size: 2, version: 1, modifiedBy: 'alice' });

    // alice: modify, delete, create.
    await alice.write('a.txt', 'a2, longer');
    await alice.remove('b.txt');
    await alice.write('d.txt', 'd1');
    const push = await alice.sync();
    expect(push.plan.counts).toMatchObject({ upload: 2, 'delete-remote': 1, download: 0 });
    expect(push.plan.deletions).toBe(1);
    expect(push.committed).toBe(true);
    expect(push.generation).toBe(2);
    const second = await index();
    expect(second.generation).toBe(2);
    expect(indexShas(second)).toEqual(shasOf({ 'a.txt': 'a2, longer', 'docs/c.txt': 'c1', 'd.txt': 'd1' }));
    expect(second.entries['a.txt']).toMatchObject({ version: 2, modifiedBy: 'alice', size: 10 });
    expect(second.entries['d.txt']).toMatchObject({ version: 1, modifiedBy: 'alice' });
    const deletion = second.lastCommit?.changes.find((c) => c.path === 'b.txt');
    expect(deletion).toMatchObject({ action: 'delete' });
    expect(deletion?.trashKey).toMatch(/^\.wharf\/trash\/\d{8}T\d{6}\.\d{3}Z\/b\.txt$/);
    // The data object is gone; its content is in the remote trash.
    expect(await remoteData(store)).toEqual(
      mapOf({ 'a.txt': 'a2, longer', 'd.txt': 'd1', 'docs/c.txt': 'c1' }),
    );
    expect(byPath(await remoteTrash(store))).toEqual({ 'b.txt': ['b1'] });
    expect(await readObject(store, deletion?.trashKey ?? '')).toBe('b1');

    const pull = await bob.sync();
    expect(pull.plan.counts).toMatchObject({ download: 2, 'delete-local': 1, upload: 0 });
    expect(pull.committed).toBe(false);
    expect(await bob.files()).toEqual(mapOf({ 'a.txt': 'a2, longer', 'd.txt': 'd1', 'docs/c.txt': 'c1' }));
    expect(byPath(await bob.localTrash())).toEqual({ 'b.txt': ['b1'] });

    // bob: modify, delete, create.
    await bob.write('docs/c.txt', 'c2 from bob');
    await bob.remove('d.txt');
    await bob.write('docs/e.txt', 'e1');
    const push2 = await bob.sync();
    expect(push2.plan.counts).toMatchObject({ upload: 2, 'delete-remote': 1 });
    expect(push2.generation).toBe(3);
    const third = await index();
    expect(third.entries['docs/c.txt']).toMatchObject({
      version: 2,
      modifiedBy: 'bob',
      sha256: sha('c2 from bob'),
    });
    expect(third.entries['d.txt']).toBeUndefined();
    expect(byPath(await remoteTrash(store))).toEqual({ 'b.txt': ['b1'], 'd.txt': ['d1'] });

    const pull2 = await alice.sync();
    expect(pull2.plan.counts).toMatchObject({ download: 2, 'delete-local': 1, upload: 0 });
    const expected = mapOf({ 'a.txt': 'a2, longer', 'docs/c.txt': 'c2 from bob', 'docs/e.txt': 'e1' });
    expect(await alice.files()).toEqual(expected);
    expect(await bob.files()).toEqual(expected);
    expect(await remoteData(store)).toEqual(expected);
    expect(byPath(await alice.localTrash())).toEqual({ 'd.txt': ['d1'] });
    expectIdle(await alice.sync());
    expectIdle(await bob.sync());
  });
});

describe('conflicts', () => {
  it('edit vs edit keeps both: the remote version keeps the path, the local one gets a conflict name', async () => {
    const { alice, bob, store, index } = await pair({ 'f.txt': 'base', 'docs/report.final.csv': 'r0' });
    await alice.write('f.txt', 'alice edit');
    await alice.write('docs/report.final.csv', 'r-alice');
    expect((await alice.sync()).committed).toBe(true);

    await bob.write('f.txt', 'bob edit!');
    await bob.write('docs/report.final.csv', 'r-bob');
    const before = Date.now();
    const run = await bob.sync();
    expect(run.plan.counts).toMatchObject({ conflict: 2, upload: 0, download: 0 });
    expect(actionsOf(run, 'conflict').map((a) => a.resolution)).toEqual(['keep-both', 'keep-both']);
    expect(run.committed).toBe(true);
    const conflicts = new Map(run.conflicts.map((c) => [c.path, c.conflictPath]));
    const fConflict = conflicts.get('f.txt') ?? '';
    const reportConflict = conflicts.get('docs/report.final.csv') ?? '';
    expect(fConflict).toMatch(/^f\.conflict-bob-\d{8}-\d{6}\.txt$/);
    expect(reportConflict).toMatch(/^docs\/report\.final\.conflict-bob-\d{8}-\d{6}\.csv$/);
    // The stamp is the UTC time of the sync.
    const m = /(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})/.exec(fConflict) ?? [];
    const stamped = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
    expect(Math.abs(stamped - before)).toBeLessThan(120_000);

    const expected = mapOf({
      'f.txt': 'alice edit',
      [fConflict]: 'bob edit!',
      'docs/report.final.csv': 'r-alice',
      [reportConflict]: 'r-bob',
    });
    expect(await bob.files()).toEqual(expected);
    const idx = await index();
    expect(idx.entries['f.txt']).toMatchObject({
      modifiedBy: 'alice',
      version: 2,
      sha256: sha('alice edit'),
    });
    expect(idx.entries[fConflict]).toMatchObject({ modifiedBy: 'bob', version: 1, sha256: sha('bob edit!') });
    expect(idx.entries[reportConflict]).toMatchObject({ modifiedBy: 'bob', sha256: sha('r-bob') });

    const pull = await alice.sync();
    expect(pull.plan.counts).toMatchObject({ download: 2, conflict: 0, upload: 0 });
    expect(await alice.files()).toEqual(expected);
    expect(await remoteData(store)).toEqual(expected);
    // Nothing was deleted anywhere.
    expect(await remoteTrash(store)).toEqual(new Map());
    expect(await bob.localTrash()).toEqual(new Map());
    expectIdle(await alice.sync());
    expectIdle(await bob.sync());
  });

  it('an edit saved while a sync waits for confirmation is never lost nor uploaded under the old hash', async () => {
    // Downloading: the remote changed, the local file is edited between the plan and its confirmation.
    const { alice, bob, store } = await pair({ 'f.txt': 'base', 'g.txt': 'g0' });
    await alice.write('f.txt', 'v2 from alice');
    expect((await alice.sync()).committed).toBe(true);
    const edited = await bob.sync({
      confirm: async () => {
        await bob.write('f.txt', 'bob saved meanwhile');
        return true;
      },
    });
    expect(edited.failed.map((f) => f.path)).toEqual(['f.txt']);
    // The next sync sees the edit for what it is: a conflict, both versions kept.
    const next = await bob.sync();
    expect(next.plan.counts).toMatchObject({ conflict: 1, download: 0 });
    const bobFiles = await bob.files();
    expect([...bobFiles.values()]).toEqual(expect.arrayContaining(['v2 from alice', 'bob saved meanwhile']));

    // Uploading: the local file is edited again between the plan and its confirmation.
    await bob.write('g.txt', 'g1');
    const torn = await bob.sync({
      confirm: async () => {
        await bob.write('g.txt', 'g2 saved meanwhile');
        return true;
      },
    });
    expect(torn.failed.map((f) => f.path)).toEqual(['g.txt']);
    expect((await bob.sync()).committed).toBe(true);
    // What went up is tagged with its own hash, so every member can download it.
    const object = await store.stat('g.txt');
    expect(object?.metadata?.['wharf-sha256']).toBe(sha('g2 saved meanwhile'));
    // And typed by its extension, as `wharf cp` types an upload.
    expect(object?.contentType).toBe('text/plain');
    await alice.sync();
    expect((await alice.files()).get('g.txt')).toBe('g2 saved meanwhile');
  });

  it('a committed file that another tool overwrote is said to be so, and is not uploaded over', async () => {
    const { bob, store } = await pair({ 'f.txt': 'base', 'g.txt': 'g' });
    await store.write('f.txt', Buffer.from('written by aws-cli'));
    await bob.write('f.txt', 'bob edit');
    const run = await bob.sync();
    expect(run.failed.map((f) => [f.path, f.error.message])).toEqual([
      [
        'f.txt',
        expect.stringMatching(
          /f\.txt was overwritten by another tool after wharf sync committed it and holds other content/,
        ),
      ],
    ]);
    expect((await store.stat('f.txt'))?.size).toBe('written by aws-cli'.length);
  });

  it("prefer 'local': the local version replaces the remote one, which goes to the remote trash", async () => {
    const { alice, bob, store, index } = await pair({ 'f.txt': 'base', 'other.txt': 'o' });
    await alice.write('f.txt', 'alice edit');
    await alice.sync();
    await bob.write('f.txt', 'bob edit!');
    const run = await bob.sync({ prefer: 'local' });
    expect(run.plan.counts).toMatchObject({ conflict: 1, upload: 0, download: 0 });
    expect(actionsOf(run, 'conflict')[0]?.resolution).toBe('local');
    expect(run.conflicts).toEqual([]);
    expect(run.committed).toBe(true);
    const idx = await index();
    expect(idx.entries['f.txt']).toMatchObject({ modifiedBy: 'bob', version: 3, sha256: sha('bob edit!') });
    const change = idx.lastCommit?.changes[0];
    expect(change).toMatchObject({ path: 'f.txt', action: 'modify', sha256: sha('bob edit!') });
    expect(change?.trashKey).toMatch(/^\.wharf\/trash\/\d{8}T\d{6}\.\d{3}Z\/f\.txt$/);
    expect(byPath(await remoteTrash(store))).toEqual({ 'f.txt': ['alice edit'] });
    expect(await bob.localTrash()).toEqual(new Map());

    const pull = await alice.sync();
    expect(pull.plan.counts).toMatchObject({ download: 1, conflict: 0 });
    const expected = mapOf({ 'f.txt': 'bob edit!', 'other.txt': 'o' });
    expect(await alice.files()).toEqual(expected);
    expect(await bob.files()).toEqual(expected);
    expect(await remoteData(store)).toEqual(expected);
  });

  it("prefer 'remote': the remote version replaces the local one, which goes to the local trash", async () => {
    const { alice, bob, store, index } = await pair({ 'f.txt': 'base', 'other.txt': 'o' });
    await alice.write('f.txt', 'alice edit');
    await alice.sync();
    const generation = (await index()).generation;
    await bob.write('f.txt', 'bob edit!');
    const run = await bob.sync({ prefer: 'remote' });
    expect(run.plan.counts).toMatchObject({ conflict: 1, upload: 0, download: 0 });
    expect(actionsOf(run, 'conflict')[0]?.resolution).toBe('remote');
    expect(run.committed).toBe(false);
    expect(run.conflicts).toEqual([]);
    const expected = mapOf({ 'f.txt': 'alice edit', 'other.txt': 'o' });
    expect(await bob.files()).toEqual(expected);
    expect(byPath(await bob.localTrash())).toEqual({ 'f.txt': ['bob edit!'] });
    const idx = await index();
    expect(idx.generation).toBe(generation);
    expect(idx.entries['f.txt']).toMatchObject({ modifiedBy: 'alice', sha256: sha('alice edit') });
    expect(await remoteTrash(store)).toEqual(new Map());
    expectIdle(await alice.sync());
    expectIdle(await bob.sync());
    expect(await alice.files()).toEqual(expected);
  });

  it('edit vs delete keeps the edit, whichever side deleted', async () => {
    const { alice, bob, store, index } = await pair({ 'f.txt': 'f0', 'g.txt': 'g0', 'keep.txt': 'k' });

    // Remote edit, local delete: the edit comes back as a new file.
    await alice.write('f.txt', 'f edited by alice');
    await alice.sync();
    const generation = (await index()).generation;
    await bob.remove('f.txt');
    const back = await bob.sync();
    expect(back.plan.counts).toMatchObject({
      download: 1,
      'delete-remote': 0,
      'delete-local': 0,
      conflict: 0,
    });
    expect(actionsOf(back, 'download')[0]).toMatchObject({ path: 'f.txt', reason: 'added' });
    expect(back.committed).toBe(false);
    expect(await bob.read('f.txt')).toBe('f edited by alice');
    expect((await index()).generation).toBe(generation);

    // Remote delete, local edit: the edit goes up again as an added file.
    await bob.remove('g.txt');
    const deleted = await bob.sync();
    expect(deleted.plan.counts['delete-remote']).toBe(1);
    expect((await index()).entries['g.txt']).toBeUndefined();
    await alice.write('g.txt', 'g edited by alice');
    const up = await alice.sync();
    expect(up.plan.counts).toMatchObject({ upload: 1, 'delete-local': 0, conflict: 0 });
    expect(actionsOf(up, 'upload')[0]).toMatchObject({ path: 'g.txt', reason: 'added' });
    expect(up.committed).toBe(true);
    expect((await index()).entries['g.txt']).toMatchObject({
      sha256: sha('g edited by alice'),
      modifiedBy: 'alice',
    });
    const pull = await bob.sync();
    expect(pull.plan.counts).toMatchObject({ download: 1 });

    const expected = mapOf({ 'f.txt': 'f edited by alice', 'g.txt': 'g edited by alice', 'keep.txt': 'k' });
    expect(await alice.files()).toEqual(expected);
    expect(await bob.files()).toEqual(expected);
    expect(await remoteData(store)).toEqual(expected);
    // The delete that lost still kept the old content in the trash.
    expect(byPath(await remoteTrash(store))).toEqual({ 'g.txt': ['g0'] });
  });

  it('identical edits on two members are adopted, not a conflict', async () => {
    const { alice, bob, index } = await pair({ 'f.txt': 'base', 'other.txt': 'o' });
    await alice.write('f.txt', 'the same new content');
    await bob.write('f.txt', 'the same new content');
    expect((await alice.sync()).plan.counts.upload).toBe(1);
    const generation = (await index()).generation;

    const run = await bob.sync();
    expect(run.plan.counts).toMatchObject({ adopt: 1, conflict: 0, upload: 0, download: 0 });
    expect(run.plan.actions).toEqual([expect.objectContaining({ kind: 'adopt', path: 'f.txt' })]);
    expect(run.conflicts).toEqual([]);
    expect(run.committed).toBe(false);
    expect(run.bytes).toBe(0);
    const idx = await index();
    expect(idx.generation).toBe(generation);
    expect(idx.entries['f.txt']).toMatchObject({ modifiedBy: 'alice', version: 2 });
    expect(await bob.files()).toEqual(mapOf({ 'f.txt': 'the same new content', 'other.txt': 'o' }));
    // The base took the index entry: nothing left to do on either side.
    expectIdle(await bob.sync());
    expectIdle(await alice.sync());
  });
});

describe('moves, ignore rules, trash', () => {
  it('a rename is a move: server-side copy for the renamer, a local rename for the other member', async () => {
    const { alice, bob, store, index } = await pair({ 'docs/a.txt': 'content of a', 'other.txt': 'o' });
    await alice.move('docs/a.txt', 'archive/a renamed.txt');
    const run = await alice.sync();
    expect(run.plan.counts).toMatchObject({ 'move-remote': 1, upload: 0, 'delete-remote': 0 });
    expect(run.plan.deletions).toBe(0);
    expect(actionsOf(run, 'move-remote')[0]).toMatchObject({
      from: 'docs/a.txt',
      to: 'archive/a renamed.txt',
    });
    expect(run.bytes).toBe(0);
    expect(run.committed).toBe(true);
    const idx = await index();
    expect(idx.entries['docs/a.txt']).toBeUndefined();
    expect(idx.entries['archive/a renamed.txt']).toMatchObject({
      sha256: sha('content of a'),
      version: 2,
      modifiedBy: 'alice',
    });
    expect(idx.lastCommit?.changes).toEqual([
      { path: 'archive/a renamed.txt', action: 'move', from: 'docs/a.txt', sha256: sha('content of a') },
    ]);
    const objects = await remoteObjects(store);
    expect(objects.has('docs/a.txt')).toBe(false);
    expect(await readObject(store, 'archive/a renamed.txt')).toBe('content of a');
    expect(await remoteTrash(store)).toEqual(new Map());

    const pull = await bob.sync();
    expect(pull.plan.counts).toMatchObject({ 'move-local': 1, download: 0, 'delete-local': 0 });
    expect(pull.plan.deletions).toBe(0);
    expect(pull.bytes).toBe(0);
    const expected = mapOf({ 'archive/a renamed.txt': 'content of a', 'other.txt': 'o' });
    expect(await bob.files()).toEqual(expected);
    expect(await alice.files()).toEqual(expected);
    expect(await bob.localTrash()).toEqual(new Map());
    // The moved object works like any other: an edit of it by bob reaches alice.
    await bob.write('archive/a renamed.txt', 'content of a, edited');
    expect((await bob.sync()).plan.counts.upload).toBe(1);
    expect((await alice.sync()).plan.counts.download).toBe(1);
    expect(await alice.read('archive/a renamed.txt')).toBe('content of a, edited');
  });

  it('a symlinked folder is left alone: nothing is written through it, and what is behind it is not deleted', async () => {
    const { alice, bob, store } = await pair({ 'a.txt': 'a' });
    const elsewhere = await mkdtemp(join(tmpdir(), 'wharf-elsewhere-'));
    await symlink(elsewhere, join(alice.dir, 'shared'));
    await bob.write('shared/report.txt', 'bob report');
    expect((await bob.sync()).committed).toBe(true);
    for (let round = 0; round < 2; round++) {
      const run = await alice.sync();
      expect(run.plan.actions.filter((a) => a.kind !== 'adopt')).toEqual([]);
      expect(run.warnings).toEqual([expect.stringMatching(/^shared: skipped: symlinks are not followed/)]);
    }
    expect(await readdir(elsewhere)).toEqual([]);
    expect((await store.stat('shared/report.txt'))?.size).toBe('bob report'.length);
    expectIdle(await bob.sync());
    expect(await bob.read('shared/report.txt')).toBe('bob report');
    await rm(elsewhere, { recursive: true });
  });

  it('a file that replaced a folder (or the reverse) is never committed beside it: both sides are told, then resolved', async () => {
    const { alice, bob, index } = await pair({ 'results/a.csv': 'a', 'x.txt': 'x', 'y.txt': 'y' });
    await rm(join(alice.dir, 'results'), { recursive: true });
    await alice.write('results', 'now a file');
    const aliceRun = await alice.sync();
    expect(aliceRun.committed, JSON.stringify(aliceRun.failed.map((f) => f.error.message))).toBe(true);
    await bob.write('results/run2.csv', 'bob run 2');
    for (let round = 0; round < 2; round++) {
      const run = await bob.sync();
      const failed = new Map(run.failed.map((f) => [f.path, f.error.message]));
      expect(failed.get('results/run2.csv')).toMatch(
        /not uploaded: the remote has a file results, so there can be no folder results\//,
      );
      expect(failed.get('results')).toMatch(
        /not downloaded: the remote has a file results, and your folder results\/ is in its place/,
      );
      const entries = Object.keys((await index()).entries);
      expect(entries).toContain('results');
      expect(entries).not.toContain('results/run2.csv');
    }
    expect(await bob.read('results/run2.csv')).toBe('bob run 2');
    // Bob moves his folder aside: his file goes up under the new name, the remote file comes down.
    await bob.move('results/run2.csv', 'results-bob/run2.csv');
    const resolved = await bob.sync();
    expect(resolved.failed).toEqual([]);
    expect(await bob.read('results')).toBe('now a file');
    await alice.sync();
    expect(await alice.read('results-bob/run2.csv')).toBe('bob run 2');
  });

  it('.wharfignore: ignored files never go up; a new rule for synced files deletes nothing remotely', async () => {
    const { members, store, index } = await team(['alice', 'bob']);
    const [alice, bob] = members as [Member, Member];
    await alice.write('.wharfignore', '*.log\nbuild/\n');
    await alice.write('keep.txt', 'k');
    await alice.write('app.log', 'noise');
    await alice.write('build/out.bin', 'binary');
    await alice.write('data/x.csv', 'x0');
    await alice.write('data/y.csv', 'y0');
    await alice.write('.DS_Store', 'built-in ignore');
    const push = await alice.sync();
    expect(push.plan.counts.upload).toBe(4);
    const synced = {
      '.wharfignore': '*.log\nbuild/\n',
      'keep.txt': 'k',
      'data/x.csv': 'x0',
      'data/y.csv': 'y0',
    };
    expect(indexShas(await index())).toEqual(shasOf(synced));
    expect(await remoteData(store)).toEqual(mapOf(synced));

    const pull = await bob.sync();
    expect(pull.plan.counts.download).toBe(4);
    expect(await bob.files()).toEqual(mapOf(synced));
    await bob.write('debug.log', 'bob noise');
    await bob.write('build/bob.bin', 'bob binary');
    expectIdle(await bob.sync());
    expect(await remoteData(store)).toEqual(mapOf(synced));

    // Ignore data/ after it was synced: nothing is deleted remotely, even when the ignored files go locally.
    await alice.write('.wharfignore', '*.log\nbuild/\ndata/\n');
    const rule = await alice.sync();
    expect(rule.plan.counts).toMatchObject({ upload: 1, 'delete-remote': 0 });
    await alice.remove('data/x.csv');
    await alice.write('data/y.csv', 'y1 local only');
    expectIdle(await alice.sync());
    const idx = await index();
    expect(idx.entries['data/x.csv']).toMatchObject({ sha256: sha('x0') });
    expect(idx.entries['data/y.csv']).toMatchObject({ sha256: sha('y0') });
    expect(await readObject(store, 'data/x.csv')).toBe('x0');
    expect(await readObject(store, 'data/y.csv')).toBe('y0');
    expect(await remoteTrash(store)).toEqual(new Map());

    const pull2 = await bob.sync();
    expect(pull2.plan.counts).toMatchObject({ download: 1, 'delete-local': 0 });
    expect(await bob.read('.wharfignore')).toBe('*.log\nbuild/\ndata/\n');
    expect(await bob.read('data/x.csv')).toBe('x0');
    expectIdle(await bob.sync());
    expect(Object.keys((await index()).entries).sort()).toEqual([
      '.wharfignore',
      'data/x.csv',
      'data/y.csv',
      'keep.txt',
    ]);
  });

  it('trash: list, restore from the remote and the local trash, purge', async () => {
    const { alice, bob, store, index } = await pair({ 'f.txt': 'precious', 'g.txt': 'g', 'h.txt': 'h' });
    await alice.remove('f.txt');
    expect((await alice.sync()).plan.counts['delete-remote']).toBe(1);
    expect((await bob.sync()).plan.counts['delete-local']).toBe(1);

    const aliceLinked = await alice.linked();
    const bobLinked = await bob.linked();
    try {
      const aliceTrash = await listTrash(aliceLinked);
      expect(aliceTrash).toEqual([
        { where: 'remote', stamp: expect.stringMatching(TRASH_STAMP), path: 'f.txt', size: 8 },
      ]);
      const bobTrash = await listTrash(bobLinked);
      // Newest first: bob's local trash is from his later sync.
      expect(bobTrash.map((i) => [i.where, i.path, i.size])).toEqual([
        ['local', 'f.txt', 8],
        ['remote', 'f.txt', 8],
      ]);
      expect(bobTrash[0]!.stamp > bobTrash[1]!.stamp).toBe(true);

      // bob restores from his local trash, alice from the remote one.
      expect(await restoreFromTrash(bobLinked, 'f.txt')).toMatchObject({ where: 'local' });
      expect(await bob.read('f.txt')).toBe('precious');
      expect(await restoreFromTrash(aliceLinked, 'f.txt')).toMatchObject({ where: 'remote' });
      expect(await alice.read('f.txt')).toBe('precious');
      await expect(restoreFromTrash(aliceLinked, 'f.txt')).rejects.toMatchObject({ code: 'CONFLICT' });
      await expect(restoreFromTrash(aliceLinked, 'nope.txt')).rejects.toMatchObject({ code: 'NOT_FOUND' });

      const up = await alice.sync();
      expect(up.plan.counts).toMatchObject({ upload: 1 });
      expect(up.committed).toBe(true);
      expect((await index()).entries['f.txt']).toMatchObject({ sha256: sha('precious'), version: 1 });
      // bob restored the same content: adopted, not a conflict.
      const adopt = await bob.sync();
      expect(adopt.plan.counts).toMatchObject({ adopt: 1, conflict: 0, download: 0 });
      const expected = mapOf({ 'f.txt': 'precious', 'g.txt': 'g', 'h.txt': 'h' });
      expect(await alice.files()).toEqual(expected);
      expect(await bob.files()).toEqual(expected);
      expect(await remoteData(store)).toEqual(expected);

      // One more deletion for a local trash item, then purge.
      await alice.remove('g.txt');
      await alice.sync();
      await bob.sync();
      expect((await listTrash(bobLinked)).map((i) => [i.where, i.path])).toEqual([
        ['local', 'g.txt'],
        ['remote', 'g.txt'],
        ['remote', 'f.txt'],
      ]);
      expect(await purgeTrash(bobLinked, 3_600_000)).toEqual({ trashed: 0, versions: 0 });
      expect(await listTrash(bobLinked)).toHaveLength(3);
      await new Promise((r) => setTimeout(r, 5));
      const versions: string[] = [];
      for await (const o of store.list('.wharf/versions/')) versions.push(o.key);
      // The count covers everything a purge deletes, replaced versions included, in a dry run too.
      const purged = { trashed: 3, versions: versions.length };
      expect(await purgeTrash(bobLinked, 0, { dryRun: true })).toEqual(purged);
      expect(await listTrash(bobLinked)).toHaveLength(3);
      expect(await purgeTrash(bobLinked, 0)).toEqual(purged);
      const left: string[] = [];
      for await (const o of store.list('.wharf/versions/')) left.push(o.key);
      expect(left).toEqual([]);
      expect(await listTrash(bobLinked)).toEqual([]);
      expect(await listTrash(aliceLinked)).toEqual([]);
      expect(await remoteTrash(store)).toEqual(new Map());
      expect(await bob.localTrash()).toEqual(new Map());
      // Purging the trash touches nothing else.
      expect(await remoteData(store)).toEqual(mapOf({ 'f.txt': 'precious', 'h.txt': 'h' }));
    } finally {
      await aliceLinked.close();
      await bobLinked.close();
    }
  });
  it("restore refuses a trashed name that would land outside the folder ('..')", async () => {
    const { alice, remote } = await pair({ 'f.txt': 'f' });
    const prefix = remote.slice(`s3://${bucket}/`.length);
    await putRaw(bucket, `${prefix}/${TRASH_PREFIX}20261124T000000.000Z/../../outside.txt`, 'planted');
    const linked = await alice.linked();
    try {
      expect((await listTrash(linked)).map((i) => i.path)).toEqual(['../../outside.txt']);
      await expect(restoreFromTrash(linked, '../../outside.txt')).rejects.toMatchObject({ code: 'USAGE' });
      expect(existsSync(join(alice.dir, '..', '..', 'outside.txt'))).toBe(false);
    } finally {
      await linked.close();
    }
  });
});

describe('local state', () => {
  it('resetSync (local): the next sync compares by content and only adopts identical files', async () => {
    const files = { 'a.txt': 'a', 'b.txt': 'b', 'c/d.txt': 'd', 'c/e.txt': 'e', 'f.txt': 'f' };
    const { alice, bob, index } = await pair(files);
    const generation = (await index()).generation;
    await bob.write('f.txt', 'f changed by bob before the reset');
    const linked = await bob.linked();
    try {
      expect(await resetSync(linked, { remote: false })).toEqual({ removedRemoteKeys: 0 });
      expect(existsSync(linked.paths.baseFile)).toBe(false);
      expect(existsSync(linked.paths.statCacheFile)).toBe(false);
    } finally {
      await linked.close();
    }
    const run = await bob.sync();
    expect(run.hashed[0]).toBe(5);
    // Identical files are adopted; the one that differs cannot be told from an edit on both sides.
    expect(run.plan.counts).toMatchObject({ adopt: 4, upload: 0, download: 0, conflict: 1 });
    expect(actionsOf(run, 'adopt').map((a) => a.path)).toEqual(['a.txt', 'b.txt', 'c/d.txt', 'c/e.txt']);
    const conflictPath = run.conflicts[0]?.conflictPath ?? '';
    expect(conflictPath).toMatch(/^f\.conflict-bob-\d{8}-\d{6}\.txt$/);
    expect(run.generation).toBe(generation + 1);
    const again = await bob.sync();
    expectIdle(again);
    expect(again.hashed).toEqual([0]);
    await alice.sync();
    const expected = mapOf({ ...files, [conflictPath]: 'f changed by bob before the reset' });
    expect(await alice.files()).toEqual(expected);
    expect(await bob.files()).toEqual(expected);
  });

  it('after another member resets the remote, nothing is taken for a deletion: files compare by content', async () => {
    const files = { 'f1.txt': 'f1', 'f2.txt': 'f2', 'f3.txt': 'f3' };
    const { alice, bob, index } = await pair(files);
    await bob.write('bob-report.txt', "bob's report");
    await bob.write('f2.txt', 'f2 edited by bob');
    await bob.sync();
    await alice.remove('f3.txt'); // alice's own deletion, made before the reset: not a member's deletion any more
    const linked = await alice.linked();
    try {
      await resetSync(linked, { remote: true });
    } finally {
      await linked.close();
    }
    // Before alice pushes again, and after: bob loses nothing either way.
    for (const step of ['remote index gone', 'alice pushed a new index']) {
      if (step === 'alice pushed a new index') await alice.sync();
      const run = await bob.sync();
      expect.soft(run.plan.counts['delete-local'] ?? 0, step).toBe(0);
      // The first sync after the reset says so; it commits a fresh index, which alice then joins.
      if (step === 'remote index gone') expect(run.warnings.join('\n')).toMatch(/reset or replaced/);
      expect(await bob.read('bob-report.txt')).toBe("bob's report");
      expect(await bob.read('f3.txt')).toBe('f3');
    }
    expect((await index()).entries['bob-report.txt']?.sha256).toBe(sha("bob's report"));
    await alice.sync();
    expect(await alice.files()).toEqual(await bob.files());
    const again = await bob.sync();
    expectIdle(again);
    expect(again.warnings).toEqual([]);
  });

  it('an index last committed by a Wharf without lineages is not taken for a reset, and keeps its lineage', async () => {
    const { alice, bob, store, index } = await pair({ 'x.txt': 'x1', 'y.txt': 'y1', 'z.txt': 'z1' });
    const lineage = (await index()).lineage;
    expect(lineage).toMatch(/^[0-9a-f-]{36}$/);
    // alice commits an edit with an older Wharf: the same index, without the lineage field.
    await alice.write('x.txt', 'x2 from an older wharf');
    await alice.sync();
    const { lineage: _dropped, ...older } = await index();
    await store.write('.wharf/index.json', Buffer.from(JSON.stringify(older)));
    // bob, upgraded, edits y and deletes z: plain changes, no reset, no conflicts.
    await bob.write('y.txt', 'y2 from bob');
    await bob.remove('z.txt');
    const run = await bob.sync();
    expect(run.warnings).toEqual([]);
    expect(run.plan.counts).toMatchObject({ conflict: 0, download: 1, upload: 1, 'delete-remote': 1 });
    expect((await index()).lineage).toBe(lineage);
    expect(await bob.files()).toEqual(mapOf({ 'x.txt': 'x2 from an older wharf', 'y.txt': 'y2 from bob' }));
  });

  it('resetSync (local) with identical folders: all adopted, nothing transferred, nothing committed', async () => {
    const files = { 'a.txt': 'a', 'b.txt': 'b', 'c/d.txt': 'd' };
    const { bob, index } = await pair(files);
    const generation = (await index()).generation;
    const linked = await bob.linked();
    try {
      await resetSync(linked, { remote: false });
    } finally {
      await linked.close();
    }
    const run = await bob.sync();
    expect(run.plan.counts).toMatchObject({ adopt: 3, upload: 0, download: 0, conflict: 0 });
    expect(run.plan.actions).toHaveLength(3);
    expect(run.bytes).toBe(0);
    expect(run.committed).toBe(false);
    expect((await index()).generation).toBe(generation);
    expectIdle(await bob.sync());
    expect(await bob.files()).toEqual(mapOf(files));
  });
});

describe('guards', () => {
  it('an emptied folder trips the delete guard; maxDelete counts; force overrides', async () => {
    const files = { 'a.txt': 'a', 'b.txt': 'b', 'c.txt': 'c', 'd.txt': 'd' };
    const { alice, bob, store, index } = await pair(files);
    const before = await index();

    for (const path of Object.keys(files)) await bob.remove(path);
    const empty = await bob.sync();
    expect(empty.guards.map((g) => g.guard)).toContain('empty-folder');
    expect(empty.applied).toBe(false);
    expect(empty.committed).toBe(false);
    expect(empty.plan.counts['delete-remote']).toBe(4);
    expect(await index()).toEqual(before);
    expect(await remoteData(store)).toEqual(mapOf(files));
    expect(await remoteTrash(store)).toEqual(new Map());

    // The files come back (same content): nothing to do.
    for (const [path, content] of Object.entries(files)) await bob.write(path, content);
    expectIdle(await bob.sync());

    // Two of four deleted with --max-delete 1.
    await bob.remove('a.txt');
    await bob.remove('b.txt');
    const limited = await bob.sync({ maxDelete: { kind: 'count', value: 1 } });
    expect(limited.guards.map((g) => g.guard)).toEqual(['max-delete']);
    expect(limited.applied).toBe(false);
    expect(await index()).toEqual(before);
    // Two of four is exactly the default 50 %: allowed, so a tighter limit is what stopped it.
    expect((await bob.sync({ dryRun: true })).guards).toEqual([]);

    const forced = await bob.sync({ maxDelete: { kind: 'count', value: 1 }, force: true });
    expect(forced.guards.map((g) => g.guard)).toEqual(['max-delete']);
    expect(forced.applied).toBe(true);
    expect(forced.committed).toBe(true);
    expect(forced.plan.counts['delete-remote']).toBe(2);
    expect(Object.keys((await index()).entries).sort()).toEqual(['c.txt', 'd.txt']);
    expect(byPath(await remoteTrash(store))).toEqual({ 'a.txt': ['a'], 'b.txt': ['b'] });

    const pull = await alice.sync();
    expect(pull.plan.counts['delete-local']).toBe(2);
    expect(await alice.files()).toEqual(mapOf({ 'c.txt': 'c', 'd.txt': 'd' }));
  });

  it('the default limit (50 % of the tracked files) trips; force on an emptied folder deletes', async () => {
    const files = { 'a.txt': 'a', 'b.txt': 'b', 'c.txt': 'c', 'd.txt': 'd' };
    const { alice, bob, store, index } = await pair(files);
    await bob.remove('a.txt');
    await bob.remove('b.txt');
    await bob.remove('c.txt');
    const tripped = await bob.sync();
    expect(tripped.guards.map((g) => g.guard)).toEqual(['max-delete']);
    expect(tripped.applied).toBe(false);
    await bob.remove('d.txt');
    const forced = await bob.sync({ force: true });
    expect(forced.guards.map((g) => g.guard).sort()).toEqual(['empty-folder', 'max-delete']);
    expect(forced.committed).toBe(true);
    expect((await index()).entries).toEqual({});
    expect(await remoteData(store)).toEqual(new Map());
    // alice's own guard protects her folder from the remote mass delete too.
    const pull = await alice.sync();
    expect(pull.guards.map((g) => g.guard)).toEqual(['max-delete']);
    expect(await alice.files()).toEqual(mapOf(files));
  });
});

describe('concurrency and crashes', () => {
  it('three members syncing at once, five rounds: every change committed, all folders converge', async () => {
    const { members, store, index } = await team(['alice', 'bob', 'carol']);
    const [alice] = members as [Member, Member, Member];
    const expected: Record<string, string> = { 'seed/1.txt': 's1', 'seed/2.txt': 's2', 'seed/3.txt': 's3' };
    for (const [path, content] of Object.entries(expected)) await alice.write(path, content);
    await alice.sync();
    for (const m of members.slice(1)) expect((await m.sync()).plan.counts.download).toBe(3);
    let generation = (await index()).generation;
    expect(generation).toBe(1);
    let attempts = 0;
    let downloadsLost = 0;

    for (let round = 1; round <= 5; round++) {
      for (const m of members) {
        const add = `${m.name}/r${round}.txt`;
        await m.write(add, `${m.name} round ${round}`);
        expected[add] = `${m.name} round ${round}`;
        await m.write(`${m.name}/own.txt`, `${m.name} own v${round}`.repeat(round));
        expected[`${m.name}/own.txt`] = `${m.name} own v${round}`.repeat(round);
        if (round >= 3) {
          await m.remove(`${m.name}/r${round - 2}.txt`);
          delete expected[`${m.name}/r${round - 2}.txt`];
        }
      }
      const runs = await Promise.all(members.map((m) => m.sync()));
      for (const [i, run] of runs.entries()) {
        // A download of another member's file can meet that member's upload, which replaces the object before
        // its commit: the committed version cannot be read for that moment, the one file fails (retryable) and
        // a later sync gets it. A member's own changes never fail.
        for (const failure of run.failed) {
          expect(failure.path.startsWith(`${members[i]!.name}/`)).toBe(false);
          expect(['PRECONDITION_FAILED', 'CONFLICT']).toContain(failure.error.code);
        }
        downloadsLost += run.failed.length;
        expect(run.guards).toEqual([]);
        expect(run.committed).toBe(true);
        expect(run.generation).toBeGreaterThan(generation);
        attempts += run.attempts;
      }
      const idx = await index();
      expect(idx.generation).toBe(generation + 3);
      generation = idx.generation;
      // Every member's changes of this round (and all before) are in the index.
      expect(indexShas(idx)).toEqual(shasOf(expected));
    }
    expect(attempts).toBeGreaterThanOrEqual(15);
    console.log(`three members: ${attempts} attempts for 15 syncs, ${downloadsLost} downloads met an upload`);

    // One more sequential round: everyone catches up, nobody commits.
    for (const m of members) {
      const run = await m.sync();
      expect(run.failed).toEqual([]);
      expect(run.committed).toBe(false);
    }
    const final = mapOf(expected);
    for (const m of members) expect(await m.files()).toEqual(final);
    for (const m of members) expectIdle(await m.sync());
    expect(await remoteData(store)).toEqual(final);
    const idx = await index();
    expect(idx.generation).toBe(16);
    const trashed = byPath(await remoteTrash(store));
    for (const m of members) {
      // A member that re-planned after losing a commit race copies to the trash again: same content each time.
      for (const round of [1, 2, 3])
        expect(new Set(trashed[`${m.name}/r${round}.txt`])).toEqual(new Set([`${m.name} round ${round}`]));
    }
    const linked = await alice.linked();
    try {
      const log = await syncLog(linked);
      expect(log.map((r) => r.generation)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
      const byMember = new Map<string, number>();
      for (const r of log) byMember.set(r.member, (byMember.get(r.member) ?? 0) + 1);
      expect(Object.fromEntries(byMember)).toEqual({ alice: 6, bob: 5, carol: 5 });
    } finally {
      await linked.close();
    }
  });

  it('downloads made in an attempt whose commit lost the race are not taken for local edits on the re-plan', async () => {
    const { alice, bob, remote, store, index } = await pair({ 'f.txt': 'f1', 'other.txt': 'o' });
    // bob's changes that alice has not seen yet: an edit and a new file.
    await bob.write('f.txt', 'f2 from bob');
    await bob.write('new.txt', 'new from bob');
    expect((await bob.sync()).committed).toBe(true);
    // alice has a change of her own, so her sync commits.
    await alice.write('mine.txt', 'alice');
    let held = false;
    // alice's first commit is held back until bob has edited f.txt again and deleted new.txt (committed).
    const observed = observeWrites(await openRemote(remote), async (key) => {
      if (key !== '.wharf/index.json' || held) return;
      held = true;
      await bob.write('f.txt', 'f3 from bob, later');
      await bob.remove('new.txt');
      const meanwhile = await bob.sync();
      expect(meanwhile.plan.counts).toMatchObject({ upload: 1, 'delete-remote': 1 });
      expect(meanwhile.committed).toBe(true);
    });
    stores.push(observed.store);
    const run = await alice.sync({ store: observed.store });
    expect(held).toBe(true);
    expect(run.attempts).toBe(2);
    expect(run.committed).toBe(true);
    expect(run.failed).toEqual([]);
    // Attempt 1 downloaded f2 and new.txt; attempt 2 must see them as bob's versions, not as alice's edits:
    // f.txt simply moves on to f3 (no conflict copy) and new.txt follows bob's delete (no resurrection).
    expect(run.conflicts).toEqual([]);
    expect(run.plan.counts).toMatchObject({ conflict: 0, download: 1, 'delete-local': 1, upload: 1 });
    await bob.sync();
    const expected = mapOf({ 'f.txt': 'f3 from bob, later', 'mine.txt': 'alice', 'other.txt': 'o' });
    expect(await alice.files()).toEqual(expected);
    expect(await bob.files()).toEqual(expected);
    expect(await remoteData(store)).toEqual(expected);
    expect(indexShas(await index())).toEqual(shasOf(Object.fromEntries(expected)));
    expect(byPath(await alice.localTrash())).toEqual({ 'new.txt': ['new from bob'] });
  });

  it('a sync that dies after its uploads but before the commit is finished by the next one, reusing the uploads', async () => {
    const { alice, bob, remote, store, index } = await pair({
      'a.txt': 'a1',
      'd.txt': 'd1',
      'keep.txt': 'k',
    });
    const before = await index();
    await alice.write('a.txt', 'a2 edited before the crash');
    await alice.write('n.txt', 'new before the crash');
    await alice.remove('d.txt');

    // "Killed" right after the last transfer finished: the abort lands before the commit.
    expect(await killedBeforeCommit(alice)).toBe(3);
    // Uploads are there, the index is not committed, nothing deleted.
    expect(await index()).toEqual(before);
    expect(await readObject(store, 'a.txt')).toBe('a2 edited before the crash');
    expect(await readObject(store, 'n.txt')).toBe('new before the crash');
    expect(await readObject(store, 'd.txt')).toBe('d1');
    // bob sees the old committed state and has nothing to do.
    expectIdle(await bob.sync());

    const observed = observeWrites(await openRemote(remote));
    stores.push(observed.store);
    const recovery = await alice.sync({ store: observed.store });
    expect(recovery.plan.counts).toMatchObject({ upload: 2, 'delete-remote': 1 });
    expect(recovery.committed).toBe(true);
    expect(recovery.failed).toEqual([]);
    // No content goes up twice: the modified file's object already holds it (seen by its SHA-256 metadata before
    // writing); the new file's create-only write is refused because the object is there, then adopted.
    const dataWrites = observed.writes.filter((w) => !w.key.startsWith('.wharf/'));
    expect(dataWrites).toEqual([
      { key: 'n.txt', condition: 'if-none-match', outcome: 'precondition-failed' },
    ]);
    expect(observed.writes.filter((w) => w.key === '.wharf/index.json')).toEqual([
      { key: '.wharf/index.json', condition: 'if-match', outcome: 'ok' },
    ]);

    const idx = await index();
    expect(idx.generation).toBe(before.generation + 1);
    expect(indexShas(idx)).toEqual(
      shasOf({ 'a.txt': 'a2 edited before the crash', 'n.txt': 'new before the crash', 'keep.txt': 'k' }),
    );
    expect(idx.entries['a.txt']?.version).toBe(2);
    const objects = await remoteObjects(store);
    expect(objects.get('a.txt')?.etag?.replace(/"/g, '')).toBe(idx.entries['a.txt']?.etag.replace(/"/g, ''));
    expect(objects.get('n.txt')?.etag?.replace(/"/g, '')).toBe(idx.entries['n.txt']?.etag.replace(/"/g, ''));
    expect(objects.has('d.txt')).toBe(false);

    const pull = await bob.sync();
    expect(pull.plan.counts).toMatchObject({ download: 2, 'delete-local': 1 });
    expect(pull.failed).toEqual([]);
    const expected = mapOf({
      'a.txt': 'a2 edited before the crash',
      'n.txt': 'new before the crash',
      'keep.txt': 'k',
    });
    expect(await alice.files()).toEqual(expected);
    expect(await bob.files()).toEqual(expected);
    expect(await remoteData(store)).toEqual(expected);
    // The deleted file's content is in the remote trash (the dead run's copy and the recovery's: same content).
    const trashed = byPath(await remoteTrash(store));
    expect(Object.keys(trashed)).toEqual(['d.txt']);
    expect(new Set(trashed['d.txt'])).toEqual(new Set(['d1']));
    expectIdle(await alice.sync());
    expectIdle(await bob.sync());
  });
  it('a member that died before its commit blocks nobody: committed versions stay readable and editable', async () => {
    const { members, index } = await team(['alice', 'bob', 'carol']);
    const [alice, bob, carol] = members as [Member, Member, Member];
    await alice.write('a.txt', 'a1');
    await alice.write('keep.txt', 'k');
    await alice.sync();
    await bob.sync();
    await alice.write('a.txt', 'a2 uploaded, never committed');
    expect(await killedBeforeCommit(alice)).toBe(1);
    // Purging every old trash item and version keeps the only copy left of the committed a.txt.
    await new Promise((r) => setTimeout(r, 5));
    const bobLinked = await bob.linked();
    try {
      await purgeTrash(bobLinked, 0);
    } finally {
      await bobLinked.close();
    }

    // carol joins while alice is gone: she gets the committed state.
    const joined = await carol.sync();
    expect.soft(joined.failed.map((f) => `${f.path}: ${f.error.code}`)).toEqual([]);
    expect.soft(await carol.files()).toEqual(mapOf({ 'a.txt': 'a1', 'keep.txt': 'k' }));
    // bob edits the file whose object alice replaced without committing.
    await bob.write('a.txt', 'a3 from bob');
    const edited = await bob.sync();
    expect.soft(edited.failed.map((f) => `${f.path}: ${f.error.code}`)).toEqual([]);
    expect.soft((await index()).entries['a.txt']?.sha256).toBe(sha('a3 from bob'));

    // Whatever the order, once everyone has synced no version is lost: one is a.txt, the other a conflict copy.
    await alice.sync();
    await bob.sync();
    await alice.sync();
    await carol.sync();
    const final = await alice.files();
    for (const m of [bob, carol]) expect(await m.files()).toEqual(final);
    const versions = [...final].filter(([path]) => /^a(\.conflict-\w+-\d{8}-\d{6})?\.txt$/.test(path));
    expect(versions.map(([, content]) => content).sort()).toEqual([
      'a2 uploaded, never committed',
      'a3 from bob',
    ]);
  });

  it('on a local-folder remote too (no object metadata): the kept copy of the committed version is used', async () => {
    const root = join(work, `local-remote-${++prefixes}`);
    await mkdir(join(root, 'store'), { recursive: true });
    const [alice, bob, carol] = (await createMembers(join(root, 'members'), join(root, 'store'), [
      'alice',
      'bob',
      'carol',
    ])) as [Member, Member, Member];
    await alice.write('y.txt', 'v1');
    await alice.sync();
    await bob.sync();
    await alice.write('y.txt', 'v2 uploaded, never committed');
    expect(await killedBeforeCommit(alice)).toBe(1);
    const joined = await carol.sync();
    expect(joined.failed.map((f) => `${f.path}: ${f.error.message}`)).toEqual([]);
    expect(await carol.files()).toEqual(mapOf({ 'y.txt': 'v1' }));
  });

  it('on a local-folder remote, a replaced upload is kept under its SHA-256; a store moved to another disk still serves', async () => {
    const root = join(work, `local-remote-${++prefixes}`);
    await mkdir(join(root, 'store'), { recursive: true });
    const [alice, bob] = (await createMembers(join(root, 'members'), join(root, 'store'), [
      'alice',
      'bob',
    ])) as [Member, Member];
    await alice.write('seed.txt', 'seed');
    await alice.sync();
    await bob.sync();
    // alice's upload lands but is never committed; bob's upload of the same new path replaces it.
    await alice.write('new.txt', "alice's new file");
    expect(await killedBeforeCommit(alice)).toBe(1);
    await bob.write('new.txt', "bob's new file");
    await bob.sync();
    expect(existsSync(join(root, 'store', '.wharf', 'versions', sha("alice's new file")))).toBe(true);

    // The store is copied to another disk (new inodes, so new ETags) and both members relinked to it.
    await alice.sync();
    await alice.write('seed.txt', 'seed 2');
    await alice.sync();
    await cp(join(root, 'store'), join(root, 'store2'), { recursive: true });
    await rm(join(root, 'store'), { recursive: true });
    for (const m of [alice, bob]) {
      const configFile = join(m.dir, '.wharf', 'sync.json');
      const config = JSON.parse(await readFile(configFile, 'utf8')) as { remote: string };
      await writeFile(configFile, JSON.stringify({ ...config, remote: join(root, 'store2') }));
    }
    const moved = await bob.sync();
    expect(moved.failed.map((f) => `${f.path}: ${f.error.message}`)).toEqual([]);
    expect(await bob.read('seed.txt')).toBe('seed 2');
  });

  it('downloads finished before a crash are not taken for local edits by the next sync', async () => {
    const { alice, bob, store, index } = await pair({ 'f.txt': 'f1', 'other.txt': 'o', 'keep.txt': 'k' });
    await bob.write('f.txt', 'f2 from bob');
    await bob.write('new.txt', 'new from bob');
    await bob.sync();

    // alice's pull is killed right after both downloads finished (a pull has nothing to commit).
    const controller = new AbortController();
    let done = 0;
    await expect(
      alice.sync({
        signal: controller.signal,
        onEvent: (event) => {
          if (event.type === 'file' && ++done === 2) controller.abort();
        },
      }),
    ).rejects.toThrow();
    expect(await alice.read('f.txt')).toBe('f2 from bob');
    expect(await alice.read('new.txt')).toBe('new from bob');

    // Meanwhile bob edits f.txt again and deletes new.txt.
    await bob.write('f.txt', 'f3 from bob, later');
    await bob.remove('new.txt');
    expect((await bob.sync()).committed).toBe(true);
    const generation = (await index()).generation;

    // alice never edited anything: she must simply follow bob, with no conflict copy and no resurrected file.
    const run = await alice.sync();
    expect(run.conflicts).toEqual([]);
    expect(run.plan.counts).toMatchObject({ conflict: 0, upload: 0, download: 1, 'delete-local': 1 });
    expect(run.committed).toBe(false);
    expect((await index()).generation).toBe(generation);
    const expected = mapOf({ 'f.txt': 'f3 from bob, later', 'keep.txt': 'k', 'other.txt': 'o' });
    expect(await alice.files()).toEqual(expected);
    expect(await remoteData(store)).toEqual(expected);
  });
});

describe('paths and scale', () => {
  it('unicode, spaces and emoji in paths', async () => {
    const files = {
      'Grüße/über uns.txt': 'Grüße aus Köln',
      'a b/c d.csv': 'x,y\n1,2\n',
      'emoji 🎉/😀 smile.txt': '🙂',
      '日本語/ファイル.md': '# 見出し',
      'plain.txt': 'p',
    };
    const { alice, bob, store, index } = await pair(files);
    expect(indexShas(await index())).toEqual(shasOf(files));
    expect(await remoteData(store)).toEqual(mapOf(files));

    await bob.write('a b/c d.csv', 'x,y\n3,4\n');
    await bob.move('Grüße/über uns.txt', 'Grüße/über uns (alt).txt');
    await bob.remove('emoji 🎉/😀 smile.txt');
    const push = await bob.sync();
    expect(push.plan.counts).toMatchObject({ upload: 1, 'move-remote': 1, 'delete-remote': 1 });
    const pull = await alice.sync();
    expect(pull.plan.counts).toMatchObject({ download: 1, 'move-local': 1, 'delete-local': 1 });
    const expected = mapOf({
      'Grüße/über uns (alt).txt': 'Grüße aus Köln',
      'a b/c d.csv': 'x,y\n3,4\n',
      '日本語/ファイル.md': '# 見出し',
      'plain.txt': 'p',
    });
    expect(await alice.files()).toEqual(expected);
    expect(await bob.files()).toEqual(expected);
    expect(await remoteData(store)).toEqual(expected);
    expect(byPath(await remoteTrash(store))).toEqual({ 'emoji 🎉/😀 smile.txt': ['🙂'] });
    expect(byPath(await alice.localTrash())).toEqual({ 'emoji 🎉/😀 smile.txt': ['🙂'] });

    // A conflict on a unicode name.
    await alice.write('Grüße/über uns (alt).txt', 'alice');
    await bob.write('Grüße/über uns (alt).txt', 'bob');
    await alice.sync();
    const conflict = await bob.sync();
    expect(conflict.conflicts[0]?.conflictPath).toMatch(
      /^Grüße\/über uns \(alt\)\.conflict-bob-\d{8}-\d{6}\.txt$/,
    );
    await alice.sync();
    expect(await alice.files()).toEqual(await bob.files());
  });

  it("index entries no folder can hold ('..', '//', a leading /) are left alone, never written outside the folder", async () => {
    const { alice, bob, store, index, remote } = await pair({ 'ok.txt': 'ok' });
    const prefix = remote.slice(`s3://${bucket}/`.length);
    // Another tool (or a hand edit) puts entries with such names into the shared index, with their objects.
    const unsafe = ['sub/../../escaped.txt', '../up.txt', 'a//b.txt', '/abs.txt'];
    const doc = await index();
    for (const path of unsafe) {
      await putRaw(bucket, `${prefix}/${path}`, 'planted');
      const info = await store.stat(path);
      doc.entries[path] = {
        size: 7,
        sha256: sha('planted'),
        etag: info?.etag ?? '"x"',
        version: 1,
        modifiedBy: 'mallory',
        modifiedAt: new Date().toISOString(),
      };
    }
    await store.write('.wharf/index.json', Buffer.from(JSON.stringify(doc)));
    await alice.write('new.txt', 'new');
    await alice.sync();

    const run = await bob.sync();
    expect(run.failed).toEqual([]);
    expect(run.plan.actions.map((a) => a.kind)).toEqual(['download']);
    for (const path of unsafe) expect(run.warnings.join('\n')).toContain(`${path}: left alone`);
    expect(existsSync(join(bob.dir, '..', 'escaped.txt'))).toBe(false);
    expect(existsSync(join(bob.dir, '..', 'up.txt'))).toBe(false);
    expect(await bob.files()).toEqual(mapOf({ 'new.txt': 'new', 'ok.txt': 'ok' }));
    // bob's next commit keeps them in the index (they are someone else's to clean up).
    await bob.write('bob.txt', 'b');
    expect((await bob.sync()).committed).toBe(true);
    for (const path of unsafe) expect(Object.keys((await index()).entries)).toContain(path);
  });

  it("a path over S3's 1,024-byte key limit is refused on every run while the rest syncs; one near the limit still syncs, conflicts and deletes", async () => {
    const { alice, bob, store, index, remote } = await pair({ 'ok.txt': 'ok' });
    const prefix = remote.slice(`s3://${bucket}/`.length);
    /** A path in folders of 200 characters whose key (prefix/path) is `bytes` long. */
    const pathOfKey = (bytes: number, name: string): string => {
      const folder = 'f'.repeat(200);
      const folders = `${folder}/${folder}/${folder}/${folder}/`;
      const left = bytes - prefix.length - 1 - folders.length - name.length;
      return `${folders}${'n'.repeat(left)}${name}`;
    };
    const tooLong = pathOfKey(1030, '.csv');
    const renamedTooLong = pathOfKey(1025, '-renamed.txt');
    // Fits, but neither its conflict copy's name nor its trash key does.
    const nearLimit = pathOfKey(1000, '.txt');
    await alice.write(tooLong, 'too long');
    await alice.write(nearLimit, 'near v1');
    await alice.write('new.txt', 'new');

    const first = await alice.sync();
    expect(first.plan.actions.map((a) => a.kind === 'upload' && a.path)).toEqual([nearLimit, 'new.txt']);
    expect(first.plan.refused.map((r) => r.path)).toEqual([tooLong]);
    expect(first.plan.refused[0]!.error.reason).toBe('the key is 1,030 bytes; S3 allows 1,024');
    expect(first.failed.map((f) => [f.path, f.error.code])).toEqual([[tooLong, 'INVALID_KEY']]);
    expect(first.committed).toBe(true);
    expect(Object.keys((await index()).entries).sort()).toEqual([nearLimit, 'new.txt', 'ok.txt'].sort());

    // Every later run says it again, and takes it for nothing else (no conflict, no deletion, nothing sent).
    const again = await alice.sync();
    expect(again.plan.actions).toEqual([]);
    expect(again.plan.refused.map((r) => r.path)).toEqual([tooLong]);
    expect(again.failed.map((f) => f.path)).toEqual([tooLong]);
    expect(again.committed).toBe(false);
    const pulled = await bob.sync();
    expect(pulled.plan.actions.map((a) => `${a.kind} ${'path' in a ? a.path : ''}`).sort()).toEqual(
      [`download ${nearLimit}`, 'download new.txt'].sort(),
    );
    expect(pulled.failed).toEqual([]);
    expect([...(await bob.files()).keys()]).not.toContain(tooLong);

    // A rename onto a key S3 refuses: the remote keeps the file at its old path (nothing deleted for bob).
    await alice.move('new.txt', renamedTooLong);
    const renamed = await alice.sync();
    expect(renamed.plan.actions).toEqual([]);
    expect(renamed.plan.refused.map((r) => r.path)).toEqual([renamedTooLong, tooLong].sort());
    expect(Object.keys((await index()).entries)).toContain('new.txt');
    expect((await bob.sync()).plan.actions).toEqual([]);
    await alice.move(renamedTooLong, 'new.txt');

    // Both edit the near-limit file: its conflict copy's name would pass the limit, so keep-both is refused
    // (nothing changes on either side) and --prefer resolves it.
    await alice.write(nearLimit, 'near alice');
    await bob.write(nearLimit, 'near bob');
    await alice.sync();
    const conflict = await bob.sync();
    expect(conflict.plan.actions).toEqual([]);
    expect(conflict.plan.refused.map((r) => r.path)).toEqual([nearLimit]);
    expect(conflict.failed[0]!.error.hint).toMatch(/--prefer/);
    expect(await bob.read(nearLimit)).toBe('near bob');
    const resolved = await bob.sync({ prefer: 'remote' });
    expect(resolved.failed).toEqual([]);
    expect(await bob.read(nearLimit)).toBe('near alice');

    // Deleted: `.wharf/trash/<stamp>/` in front of it passes the limit, so the deleted version is kept by its
    // SHA-256 instead, and the deletion goes through.
    await bob.remove(nearLimit);
    const deleted = await bob.sync();
    expect(deleted.failed).toEqual([]);
    expect(deleted.plan.counts['delete-remote']).toBe(1);
    expect(deleted.warnings.join('\n')).toContain(`.wharf/versions/${sha('near alice')}`);
    expect(Object.keys((await index()).entries)).not.toContain(nearLimit);
    expect(await readObject(store, `.wharf/versions/${sha('near alice')}`)).toBe('near alice');
    expect((await alice.sync()).plan.actions.map((a) => a.kind)).toEqual(['delete-local']);
    expect([...(await alice.files()).keys()]).toEqual(['new.txt', 'ok.txt', tooLong].sort());
  });

  it(
    `a ${BIG_FOLDER_FILES.toLocaleString('en')}-file folder: push, pull, then a no-change sync transfers and hashes nothing`,
    async () => {
      const { members, index } = await team(['alice', 'bob']);
      const [alice, bob] = members as [Member, Member];
      const count = BIG_FOLDER_FILES;
      const paths = Array.from({ length: count }, (_, i) => `d${String(i % 100).padStart(2, '0')}/f${i}.txt`);
      await runPool(paths, 64, (path, i) => alice.write(path, `file ${i}`));

      const t0 = Date.now();
      const push = await alice.sync({ concurrency: 32 });
      const t1 = Date.now();
      expect(push.plan.counts.upload).toBe(count);
      expect(push.failed).toEqual([]);
      expect(push.committed).toBe(true);
      expect(push.hashed).toEqual([count]);
      const idx = await index();
      expect(Object.keys(idx.entries)).toHaveLength(count);
      expect(idx.entries[paths[count - 1]!]).toMatchObject({ sha256: sha(`file ${count - 1}`) });

      const pull = await bob.sync({ concurrency: 32 });
      const t2 = Date.now();
      expect(pull.plan.counts.download).toBe(count);
      expect(pull.failed).toEqual([]);
      const bobFiles = await bob.files();
      expect(bobFiles.size).toBe(count);
      for (const [i, path] of paths.entries()) expect(bobFiles.get(path)).toBe(`file ${i}`);

      for (const m of [alice, bob]) {
        const idle = await m.sync({ concurrency: 32 });
        expectIdle(idle);
        expect(idle.hashed).toEqual([0]);
        expect(idle.bytes).toBe(0);
      }
      console.log(
        `${count} files: push ${t1 - t0} ms, pull ${t2 - t1} ms, two idle syncs ${Date.now() - t2} ms`,
      );
    },
    // The push and the pull are one request per file: at the ~80-130 PUT/s a 2-core test RGW manages, 10,000
    // files take minutes, not seconds.
    Math.max(60_000, BIG_FOLDER_FILES * 40),
  );
});

describe('directions', () => {
  it("direction 'push' leaves remote changes pending; a later two-way sync applies them", async () => {
    const { alice, bob, index } = await pair({ 'a.txt': 'a1', 'b.txt': 'b1' });
    await alice.write('a.txt', 'a2 from alice');
    await alice.sync();
    await bob.write('b.txt', 'b2 from bob');
    const push = await bob.sync({ direction: 'push' });
    expect(push.plan.counts).toMatchObject({ upload: 1, download: 0 });
    expect(push.plan.skipped).toEqual([{ path: 'a.txt', reason: 'remote change (pull to get it)' }]);
    expect(push.committed).toBe(true);
    expect(await bob.read('a.txt')).toBe('a1');
    const idx = await index();
    expect(indexShas(idx)).toEqual(shasOf({ 'a.txt': 'a2 from alice', 'b.txt': 'b2 from bob' }));

    // Still pending on a second push.
    const again = await bob.sync({ direction: 'push' });
    expect(again.plan.actions).toEqual([]);
    expect(again.plan.skipped).toEqual([{ path: 'a.txt', reason: 'remote change (pull to get it)' }]);
    expect(await bob.read('a.txt')).toBe('a1');

    const both = await bob.sync();
    expect(both.plan.counts).toMatchObject({ download: 1, upload: 0, conflict: 0 });
    expect(both.plan.skipped).toEqual([]);
    expect((await alice.sync()).plan.counts).toMatchObject({ download: 1, upload: 0 });
    const expected = mapOf({ 'a.txt': 'a2 from alice', 'b.txt': 'b2 from bob' });
    expect(await alice.files()).toEqual(expected);
    expect(await bob.files()).toEqual(expected);
  });

  it("direction 'pull' leaves local changes pending", async () => {
    const { alice, bob, index } = await pair({ 'a.txt': 'a1', 'b.txt': 'b1' });
    await alice.write('a.txt', 'a2 from alice');
    await alice.sync();
    const generation = (await index()).generation;
    await bob.write('b.txt', 'b2 from bob');
    const pull = await bob.sync({ direction: 'pull' });
    expect(pull.plan.counts).toMatchObject({ download: 1, upload: 0 });
    expect(pull.plan.skipped).toEqual([{ path: 'b.txt', reason: 'local change (push to send it)' }]);
    expect(pull.committed).toBe(false);
    expect((await index()).generation).toBe(generation);
    expect(await bob.read('a.txt')).toBe('a2 from alice');
    const both = await bob.sync();
    expect(both.plan.counts).toMatchObject({ upload: 1, download: 0 });
    expect((await index()).entries['b.txt']).toMatchObject({ sha256: sha('b2 from bob'), modifiedBy: 'bob' });
  });
});
