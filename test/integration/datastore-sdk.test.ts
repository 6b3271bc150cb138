import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WharfError } from '../../src/client/index.js';
import {
  AccessDeniedError,
  ConflictError,
  Datastore,
  FieldValidationError,
  InvalidKeyError,
  NotFoundError,
  type DatasetRecord,
} from '../../src/client/index.js';
import { createScratchDatabase, type ScratchDatabase } from '../../src/datastore/catalog/scratch-database.js';
import { openDatasetDriver } from '../../src/client/transfers.js';
import { whoAmISchema } from '../../src/datastore/model/api-schemas.js';
import { credentialsResultSchema } from '../../src/datastore/model/data-access-schemas.js';
import { startDatastore, type RunningDatastore } from '../../src/server/start-datastore.js';
import { sampleMetadata } from '../support/datastore-fixtures.js';
import { createTestBucket, deleteTestBucket } from '../support/s3-buckets.js';
import { testPgUrl } from '../support/test-services.js';

/**
 * The SDK (`wharf/client`) end to end against an in-process `wharf serve` over real HTTP: on the local store
 * (transfers through the /files routes with a dataset token) and on the S3 store on Ceph RGW with an STS role
 * (transfers with scoped S3 keys through the S3 driver).
 */

const ADMIN = 'test-admin-token-sdk-0123456789abcdef';

/** Every file under `dir` (relative path → bytes), Wharf's `.wharf/` state folder left out. */
async function tree(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const walk = async (d: string): Promise<void> => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== '.wharf') await walk(path);
      } else out.set(relative(dir, path).split('\\').join('/'), await readFile(path));
    }
  };
  await walk(dir);
  return out;
}

function expectSameTree(actual: Map<string, Buffer>, expected: Map<string, Buffer>): void {
  expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
  for (const [path, bytes] of expected) expect(Buffer.compare(actual.get(path)!, bytes), path).toBe(0);
}

interface StoreCase {
  name: string;
  kind: 'wharf' | 's3';
  setup(): Promise<{ store: string; stsRoleArn?: string; cleanup(): Promise<void> }>;
}

