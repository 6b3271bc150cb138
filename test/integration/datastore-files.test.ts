import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScratchDatabase, type ScratchDatabase } from '../../src/datastore/catalog/scratch-database.js';
import { fileListSchema, filePutResultSchema } from '../../src/datastore/model/data-access-schemas.js';
import { startDatastore, type RunningDatastore } from '../../src/server/start-datastore.js';
import { sampleMetadata } from '../support/datastore-fixtures.js';
import { createTestBucket, deleteTestBucket } from '../support/s3-buckets.js';
import { testPgUrl } from '../support/test-services.js';

/**
 * The dataset file routes (`/datasets/{p}/{n}/files[/<path>]`) over real HTTP, on the local folder store and
 * on the S3 driver against Ceph RGW: listing, ranged GET/HEAD, streamed PUT with SHA-256 check, DELETE, the
 * frozen (PENDING) refusal, roles and unsafe paths.
 */

const ADMIN = 'test-admin-token-files-0123456789abcdef';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

interface Answer {
  status: number;
  headers: Headers;
  bytes: Buffer;
  body: Json;
}

const sha = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

describe.each(['local', 's3'] as const)('dataset files on the %s store', (kind) => {
  let db: ScratchDatabase;
  let dir: string | undefined;
  let bucket: string | undefined;
  let server: RunningDatastore;
  const tokens: Record<string, string> = {};
  let refs: { org: string; person: string };
  let id: string;

  async function http(
    method: string,
    path: string,
    options: { as?: string; body?: Buffer | string; headers?: Record<string, string> } = {},
  ): Promise<Answer> {
    const headers: Record<string, string> = { ...options.headers };
    const as = options.as ?? 'alice';
    if (as !== 'anonymous') headers.authorization = `Bearer ${as === 'admin' ? ADMIN : (tokens[as] ?? as)}`;
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers,
      ...(options.body !== undefined ? { body: options.body } : {}),
    });
    const bytes = Buffer.from(await response.arrayBuffer());
    const json = (response.headers.get('content-type') ?? '').includes('json') && bytes.length > 0;
    return {
      status: response.status,
      headers: response.headers,
      bytes,
      body: json ? JSON.parse(bytes.toString('utf8')) : undefined,
    };
  }

  async function json(method: string, path: string, as: string, body?: unknown): Promise<Answer> {
    return http(method, path, {
      as,
      ...(body !== undefined
        ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }
        : {}),
    });
  }

  async function mint(as = 'alice'): Promise<string> {
    const r = await json(
      'POST',
      '/datasets',
      as,
      sampleMetadata('Files', { organisationId: refs.org, dataCustodianId: refs.person }),
    );
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body.id as string;
  }

  const put = (
    path: string,
    body: Buffer | string,
    as = 'alice',
    headers: Record<string, string> = {},
    ds = id,
  ) => http('PUT', `/datasets/${ds}/files/${path}`, { as, body, headers });

  beforeAll(async () => {
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    db = await createScratchDatabase(testPgUrl(), `files_${kind}`);
    let store: string;
    if (kind === 'local') {
      dir = await mkdtemp(join(tmpdir(), 'wharf-files-'));
      store = join(dir, 'store');
    } else {
      bucket = await createTestBucket('dsfiles');
      store = `s3://${bucket}/registry/`;
    }
    server = await startDatastore({ database: db.url, store, port: 0, adminToken: ADMIN }, {});
    for (const user of ['alice', 'rhea', 'wes', 'mona', 'rita', 'nora']) {
      const r = await json('POST', '/tokens', 'admin', { name: 'tests', username: user });
      expect(r.status).toBe(201);
      tokens[user] = r.body.token as string;
    }
    const org = await json('POST', '/organisations', 'admin', { name: 'CSIRO' });
    const person = await json('POST', '/people', 'admin', { firstName: 'Ada', lastName: 'Lovelace' });
    refs = { org: org.body.id as string, person: person.body.id as string };
    id = await mint();
    for (const [principal, role] of [
      ['rhea', 'data-read'],
      ['wes', 'data-write'],
      ['mona', 'metadata-write'],
    ] as const) {
      const grant = await json('PUT', `/datasets/${id}/access/grants`, 'alice', { principal, role });
      expect(grant.status).toBe(204);
    }
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
    if (bucket) await deleteTestBucket(bucket);
  });

  it('PUT streams a file in and GET returns the exact bytes with Content-Length, ETag, Last-Modified', async () => {
    const bytes = randomBytes(300_000);
    const r = await put('raw/obs.bin', bytes, 'alice', { 'content-type': 'application/x-obs' });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(filePutResultSchema.safeParse(r.body).success).toBe(true);
    expect(r.body).toMatchObject({ datasetId: id, path: 'raw/obs.bin', size: bytes.length });
    expect(typeof r.body.etag).toBe('string');

    const got = await http('GET', `/datasets/${id}/files/raw/obs.bin`, { as: 'rhea' });
    expect(got.status).toBe(200);
    expect(Buffer.compare(got.bytes, bytes)).toBe(0);
    expect(got.headers.get('content-length')).toBe(String(bytes.length));
    expect(got.headers.get('accept-ranges')).toBe('bytes');
    expect(got.headers.get('etag')).toMatch(/^".+"$/);
    expect(Date.parse(got.headers.get('last-modified')!)).toBeGreaterThan(Date.now() - 600_000);
    if (kind === 's3') expect(got.headers.get('content-type')).toBe('application/x-obs');

    const head = await http('HEAD', `/datasets/${id}/files/raw/obs.bin`, { as: 'rhea' });
    expect(head.status).toBe(200);
    expect(head.bytes.length).toBe(0);
    expect(head.headers.get('content-length')).toBe(String(bytes.length));
    expect(head.headers.get('etag')).toBe(got.headers.get('etag'));

    // Paths with spaces and non-ASCII characters round-trip (percent-encoded in the URL).
    const odd = 'dir/a b ü.txt';
    const url = odd.split('/').map(encodeURIComponent).join('/');
    expect((await put(url, 'odd')).status).toBe(200);
    const oddGot = await http('GET', `/datasets/${id}/files/${url}`);
    expect(oddGot.bytes.toString()).toBe('odd');

    expect((await http('GET', `/datasets/${id}/files/raw/none.bin`)).status).toBe(404);
    expect((await http('HEAD', `/datasets/${id}/files/raw/none.bin`)).status).toBe(404);
  });

  it('honours Range: a-b, a-, -n, clamps the end, 416 outside the file, If-Range', async () => {
    const bytes = Buffer.from('0123456789abcdefghij'); // 20 bytes
    expect((await put('range.txt', bytes)).status).toBe(200);
    const path = `/datasets/${id}/files/range.txt`;
    const cases: [string, string, string][] = [
      ['bytes=2-5', '2345', 'bytes 2-5/20'],
      ['bytes=15-', 'fghij', 'bytes 15-19/20'],
      ['bytes=-3', 'hij', 'bytes 17-19/20'],
      ['bytes=18-100', 'ij', 'bytes 18-19/20'],
      ['bytes=-100', bytes.toString(), 'bytes 0-19/20'],
    ];
    for (const [range, body, contentRange] of cases) {
      const r = await http('GET', path, { headers: { range } });
      expect(r.status, range).toBe(206);
      expect(r.bytes.toString(), range).toBe(body);
      expect(r.headers.get('content-range'), range).toBe(contentRange);
      expect(r.headers.get('content-length'), range).toBe(String(body.length));
    }
    const head = await http('HEAD', path, { headers: { range: 'bytes=2-5' } });
    expect(head.status).toBe(206);
    expect(head.headers.get('content-range')).toBe('bytes 2-5/20');
    expect(head.headers.get('content-length')).toBe('4');

    const outside = await http('GET', path, { headers: { range: 'bytes=20-30' } });
    expect(outside.status).toBe(416);
    expect(outside.headers.get('content-range')).toBe('bytes */20');
    expect(outside.body.error.code).toBe('RANGE_NOT_SATISFIABLE');
    expect((await http('HEAD', path, { headers: { range: 'bytes=25-' } })).status).toBe(416);

    // A malformed or multi-range header is ignored: the whole file.
    for (const range of ['bytes=5-2', 'bytes=0-1,4-5', 'items=0-1']) {
      const r = await http('GET', path, { headers: { range } });
      expect(r.status, range).toBe(200);
      expect(r.bytes.toString()).toBe(bytes.toString());
    }
    // If-Range: the range only while the ETag still matches.
    const etag = (await http('HEAD', path)).headers.get('etag')!;
    const same = await http('GET', path, { headers: { range: 'bytes=0-1', 'if-range': etag } });
    expect(same.status).toBe(206);
    const stale = await http('GET', path, { headers: { range: 'bytes=0-1', 'if-range': '"stale"' } });
    expect(stale.status).toBe(200);
    expect(stale.bytes.length).toBe(20);
  });

  it('verifies x-wharf-sha256: a match is stored, a mismatch is 400 and nothing is written', async () => {
    const bytes = randomBytes(100_000);
    const ok = await put('checked/ok.bin', bytes, 'alice', { 'x-wharf-sha256': sha(bytes).toUpperCase() });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);

    const bad = await put('checked/bad.bin', bytes, 'alice', { 'x-wharf-sha256': sha('something else') });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain(sha(bytes));
    expect((await http('GET', `/datasets/${id}/files/checked/bad.bin`)).status).toBe(404);

    // Replacing a file with a mismatching body keeps the old one.
    const replaced = await put('checked/ok.bin', 'new content', 'alice', { 'x-wharf-sha256': sha('other') });
    expect(replaced.status).toBe(400);
    const kept = await http('GET', `/datasets/${id}/files/checked/ok.bin`);
    expect(Buffer.compare(kept.bytes, bytes)).toBe(0);

    // Empty bodies, and bodies large enough for a multipart upload on S3.
    expect((await put('checked/empty.bin', '', 'alice', { 'x-wharf-sha256': sha('') })).status).toBe(200);
    expect((await put('checked/empty2.bin', '', 'alice', { 'x-wharf-sha256': sha('x') })).status).toBe(400);
    expect((await http('GET', `/datasets/${id}/files/checked/empty2.bin`)).status).toBe(404);
    const big = randomBytes(17 * 1024 * 1024 + 5);
    const bigBad = await put('checked/big.bin', big, 'alice', { 'x-wharf-sha256': sha('not it') });
    expect(bigBad.status).toBe(400);
    expect((await http('HEAD', `/datasets/${id}/files/checked/big.bin`)).status).toBe(404);
    const bigOk = await put('checked/big.bin', big, 'alice', { 'x-wharf-sha256': sha(big) });
    expect(bigOk.status).toBe(200);
    expect(bigOk.body.size).toBe(big.length);

    expect((await put('checked/x.bin', 'x', 'alice', { 'x-wharf-sha256': 'abc' })).status).toBe(400);
    const audit = await json('GET', `/audit?target=${encodeURIComponent(id)}`, 'admin');
    const puts = (audit.body.items as Json[]).filter((e) => e.action === 'dataset.file.put');
    expect(
      puts.some(
        (e) => e.outcome === 'ok' && e.details.path === 'checked/ok.bin' && e.details.sha256 === sha(bytes),
      ),
    ).toBe(true);
    expect(puts.some((e) => e.outcome === 'error' && e.details.path === 'checked/bad.bin')).toBe(true);
  });

  it('lists files by path with paging and a prefix, never metadata.json', async () => {
    const ds = await mint();
    const paths = ['a.txt', 'b/1.txt', 'b/2.txt', 'b/3.txt', 'c.txt', 'sub/metadata.json'];
    for (const p of paths) expect((await put(p, `content of ${p}`, 'alice', {}, ds)).status).toBe(200);
    const all = await http('GET', `/datasets/${ds}/files`);
    expect(all.status).toBe(200);
    expect(fileListSchema.safeParse(all.body).success).toBe(true);
    expect(all.body.files.map((f: Json) => f.path)).toEqual(paths);
    expect(all.body.nextPaginationKey).toBeNull();
    const first = all.body.files[0];
    expect(first.size).toBe('content of a.txt'.length);
    expect(Number.isNaN(Date.parse(first.lastModified))).toBe(false);
    expect(typeof first.etag).toBe('string');
    // metadata.json is there (GET works) but not listed.
    expect((await http('GET', `/datasets/${ds}/files/metadata.json`)).status).toBe(200);

    const seen: string[] = [];
    let key: string | null = null;
    let pages = 0;
    do {
      const page: Answer = await http(
        'GET',
        `/datasets/${ds}/files?pageSize=2${key ? `&paginationKey=${encodeURIComponent(key)}` : ''}`,
      );
      expect(page.status).toBe(200);
      expect(page.body.files.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.files.map((f: Json) => f.path));
      key = page.body.nextPaginationKey;
      pages++;
    } while (key);
    expect(seen).toEqual(paths);
    expect(pages).toBe(3);

    const sub = await http('GET', `/datasets/${ds}/files?prefix=b/`);
    expect(sub.body.files.map((f: Json) => f.path)).toEqual(['b/1.txt', 'b/2.txt', 'b/3.txt']);
    const partial = await http('GET', `/datasets/${ds}/files?prefix=b/2`);
    expect(partial.body.files.map((f: Json) => f.path)).toEqual(['b/2.txt']);

    expect((await http('GET', `/datasets/${ds}/files?pageSize=0`)).status).toBe(400);
    expect((await http('GET', `/datasets/${ds}/files?pageSize=10001`)).status).toBe(400);
    expect((await http('GET', `/datasets/${ds}/files?paginationKey=bogus`)).status).toBe(400);
    expect((await http('GET', `/datasets/${ds}/files?prefix=../`)).status).toBe(400);
    expect((await http('GET', `/datasets/${ds}/files?prefix=/abs`)).status).toBe(400);
    // Another dataset's files never show.
    const other = await http('GET', `/datasets/${id}/files`);
    expect(other.body.files.map((f: Json) => f.path)).not.toContain('a.txt');
  });

  it('DELETE removes a file (204), is idempotent, and is audited', async () => {
    expect((await put('gone.txt', 'bye')).status).toBe(200);
    const del = await http('DELETE', `/datasets/${id}/files/gone.txt`);
    expect(del.status).toBe(204);
    expect((await http('GET', `/datasets/${id}/files/gone.txt`)).status).toBe(404);
    expect((await http('DELETE', `/datasets/${id}/files/gone.txt`)).status).toBe(204);
    const audit = await json('GET', `/audit?target=${encodeURIComponent(id)}`, 'admin');
    expect(
      (audit.body.items as Json[]).some(
        (e) => e.action === 'dataset.file.delete' && e.details.path === 'gone.txt',
      ),
    ).toBe(true);
  });

  it('pages the audit log both ways: oldest first with after=ID, newest first with before=ID', async () => {
    for (const name of ['p1.txt', 'p2.txt', 'p3.txt']) expect((await put(name, name)).status).toBe(200);
    const target = encodeURIComponent(id);
    const all = (await json('GET', `/audit?target=${target}&limit=10000`, 'admin')).body;
    expect(all.hasMore).toBe(false);
    const ids = (all.items as Json[]).map((e) => e.id as number);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    const newest = (await json('GET', `/audit?target=${target}&order=newest&limit=2`, 'admin')).body;
    expect(newest.items.map((e: Json) => e.id)).toEqual(ids.slice(-2).reverse());
    expect(newest.items[0].details.path).toBe('p3.txt');
    expect(newest.hasMore).toBe(true);
    const older = await json(
      'GET',
      `/audit?target=${target}&order=newest&before=${ids.at(-2)}&limit=1`,
      'admin',
    );
    expect(older.body.items.map((e: Json) => e.id)).toEqual([ids.at(-3)]);
    const tail = await json('GET', `/audit?target=${target}&after=${ids.at(-3)}`, 'admin');
    expect(tail.body.items.map((e: Json) => e.id)).toEqual(ids.slice(-2));
    expect(tail.body.hasMore).toBe(false);
  });

  it('a request refused while its body was parsed is audited under the caller, not as anonymous', async () => {
    const bad = await http('POST', '/datasets', {
      body: '{bad',
      headers: { 'content-type': 'application/json' },
    });
    expect(bad.status).toBe(400);
    const latest = await json('GET', '/audit?order=newest&limit=20', 'admin');
    const entry = (latest.body.items as Json[]).find((e) => e.action === 'http POST /datasets');
    expect(entry).toMatchObject({ actor: 'alice', outcome: 'error', details: { status: 400 } });
  });

  it('says what to send when a JSON body has the wrong type (415, text/plain too), a refused key or is too large (413)', async () => {
    const form = await http('POST', '/datasets', {
      body: '{}',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form.status).toBe(415);
    expect(form.body.error.message).toBe(
      'a request body of type application/x-www-form-urlencoded is not accepted',
    );
    expect(form.body.error.hint).toBe('send the body as JSON with the header Content-Type: application/json');
    // text/plain too (fastify would pass it on as a string), for mint and validate alike.
    for (const path of ['/datasets', '/datasets/validate']) {
      const text = await http('POST', path, {
        body: JSON.stringify({ associations: {} }),
        headers: { 'content-type': 'text/plain' },
      });
      expect([text.status, text.body.error.hint]).toEqual([
        415,
        'send the body as JSON with the header Content-Type: application/json',
      ]);
    }
    // Valid JSON with a key the safe parser refuses: named, not called invalid JSON.
    for (const [body, key] of [
      ['{"name":"x","__proto__":{"admin":true}}', '__proto__'],
      ['{"name":"x","constructor":{"prototype":{}}}', 'constructor.prototype'],
    ] as const) {
      const refused = await http('POST', '/organisations', {
        body,
        headers: { 'content-type': 'application/json' },
      });
      expect([refused.status, refused.body.error.message]).toEqual([
        400,
        `the body has a key ${key}, which is not accepted`,
      ]);
    }
    const broken = await http('POST', '/organisations', {
      body: '{"name":',
      headers: { 'content-type': 'application/json' },
    });
    // Malformed or empty JSON: what is wrong and what to send, in the words of the other errors.
    expect([
      broken.status,
      broken.body.error.code,
      broken.body.error.message,
      broken.body.error.hint,
    ]).toEqual([
      400,
      'VALIDATION',
      'the request body is not valid JSON: Unexpected end of JSON input',
      'send a JSON document with the header Content-Type: application/json',
    ]);
    const empty = await http('PUT', '/reviewers/rita', { headers: { 'content-type': 'application/json' } });
    expect([empty.status, empty.body.error.message, empty.body.error.hint]).toEqual([
      400,
      'the request body is empty, but its Content-Type says application/json',
      'send a JSON document, or leave out the Content-Type header when there is nothing to send',
    ]);
    const huge = await http('POST', '/datasets', {
      body: JSON.stringify({ pad: 'x'.repeat(5 * 1024 * 1024) }),
      headers: { 'content-type': 'application/json' },
    });
    expect(huge.status).toBe(413);
    expect(huge.body.error.hint).toMatch(/at most 4\.0 MiB; files go up through the file routes/);
  });

  it('a path that is a folder of other files: the local store refuses a file there (400), DELETE is a no-op', async () => {
    expect((await put('shelf/inner.txt', 'kept')).status).toBe(200);
    const onFolder = await put('shelf', 'x');
    if (kind === 'local') {
      expect(onFolder.status).toBe(400);
      // Worded with the path as the client named it, not the key in the service's store.
      expect(onFolder.body.error.message).toBe(
        'refusing object key "shelf": the local store holds a folder "shelf" (the keys under "shelf/"), ' +
          'and a folder cannot also be a file',
      );
      expect(onFolder.body.error.hint).toBe('choose another key, or delete the keys under "shelf/" first');
    } else {
      expect(onFolder.status).toBe(200); // S3 holds "shelf" and "shelf/inner.txt" side by side
      expect((await http('DELETE', `/datasets/${id}/files/shelf`)).status).toBe(204);
    }
    expect((await http('DELETE', `/datasets/${id}/files/shelf`)).status).toBe(204);
    expect((await http('GET', `/datasets/${id}/files/shelf/inner.txt`)).bytes.toString()).toBe('kept');
  });

  it('a path segment longer than a file name may be: 400 on the local store (404 to read), stored on S3', async () => {
    const long = `${'é'.repeat(200)}.csv`; // 404 bytes of UTF-8 in one segment; file names hold 255
    const url = `/datasets/${id}/files/deep/${encodeURIComponent(long)}`;
    expect((await put('deep/short.csv', 'short name')).status).toBe(200);
    expect((await http('GET', url)).status).toBe(404);
    expect((await http('HEAD', url)).status).toBe(404);
    const stored = await put(`deep/${encodeURIComponent(long)}`, 'long name');
    if (kind === 'local') {
      expect(stored.status, JSON.stringify(stored.body)).toBe(400);
      expect(stored.body.error.code).toBe('INVALID_KEY');
      // The long key is shown by its ends (quoteKeyForMessage), worded as the client named it.
      expect(stored.body.error.message).toMatch(
        /^refusing object key "deep\/é+"…"é+\.csv" \(419 bytes\): a name in it is longer than the local store's file system allows \(255 bytes of UTF-8 on most\)$/,
      );
      expect(JSON.stringify(stored.body)).not.toContain(dir!);
      const folder = await put(`${encodeURIComponent(long)}/x.csv`, 'long folder');
      expect(folder.status, JSON.stringify(folder.body)).toBe(400);
      expect(folder.body.error.code).toBe('INVALID_KEY');
    } else {
      expect(stored.status).toBe(200);
      expect((await http('GET', url)).bytes.toString()).toBe('long name');
      expect((await http('DELETE', url)).status).toBe(204);
    }
    expect((await http('DELETE', url)).status).toBe(204);
    expect((await http('DELETE', `/datasets/${id}/files/deep/short.csv`)).status).toBe(204);
  });

  it('checks roles: data-read reads, data-write writes, metadata-write and anonymous cannot', async () => {
    expect((await put('roles.txt', 'r')).status).toBe(200);
    const file = `/datasets/${id}/files/roles.txt`;
    expect((await http('GET', file, { as: 'rhea' })).status).toBe(200);
    expect((await http('GET', `/datasets/${id}/files`, { as: 'rhea' })).status).toBe(200);
    expect((await put('roles.txt', 'x', 'rhea')).status).toBe(403);
    expect((await http('DELETE', file, { as: 'rhea' })).status).toBe(403);
    expect((await http('GET', file, { as: 'mona' })).status).toBe(403);
    expect((await http('GET', `/datasets/${id}/files`, { as: 'mona' })).status).toBe(403);
    expect((await http('GET', file, { as: 'nora' })).status).toBe(403);
    expect((await put('roles.txt', 'w', 'wes')).status).toBe(200);
    expect((await http('DELETE', file, { as: 'wes' })).status).toBe(204);
    expect((await http('GET', file, { as: 'anonymous' })).status).toBe(401);
    expect((await http('GET', `/datasets/${id}/files`, { as: 'anonymous' })).status).toBe(401);
    expect((await put('roles.txt', 'a', 'anonymous')).status).toBe(401);
    // metadata-public makes the record readable, not the files.
    expect(
      (await json('PUT', `/datasets/${id}/access/public`, 'alice', { metadataPublic: true })).status,
    ).toBe(204);
    expect((await http('GET', `/datasets/${id}`, { as: 'anonymous' })).status).toBe(200);
    expect((await http('GET', `/datasets/${id}/files`, { as: 'anonymous' })).status).toBe(401);
    expect(
      (await json('PUT', `/datasets/${id}/access/public`, 'alice', { metadataPublic: false })).status,
    ).toBe(204);
    expect((await http('GET', `/datasets/10378.1/999999/files`)).status).toBe(404);
    // Refusals of writes are audited as denied.
    const audit = await json('GET', `/audit?target=${encodeURIComponent(id)}`, 'admin');
    expect((audit.body.items as Json[]).some((e) => e.outcome === 'denied' && e.actor === 'rhea')).toBe(true);
  });

  it('refuses unsafe paths and metadata.json writes (400)', async () => {
    // fetch normalises '..' and '%2E%2E' segments away, so send these raw, as a hostile client would.
    const raw = (method: string, path: string) =>
      new Promise<number>((resolve, reject) => {
        const url = new URL(server.url);
        const req = httpRequest(
          {
            host: url.hostname,
            port: url.port,
            method,
            path: `/datasets/${id}/files/${path}`,
            headers: {
              authorization: `Bearer ${tokens.alice}`,
              ...(method === 'PUT' ? { 'content-length': '1' } : {}),
            },
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end(method === 'PUT' ? 'x' : undefined);
      });
    for (const path of [
      '../escape.txt',
      '%2E%2E/escape.txt',
      'a/../../x',
      'a/%2e%2e%2F..%2Fx',
      'a//b.txt',
      '%2Fabs.txt',
      'a/./b',
      'back%5Cslash',
      'nul%00byte',
    ]) {
      expect(await raw('PUT', path).catch((e: unknown) => `${path}: ${String(e)}`), path).toBe(400);
      expect(await raw('GET', path).catch((e: unknown) => `${path}: ${String(e)}`), path).toBe(400);
    }
    const meta = await put('metadata.json', '{}');
    expect(meta.status).toBe(400);
    expect(meta.body.error.hint).toMatch(/metadata/);
    expect((await http('DELETE', `/datasets/${id}/files/metadata.json`)).status).toBe(400);
    expect((await http('GET', `/datasets/${id}/files/metadata.json`)).status).toBe(200);
    // A metadata.json below the root is an ordinary file.
    expect((await put('nested/metadata.json', '{}')).status).toBe(200);
  });

  it('refuses uploads into a .wharf folder at any depth (every download refuses them); reads and deletes work', async () => {
    for (const path of ['.wharf/index.json', '.wharf', 'raw/.wharf/y']) {
      const refused = await put(path, '{}');
      expect(refused.status, path).toBe(400);
      expect(refused.body.error.code).toBe('INVALID_KEY');
      expect(refused.body.error.message).toMatch(/\.wharf\/ folder is reserved/);
      const presigned = await json('POST', `/datasets/${id}/presign`, 'alice', { path, method: 'PUT' });
      expect(presigned.status, path).toBe(400);
      expect(presigned.body.error.code).toBe('INVALID_KEY');
    }
    expect((await put('.wharfish/a.txt', 'a')).status).toBe(200);
    expect((await put('raw/x.wharf', 'a')).status).toBe(200);
    const get = await json('POST', `/datasets/${id}/presign`, 'alice', { path: '.wharf/y', method: 'GET' });
    expect(get.status).toBe(200);
    expect((await http('DELETE', `/datasets/${id}/files/.wharf/index.json`)).status).toBe(204);
  });

  it('refuses PUT and DELETE while the dataset is PENDING (409, hint: new version); reads still work', async () => {
    const ds = await mint();
    expect((await put('keep.txt', 'kept', 'alice', {}, ds)).status).toBe(200);
    expect((await json('PUT', '/reviewers/rita', 'admin')).status).toBe(204);
    const requested = await json('POST', `/datasets/${ds}/release/request`, 'alice', { approver: 'rita' });
    expect(requested.status).toBe(200);
    const refused = await put('late.txt', 'late', 'alice', {}, ds);
    expect(refused.status).toBe(409);
    expect(refused.body.error.hint).toMatch(/new version/);
    expect((await http('DELETE', `/datasets/${ds}/files/keep.txt`)).status).toBe(409);
    expect((await http('GET', `/datasets/${ds}/files/keep.txt`)).bytes.toString()).toBe('kept');
    expect((await http('GET', `/datasets/${ds}/files/late.txt`)).status).toBe(404);
    // Every refused write is in the audit log (issue 5: every mutating call), once.
    const credentials = await json('POST', `/datasets/${ds}/credentials`, 'alice', { access: 'write' });
    expect(credentials.status).toBe(409);
    const presign = await json('POST', `/datasets/${ds}/presign`, 'alice', { method: 'PUT', path: 'x.txt' });
    expect(presign.status).toBe(409);
    const update = await json('PUT', `/datasets/${ds}/metadata`, 'alice', {
      reason: 'late',
      metadata: sampleMetadata('Late', { organisationId: refs.org, dataCustodianId: refs.person }),
    });
    expect(update.status).toBe(409);
    const audit = await json('GET', `/audit?target=${encodeURIComponent(ds)}&limit=10000`, 'admin');
    const refusals = (audit.body.items as Json[])
      .filter((e) => e.outcome !== 'ok')
      .map((e) => [e.action, e.outcome, e.actor, e.details.code]);
    expect(refusals).toEqual([
      ['http PUT /datasets/:prefix/:number/files/*', 'error', 'alice', 'CONFLICT'],
      ['http DELETE /datasets/:prefix/:number/files/*', 'error', 'alice', 'CONFLICT'],
      ['http POST /datasets/:prefix/:number/credentials', 'error', 'alice', 'CONFLICT'],
      ['http POST /datasets/:prefix/:number/presign', 'error', 'alice', 'CONFLICT'],
      ['dataset.update', 'error', 'alice', 'CONFLICT'],
    ]);
  });

  it('audits refused revocations of tokens and grants that are not there (404)', async () => {
    expect((await http('DELETE', '/tokens/nosuchtoken')).status).toBe(404);
    expect((await http('DELETE', `/datasets/${id}/access/grants/user/nobody`)).status).toBe(404);
    const latest = (await json('GET', '/audit?order=newest&limit=5', 'admin')).body.items as Json[];
    expect(latest.slice(0, 2).map((e) => [e.action, e.outcome, e.target, e.details.status])).toEqual([
      ['http DELETE /datasets/:prefix/:number/access/grants/:principalKind/:principal', 'error', id, 404],
      ['http DELETE /tokens/:tokenId', 'error', null, 404],
    ]);
  });

  it('documents the routes in the OpenAPI document', async () => {
    const doc = (await json('GET', '/openapi.json', 'admin')).body;
    expect(doc.paths['/datasets/{prefix}/{number}/files'].get.operationId).toBe('listDatasetFiles');
    const file = doc.paths['/datasets/{prefix}/{number}/files/{path}'];
    expect(Object.keys(file).sort()).toEqual(['delete', 'get', 'head', 'put']);
    expect(file.put.operationId).toBe('uploadDatasetFile');
    // HEAD (the SDK's stat) and ranged GETs (206) are documented where the routes answer them.
    for (const [path, head] of [
      ['/datasets/{prefix}/{number}/files/{path}', 'statDatasetFile'],
      ['/data/{token}', 'presignedStat'],
    ] as const) {
      const ops = doc.paths[path];
      expect(ops.head.operationId, path).toBe(head);
      expect(ops.head.parameters, path).toEqual(ops.get.parameters);
      expect(ops.head.responses['200'].content, path).toBeUndefined();
      expect(ops.head.responses['200'].headers['Content-Length'], path).toBeDefined();
      expect(ops.head.responses['404'], path).toBeDefined();
      expect(ops.get.responses['206'].content['application/octet-stream'], path).toBeDefined();
      expect(ops.get.responses['416'], path).toBeDefined();
    }
    // And the answers are what they say.
    expect((await put('head/check.txt', 'hello')).status).toBe(200);
    const head = await http('HEAD', `/datasets/${id}/files/head/check.txt`);
    expect([head.status, head.headers.get('content-length'), head.bytes.length]).toEqual([200, '5', 0]);
  });
});
