import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError } from '../../src/core/errors.js';
import { openPgCatalog, type PgCatalog } from '../../src/datastore/catalog/pg-catalog.js';
import { createScratchDatabase, type ScratchDatabase } from '../../src/datastore/catalog/scratch-database.js';
import type { DatasetMetadataInput } from '../../src/datastore/model/metadata.js';
import { sampleMetadata } from '../support/datastore-fixtures.js';
import { FieldValidationError } from '../../src/datastore/model/validation.js';
import { DatastoreService } from '../../src/datastore/service/datastore-service.js';
import { openStorage } from '../../src/storage/registry.js';
import type { StorageDriver } from '../../src/storage/types.js';
import { createTestBucket, deleteTestBucket } from '../support/s3-buckets.js';
import { testPgUrl } from '../support/test-services.js';

const PREFIX = '10378.1';
const alice = { actor: 'alice' };
const bob = { actor: 'bob' };

let db: ScratchDatabase;
let catalog: PgCatalog;
let orgId: string;
let personId: string;

function metadata(
  name: string,
  extra: { keywords?: string[]; description?: string } = {},
): DatasetMetadataInput {
  return sampleMetadata(name, { organisationId: orgId, dataCustodianId: personId, ...extra });
}

async function readText(store: StorageDriver, key: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of await store.read(key)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function keysUnder(store: StorageDriver, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const info of store.list(prefix)) keys.push(info.key.slice(prefix.length));
  return keys.sort();
}

/** The same store without server-side copy, so versioning must stream the bytes. */
function withoutCopy(store: StorageDriver): StorageDriver {
  return {
    name: `${store.name} (no server-side copy)`,
    capabilities: { ...store.capabilities, serverSideCopy: false },
    stat: (k, o) => store.stat(k, o),
    list: (p, o) => store.list(p, o),
    read: (k, o) => store.read(k, o),
    write: (k, b, o) => store.write(k, b, o),
    delete: (k, o) => store.delete(k, o),
  };
}

beforeAll(async () => {
  db = await createScratchDatabase(testPgUrl(), 'ds_service');
  catalog = await openPgCatalog({ connectionString: db.url, schema: 'wharf' });
  const setup = new DatastoreService({
    catalog,
    store: withoutCopy(await openStorage(tmpdir())),
    idPrefix: PREFIX,
  });
  orgId = (await setup.registerOrganisation({ name: 'CSIRO', ror: 'https://ror.org/03qn8fb07' }, alice)).id;
  personId = (
    await setup.registerPerson({ firstName: 'Ada', lastName: 'Lovelace', email: 'ada@example.org' }, alice)
  ).id;
});

afterAll(async () => {
  await catalog?.close();
  await db?.drop();
});

