import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScratchDatabase, type ScratchDatabase } from '../../src/datastore/catalog/scratch-database.js';
import { presignResultSchema } from '../../src/datastore/model/data-access-schemas.js';
import { startDatastore, type RunningDatastore } from '../../src/server/start-datastore.js';
import { sampleMetadata } from '../support/datastore-fixtures.js';
import { createTestBucket, deleteTestBucket } from '../support/s3-buckets.js';
import { testPgUrl } from '../support/test-services.js';

/**
 * Presigned GET/PUT URLs of one file of a dataset, fetched with plain HTTP (no token): on the local store
 * (Wharf's own HMAC-signed /data/{token} route, two replicas sharing the key) and on the real S3 server.
 */

const ADMIN = 'test-admin-token-presign-0123456789abcdef';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

async function call(
  server: RunningDatastore,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Json }> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

async function setup(server: RunningDatastore): Promise<{ org: string; person: string }> {
  const org = await call(server, ADMIN, 'POST', '/organisations', { name: 'CSIRO' });
  const person = await call(server, ADMIN, 'POST', '/people', { firstName: 'Ada', lastName: 'Lovelace' });
  expect(org.status).toBe(201);
  return { org: org.body.id as string, person: person.body.id as string };
}

async function mint(server: RunningDatastore, token: string, refs: { org: string; person: string }) {
  const r = await call(
    server,
    token,
    'POST',
    '/datasets',
    sampleMetadata('Presigned', { organisationId: refs.org, dataCustodianId: refs.person }),
  );
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body.id as string;
}

