import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Datastore, TransferFailedError, type FailedTransfer } from '../../src/client/index.js';
import { compareKeys } from '../../src/core/keys.js';
import { encodeScopedToken } from '../../src/datastore/access/scoped-token.js';
import { buildSessionPolicy } from '../../src/datastore/access/session-policy.js';
import { serviceHmacKey } from '../../src/datastore/access/service-key.js';
import { StsCredentialIssuer } from '../../src/datastore/access/sts-credentials.js';
import { createScratchDatabase, type ScratchDatabase } from '../../src/datastore/catalog/scratch-database.js';
import { credentialsResultSchema } from '../../src/datastore/model/data-access-schemas.js';
import { startDatastore, type RunningDatastore } from '../../src/server/start-datastore.js';
import { sampleMetadata } from '../support/datastore-fixtures.js';
import { createTestBucket, deleteTestBucket, putRaw } from '../support/s3-buckets.js';
import { s3TestEnv, testPgUrl, testStsRoleArn } from '../support/test-services.js';

/**
 * Scoped temporary credentials (`POST /datasets/{p}/{n}/credentials`): wds_ tokens on the local store, enforced
 * by Wharf's own routes; STS AssumeRole credentials with an inline session policy on the S3 store, enforced by
 * the real S3 server (Ceph RGW) — used with the AWS SDK and with the aws CLI.
 */

const ADMIN = 'test-admin-token-credentials-0123456789';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

interface Answer {
  status: number;
  body: Json;
  text: string;
}