describe.each(['local', 's3'] as const)('datastore service on the %s store', (kind) => {
  let store: StorageDriver;
  let service: DatastoreService;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    if (kind === 'local') {
      const dir = await mkdtemp(join(tmpdir(), 'wharf-ds-'));
      store = await openStorage(dir);
      cleanup = () => rm(dir, { recursive: true, force: true });
    } else {
      const bucket = await createTestBucket('ds');
      store = await openStorage(`s3://${bucket}/store/`);
      cleanup = async () => {
        await store.close?.();
        await deleteTestBucket(bucket);
      };
    }
    service = new DatastoreService({ catalog, store, idPrefix: PREFIX });
  });
  afterAll(async () => {
    await cleanup?.();
  });

  it('mints a dataset with a handle id, a folder and metadata.json, and history entry 1', async () => {
    const record = await service.mintDataset(metadata('Reef survey'), alice);
    expect(record.id).toMatch(/^10378\.1\/\d+$/);
    expect(record.folder).toBe(`${record.id.replace('/', '-')}/`);
    expect(record).toMatchObject({
      owner: 'alice',
      revision: 1,
      versioning: { version: 1, previousVersion: null, nextVersion: null },
      release: { status: 'NOT_RELEASED', approver: null },
    });
    expect(record.metadata.datasetInfo.formats).toEqual([]);
    expect(JSON.parse(await readText(store, `${record.folder}metadata.json`))).toEqual(record);
    expect(await service.fetchDataset(record.id)).toEqual(record);
    const history = await service.listHistory(record.id);
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({
      id: 1,
      reason: 'minted',
      username: 'alice',
      snapshot: record.metadata,
    });
  });

  it('updates metadata with optimistic concurrency, history entries and a current metadata.json', async () => {
    const minted = await service.mintDataset(metadata('Kelp forests'), alice);
    const changed = metadata('Kelp forests', { keywords: ['kelp', 'forest'] });
    const updated = await service.updateDatasetMetadata(minted.id, 'add keywords', changed, {
      ...bob,
      expectedRevision: minted.revision,
    });
    expect(updated.revision).toBe(2);
    expect(updated.etag).not.toBe(minted.etag);
    expect(updated.metadata.datasetInfo.keywords).toEqual(['kelp', 'forest']);
    expect(JSON.parse(await readText(store, `${minted.folder}metadata.json`))).toEqual(updated);
    const stale = service.updateDatasetMetadata(minted.id, 'stale', metadata('Other'), {
      ...alice,
      expectedRevision: 1,
    });
    await expect(stale).rejects.toBeInstanceOf(ConflictError);
    await expect(stale).rejects.toThrow(/changed since revision 1 \(it is at revision 2\)/);
    const history = await service.listHistory(minted.id);
    expect(history.map((h) => [h.id, h.reason, h.username])).toEqual([
      [1, 'minted', 'alice'],
      [2, 'add keywords', 'bob'],
    ]);
    expect(history[1]!.snapshot).toEqual(updated.metadata);
    expect(Date.parse(history[1]!.timestamp)).toBeGreaterThanOrEqual(Date.parse(history[0]!.timestamp));
  });
});

