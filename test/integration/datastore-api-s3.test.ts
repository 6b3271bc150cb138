import { createHash } from 'node:crypto';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScratchDatabase, type ScratchDatabase } from '../../src/datastore/catalog/scratch-database.js';
import { Datastore } from '../../src/client/index.js';
import { startDatastore, type RunningDatastore } from '../../src/server/start-datastore.js';
import { adminClient, createTestBucket, deleteTestBucket, putRaw } from '../support/s3-buckets.js';
import { testPgUrl } from '../support/test-services.js';

/** The datastore API with its dataset folders on the real S3 server (Ceph RGW), and /health failing there. */

const ADMIN = 'test-admin-token-s3-0123456789abcdef';
let db: ScratchDatabase;
let bucket: string;
let server: RunningDatastore;

async function call(method: string, path: string, body?: unknown, srv = server, token = ADMIN) {
  const response = await fetch(`${srv.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
}

beforeAll(async () => {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  db = await createScratchDatabase(testPgUrl(), 'api_s3');
  bucket = await createTestBucket('dsapi');
  server = await startDatastore(
    { database: db.url, store: `s3://${bucket}/registry/`, port: 0, adminToken: ADMIN },
    {},
  );
}, 120_000);

afterAll(async () => {
  await server?.close();
  await db?.drop();
  if (bucket) await deleteTestBucket(bucket);
});

describe('datastore API on the S3 store', () => {
  it('mint, release with a manifest of the files, version with a server-side copy', async () => {
    expect((await call('GET', '/health')).body).toEqual({ status: 'ok', database: 'ok', store: 'ok' });
    const org = await call('POST', '/organisations', { name: 'CSIRO' });
    const check = () => ({ relevant: false, obtained: false });
    const minted = await call('POST', '/datasets', {
      associations: { organisationId: org.body.id },
      approvals: {
        ethicsRegistration: check(),
        ethicsAccess: check(),
        indigenousKnowledge: check(),
        exportControls: check(),
      },
      datasetInfo: {
        name: 'On S3',
        description: 'folder in a bucket',
        accessInfo: { reposited: true },
        publisherId: org.body.id,
        createdDate: { relevant: false },
        publishedDate: { relevant: false },
        license: 'https://creativecommons.org/licenses/by/4.0/',
      },
    });
    expect(minted.status).toBe(201);
    const id = minted.body.id as string;
    const folder = `registry/${minted.body.folder as string}`;
    const metadataJson = await adminClient().send(
      new GetObjectCommand({ Bucket: bucket, Key: `${folder}metadata.json` }),
    );
    expect(JSON.parse(await metadataJson.Body!.transformToString()).id).toBe(id);
    await putRaw(bucket, `${folder}data/obs.csv`, 'a,b\n1,2\n');

    // A release takes two people: the admin asks, reviewer rita approves.
    const rita = await call('POST', '/tokens', { name: 'tests', username: 'rita' });
    expect(rita.status).toBe(201);
    expect((await call('PUT', '/reviewers/rita')).status).toBe(204);
    expect((await call('POST', `/datasets/${id}/release/request`, { approver: 'rita' })).status).toBe(200);
    const approved = await call(
      'POST',
      `/datasets/${id}/release/approve`,
      { notes: 'ok' },
      server,
      rita.body.token,
    );
    expect(approved.body.release.status).toBe('RELEASED');
    expect((await call('GET', `/datasets/${id}/release/manifest`)).body.items).toEqual([
      { path: 'data/obs.csv', size: 8, sha256: createHash('sha256').update('a,b\n1,2\n').digest('hex') },
    ]);

    const version = await call('POST', `/datasets/${id}/versions`, { reason: 'next' });
    expect(version.status).toBe(201);
    const newFolder = `registry/${version.body.dataset.folder as string}`;
    const listed = await adminClient().send(new ListObjectsV2Command({ Bucket: bucket, Prefix: newFolder }));
    expect((listed.Contents ?? []).map((o) => o.Key!.slice(newFolder.length)).sort()).toEqual([
      'data/obs.csv',
      'metadata.json',
    ]);
  });

  it('refuses to start on a missing bucket; /health answers 503 naming the store while it is unreachable', async () => {
    await expect(
      startDatastore(
        { database: db.url, store: `s3://${bucket}-missing/x/`, port: 0, adminToken: ADMIN },
        {},
      ),
    ).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringContaining(`${bucket}-missing does not exist`),
    });
    const broken = await startDatastore(
      {
        database: db.url,
        store: `s3://${bucket}/x/`,
        storage: { s3: { endpoint: 'http://127.0.0.1:1', maxAttempts: 1 } },
        port: 0,
        adminToken: ADMIN,
      },
      {},
    );
    try {
      const r = await call('GET', '/health', undefined, broken);
      expect(r.status).toBe(503);
      expect(r.body.status).toBe('unavailable');
      expect(r.body.database).toBe('ok');
      expect(r.body.store).toMatch(/^unreachable: /);
    } finally {
      await broken.close();
    }
  });

  it('/health and getHealthCheck answer 503 once the bucket is deleted (a HEAD would read it as "absent")', async () => {
    const doomed = await createTestBucket('dshealth');
    let bucketGone = false;
    const running = await startDatastore(
      { database: db.url, store: `s3://${doomed}/x/`, port: 0, adminToken: ADMIN },
      {},
    );
    try {
      const sdk = new Datastore({ endpoint: running.url, token: ADMIN });
      expect(await sdk.getHealthCheck()).toEqual({ status: 'ok', database: 'ok', store: 'ok' });
      await deleteTestBucket(doomed);
      bucketGone = true;
      const r = await call('GET', '/health', undefined, running);
      expect(r.status).toBe(503);
      expect(r.body.status).toBe('unavailable');
      expect(r.body.database).toBe('ok');
      expect(r.body.store).toMatch(new RegExp(`^unreachable: .*${doomed} does not exist`));
      expect(await sdk.getHealthCheck()).toMatchObject({ status: 'unavailable', store: r.body.store });
      // Anyone else learns that the store is unreachable, not its bucket or endpoint.
      const anonymous = await fetch(`${running.url}/health`);
      expect(anonymous.status).toBe(503);
      expect(await anonymous.json()).toEqual({
        status: 'unavailable',
        database: 'ok',
        store: 'unreachable (a sys-admin token shows why)',
      });
    } finally {
      await running.close();
      if (!bucketGone) await deleteTestBucket(doomed);
    }
  });
});