function client(server: () => RunningDatastore, tokens: Record<string, string>) {
  return async (
    method: string,
    path: string,
    as: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Answer> => {
    const h: Record<string, string> = { ...headers };
    if (as !== 'anonymous') h.authorization = `Bearer ${as === 'admin' ? ADMIN : (tokens[as] ?? as)}`;
    let payload: string | Buffer | undefined;
    if (Buffer.isBuffer(body) || typeof body === 'string') payload = body;
    else if (body !== undefined) {
      payload = JSON.stringify(body);
      h['content-type'] = 'application/json';
    }
    const response = await fetch(`${server().url}${path}`, {
      method,
      headers: h,
      ...(payload !== undefined ? { body: payload } : {}),
    });
    const text = await response.text();
    const json = (response.headers.get('content-type') ?? '').includes('json') && text !== '';
    return { status: response.status, body: json ? JSON.parse(text) : undefined, text };
  };
}

async function seed(
  call: ReturnType<typeof client>,
  tokens: Record<string, string>,
): Promise<{ ds1: string; ds2: string }> {
  for (const user of ['alice', 'bob', 'rhea', 'wes', 'mona', 'rita']) {
    const r = await call('POST', '/tokens', 'admin', { name: 'tests', username: user });
    expect(r.status).toBe(201);
    tokens[user] = r.body.token as string;
  }
  const org = await call('POST', '/organisations', 'admin', { name: 'CSIRO' });
  const person = await call('POST', '/people', 'admin', { firstName: 'Ada', lastName: 'Lovelace' });
  const metadata = (name: string) =>
    sampleMetadata(name, {
      organisationId: org.body.id as string,
      dataCustodianId: person.body.id as string,
    });
  const ds1 = (await call('POST', '/datasets', 'alice', metadata('One'))).body.id as string;
  const ds2 = (await call('POST', '/datasets', 'bob', metadata('Two'))).body.id as string;
  for (const [principal, role] of [
    ['rhea', 'data-read'],
    ['wes', 'data-write'],
    ['mona', 'metadata-write'],
  ] as const) {
    expect((await call('PUT', `/datasets/${ds1}/access/grants`, 'alice', { principal, role })).status).toBe(
      204,
    );
  }
  expect((await call('PUT', `/datasets/${ds1}/files/raw/a.csv`, 'alice', 'x,y\n1,2\n')).status).toBe(200);
  expect((await call('PUT', `/datasets/${ds2}/files/secret.csv`, 'bob', 'secret\n')).status).toBe(200);
  expect((await call('PUT', '/reviewers/rita', 'admin')).status).toBe(204);
  return { ds1, ds2 };
}

describe('scoped credentials on the local store (kind wharf)', () => {
  let db: ScratchDatabase;
  let dir: string;
  let server: RunningDatastore;
  const tokens: Record<string, string> = {};
  const call = client(() => server, tokens);
  let ds1: string;
  let ds2: string;

  beforeAll(async () => {
    db = await createScratchDatabase(testPgUrl(), 'credentials_local');
    dir = await mkdtemp(join(tmpdir(), 'wharf-credentials-'));
    // A role in the environment does not apply to a local store: credentials stay wds_ tokens.
    server = await startDatastore(
      { database: db.url, store: join(dir, 'store'), port: 0, adminToken: ADMIN },
      { WHARF_STS_ROLE_ARN: testStsRoleArn() },
    );
    ({ ds1, ds2 } = await seed(call, tokens));
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const credentials = (as: string, access: 'read' | 'write', ds = ds1, extra: Json = {}) =>
    call('POST', `/datasets/${ds}/credentials`, as, { access, ...extra });

  it('a read token reads and lists its dataset, and nothing else', async () => {
    const r = await credentials('rhea', 'read');
    expect(r.status, r.text).toBe(200);
    expect(credentialsResultSchema.safeParse(r.body).success).toBe(true);
    expect(r.body).toMatchObject({ kind: 'wharf', access: 'read', datasetId: ds1, endpoint: server.url });
    expect(r.body.token).toMatch(/^wds_/);
    const lifetime = (Date.parse(r.body.expiration as string) - Date.now()) / 1000;
    expect(lifetime).toBeGreaterThan(3540);
    expect(lifetime).toBeLessThanOrEqual(3600);
    const token = r.body.token as string;

    const list = await call('GET', `/datasets/${ds1}/files`, token);
    expect(list.status).toBe(200);
    expect(list.body.files.map((f: Json) => f.path)).toEqual(['raw/a.csv']);
    expect((await call('GET', `/datasets/${ds1}/files/raw/a.csv`, token)).text).toBe('x,y\n1,2\n');
    expect((await call('HEAD', `/datasets/${ds1}/files/raw/a.csv`, token)).status).toBe(200);
    expect((await call('GET', `/datasets/${ds1}`, token)).status).toBe(200);

    // Not a writer.
    expect((await call('PUT', `/datasets/${ds1}/files/raw/b.csv`, token, 'b')).status).toBe(403);
    expect((await call('DELETE', `/datasets/${ds1}/files/raw/a.csv`, token)).status).toBe(403);
    // Not another dataset.
    const other = await call('GET', `/datasets/${ds2}/files/secret.csv`, token);
    expect(other.status).toBe(403);
    expect(other.body.error.message).toMatch(/only for dataset/);
    expect((await call('GET', `/datasets/${ds2}/files`, token)).status).toBe(403);
    expect((await call('GET', `/datasets/${ds2}`, token)).status).toBe(403);
    // Not any other route.
    const denied: [string, string, unknown?][] = [
      ['POST', '/datasets', {}],
      ['GET', '/datasets'],
      ['GET', '/datasets/search?query=one'],
      ['PUT', `/datasets/${ds1}/metadata`, {}],
      ['GET', `/datasets/${ds1}/history`],
      ['POST', `/datasets/${ds1}/presign`, { path: 'raw/a.csv', method: 'GET' }],
      ['POST', `/datasets/${ds1}/credentials`, { access: 'read' }],
      ['GET', `/datasets/${ds1}/release/manifest`],
      ['POST', `/datasets/${ds1}/versions`, { reason: 'x' }],
      ['GET', '/me'],
      ['POST', '/tokens', { name: 'x' }],
      ['GET', '/audit'],
      ['GET', '/openapi.json'],
    ];
    for (const [method, path, body] of denied) {
      const answer = await call(method, path, token, body);
      expect(answer.status, `${method} ${path}`).toBe(403);
    }
    expect((await call('POST', '/datasets', token, {})).body.error.message).toMatch(
      /scoped token may only use/,
    );
  });

  it('a write token writes and deletes inside its dataset; the audit names the issuer, never the token', async () => {
    const r = await credentials('wes', 'write', ds1, { durationSeconds: 900 });
    expect(r.status, r.text).toBe(200);
    expect((Date.parse(r.body.expiration as string) - Date.now()) / 1000).toBeLessThanOrEqual(900);
    const token = r.body.token as string;
    const put = await call('PUT', `/datasets/${ds1}/files/new/w.txt`, token, 'written');
    expect(put.status, put.text).toBe(200);
    expect((await call('GET', `/datasets/${ds1}/files/new/w.txt`, token)).text).toBe('written');
    expect((await call('DELETE', `/datasets/${ds1}/files/new/w.txt`, token)).status).toBe(204);
    expect((await call('PUT', `/datasets/${ds2}/files/x.txt`, token, 'x')).status).toBe(403);
    expect((await call('PUT', `/datasets/${ds1}/files/metadata.json`, token, '{}')).status).toBe(400);

    const audit = (await call('GET', `/audit?target=${encodeURIComponent(ds1)}`, 'admin')).body
      .items as Json[];
    const issued = audit.filter((e) => e.action === 'dataset.credentials' && e.actor === 'wes');
    expect(issued.length).toBe(1);
    expect(issued[0].details).toMatchObject({ access: 'write', kind: 'wharf', durationSeconds: 900 });
    expect(JSON.stringify(audit)).not.toContain(token.slice(4, 40));
    const upload = audit.find((e) => e.action === 'dataset.file.put' && e.details.path === 'new/w.txt');
    expect(upload).toMatchObject({ actor: 'wes', outcome: 'ok', details: { via: 'scoped write token' } });
  });

  it('refuses expired, tampered and foreign tokens (401)', async () => {
    const key = await serviceHmacKey(server.datastore.access);
    const now = Math.floor(Date.now() / 1000);
    const expired = encodeScopedToken(key, {
      datasetId: ds1,
      access: 'read',
      issuer: 'rhea',
      issuedAt: now - 7200,
      expiresAt: now - 3600,
    });
    const late = await call('GET', `/datasets/${ds1}/files`, expired);
    expect(late.status).toBe(401);
    expect(late.body.error.message).toMatch(/expired/);
    expect(late.body.error.hint).toMatch(/credentials/);

    const fresh = (await credentials('rhea', 'read')).body.token as string;
    const [body, signature] = fresh.slice(4).split('.');
    const payload = JSON.parse(Buffer.from(body!, 'base64url').toString('utf8'));
    for (const change of [{ a: 'write' }, { d: ds2 }, { e: payload.e + 86_400 }, { u: 'admin' }]) {
      const forged = `wds_${Buffer.from(JSON.stringify({ ...payload, ...change })).toString('base64url')}.${signature}`;
      const answer = await call('GET', `/datasets/${ds1}/files`, forged);
      expect(answer.status, JSON.stringify(change)).toBe(401);
      expect(answer.body.error.message).toMatch(/bad signature/);
    }
    const foreign = encodeScopedToken(Buffer.alloc(32, 7), {
      datasetId: ds1,
      access: 'write',
      issuer: 'alice',
      issuedAt: now,
      expiresAt: now + 600,
    });
    expect((await call('PUT', `/datasets/${ds1}/files/f.txt`, foreign, 'f')).status).toBe(401);
    expect((await call('GET', `/datasets/${ds1}/files`, 'wds_garbage')).status).toBe(401);
  });

  it('checks roles and durations', async () => {
    expect((await credentials('rhea', 'write')).status).toBe(403);
    expect((await credentials('mona', 'read')).status).toBe(403);
    expect((await credentials('bob', 'read')).status).toBe(403);
    expect((await credentials('anonymous', 'read')).status).toBe(401);
    expect((await credentials('alice', 'write')).status).toBe(200);
    expect((await credentials('admin', 'write', ds2)).status).toBe(200);
    expect((await credentials('alice', 'read', ds1, { durationSeconds: 899 })).status).toBe(400);
    expect((await credentials('alice', 'read', ds1, { durationSeconds: 43_201 })).status).toBe(400);
    expect((await credentials('alice', 'read', ds1, { durationSeconds: 43_200 })).status).toBe(200);
    expect((await call('POST', `/datasets/${ds1}/credentials`, 'alice', { access: 'admin' })).status).toBe(
      400,
    );
    expect(
      (await call('POST', '/datasets/10378.1/999999/credentials', 'alice', { access: 'read' })).status,
    ).toBe(404);
    const doc = (await call('GET', '/openapi.json', 'admin')).body;
    expect(doc.paths['/datasets/{prefix}/{number}/credentials'].post.operationId).toBe(
      'generateDatasetCredentials',
    );
  });

  it('refuses write credentials while PENDING, and a write token issued before is refused at upload', async () => {
    const early = (await credentials('alice', 'write')).body.token as string;
    const requested = await call('POST', `/datasets/${ds1}/release/request`, 'alice', { approver: 'rita' });
    expect(requested.status, requested.text).toBe(200);
    const refused = await credentials('alice', 'write');
    expect(refused.status).toBe(409);
    expect(refused.body.error.hint).toMatch(/new version/);
    expect((await call('PUT', `/datasets/${ds1}/files/late.txt`, early, 'late')).status).toBe(409);
    const read = await credentials('rhea', 'read');
    expect(read.status).toBe(200);
    expect((await call('GET', `/datasets/${ds1}/files/raw/a.csv`, read.body.token as string)).status).toBe(
      200,
    );
  });
});

describe('scoped credentials on the S3 store (kind s3: STS AssumeRole on Ceph RGW)', () => {
  let db: ScratchDatabase;
  let bucket: string;
  let server: RunningDatastore;
  const tokens: Record<string, string> = {};
  const call = client(() => server, tokens);
  let ds1: string;
  let ds2: string;
  const env = s3TestEnv();

  beforeAll(async () => {
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    db = await createScratchDatabase(testPgUrl(), 'credentials_s3');
    bucket = await createTestBucket('dscreds');
    server = await startDatastore(
      {
        database: db.url,
        store: `s3://${bucket}/registry/`,
        port: 0,
        adminToken: ADMIN,
        stsRoleArn: testStsRoleArn(),
      },
      {},
    );
    ({ ds1, ds2 } = await seed(call, tokens));
    await putRaw(bucket, 'top-level.txt', 'outside every dataset');
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    await db?.drop();
    if (bucket) await deleteTestBucket(bucket);
  });

  const folderOf = (id: string) => `registry/${id.replace('/', '-')}/`;

  async function issue(as: string, access: 'read' | 'write', ds = ds1): Promise<Json> {
    const r = await call('POST', `/datasets/${ds}/credentials`, as, { access });
    expect(r.status, r.text).toBe(200);
    expect(credentialsResultSchema.safeParse(r.body).success).toBe(true);
    return r.body;
  }

  function s3With(creds: Json): S3Client {
    return new S3Client({
      endpoint: creds.endpoint as string,
      region: creds.region as string,
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      credentials: {
        accessKeyId: creds.accessKeyId as string,
        secretAccessKey: creds.secretAccessKey as string,
        sessionToken: creds.sessionToken as string,
      },
    });
  }

  /** The S3 error name and HTTP status of a refused call ('ok' when it succeeded). */
  async function outcome(promise: Promise<unknown>): Promise<string> {
    try {
      await promise;
      return 'ok';
    } catch (error) {
      const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
      return `${e.name} ${e.$metadata?.httpStatusCode}`;
    }
  }

  it('read credentials GET and LIST inside the folder; GET, LIST and PUT outside are AccessDenied', async () => {
    const creds = await issue('rhea', 'read');
    expect(creds).toMatchObject({
      kind: 's3',
      access: 'read',
      datasetId: ds1,
      endpoint: env.endpoint,
      region: env.region,
      bucket,
      prefix: folderOf(ds1),
    });
    expect(creds.accessKeyId).not.toBe(env.accessKeyId);
    const lifetime = (Date.parse(creds.expiration as string) - Date.now()) / 1000;
    expect(lifetime).toBeGreaterThan(3000);
    expect(lifetime).toBeLessThanOrEqual(3660);
    const s3 = s3With(creds);
    const prefix = creds.prefix as string;

    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `${prefix}raw/a.csv` }));
    expect(await got.Body!.transformToString()).toBe('x,y\n1,2\n');
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
    expect((listed.Contents ?? []).map((o) => o.Key).sort()).toEqual([
      `${prefix}metadata.json`,
      `${prefix}raw/a.csv`,
    ]);
    const nested = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}raw/`, Delimiter: '/' }),
    );
    expect(nested.KeyCount).toBe(1);

    const denied = 'AccessDenied 403';
    expect(
      await outcome(s3.send(new GetObjectCommand({ Bucket: bucket, Key: `${folderOf(ds2)}secret.csv` }))),
    ).toBe(denied);
    expect(await outcome(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'top-level.txt' })))).toBe(
      denied,
    );
    expect(await outcome(s3.send(new ListObjectsV2Command({ Bucket: bucket })))).toBe(denied);
    expect(await outcome(s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'registry/' })))).toBe(
      denied,
    );
    expect(await outcome(s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: folderOf(ds2) })))).toBe(
      denied,
    );
    expect(
      await outcome(s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}raw/b.csv`, Body: 'b' }))),
    ).toBe(denied);
    expect(
      await outcome(s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: `${prefix}raw/a.csv` }))),
    ).toBe(denied);
    s3.destroy();
  });

  it('write credentials PUT and DELETE inside the folder and are AccessDenied outside', async () => {
    const creds = await issue('wes', 'write');
    const s3 = s3With(creds);
    const prefix = creds.prefix as string;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}up/w.txt`, Body: 'written by sts' }));
    const back = await call('GET', `/datasets/${ds1}/files/up/w.txt`, 'alice');
    expect(back.text).toBe('written by sts');
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: `${prefix}up/w.txt` }));
    expect((await call('GET', `/datasets/${ds1}/files/up/w.txt`, 'alice')).status).toBe(404);

    const denied = 'AccessDenied 403';
    expect(
      await outcome(
        s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${folderOf(ds2)}x.txt`, Body: 'x' })),
      ),
    ).toBe(denied);
    expect(
      await outcome(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'registry/x.txt', Body: 'x' }))),
    ).toBe(denied);
    expect(await outcome(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'x.txt', Body: 'x' })))).toBe(
      denied,
    );
    expect(
      await outcome(s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: `${folderOf(ds2)}secret.csv` }))),
    ).toBe(denied);
    expect(await outcome(s3.send(new ListObjectsV2Command({ Bucket: bucket })))).toBe(denied);
    expect((await call('GET', `/datasets/${ds2}/files/secret.csv`, 'bob')).text).toBe('secret\n');
    // The service's metadata.json copy in the folder is readable but neither replaced nor deleted.
    expect(
      await outcome(
        s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}metadata.json`, Body: '{}' })),
      ),
    ).toBe(denied);
    expect(
      await outcome(s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: `${prefix}metadata.json` }))),
    ).toBe(denied);

    const audit = (await call('GET', `/audit?target=${encodeURIComponent(ds1)}`, 'admin')).body
      .items as Json[];
    const entry = audit.find((e) => e.action === 'dataset.credentials' && e.actor === 'wes');
    expect(entry).toMatchObject({
      outcome: 'ok',
      details: { access: 'write', kind: 's3', accessKeyId: creds.accessKeyId },
    });
    expect(JSON.stringify(audit)).not.toContain(creds.secretAccessKey);
    expect(JSON.stringify(audit)).not.toContain(creds.sessionToken);
    s3.destroy();
  });

  it('works with the aws CLI as-is (credentials as environment variables)', async (ctx) => {
    if (!existsSync('/usr/bin/aws')) ctx.skip('/usr/bin/aws is not installed (Debian package awscli)');
    const run = promisify(execFile);
    const work = await mkdtemp(join(tmpdir(), 'wharf-awscli-'));
    try {
      const aws = (creds: Json, ...args: string[]) =>
        run('/usr/bin/aws', ['--endpoint-url', creds.endpoint as string, ...args], {
          env: {
            PATH: process.env.PATH ?? '/usr/bin:/bin',
            HOME: work,
            AWS_CONFIG_FILE: join(work, 'none'),
            AWS_SHARED_CREDENTIALS_FILE: join(work, 'none'),
            AWS_ACCESS_KEY_ID: creds.accessKeyId as string,
            AWS_SECRET_ACCESS_KEY: creds.secretAccessKey as string,
            AWS_SESSION_TOKEN: creds.sessionToken as string,
            AWS_DEFAULT_REGION: creds.region as string,
          },
        });
      // A refusal must be S3's own 403. (aws-cli 1.x crashes formatting RGW's AccessDenied, whose <Message> is
      // empty — "argument of type 'NoneType' is not iterable" — so the proof is the response in --debug.)
      const denied = async (creds: Json, ...args: string[]) => {
        const failure = await aws(creds, '--debug', ...args).then(
          () => undefined,
          (error: { stderr?: string }) => error.stderr ?? '',
        );
        expect(failure, args.join(' ')).toBeDefined();
        expect(failure!, args.join(' ')).toMatch(
          /<Code>AccessDenied<\/Code>|"status_code": 403|\(403\)|Forbidden/,
        );
      };
      const read = await issue('rhea', 'read');
      const url = `s3://${bucket}/${read.prefix as string}`;
      const ls = await aws(read, 's3', 'ls', '--recursive', url);
      expect(ls.stdout).toContain(`${read.prefix as string}raw/a.csv`);
      expect((await aws(read, 's3', 'cp', `${url}raw/a.csv`, '-')).stdout).toBe('x,y\n1,2\n');
      await denied(read, 's3', 'ls', `s3://${bucket}/`);
      await denied(read, 's3', 'ls', `s3://${bucket}/${folderOf(ds2)}`);
      await denied(read, 's3', 'cp', `s3://${bucket}/${folderOf(ds2)}secret.csv`, '-');

      // Write credentials: a small file and a multipart upload (above aws-cli's 8 MB threshold).
      const write = await issue('alice', 'write');
      const small = join(work, 'small.txt');
      const big = join(work, 'big.bin');
      await writeFile(small, 'from aws-cli\n');
      await writeFile(big, Buffer.alloc(9 * 1024 * 1024, 7));
      await aws(write, 's3', 'cp', small, `${url}cli/small.txt`);
      await aws(write, 's3', 'cp', big, `${url}cli/big.bin`);
      expect((await call('GET', `/datasets/${ds1}/files/cli/small.txt`, 'alice')).text).toBe(
        'from aws-cli\n',
      );
      const listed = await call('GET', `/datasets/${ds1}/files?prefix=cli/`, 'alice');
      expect(listed.body.files.map((f: Json) => [f.path, f.size])).toEqual([
        ['cli/big.bin', 9 * 1024 * 1024],
        ['cli/small.txt', 13],
      ]);
      await denied(write, 's3', 'cp', small, `s3://${bucket}/${folderOf(ds2)}small.txt`);
      await denied(read, 's3', 'cp', small, `${url}cli/by-reader.txt`);
      const down = join(work, 'down.txt');
      await aws(write, 's3', 'cp', `${url}cli/small.txt`, down);
      expect(await readFile(down, 'utf8')).toBe('from aws-cli\n');
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });

  /** A new dataset of alice's with the metadata of ds1. */
  async function mintForAlice(): Promise<string> {
    const metadata = (await call('GET', `/datasets/${ds1}`, 'alice')).body.metadata as Json;
    const minted = await call('POST', '/datasets', 'alice', metadata);
    expect(minted.status, minted.text).toBe(201);
    return minted.body.id as string;
  }

  it("RGW matches policy wildcards without backtracking: no Deny can name every key with a '..' segment", async () => {
    // Why the session policy has no Deny for '..' keys: on Ceph RGW 16 a '*' stops at the first occurrence of the
    // character after it, so `PREFIX*/../*` catches `a/../x` but not `a/b/../x`.
    const prefix = 'probe/';
    const policy = JSON.parse(buildSessionPolicy({ bucket, prefix, access: 'write' })) as Json;
    policy.Statement.push({
      Effect: 'Deny',
      Action: ['s3:PutObject'],
      Resource: [`arn:aws:s3:::${bucket}/${prefix}*/../*`],
    });
    const sts = new STSClient({
      endpoint: env.endpoint,
      region: env.region,
      credentials: { accessKeyId: env.accessKeyId, secretAccessKey: env.secretAccessKey },
    });
    const assumed = await sts.send(
      new AssumeRoleCommand({
        RoleArn: testStsRoleArn(),
        RoleSessionName: 'wharf-probe',
        Policy: JSON.stringify(policy),
        DurationSeconds: 900,
      }),
    );
    sts.destroy();
    const s3 = s3With({
      endpoint: env.endpoint,
      region: env.region,
      accessKeyId: assumed.Credentials!.AccessKeyId,
      secretAccessKey: assumed.Credentials!.SecretAccessKey,
      sessionToken: assumed.Credentials!.SessionToken,
    });
    const put = (key: string) =>
      outcome(s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}${key}`, Body: 'p' })));
    expect(await put('a/../x')).toBe('AccessDenied 403');
    expect(await put('a/b/../x')).toBe('ok');
    expect(await put('file..txt')).toBe('ok');
    s3.destroy();
  });

  it("write credentials can create keys with '.' and '..' segments: Wharf's views list and name them", async () => {
    const ds3 = await mintForAlice();
    expect((await call('PUT', `/datasets/${ds3}/files/good/a.txt`, 'alice', 'good\n')).status).toBe(200);
    const creds = await issue('alice', 'write', ds3);
    const s3 = s3With(creds);
    const odd = ['a/../../escaped/x.txt', 'd/sub/..', 'x/./y.txt'];
    const legit = ['...', '.hidden', 'a..b/c.txt', 'file..txt'];
    for (const path of [...odd, ...legit]) {
      await s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: `${creds.prefix as string}${path}`, Body: `v ${path}` }),
      );
    }
    s3.destroy();
    const all = [...odd, ...legit, 'good/a.txt'].sort(compareKeys);

    // The listing shows every key as stored; the file routes refuse the odd ones as paths.
    const listed = await call('GET', `/datasets/${ds3}/files`, 'alice');
    expect(listed.body.files.map((f: Json) => f.path)).toEqual(all);

    // A download fetches the rest and names each refused file; nothing lands outside the destination.
    const work = await mkdtemp(join(tmpdir(), 'wharf-dot-keys-'));
    try {
      const sdk = new Datastore({ endpoint: server.url, token: tokens.alice });
      const dest = join(work, 'dl');
      const failure = await sdk
        .interactiveDataset(ds3)
        .downloadAllFiles(dest)
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(failure).toBeInstanceOf(TransferFailedError);
      const error = failure as TransferFailedError<{ failed: FailedTransfer[] }>;
      expect(error.code).toBe('INVALID_KEY');
      expect(error.message).toMatch(
        /3 files failed \(first: a\/\.\.\/\.\.\/escaped\/x\.txt: .*'\.\.' segment/,
      );
      expect(error.result.failed.map((f) => f.path).sort(compareKeys)).toEqual(odd);
      for (const path of [...legit, 'good/a.txt']) {
        expect(await readFile(join(dest, path), 'utf8'), path).toBe(
          path === 'good/a.txt' ? 'good\n' : `v ${path}`,
        );
      }
      expect(existsSync(join(work, 'escaped'))).toBe(false);
    } finally {
      await rm(work, { recursive: true, force: true });
    }

    // A new version with the files cannot copy them: refused before anything is copied, naming the file.
    const version = await call('POST', `/datasets/${ds3}/versions`, 'alice', { reason: 'next' });
    expect(version.status, version.text).toBe(400);
    expect(version.body.error.code).toBe('INVALID_KEY');
    expect(version.body.error.message).toBe(
      `cannot copy the file "a/../../escaped/x.txt" into the new version: its path has a '..' segment, which no store may create`,
    );
    expect(version.body.error.hint).toMatch(/copyFiles: false/);

    // The release manifest records every file as stored.
    expect(
      (await call('POST', `/datasets/${ds3}/release/request`, 'alice', { approver: 'rita' })).status,
    ).toBe(200);
    expect((await call('POST', `/datasets/${ds3}/release/approve`, 'rita', {})).status).toBe(200);
    const manifest = await call('GET', `/datasets/${ds3}/release/manifest`, 'alice');
    expect(manifest.status, manifest.text).toBe(200);
    expect(manifest.body.items.map((e: Json) => e.path)).toEqual(all);
  });

  it("RGW lets CopyObject replace metadata.json despite the session policy's Deny; the next record change rewrites it", async () => {
    const ds4 = await mintForAlice();
    expect((await call('PUT', `/datasets/${ds4}/files/forged.json`, 'alice', '{"forged":true}')).status).toBe(
      200,
    );
    const creds = await issue('alice', 'write', ds4);
    const s3 = s3With(creds);
    const prefix = creds.prefix as string;
    expect(
      await outcome(
        s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}metadata.json`, Body: '{}' })),
      ),
    ).toBe('AccessDenied 403');
    const copied = await outcome(
      s3.send(
        new CopyObjectCommand({
          Bucket: bucket,
          Key: `${prefix}metadata.json`,
          CopySource: `${bucket}/${prefix}forged.json`,
        }),
      ),
    );
    s3.destroy();
    // Ceph RGW 16 skips a session policy's Deny for CopyObject (PutObject above is refused): the copy lands.
    expect(copied).toBe('ok');
    // RGW leaves that object unreadable with the server's credentials: the service's problem, not the caller's
    // (503, without the server's bucket, endpoint or credentials).
    const unreadable = await call('GET', `/datasets/${ds4}/files/metadata.json`, 'alice');
    expect(unreadable.status, unreadable.text).toBe(503);
    expect(unreadable.body.error).toMatchObject({
      code: 'NETWORK',
      message: "the dataset store refused the service's own access to metadata.json (read)",
      hint: expect.stringMatching(/server log/),
    });
    for (const secret of [bucket, env.endpoint, env.accessKeyId.slice(0, 4), 'AWS_']) {
      expect(unreadable.text).not.toContain(secret);
    }

    // The next change of the record writes the service's copy again.
    const record = (await call('GET', `/datasets/${ds4}`, 'alice')).body as Json;
    const updated = await call('PUT', `/datasets/${ds4}/metadata`, 'alice', {
      reason: 'rewrite metadata.json',
      metadata: record.metadata,
    });
    expect(updated.status, updated.text).toBe(200);
    const restored = await call('GET', `/datasets/${ds4}/files/metadata.json`, 'alice');
    expect(restored.status, restored.text).toBe(200);
    expect(JSON.parse(restored.text)).toMatchObject({ id: ds4, revision: updated.body.revision });
  });

  it('checks roles, and refuses write credentials while PENDING', async () => {
    expect((await call('POST', `/datasets/${ds1}/credentials`, 'rhea', { access: 'write' })).status).toBe(
      403,
    );
    expect((await call('POST', `/datasets/${ds1}/credentials`, 'mona', { access: 'read' })).status).toBe(403);
    expect((await call('POST', `/datasets/${ds1}/credentials`, 'bob', { access: 'read' })).status).toBe(403);
    expect((await call('POST', `/datasets/${ds1}/credentials`, 'anonymous', { access: 'read' })).status).toBe(
      401,
    );
    expect((await call('POST', `/datasets/${ds2}/release/request`, 'bob', { approver: 'rita' })).status).toBe(
      200,
    );
    const refused = await call('POST', `/datasets/${ds2}/credentials`, 'bob', { access: 'write' });
    expect(refused.status).toBe(409);
    expect(refused.body.error.hint).toMatch(/new version/);
    expect((await call('POST', `/datasets/${ds2}/credentials`, 'bob', { access: 'read' })).status).toBe(200);
  });

  it('explains STS failures in one line: a missing role, an unreachable endpoint', async () => {
    const base = {
      region: env.region,
      bucket,
      storePrefix: 'registry/',
      s3Endpoint: env.endpoint,
      credentials: { accessKeyId: env.accessKeyId, secretAccessKey: env.secretAccessKey },
    };
    const request = {
      folder: '10378.1-1/',
      access: 'read' as const,
      durationSeconds: 900,
      username: 'alice',
    };
    type Failure = Error & { code: string; hint: string };
    const failure = (promise: Promise<unknown>) =>
      promise.then(
        () => {
          throw new Error('expected a failure');
        },
        (e: unknown) => e as Failure,
      );
    const missing = new StsCredentialIssuer({
      ...base,
      roleArn: 'arn:aws:iam:::role/NoSuchRole',
      stsEndpoint: env.endpoint,
    });
    const e1 = await failure(missing.issue(request));
    expect(e1).toMatchObject({ code: 'NETWORK' });
    expect(e1.message).toMatch(
      /STS AssumeRole of arn:aws:iam:::role\/NoSuchRole at .* failed: the role does not exist/,
    );
    expect(e1.message).not.toContain('\n');
    expect(e1.hint).toMatch(/--sts-role-arn/);
    const unreachable = new StsCredentialIssuer({
      ...base,
      roleArn: testStsRoleArn(),
      stsEndpoint: 'http://127.0.0.1:9',
    });
    const e2 = await failure(unreachable.issue(request));
    expect(e2.message).toMatch(/cannot reach STS \(ECONNREFUSED\)/);
    expect(e2.hint).toMatch(/--sts-endpoint/);
    expect(JSON.stringify(e1) + e1.message + e2.message).not.toContain(env.secretAccessKey);
    missing.close();
    unreachable.close();

    // Through the API: a 503 with that message, and an audit entry with outcome error.
    const broken = await startDatastore(
      {
        database: db.url,
        store: `s3://${bucket}/registry/`,
        port: 0,
        adminToken: ADMIN,
        stsRoleArn: 'arn:aws:iam:::role/NoSuchRole',
      },
      {},
    );
    try {
      const r = await fetch(`${broken.url}/datasets/${ds1}/credentials`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens.alice}`, 'content-type': 'application/json' },
        body: JSON.stringify({ access: 'read' }),
      });
      expect(r.status).toBe(503);
      const body = (await r.json()) as Json;
      expect(body.error.message).toMatch(/role does not exist/);
      expect(body.error.hint).toMatch(/WHARF_STS_ROLE_ARN/);
    } finally {
      await broken.close();
    }
    const audit = (await call('GET', `/audit?target=${encodeURIComponent(ds1)}`, 'admin')).body
      .items as Json[];
    expect(audit.some((e) => e.action === 'dataset.credentials' && e.outcome === 'error')).toBe(true);
  });
});