describe('datastore service domain rules', () => {
  let store: StorageDriver;
  let service: DatastoreService;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wharf-ds-rules-'));
    store = await openStorage(dir);
    service = new DatastoreService({ catalog, store, idPrefix: PREFIX });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses metadata whose registry references do not resolve, naming each field, without using up an id', async () => {
    const before = await catalog.allocateNumber(PREFIX);
    const bad = metadata('Broken');
    bad.associations.organisationId = '10378.1/999999';
    bad.associations.dataCustodianId = orgId; // an organisation, not a person
    const error = await service.mintDataset(bad, alice).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FieldValidationError);
    expect((error as FieldValidationError).issues).toEqual([
      {
        path: 'associations.organisationId',
        message: 'no organisation with id 10378.1/999999 is registered',
      },
      { path: 'associations.dataCustodianId', message: `${orgId} is an organisation, expected a person` },
    ]);
    expect(await catalog.allocateNumber(PREFIX)).toBe(before + 1);
    const result = await service.validateDatasetMetadata(bad);
    expect(result.ok).toBe(false);
    const schemaError = await service.validateDatasetMetadata({ ...metadata('x'), extra: true });
    expect(schemaError).toEqual({
      ok: false,
      issues: [{ path: 'extra', message: 'unknown field (remove it)' }],
    });
    expect((await service.validateDatasetMetadata(metadata('fine'))).ok).toBe(true);
    // Schema problems and unresolved references come in one answer, not one round each.
    const both = metadata('Both');
    both.associations.organisationId = '10378.1/999999';
    both.datasetInfo.license = 'ftp://example.org/licence';
    const expected = [
      {
        path: 'associations.organisationId',
        message: 'no organisation with id 10378.1/999999 is registered',
      },
      { path: 'datasetInfo.license', message: expect.stringMatching(/must be an http\(s\) URL/) as unknown },
    ];
    expect(await service.validateDatasetMetadata(both)).toEqual({ ok: false, issues: expected });
    const mintBoth = await service.mintDataset(both, alice).catch((e: unknown) => e);
    expect((mintBoth as FieldValidationError).issues).toEqual(expected);
    expect((await service.listRegistryEntries('person')).map((p) => p.displayName)).toEqual(['Ada Lovelace']);
    expect(await service.fetchRegistryEntry(orgId)).toMatchObject({
      kind: 'organisation',
      displayName: 'CSIRO',
    });
    await expect(
      service.registerPerson({ firstName: 'X', lastName: '', email: 'nope' }, alice),
    ).rejects.toThrow(
      /person is invalid \(2 problems\):\n {2}email: must be an email address\n {2}lastName: must not be empty or blank/,
    );
  });

  it('gives exactly one of two stale writers a ConflictError and loses no update', async () => {
    const minted = await service.mintDataset(metadata('Contended'), alice);
    const results = await Promise.allSettled(
      ['first', 'second'].map((who) =>
        service.updateDatasetMetadata(minted.id, `by ${who}`, metadata(`Contended ${who}`), {
          actor: who,
          expectedRevision: minted.revision,
        }),
      ),
    );
    const ok = results.filter((r) => r.status === 'fulfilled');
    const failed = results.filter((r) => r.status === 'rejected');
    expect(ok).toHaveLength(1);
    expect(failed).toHaveLength(1);
    expect((failed[0] as PromiseRejectedResult).reason).toBeInstanceOf(ConflictError);
    const winner = (ok[0] as PromiseFulfilledResult<{ metadata: { datasetInfo: { name: string } } }>).value;
    const current = await service.fetchDataset(minted.id);
    expect(current.metadata.datasetInfo.name).toBe(winner.metadata.datasetInfo.name);
    expect((await service.listHistory(minted.id)).map((h) => h.snapshot.datasetInfo.name)).toEqual([
      'Contended',
      winner.metadata.datasetInfo.name,
    ]);

    // Eight clients each add their keyword with read-modify-write, retrying on conflict: all eight survive.
    const writers = Array.from({ length: 8 }, (_, i) => `k${i}`);
    await Promise.all(
      writers.map(async (keyword) => {
        for (;;) {
          const seen = await service.fetchDataset(minted.id);
          const next = structuredClone(seen.metadata);
          next.datasetInfo.keywords = [...next.datasetInfo.keywords, keyword];
          try {
            await service.updateDatasetMetadata(minted.id, `add ${keyword}`, next, {
              actor: keyword,
              expectedRevision: seen.revision,
            });
            return;
          } catch (error) {
            if (!(error instanceof ConflictError)) throw error;
          }
        }
      }),
    );
    const final = await service.fetchDataset(minted.id);
    expect([...final.metadata.datasetInfo.keywords].sort()).toEqual(expect.arrayContaining(writers));
    expect(final.revision).toBe(2 + writers.length);
    expect(JSON.parse(await readText(store, `${minted.folder}metadata.json`))).toEqual(final);
  });

  it('reverts by appending a history entry, never deleting', async () => {
    const minted = await service.mintDataset(metadata('Revertible v1'), alice);
    await service.updateDatasetMetadata(minted.id, 'rename', metadata('Revertible v2'), bob);
    const reverted = await service.revertDatasetMetadata(minted.id, 1, 'v2 was wrong', alice);
    expect(reverted.metadata.datasetInfo.name).toBe('Revertible v1');
    const history = await service.listHistory(minted.id);
    expect(history.map((h) => [h.id, h.snapshot.datasetInfo.name])).toEqual([
      [1, 'Revertible v1'],
      [2, 'Revertible v2'],
      [3, 'Revertible v1'],
    ]);
    expect(history[2]).toMatchObject({
      reason: 'revert to history entry 1: v2 was wrong',
      username: 'alice',
    });
    await expect(service.revertDatasetMetadata(minted.id, 42, 'nope', alice)).rejects.toThrow(
      /has no history entry 42/,
    );
    await expect(service.revertDatasetMetadata(minted.id, 1, ' ', alice)).rejects.toThrow(
      /reason must not be empty/,
    );
    await expect(service.fetchDataset('10378.1/0')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('records mutating calls in the audit log with their outcome', async () => {
    const minted = await service.mintDataset(metadata('Audited'), { actor: 'carol' });
    await service
      .updateDatasetMetadata(minted.id, 'stale', metadata('x'), { actor: 'dave', expectedRevision: 7 })
      .catch(() => undefined);
    const audit = await catalog.listAudit({ target: minted.id });
    expect(audit.map((a) => [a.actor, a.action, a.outcome])).toEqual([
      ['carol', 'dataset.mint', 'ok'],
      ['dave', 'dataset.update', 'error'],
    ]);
    expect(audit[1]!.details).toMatchObject({ code: 'CONFLICT' });
  });
});

describe.each(['local', 's3'] as const)('versions and releases on the %s store', (kind) => {
  let store: StorageDriver;
  let service: DatastoreService;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    if (kind === 'local') {
      const dir = await mkdtemp(join(tmpdir(), 'wharf-ds-v-'));
      store = await openStorage(dir);
      cleanup = () => rm(dir, { recursive: true, force: true });
    } else {
      const bucket = await createTestBucket('dsv');
      store = await openStorage(`s3://${bucket}`);
      cleanup = async () => {
        await store.close?.();
        await deleteTestBucket(bucket);
      };
    }
    service = new DatastoreService({ catalog, store, idPrefix: PREFIX });
  });
  afterAll(async () => {
    await cleanup?.();
  });

  it('versions only the latest version, links both ways and copies the files server side', async () => {
    const v1 = await service.mintDataset(metadata('Versioned'), alice);
    await store.write(`${v1.folder}data/a.csv`, Buffer.from('x,y\n1,2\n'));
    await store.write(`${v1.folder}readme.txt`, Buffer.from('hello'));
    const result = await service.versionDataset(v1.id, 'new survey', bob);
    expect(result.copied).toMatchObject({ files: 2, bytes: 13, serverSide: true });
    expect(result.version).toBe(2);
    const v2 = await service.fetchDataset(result.newVersionId);
    expect(v2).toMatchObject({
      owner: 'bob',
      versioning: { version: 2, previousVersion: v1.id, nextVersion: null, reason: 'new survey' },
      metadata: v1.metadata,
    });
    const old = await service.fetchDataset(v1.id);
    expect(old.versioning.nextVersion).toBe(v2.id);
    expect(await keysUnder(store, v2.folder)).toEqual(['data/a.csv', 'metadata.json', 'readme.txt']);
    expect(await readText(store, `${v2.folder}data/a.csv`)).toBe('x,y\n1,2\n');
    expect(JSON.parse(await readText(store, `${v2.folder}metadata.json`))).toEqual(v2);
    expect(JSON.parse(await readText(store, `${v1.folder}metadata.json`))).toEqual(old);

    const again = service.versionDataset(v1.id, 'from an old version', bob);
    await expect(again).rejects.toBeInstanceOf(ConflictError);
    await expect(again).rejects.toThrow(/already has a newer version/);

    // Two racing versioning calls on the latest: one wins, the loser's copied folder is removed.
    const races = await Promise.allSettled([1, 2].map(() => service.versionDataset(v2.id, 'race', alice)));
    expect(races.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const v3 = (
      races.find((r) => r.status === 'fulfilled') as PromiseFulfilledResult<{ newVersionId: string }>
    ).value;
    expect((await service.fetchDataset(v2.id)).versioning.nextVersion).toBe(v3.newVersionId);
    // Every folder in the store belongs to a dataset: the losing call removed its copy.
    for await (const folder of store.list('', { delimiter: '/' })) {
      const id = folder.key.slice(0, -1).replace(/-(\d+)$/, '/$1');
      await expect(service.fetchDataset(id)).resolves.toMatchObject({ folder: folder.key });
    }

    const v4 = await service.versionDataset(v3.newVersionId, 'fourth', alice);
    expect(v4.copied?.files).toBe(2);
    const bare = await service.versionDataset(v4.newVersionId, 'like Provena', {
      ...alice,
      copyFiles: false,
    });
    expect(bare.copied).toBeNull();
    expect(bare.version).toBe(5);
    expect(await keysUnder(store, bare.record.folder)).toEqual(['metadata.json']);
  });

  it('streams the copy when the store has no server-side copy', async () => {
    const streaming = new DatastoreService({ catalog, store: withoutCopy(store), idPrefix: PREFIX });
    const v1 = await streaming.mintDataset(metadata('Streamed'), alice);
    await store.write(`${v1.folder}big.bin`, Buffer.alloc(300_000, 7));
    const result = await streaming.versionDataset(v1.id, 'copy by stream', alice);
    expect(result.copied).toMatchObject({ files: 1, bytes: 300_000, serverSide: false });
    expect((await store.stat(`${result.record.folder}big.bin`))?.size).toBe(300_000);
  });

  it('runs the release workflow: request, reject, approve with a manifest, and freezes the dataset', async () => {
    const ds = await service.mintDataset(metadata('To release'), alice);
    await store.write(`${ds.folder}data.csv`, Buffer.from('a,b\n'));
    await expect(service.datasetApprovalRequest(ds.id, 'rita', 'please', alice)).rejects.toThrow(
      /not in the reviewer pool/,
    );
    await service.addDatasetReviewer('rita', { actor: 'admin' });
    expect(await service.listDatasetReviewers()).toContain('rita');
    // A reviewer who asks for a release cannot name themselves to approve it.
    await service.addDatasetReviewer('alice', { actor: 'admin' });
    await expect(service.datasetApprovalRequest(ds.id, 'alice', 'mine', alice)).rejects.toThrow(
      /alice cannot approve their own release request/,
    );
    await service.deleteDatasetReviewer('alice', { actor: 'admin' });

    const pending = await service.datasetApprovalRequest(ds.id, 'rita', 'please', alice);
    expect(pending.release).toMatchObject({ status: 'PENDING', approver: 'rita', requester: 'alice' });
    const frozen = service.updateDatasetMetadata(ds.id, 'edit', metadata('x'), alice);
    await expect(frozen).rejects.toBeInstanceOf(ConflictError);
    await expect(frozen).rejects.toThrow(/is PENDING: its metadata cannot be changed/);
    await expect(service.assertDataWritable(ds.id)).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(service.datasetApprovalRequest(ds.id, 'rita', 'again', alice)).rejects.toBeInstanceOf(
      ConflictError,
    );
    await expect(service.actionApprovalRequest(ds.id, 'approve', 'me?', bob)).rejects.toMatchObject({
      code: 'ACCESS_DENIED',
    });

    const rejected = await service.actionApprovalRequest(ds.id, 'reject', 'add a licence note', {
      actor: 'rita',
    });
    expect(rejected.release.status).toBe('NOT_RELEASED');
    await service.updateDatasetMetadata(
      ds.id,
      'licence note',
      metadata('To release', { description: 'with note' }),
      alice,
    );
    await service.datasetApprovalRequest(ds.id, 'rita', 'fixed', alice);
    const released = await service.actionApprovalRequest(ds.id, 'approve', 'good', { actor: 'rita' });
    expect(released.release).toMatchObject({ status: 'RELEASED', approver: 'rita' });
    expect(released.release.timestamp).not.toBeNull();
    expect(JSON.parse(await readText(store, `${ds.folder}metadata.json`))).toEqual(released);

    expect(await service.releaseManifest(ds.id)).toEqual([
      { path: 'data.csv', size: 4, sha256: createHash('sha256').update('a,b\n').digest('hex') },
    ]);
    expect(
      (await service.listReleaseHistory(ds.id)).map((h) => [h.action, h.actor, h.approver, h.notes]),
    ).toEqual([
      ['REQUEST', 'alice', 'rita', 'please'],
      ['REJECT', 'rita', 'rita', 'add a licence note'],
      ['REQUEST', 'alice', 'rita', 'fixed'],
      ['APPROVE', 'rita', 'rita', 'good'],
    ]);
    const edit = service.updateDatasetMetadata(ds.id, 'edit', metadata('x'), alice);
    await expect(edit).rejects.toThrow(/is RELEASED: its metadata cannot be changed/);
    await expect(edit).rejects.toMatchObject({ hint: expect.stringMatching(/create a new version/) });
    await expect(service.revertDatasetMetadata(ds.id, 1, 'undo', alice)).rejects.toBeInstanceOf(
      ConflictError,
    );
    const next = await service.versionDataset(ds.id, 'changes after release', alice);
    expect(next.record.release.status).toBe('NOT_RELEASED');
    await service.updateDatasetMetadata(
      next.newVersionId,
      'edit the new version',
      metadata('Released, v2'),
      alice,
    );
    expect(await service.deleteDatasetReviewer('rita', { actor: 'admin' })).toBe(true);
  });

  it('an approval whose manifest was read for an earlier request does not release a later one', async () => {
    const ds = await service.mintDataset(metadata('Slow approval'), alice);
    await store.write(`${ds.folder}data.csv`, Buffer.from('reviewed\n'));
    await service.addDatasetReviewer('rita', { actor: 'admin' });
    await service.datasetApprovalRequest(ds.id, 'rita', 'first', alice);
    // A replica whose manifest read (the slow part of an approval on a big dataset) waits for the test.
    let letGo!: () => void;
    const gate = new Promise<void>((resolve) => (letGo = resolve));
    let reading!: () => void;
    const started = new Promise<void>((resolve) => (reading = resolve));
    const slowStore: StorageDriver = {
      ...withoutCopy(store),
      read: async (key, options) => {
        reading();
        await gate;
        return store.read(key, options);
      },
    };
    const slow = new DatastoreService({ catalog, store: slowStore, idPrefix: PREFIX });
    const approval = slow.actionApprovalRequest(ds.id, 'approve', 'looks good', { actor: 'rita' });
    await started;
    // Meanwhile the request is rejected, the data changes and a new request is made.
    await service.actionApprovalRequest(ds.id, 'reject', 'one more file', { actor: 'rita' });
    await store.write(`${ds.folder}data.csv`, Buffer.from('never reviewed\n'));
    await service.datasetApprovalRequest(ds.id, 'rita', 'second', alice);
    letGo();
    await expect(approval).rejects.toBeInstanceOf(ConflictError);
    await expect(approval).rejects.toThrow(/changed while its files were read/);
    expect((await service.fetchDataset(ds.id)).release.status).toBe('PENDING');
    const released = await service.actionApprovalRequest(ds.id, 'approve', 'second look', { actor: 'rita' });
    expect(released.release.status).toBe('RELEASED');
    expect(await service.releaseManifest(ds.id)).toEqual([
      {
        path: 'data.csv',
        size: 15,
        sha256: createHash('sha256').update('never reviewed\n').digest('hex'),
      },
    ]);
    expect(await service.deleteDatasetReviewer('rita', { actor: 'admin' })).toBe(true);
  });
});