const cases: StoreCase[] = [
  {
    name: 'local store',
    kind: 'wharf',
    async setup() {
      const dir = await mkdtemp(join(tmpdir(), 'wharf-sdk-store-'));
      return { store: dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
    },
  },
  {
    name: 'S3 store (Ceph RGW, STS role)',
    kind: 's3',
    async setup() {
      const role = process.env.WHARF_TEST_STS_ROLE_ARN;
      if (!role) throw new Error('WHARF_TEST_STS_ROLE_ARN is not set: run `source /tmp/svc-env.sh`');
      const bucket = await createTestBucket('dssdk');
      return { store: `s3://${bucket}/registry/`, stsRoleArn: role, cleanup: () => deleteTestBucket(bucket) };
    },
  },
];

describe.each(cases)('SDK on the $name', (c) => {
  let db: ScratchDatabase;
  let server: RunningDatastore;
  let cleanup: () => Promise<void>;
  let work: string;
  let admin: Datastore;
  let alice: Datastore;
  let rita: Datastore;
  let org: string;
  let person: string;
  const meta = (name: string, extra: { keywords?: string[]; description?: string } = {}) =>
    sampleMetadata(name, { organisationId: org, dataCustodianId: person, ...extra });

  beforeAll(async () => {
    db = await createScratchDatabase(testPgUrl(), `sdk_${c.kind}`);
    const store = await c.setup();
    cleanup = store.cleanup;
    work = await mkdtemp(join(tmpdir(), 'wharf-sdk-'));
    server = await startDatastore(
      {
        database: db.url,
        store: store.store,
        port: 0,
        adminToken: ADMIN,
        ...(store.stsRoleArn ? { stsRoleArn: store.stsRoleArn } : {}),
      },
      {},
    );
    admin = new Datastore({ endpoint: server.url, token: ADMIN });
    const token = async (username: string) =>
      (await admin.http.request<{ token: string }>('POST', '/tokens', { body: { name: 'sdk', username } }))
        .token;
    alice = new Datastore({ endpoint: `${server.url}/`, token: await token('alice') });
    rita = new Datastore({ endpoint: server.url, token: await token('rita') });
    org = (await admin.http.request<{ id: string }>('POST', '/organisations', { body: { name: 'CSIRO' } }))
      .id;
    person = (
      await admin.http.request<{ id: string }>('POST', '/people', {
        body: { firstName: 'Ada', lastName: 'Lovelace' },
      })
    ).id;
    await admin.review.addDatasetReviewer('rita');
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    await db?.drop();
    await cleanup?.();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('health, identity and errors as WharfErrors with the server code, message and hint', async () => {
    expect(await alice.getHealthCheck()).toEqual({ status: 'ok', database: 'ok', store: 'ok' });
    const me = await alice.whoAmI();
    // The answer is what the schema the OpenAPI document and the SDK's WhoAmI type come from says.
    expect(whoAmISchema.parse(me)).toEqual(me);
    expect(me).toMatchObject({ username: 'alice', systemRoles: [] });
    expect(me.tokenId).toMatch(/\S/);
    await expect(alice.fetchDataset('10378.1/999999')).rejects.toBeInstanceOf(NotFoundError);
    const anonymous = new Datastore({ endpoint: server.url });
    const denied = await anonymous.mintDataset(meta('x')).catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(AccessDeniedError);
    expect((denied as WharfError).hint).toMatch(/token/i);
    const unreachable = await new Datastore({ endpoint: 'http://127.0.0.1:1' })
      .getHealthCheck()
      .catch((e: unknown) => e);
    expect((unreachable as WharfError).code).toBe('NETWORK');
    expect(() => alice.interactiveDataset('not-an-id')).toThrow(/invalid dataset id/);
  });

  it('mint, validate, update (stale revision: ConflictError), history and revert', async () => {
    const bad = { ...meta('Bad'), associations: { organisationId: '' }, extra: 1 };
    const validation = await alice.validateDatasetMetadata(bad);
    expect(validation.valid).toBe(false);
    expect(validation.issues.map((i) => i.path)).toEqual(
      expect.arrayContaining(['associations.organisationId', 'extra']),
    );
    const refused = await alice.mintDataset(bad as never).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(FieldValidationError);
    expect((refused as FieldValidationError).issues.map((i) => i.path)).toContain('extra');
    expect((await alice.validateDatasetMetadata(meta('Good'))).valid).toBe(true);

    const record = await alice.mintDataset(meta('Kelp survey'));
    expect(record.id).toMatch(/^10378\.1\/\d+$/);
    expect(record.owner).toBe('alice');
    expect(record.revision).toBe(1);
    expect((await alice.fetchDataset(record.id)).metadata.datasetInfo.name).toBe('Kelp survey');

    const updated = await alice.updateDatasetMetadata(record.id, 'rename', meta('Kelp survey 2024'), {
      expectedRevision: 1,
    });
    expect(updated.revision).toBe(2);
    const stale = await alice
      .updateDatasetMetadata(record.id, 'stale', meta('Lost update'), { expectedRevision: 1 })
      .catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(ConflictError);
    expect((await alice.fetchDataset(record.id)).metadata.datasetInfo.name).toBe('Kelp survey 2024');

    const history = await alice.listDatasetHistory(record.id);
    expect(history.map((h) => h.reason)).toEqual(['minted', 'rename']);
    const reverted = await alice.interactiveDataset(record.id).revertDatasetMetadata(1, 'undo');
    expect(reverted.metadata.datasetInfo.name).toBe('Kelp survey');
    expect((await alice.listDatasetHistory(record.id)).length).toBe(3);
  });

  it('listDatasets pages, forAllDatasets stops at totalLimit, listAllDatasets, searchDatasets', async () => {
    const minted: DatasetRecord[] = [];
    for (let i = 0; i < 5; i++)
      minted.push(await alice.mintDataset(meta(`Paged ${i}`, { keywords: ['paging'] })));
    const page = await alice.listDatasets({ pageSize: 2 });
    expect(page.items).toHaveLength(2);
    expect(page.paginationKey).toBeDefined();
    const next = await alice.listDatasets({ pageSize: 2, paginationKey: page.paginationKey! });
    expect(next.items.map((r) => r.id)).not.toContain(page.items[0]!.id);

    const limited: string[] = [];
    for await (const r of alice.forAllDatasets({ pageSize: 2, totalLimit: 3 })) limited.push(r.id);
    expect(limited).toHaveLength(3);
    expect(new Set(limited).size).toBe(3);
    const all = await alice.listAllDatasets({ pageSize: 2, sortBy: 'displayName', ascending: true });
    expect(all.map((r) => r.id)).toEqual(expect.arrayContaining(minted.map((r) => r.id)));
    const names = all.map((r) => r.metadata.datasetInfo.name.toLowerCase());
    expect(names).toEqual([...names].sort());
    // rita (a reviewer) sees everything; an anonymous caller sees nothing that is not metadata-public.
    expect((await rita.listAllDatasets({ pageSize: 100 })).map((r) => r.id)).toEqual(
      expect.arrayContaining(minted.map((r) => r.id)),
    );
    expect((await new Datastore({ endpoint: server.url }).listAllDatasets()).length).toBe(0);

    const hits = await alice.searchDatasets('Paged 3', { limit: 3 });
    expect(hits[0]!.dataset.metadata.datasetInfo.name).toBe('Paged 3');
    expect(hits.length).toBeLessThanOrEqual(3);
  });

  it('presigned PUT and GET URLs work with plain fetch', async () => {
    const record = await alice.mintDataset(meta('Presigned'));
    const bytes = randomBytes(70_000);
    const put = await alice.generateDatasetPresignedUrl(record.id, 'raw/p.bin', {
      method: 'PUT',
      expiresIn: 600,
    });
    expect(put.method).toBe('PUT');
    expect((await fetch(put.url, { method: 'PUT', body: bytes })).status).toBe(200);
    const get = await alice.generateDatasetPresignedUrl(record.id, 'raw/p.bin');
    const response = await fetch(get.url);
    expect(response.status).toBe(200);
    expect(Buffer.compare(Buffer.from(await response.arrayBuffer()), bytes)).toBe(0);

    // A refused path: the server's message as is (it names the path), and the path as `key`.
    const refused = await alice
      .generateDatasetPresignedUrl(record.id, '../x', { method: 'PUT' })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(InvalidKeyError);
    expect((refused as InvalidKeyError).message).toMatch(
      /^refusing object key "\.\.\/x": it contains a '\.\.'/,
    );
    expect((refused as InvalidKeyError).message).not.toMatch(/POST|presign/);
    expect((refused as InvalidKeyError).key).toBe('../x');
  });

  it('uploadAllFiles then downloadAllFiles: exact bytes, nested folders, verified; the three path forms', async () => {
    const record = await alice.mintDataset(meta('Transfers'));
    const dataset = alice.interactiveDataset(record.id);
    const src = join(work, `src-${c.kind}`);
    const files = new Map<string, Buffer>([
      ['top.txt', Buffer.from('top level\n')],
      ['empty.dat', Buffer.alloc(0)],
      ['nested/a.csv', Buffer.from('a,b\n1,2\n')],
      ['nested/deeper/b.bin', randomBytes(200_000)],
      ['nested/deeper/large.bin', randomBytes(18 * 1024 * 1024)],
      ['nestedness/c.txt', Buffer.from('not in nested/\n')],
      ['other/d e.txt', Buffer.from('a space\n')],
    ]);
    for (const [path, bytes] of files) {
      await mkdir(join(src, path, '..'), { recursive: true });
      await writeFile(join(src, path), bytes);
    }
    // Never uploaded: Wharf's local state and the service's own metadata.json.
    await mkdir(join(src, '.wharf'), { recursive: true });
    await writeFile(join(src, '.wharf', 'index.json'), '{}');
    await mkdir(join(src, 'other', '.wharf'), { recursive: true }); // a download into a subfolder
    await writeFile(join(src, 'other', '.wharf', 'index.json'), '{}');
    await writeFile(join(src, 'metadata.json'), '{"not":"the record"}');

    const credentials = await dataset.generateWriteAccessCredentials();
    expect(credentials.kind).toBe(c.kind);
    expect(credentialsResultSchema.safeParse(credentials).success).toBe(true);

    const events: string[] = [];
    const uploaded = await dataset.uploadAllFiles(src, { onEvent: (e) => events.push(e.type) });
    expect(uploaded.uploaded.map((f) => f.path).sort()).toEqual([...files.keys()].sort());
    expect(uploaded.skipped.map((s) => s.path).sort()).toEqual([
      '.wharf/index.json',
      'metadata.json',
      'other/.wharf/index.json',
    ]);
    expect(uploaded.failed).toEqual([]);
    expect(events).toContain('file-done');
    // The service's metadata.json copy is untouched.
    expect((await alice.fetchDataset(record.id)).metadata.datasetInfo.name).toBe('Transfers');

    const all = join(work, `all-${c.kind}`);
    const downloaded = await dataset.downloadAllFiles(all);
    expectSameTree(await tree(all), files);
    expect(downloaded.failed).toEqual([]);
    const large = downloaded.files.find((f) => f.path === 'nested/deeper/large.bin')!;
    expect(large.verified).toContain('size');
    if (c.kind === 's3') expect(large.verified).toContain('sha256');
    // Again into the same folder: nothing changed, nothing downloaded.
    const again = await dataset.downloadAllFiles(all);
    expect(again.files.every((f) => f.status === 'skipped')).toBe(true);

    // A file → dest/<name>.
    const one = join(work, `one-${c.kind}`);
    await dataset.downloadSpecificFile('nested/a.csv', one);
    expectSameTree(await tree(one), new Map([['a.csv', files.get('nested/a.csv')!]]));
    // A folder without trailing slash → the folder itself with its structure (not nestedness/).
    const folder = join(work, `folder-${c.kind}`);
    await dataset.downloadSpecificFile('nested', folder);
    expectSameTree(await tree(folder), new Map([...files].filter(([p]) => p.startsWith('nested/'))));
    // With a trailing slash → its contents without the folder.
    const contents = join(work, `contents-${c.kind}`);
    await dataset.downloadSpecificFile('nested/', contents);
    expectSameTree(
      await tree(contents),
      new Map(
        [...files].filter(([p]) => p.startsWith('nested/')).map(([p, b]) => [p.slice('nested/'.length), b]),
      ),
    );
    // A nested folder keeps only its own name.
    const deeper = join(work, `deeper-${c.kind}`);
    await dataset.downloadSpecificFile('nested/deeper', deeper);
    expect([...(await tree(deeper)).keys()].sort()).toEqual(['deeper/b.bin', 'deeper/large.bin']);

    await expect(dataset.downloadSpecificFile('../etc/passwd', join(work, 'x'))).rejects.toMatchObject({
      code: 'INVALID_KEY',
    });
    await expect(dataset.downloadSpecificFile('nested/../other', join(work, 'x'))).rejects.toMatchObject({
      code: 'INVALID_KEY',
    });
    const missing = await dataset.downloadSpecificFile('missing/', join(work, 'x')).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(NotFoundError);
    // The hint names the SDK's own way to see what is there, not an HTTP route.
    expect((missing as NotFoundError).hint).toBe(
      'paths are relative to the dataset folder, e.g. raw/obs.csv or raw/ (list them with listDatasetFiles)',
    );

    // Listing: one page with its key, every page, a prefix; metadata.json is never listed.
    const first = await alice.listDatasetFiles(record.id, { pageSize: 2 });
    expect(first.files.map((f) => f.path)).toEqual(['empty.dat', 'nested/a.csv']);
    expect(first.nextPaginationKey).toEqual(expect.any(String));
    const second = await alice.listDatasetFiles(record.id, {
      pageSize: 2,
      paginationKey: first.nextPaginationKey!,
    });
    expect(second.files.map((f) => f.path)).toEqual(['nested/deeper/b.bin', 'nested/deeper/large.bin']);
    const listed: string[] = [];
    for await (const f of alice.forAllDatasetFiles(record.id, { pageSize: 3 })) listed.push(f.path);
    expect(listed).toEqual([...files.keys()].sort());
    const under: Record<string, number> = {};
    for await (const f of alice.forAllDatasetFiles(record.id, { prefix: 'nested/deeper/' }))
      under[f.path] = f.size;
    expect(under).toEqual({ 'nested/deeper/b.bin': 200_000, 'nested/deeper/large.bin': 18 * 1024 * 1024 });
    await expect(alice.listDatasetFiles(record.id, { prefix: '../' })).rejects.toBeInstanceOf(
      InvalidKeyError,
    );
    await expect(rita.listDatasetFiles(record.id)).rejects.toBeInstanceOf(AccessDeniedError);
  }, 180_000);

  it('review flow: request (uploads refused while PENDING), approve; then a new version with the files', async () => {
    const record = await alice.mintDataset(meta('Released'));
    const dataset = alice.interactiveDataset(record.id);
    const src = join(work, `release-${c.kind}`);
    await mkdir(join(src, 'raw'), { recursive: true });
    await writeFile(join(src, 'raw', 'obs.csv'), 'x,y\n1,2\n');
    await dataset.uploadAllFiles(src);

    expect(await alice.review.listDatasetReviewers()).toContain('rita');
    const pending = await alice.review.datasetApprovalRequest(record.id, 'rita', 'please');
    expect(pending.release.status).toBe('PENDING');
    const refused = await dataset.uploadAllFiles(src).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ConflictError);
    expect((refused as WharfError).hint).toMatch(/version/);
    await expect(alice.updateDatasetMetadata(record.id, 'no', meta('Frozen'))).rejects.toBeInstanceOf(
      ConflictError,
    );
    await expect(alice.review.actionApprovalRequest(record.id, true)).rejects.toBeInstanceOf(
      AccessDeniedError,
    );
    // rita's queue: the dataset and alice's request, in one call.
    const queue = await rita.review.listReviewQueue();
    expect(queue.items.map((i) => i.dataset.id)).toEqual([record.id]);
    expect(queue.items[0]!.request).toMatchObject({ action: 'REQUEST', actor: 'alice', notes: 'please' });
    expect(queue.items[0]!.dataset.release.status).toBe('PENDING');
    expect((await alice.review.listReviewQueue({ approver: 'rita', pageSize: 5 })).items).toHaveLength(1);
    expect((await alice.review.listReviewQueue()).items).toEqual([]);

    const released = await rita.review.actionApprovalRequest(record.id, 'approve', 'ok');
    expect(released.release.status).toBe('RELEASED');
    expect(await rita.review.listReviewQueue()).toEqual({ items: [] });
    expect((await alice.getReleaseState(record.id)).history.map((h) => h.action)).toEqual([
      'REQUEST',
      'APPROVE',
    ]);
    // Reading still works.
    const out = join(work, `released-${c.kind}`);
    await dataset.downloadAllFiles(out);
    expect(await readFile(join(out, 'raw', 'obs.csv'), 'utf8')).toBe('x,y\n1,2\n');

    const next = await dataset.version('next survey');
    expect(next.version).toBe(2);
    expect(next.dataset.versioning.previousVersion).toBe(record.id);
    const copied = join(work, `v2-${c.kind}`);
    await alice.interactiveDataset(next.newVersionId).downloadAllFiles(copied);
    expect(await readFile(join(copied, 'raw', 'obs.csv'), 'utf8')).toBe('x,y\n1,2\n');
    const empty = await alice.versionDataset(next.newVersionId, 'empty one', { copyFiles: false });
    const none = await alice
      .interactiveDataset(empty.newVersionId)
      .downloadAllFiles(join(work, `v3-${c.kind}`));
    expect(none.files).toEqual([]);

    // A rejected request goes back to NOT_RELEASED and uploads work again.
    const other = await alice.mintDataset(meta('Rejected'));
    await alice.review.datasetApprovalRequest(other.id, 'rita');
    const rejected = await rita.review.actionApprovalRequest(other.id, false, 'not yet');
    expect(rejected.release.status).toBe('NOT_RELEASED');
    expect((await alice.interactiveDataset(other.id).uploadAllFiles(src)).uploaded).toHaveLength(1);
  }, 120_000);

  it('read credentials read only the dataset folder and cannot write; reviewer pool changes need a sys-admin', async () => {
    const record = await alice.mintDataset(meta('Scoped'));
    const read = await alice.generateReadAccessCredentials(record.id, { durationSeconds: 900 });
    expect(read.access).toBe('read');
    expect(read.kind).toBe(c.kind);
    const driver = await openDatasetDriver(read, alice.http);
    try {
      await expect(driver.write('x.txt', Buffer.from('x'))).rejects.toBeInstanceOf(AccessDeniedError);
      const listed: string[] = [];
      for await (const info of driver.list('')) listed.push(info.key);
      expect(listed.filter((k) => k !== 'metadata.json')).toEqual([]);
    } finally {
      await driver.close?.();
    }
    await expect(alice.review.addDatasetReviewer('mallory')).rejects.toBeInstanceOf(AccessDeniedError);
    await admin.review.addDatasetReviewer('vera');
    expect(await alice.review.listDatasetReviewers()).toContain('vera');
    await admin.review.deleteDatasetReviewer('vera');
    expect(await alice.review.listDatasetReviewers()).not.toContain('vera');
  });
});