describe('presigned URLs on the local store', () => {
  let db: ScratchDatabase;
  let dir: string;
  let a: RunningDatastore;
  let b: RunningDatastore;
  const tokens: Record<string, string> = {};
  let refs: { org: string; person: string };
  let id: string;

  beforeAll(async () => {
    db = await createScratchDatabase(testPgUrl(), 'presign');
    dir = await mkdtemp(join(tmpdir(), 'wharf-presign-'));
    const options = { database: db.url, store: join(dir, 'store'), port: 0, adminToken: ADMIN };
    [a, b] = await Promise.all([startDatastore(options, {}), startDatastore(options, {})]);
    for (const user of ['alice', 'rhea', 'rita']) {
      const r = await call(a, ADMIN, 'POST', '/tokens', { name: 'tests', username: user });
      expect(r.status).toBe(201);
      tokens[user] = r.body.token as string;
    }
    refs = await setup(a);
    id = await mint(a, tokens.alice!, refs);
    const grant = await call(a, tokens.alice!, 'PUT', `/datasets/${id}/access/grants`, {
      principal: 'rhea',
      role: 'data-read',
    });
    expect(grant.status).toBe(204);
  }, 120_000);

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const presign = (as: string, body: unknown, server = a) =>
    call(server, as, 'POST', `/datasets/${id}/presign`, body);

  it('PUT then GET with plain fetch returns the exact bytes (URLs of one replica work on the other)', async () => {
    const bytes = randomBytes(300_000);
    const put = await presign(tokens.alice!, { path: 'raw/obs.bin', method: 'PUT' });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(presignResultSchema.safeParse(put.body).success).toBe(true);
    expect(put.body.url).toMatch(/\/data\//);
    const expiresIn = (Date.parse(put.body.expiresAt as string) - Date.now()) / 1000;
    expect(expiresIn).toBeGreaterThan(3 * 3600 - 60); // default 3 h
    expect(expiresIn).toBeLessThanOrEqual(3 * 3600);

    const uploaded = await fetch(put.body.url as string, { method: 'PUT', body: bytes });
    expect(uploaded.status, await uploaded.clone().text()).toBe(200);
    expect(((await uploaded.json()) as Json).size).toBe(bytes.length);
    const folder = join(dir, 'store', id.replace(/[^A-Za-z0-9._-]/g, '-'));
    expect(Buffer.compare(await readFile(join(folder, 'raw', 'obs.bin')), bytes)).toBe(0);

    // A reader may get a GET URL; it is made by replica b and used against replica a's origin.
    const get = await presign(tokens.rhea!, { path: 'raw/obs.bin', method: 'GET', expiresIn: 60 }, b);
    expect(get.status).toBe(200);
    const url = new URL(get.body.url as string);
    const downloaded = await fetch(`${a.url}${url.pathname}`);
    expect(downloaded.status).toBe(200);
    expect(Buffer.compare(Buffer.from(await downloaded.arrayBuffer()), bytes)).toBe(0);

    // The PUT URL is not a GET URL, and GET of an absent file is 404.
    expect((await fetch(put.body.url as string)).status).toBe(403);
    const absent = await presign(tokens.alice!, { path: 'raw/none.bin', method: 'GET' });
    expect((await fetch(absent.body.url as string)).status).toBe(404);
  });

  it('refuses a URL for another path, a tampered one, and one past its expiry (403)', async () => {
    const put = await presign(tokens.alice!, { path: 'raw/one.txt', method: 'PUT' });
    const [body, signature] = new URL(put.body.url as string).pathname.split('/').pop()!.split('.');
    const payload = JSON.parse(Buffer.from(body!, 'base64url').toString('utf8'));
    const forged = Buffer.from(JSON.stringify({ ...payload, p: 'raw/other.txt' })).toString('base64url');
    const other = await fetch(`${a.url}/data/${forged}.${signature}`, { method: 'PUT', body: 'x' });
    expect(other.status).toBe(403);
    expect(((await other.json()) as Json).error.code).toBe('ACCESS_DENIED');
    const later = Buffer.from(JSON.stringify({ ...payload, e: payload.e + 3600 })).toString('base64url');
    expect((await fetch(`${a.url}/data/${later}.${signature}`, { method: 'PUT', body: 'x' })).status).toBe(
      403,
    );
    expect((await fetch(`${a.url}/data/garbage`, { method: 'PUT', body: 'x' })).status).toBe(403);

    const short = await presign(tokens.alice!, { path: 'raw/soon.txt', method: 'PUT', expiresIn: 1 });
    expect(short.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const expired = await fetch(short.body.url as string, { method: 'PUT', body: 'late' });
    expect(expired.status).toBe(403);
    expect(((await expired.json()) as Json).error.message).toMatch(/expired/);
  });

  it('checks roles, paths and expiresIn', async () => {
    const reader = await presign(tokens.rhea!, { path: 'raw/x.txt', method: 'PUT' });
    expect(reader.status).toBe(403);
    expect((await presign(tokens.rita!, { path: 'raw/x.txt', method: 'GET' })).status).toBe(403);
    expect((await presign(tokens.alice!, { path: '../escape.txt', method: 'PUT' })).status).toBe(400);
    expect((await presign(tokens.alice!, { path: '/abs.txt', method: 'GET' })).status).toBe(400);
    expect((await presign(tokens.alice!, { path: 'metadata.json', method: 'PUT' })).status).toBe(400);
    expect((await presign(tokens.alice!, { path: 'metadata.json', method: 'GET' })).status).toBe(200);
    const tooLong = await presign(tokens.alice!, { path: 'a', method: 'GET', expiresIn: 86_401 });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error.issues[0].path).toBe('expiresIn');
    expect((await presign(tokens.alice!, { path: 'a', method: 'GET', expiresIn: 0 })).status).toBe(400);
    expect((await presign(tokens.alice!, { path: 'a', method: 'DELETE' })).status).toBe(400);
    const doc = (await call(a, ADMIN, 'GET', '/openapi.json')).body;
    expect(doc.paths['/datasets/{prefix}/{number}/presign'].post.operationId).toBe(
      'generateDatasetPresignedUrl',
    );
    expect(doc.components.schemas.PresignRequest.properties.expiresIn.maximum).toBe(86_400);
  });

  it('refuses PUT (URL and upload) while the dataset is PENDING', async () => {
    const early = await presign(tokens.alice!, { path: 'raw/late.txt', method: 'PUT' });
    expect(early.status).toBe(200);
    expect((await call(a, ADMIN, 'PUT', '/reviewers/rita')).status).toBe(204);
    const requested = await call(a, tokens.alice!, 'POST', `/datasets/${id}/release/request`, {
      approver: 'rita',
    });
    expect(requested.status).toBe(200);
    const refused = await presign(tokens.alice!, { path: 'raw/late.txt', method: 'PUT' });
    expect(refused.status).toBe(409);
    expect(refused.body.error.hint).toMatch(/new version/);
    // A URL made before the request is refused at upload time too, and the audit log says whose URL it was.
    expect((await fetch(early.body.url as string, { method: 'PUT', body: 'x' })).status).toBe(409);
    const audit = await call(a, ADMIN, 'GET', `/audit?target=${encodeURIComponent(id)}`);
    expect(audit.body.items).toContainEqual(
      expect.objectContaining({
        actor: 'alice',
        action: 'dataset.presigned-upload',
        target: id,
        outcome: 'error',
        details: expect.objectContaining({ path: 'raw/late.txt' }) as unknown,
      }),
    );
    expect((await presign(tokens.alice!, { path: 'raw/obs.bin', method: 'GET' })).status).toBe(200);
  });
});

describe('presigned URLs on the S3 store', () => {
  let db: ScratchDatabase;
  let bucket: string;
  let server: RunningDatastore;

  beforeAll(async () => {
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    db = await createScratchDatabase(testPgUrl(), 'presign_s3');
    bucket = await createTestBucket('dspresign');
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

  it('PUT then GET with plain fetch returns the exact bytes', async () => {
    const refs = await setup(server);
    const id = await mint(server, ADMIN, refs);
    const bytes = randomBytes(200_000);
    const put = await call(server, ADMIN, 'POST', `/datasets/${id}/presign`, {
      path: 'raw/obs.bin',
      method: 'PUT',
      expiresIn: 600,
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body.url).toMatch(/X-Amz-Signature=/);
    expect(put.body.url).toContain(`${bucket}`);
    const uploaded = await fetch(put.body.url as string, { method: 'PUT', body: bytes });
    expect(uploaded.status, await uploaded.clone().text()).toBe(200);

    const get = await call(server, ADMIN, 'POST', `/datasets/${id}/presign`, {
      path: 'raw/obs.bin',
      method: 'GET',
    });
    expect(get.status).toBe(200);
    const downloaded = await fetch(get.body.url as string);
    expect(downloaded.status).toBe(200);
    expect(Buffer.compare(Buffer.from(await downloaded.arrayBuffer()), bytes)).toBe(0);

    // The GET URL names one key only: another path under the same signature is refused by S3.
    const other = new URL(get.body.url as string);
    other.pathname = other.pathname.replace('obs.bin', 'metadata.json');
    expect((await fetch(other)).status).toBe(403);
  });
});