describe('two service replicas on one catalog', () => {
  it('behave as one: distinct ids, one winner among stale writers, one next version', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wharf-ds-replicas-'));
    const second = await openPgCatalog({ connectionString: db.url, schema: 'wharf' });
    try {
      const store = await openStorage(dir);
      const a = new DatastoreService({ catalog, store, idPrefix: PREFIX });
      const b = new DatastoreService({ catalog: second, store, idPrefix: PREFIX });
      const minted = await Promise.all(
        Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).mintDataset(metadata(`Replica ${i}`), alice)),
      );
      expect(new Set(minted.map((r) => r.id)).size).toBe(10);
      const target = minted[0]!;
      const writes = await Promise.allSettled(
        [a, b].map((s, i) =>
          s.updateDatasetMetadata(target.id, `replica ${i}`, metadata(`From replica ${i}`), {
            actor: `r${i}`,
            expectedRevision: target.revision,
          }),
        ),
      );
      expect(writes.map((w) => w.status).sort()).toEqual(['fulfilled', 'rejected']);
      const versions = await Promise.allSettled(
        [a, b].map((s) => s.versionDataset(target.id, 'race', alice)),
      );
      expect(versions.map((v) => v.status).sort()).toEqual(['fulfilled', 'rejected']);
      expect((await b.fetchDataset(target.id)).versioning.nextVersion).toMatch(/^10378\.1\/\d+$/);
    } finally {
      await second.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
