import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { createScratchDatabase, type ScratchDatabase } from '../../src/datastore/catalog/scratch-database.js';
import type { DatasetMetadataInput } from '../../src/datastore/model/metadata.js';
import { sampleMetadata } from './datastore-fixtures.js';
import {
  auditPageSchema,
  createdTokenSchema,
  datasetPageSchema,
  datasetRecordSchema,
  healthSchema,
  historySchema,
  registryEntryListSchema,
  registryEntrySchema,
  releaseManifestSchema,
  releaseStateSchema,
  reviewQueuePageSchema,
  searchResultsSchema,
  tokenListSchema,
  usernameListSchema,
  versionResultSchema,
} from '../../src/server/response-schemas.js';
import { startDatastore, type RunningDatastore } from '../../src/server/start-datastore.js';
import { ADMIN_USERNAME } from '../../src/app/api-tokens.js';

import { createTestBucket, deleteTestBucket } from './s3-buckets.js';
import { testPgUrl } from './test-services.js';

/**
 * The datastore HTTP API over real HTTP (fetch) against two in-process servers sharing one scratch
 * PostgreSQL database and one store: a local folder, or a bucket on the real S3 server (Ceph RGW). Every
 * route, the authorization matrix, the release workflow and the replicas run on both.
 */
export function defineDatastoreApiSuite(storeKind: 'local' | 's3'): void {
  /** The documented (strict) response schema describes the real answer. */
  function expectShape(schema: z.ZodType, body: unknown): void {
    const result = schema.safeParse(body);
    expect(result.error?.issues ?? []).toEqual([]);
  }

  const ADMIN = 'test-admin-token-0123456789abcdef';
  const PREFIX = '10378.1';

  let db: ScratchDatabase;
  let dir: string;
  let bucket: string | undefined;
  /** Where a server keeps its dataset folders; `name` tells two stores of one test run apart. */
  const storeFor = (name: string): string =>
    storeKind === 'local' ? join(dir, name) : `s3://${bucket!}/${name}/`;
  let a: RunningDatastore;
  let b: RunningDatastore;
  const tokens: Record<string, string> = {};
  let orgId: string;
  let personId: string;

  /** Response bodies are checked field by field; the tests read them untyped. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  type Json = any;

  interface Answer {
    status: number;
    body: Json;
    headers: Headers;
  }

  async function call(
    method: string,
    path: string,
    options: {
      as?: string;
      body?: unknown;
      headers?: Record<string, string>;
      server?: RunningDatastore;
    } = {},
  ): Promise<Answer> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.as !== undefined && options.as !== 'anonymous') {
      headers.authorization = `Bearer ${options.as === 'sysadmin' ? ADMIN : tokens[options.as]!}`;
    }
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${(options.server ?? a).url}${path}`, {
      method,
      headers,
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    });
    const text = await response.text();
    let body: unknown = text;
    if ((response.headers.get('content-type') ?? '').includes('json') && text !== '') body = JSON.parse(text);
    return { status: response.status, body, headers: response.headers };
  }

  function metadata(
    name: string,
    extra: { keywords?: string[]; description?: string } = {},
  ): DatasetMetadataInput {
    return sampleMetadata(name, { organisationId: orgId, dataCustodianId: personId, ...extra });
  }

  /** `/datasets/PREFIX/N` of an id. */
  const at = (id: string) => `/datasets/${id}`;

  async function mint(as: string, name: string, extra?: Parameters<typeof metadata>[1]): Promise<string> {
    const r = await call('POST', '/datasets', { as, body: metadata(name, extra) });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body.id as string;
  }

  const USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'rita', 'pager', 'rex', 'quinn'];

  beforeAll(async () => {
    db = await createScratchDatabase(testPgUrl(), 'api');
    dir = await mkdtemp(join(tmpdir(), 'wharf-api-'));
    if (storeKind === 's3') bucket = await createTestBucket('dsmatrix');
    const options = {
      database: db.url,
      store: storeFor('store'),
      port: 0,
      idPrefix: PREFIX,
      adminToken: ADMIN,
    };
    // Two replicas on one database and store, started at once (migrations and the admin token race).
    [a, b] = await Promise.all([startDatastore(options, {}), startDatastore(options, {})]);
    for (const user of USERS) {
      const r = await call('POST', '/tokens', { as: 'sysadmin', body: { name: 'tests', username: user } });
      expect(r.status).toBe(201);
      tokens[user] = r.body.token as string;
    }
    orgId = (await call('POST', '/organisations', { as: 'alice', body: { name: 'CSIRO' } })).body
      .id as string;
    personId = (
      await call('POST', '/people', { as: 'alice', body: { firstName: 'Ada', lastName: 'Lovelace' } })
    ).body.id as string;
  }, 120_000);

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
    if (bucket) await deleteTestBucket(bucket);
  });

  describe('system routes', () => {
    it('/health reports database and store', async () => {
      const r = await call('GET', '/health');
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ status: 'ok', database: 'ok', store: 'ok' });
      expectShape(healthSchema, r.body);
    });

    it('/openapi.json is OpenAPI 3.1 with a path for every route and components from the zod schemas', async () => {
      const r = await call('GET', '/openapi.json');
      expect(r.status).toBe(200);
      const doc = r.body;
      expect(doc.openapi).toBe('3.1.0');
      const operations = new Map<string, string>();
      for (const [path, methods] of Object.entries(doc.paths as Record<string, Record<string, Json>>)) {
        for (const [method, op] of Object.entries(methods))
          operations.set(op.operationId, `${method} ${path}`);
      }
      const expected: Record<string, string> = {
        mintDataset: 'post /datasets',
        validateDatasetMetadata: 'post /datasets/validate',
        listDatasets: 'get /datasets',
        searchDatasets: 'get /datasets/search',
        fetchDataset: 'get /datasets/{prefix}/{number}',
        updateDatasetMetadata: 'put /datasets/{prefix}/{number}/metadata',
        listDatasetHistory: 'get /datasets/{prefix}/{number}/history',
        revertDatasetMetadata: 'post /datasets/{prefix}/{number}/revert',
        versionDataset: 'post /datasets/{prefix}/{number}/versions',
        getDatasetAccess: 'get /datasets/{prefix}/{number}/access',
        grantDatasetRole: 'put /datasets/{prefix}/{number}/access/grants',
        revokeDatasetRole: 'delete /datasets/{prefix}/{number}/access/grants/{principalKind}/{principal}',
        setDatasetMetadataPublic: 'put /datasets/{prefix}/{number}/access/public',
        datasetApprovalRequest: 'post /datasets/{prefix}/{number}/release/request',
        approveRelease: 'post /datasets/{prefix}/{number}/release/approve',
        rejectRelease: 'post /datasets/{prefix}/{number}/release/reject',
        getReleaseHistory: 'get /datasets/{prefix}/{number}/release',
        getReleaseManifest: 'get /datasets/{prefix}/{number}/release/manifest',
        listReviewQueue: 'get /review-queue',
        listDatasetReviewers: 'get /reviewers',
        addDatasetReviewer: 'put /reviewers/{username}',
        deleteDatasetReviewer: 'delete /reviewers/{username}',
        registerOrganisation: 'post /organisations',
        listOrganisations: 'get /organisations',
        registerPerson: 'post /people',
        listPeople: 'get /people',
        fetchRegistryEntry: 'get /registry/{prefix}/{number}',
        createToken: 'post /tokens',
        listTokens: 'get /tokens',
        revokeToken: 'delete /tokens/{tokenId}',
        whoAmI: 'get /me',
        getHealthCheck: 'get /health',
        getOpenApi: 'get /openapi.json',
        getDocs: 'get /docs',
      };
      for (const [id, where] of Object.entries(expected)) expect(operations.get(id), id).toBe(where);

      const schemas = doc.components.schemas;
      // Generated from collectionFormatSchema: strict objects, the required fields, formats.
      expect(schemas.DatasetMetadata.type).toBe('object');
      expect(schemas.DatasetMetadata.additionalProperties).toBe(false);
      expect(schemas.DatasetMetadata.required).toEqual(
        expect.arrayContaining(['associations', 'approvals', 'datasetInfo']),
      );
      expect(schemas.UpdateMetadataRequest.properties.metadata).toEqual({
        $ref: '#/components/schemas/DatasetMetadata',
      });
      expect(schemas.Error.properties.error.properties.issues.type).toBe('array');
      const mintOp = doc.paths['/datasets'].post;
      expect(mintOp.requestBody.content['application/json'].schema.$ref).toBe(
        '#/components/schemas/DatasetMetadata',
      );
      expect(mintOp.security).toEqual([{ bearerAuth: [] }]);
      // Every route with a JSON body can answer 413 (over 4 MiB) and 415 (not JSON): both are documented.
      const undocumented: string[] = [];
      for (const [path, methods] of Object.entries(doc.paths as Record<string, Record<string, Json>>)) {
        for (const [method, op] of Object.entries(methods)) {
          if (!op.requestBody?.content?.['application/json']) continue;
          for (const status of ['413', '415'])
            if (op.responses[status]?.content?.['application/json'] === undefined)
              undocumented.push(`${method} ${path} ${status}`);
        }
      }
      expect(undocumented).toEqual([]);
      const update = doc.paths['/datasets/{prefix}/{number}/metadata'].put;
      expect(update.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`)).toEqual([
        'path:prefix',
        'path:number',
        'header:If-Match',
      ]);
      expect(update.responses['409']).toBeDefined();
      expect(doc.paths['/datasets/validate'].post.requestBody.content['application/json'].schema.$ref).toBe(
        '#/components/schemas/DatasetMetadata',
      );
      expect(
        doc.paths['/datasets/{prefix}/{number}'].get.responses['200'].content['application/json'].schema,
      ).toEqual({
        $ref: '#/components/schemas/DatasetRecord',
      });
      expect(schemas.DatasetRecord.properties.metadata).toEqual({
        $ref: '#/components/schemas/DatasetMetadata',
      });
      const list = doc.paths['/datasets'].get;
      expect(list.parameters.map((p: { name: string }) => p.name)).toEqual(
        expect.arrayContaining([
          'sortBy',
          'ascending',
          'pageSize',
          'paginationKey',
          'releaseStatus',
          'approver',
        ]),
      );
      expect(list.parameters.find((p: { name: string }) => p.name === 'sortBy').schema.enum).toEqual([
        'created',
        'updated',
        'displayName',
        'releaseTime',
      ]);
      // Every JSON answer has its schema; bytes and HTML say so; uploads document their body and header.
      const empty: string[] = [];
      for (const [path, methods] of Object.entries(doc.paths as Record<string, Record<string, Json>>)) {
        for (const [method, op] of Object.entries(methods)) {
          for (const [status, response] of Object.entries(op.responses as Record<string, Json>)) {
            const schema = response.content?.['application/json']?.schema;
            if (schema !== undefined && Object.keys(schema).length === 0)
              empty.push(`${method} ${path} ${status}`);
          }
        }
      }
      expect(empty).toEqual([]);
      const binary = { type: 'string', format: 'binary' };
      for (const path of ['/datasets/{prefix}/{number}/files/{path}', '/data/{token}']) {
        const put = doc.paths[path].put;
        expect(put.requestBody.content['application/octet-stream'].schema, path).toEqual(binary);
        expect(
          put.parameters.find((p: { name: string }) => p.name === 'x-wharf-sha256'),
          path,
        ).toMatchObject({
          in: 'header',
          required: false,
        });
        expect(doc.paths[path].get.responses['200'].content, path).toEqual({
          'application/octet-stream': { schema: binary },
        });
      }
      expect(doc.paths['/docs'].get.responses['200'].content).toEqual({
        'text/html': { schema: { type: 'string' } },
      });
      for (const [path, title] of [
        ['/reviewers', 'UsernameList'],
        ['/organisations', 'RegistryEntryList'],
        ['/people', 'RegistryEntryList'],
        ['/registry/{prefix}/{number}', 'RegistryEntry'],
        ['/groups/{group}/members', 'UsernameList'],
        ['/audit', 'AuditPage'],
        ['/datasets/{prefix}/{number}/release/manifest', 'ReleaseManifest'],
        ['/review-queue', 'ReviewQueuePage'],
      ]) {
        expect(doc.paths[path!].get.responses['200'].content['application/json'].schema, path).toEqual({
          $ref: `#/components/schemas/${title!}`,
        });
      }
      expect(doc.paths['/organisations'].post.responses['201'].content['application/json'].schema).toEqual({
        $ref: '#/components/schemas/RegistryEntry',
      });
      // And those schemas describe the real answers.
      expectShape(registryEntryListSchema, (await call('GET', '/organisations', { as: 'alice' })).body);
      expectShape(registryEntryListSchema, (await call('GET', '/people', { as: 'alice' })).body);
      expectShape(registryEntrySchema, (await call('GET', `/registry/${personId}`, { as: 'alice' })).body);
      expectShape(usernameListSchema, (await call('GET', '/reviewers', { as: 'alice' })).body);
      expectShape(auditPageSchema, (await call('GET', '/audit?limit=50', { as: 'sysadmin' })).body);
      // Every $ref resolves.
      const refs = JSON.stringify(doc).match(/"#\/components\/schemas\/[^"]+"/g) ?? [];
      for (const ref of new Set(refs)) expect(schemas[ref.slice(22, -1)], ref).toBeDefined();
    });

    it('/docs serves Swagger UI from the installed package, no CDN', async () => {
      const html = await call('GET', '/docs');
      expect(html.status).toBe(200);
      expect(html.headers.get('content-type')).toMatch(/text\/html/);
      expect(html.body).not.toMatch(/https?:\/\//);
      for (const src of (html.body as string).match(/(?:href|src)="([^"]+)"/g) ?? []) {
        const path = src.replace(/^(?:href|src)="|"$/g, '');
        const asset = await call('GET', path);
        expect(asset.status, path).toBe(200);
      }
      expect((await call('GET', '/docs/init.js')).body).toContain("url: '/openapi.json'");
      expect((await call('GET', '/docs/..%2Fpackage.json')).status).toBe(404);
    });

    it('unknown routes and malformed bodies answer JSON errors without stack traces', async () => {
      const missing = await call('GET', '/nope');
      expect(missing.status).toBe(404);
      expect(missing.body.error.code).toBe('NOT_FOUND');
      const response = await fetch(`${a.url}/datasets`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens.alice}`, 'content-type': 'application/json' },
        body: '{"broken": ',
      });
      expect(response.status).toBe(400);
      const text = await response.text();
      expect(JSON.parse(text).error.code).toBe('VALIDATION');
      expect(text).not.toMatch(/\n\s+at |\.ts:\d+|\.js:\d+/);
    });
  });

  describe('authentication', () => {
    it('401 without a token, with an unknown token, and with a malformed header', async () => {
      const none = await call('POST', '/datasets', { body: metadata('x') });
      expect(none.status).toBe(401);
      expect(none.body.error.code).toBe('UNAUTHENTICATED');
      const unknown = await fetch(`${a.url}/me`, {
        headers: { authorization: 'Bearer wharf_000000000000_nope' },
      });
      expect(unknown.status).toBe(401);
      const malformed = await fetch(`${a.url}/me`, { headers: { authorization: 'Basic YTpi' } });
      expect(malformed.status).toBe(401);
      expect((await call('GET', '/me', { as: 'alice' })).body).toMatchObject({
        username: 'alice',
        systemRoles: [],
      });
      expect((await call('GET', '/me', { as: 'sysadmin' })).body.systemRoles).toEqual(['sys-admin']);
    });

    it('tokens: create your own, list without secrets, revoke; others may not touch them', async () => {
      const created = await call('POST', '/tokens', {
        as: 'alice',
        body: { name: 'laptop', expiresInDays: 7 },
      });
      expect(created.status).toBe(201);
      expect(created.body.token).toMatch(/^wharf_[0-9a-f]{12}_/);
      expect(created.body.expiresAt).not.toBeNull();
      expectShape(createdTokenSchema, created.body);
      const own = `Bearer ${created.body.token as string}`;
      expect((await fetch(`${a.url}/me`, { headers: { authorization: own } })).status).toBe(200);

      const listed = await call('GET', '/tokens', { as: 'alice' });
      expect(listed.status).toBe(200);
      expectShape(tokenListSchema, listed.body);
      expect(listed.body.items.map((t: { username: string }) => t.username)).toEqual(
        listed.body.items.map(() => 'alice'),
      );
      expect(JSON.stringify(listed.body)).not.toContain(created.body.token);
      expect(JSON.stringify(listed.body)).not.toMatch(/hash/i);

      expect(
        (await call('POST', '/tokens', { as: 'alice', body: { name: 'x', username: 'bob' } })).status,
      ).toBe(403);
      expect((await call('GET', '/tokens?username=bob', { as: 'alice' })).status).toBe(403);
      expect(
        (await call('GET', '/tokens?username=bob', { as: 'sysadmin' })).body.items.length,
      ).toBeGreaterThan(0);
      // erin cannot revoke alice's token (and cannot learn that it exists).
      expect((await call('DELETE', `/tokens/${created.body.tokenId as string}`, { as: 'erin' })).status).toBe(
        404,
      );
      expect(
        (await call('DELETE', `/tokens/${created.body.tokenId as string}`, { as: 'alice' })).status,
      ).toBe(204);
      // Revoked on server A: refused by server B too.
      expect((await fetch(`${b.url}/me`, { headers: { authorization: own } })).status).toBe(401);
      expect(
        (await call('DELETE', `/tokens/${created.body.tokenId as string}`, { as: 'alice' })).status,
      ).toBe(404);
    });
  });

  describe('datasets', () => {
    it('mint validates every field and every registry reference', async () => {
      const bad = metadata('x') as Json;
      bad.associations.nickname = 'extra';
      bad.datasetInfo.name = '';
      bad.datasetInfo.license = 'not a url';
      bad.datasetInfo.createdDate = { relevant: true };
      bad.datasetInfo.accessInfo = { reposited: false };
      bad.datasetInfo.keywords = ['ok', ''];
      bad.datasetInfo.temporalInfo = { duration: { beginDate: '2024-02-01', endDate: '2024-01-01' } };
      const r = await call('POST', '/datasets', { as: 'alice', body: bad });
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe('VALIDATION');
      const paths = (r.body.error.issues as { path: string }[]).map((i) => i.path);
      expect(paths).toEqual(
        expect.arrayContaining([
          'associations.nickname',
          'datasetInfo.name',
          'datasetInfo.license',
          'datasetInfo.createdDate.value',
          'datasetInfo.accessInfo.uri',
          'datasetInfo.accessInfo.description',
          'datasetInfo.keywords[1]',
          'datasetInfo.temporalInfo.duration.endDate',
        ]),
      );
      expect(r.body.error.message).toMatch(/^dataset metadata is invalid \(\d+ problems\)/);

      const refs = metadata('y') as Json;
      refs.associations.organisationId = `${PREFIX}/999999`;
      refs.associations.dataCustodianId = orgId;
      const r2 = await call('POST', '/datasets', { as: 'alice', body: refs });
      expect(r2.status).toBe(400);
      expect(r2.body.error.issues).toHaveLength(2);
      expect(r2.body.error.issues).toEqual(
        expect.arrayContaining([
          { path: 'associations.dataCustodianId', message: `${orgId} is an organisation, expected a person` },
          {
            path: 'associations.organisationId',
            message: `no organisation with id ${PREFIX}/999999 is registered`,
          },
        ]),
      );
    });

    it('validate answers every issue without registering anything', async () => {
      const ok = await call('POST', '/datasets/validate', { as: 'alice', body: metadata('fine') });
      expect(ok.body).toEqual({ valid: true, issues: [] });
      const bad = await call('POST', '/datasets/validate', { as: 'alice', body: { associations: {} } });
      expect(bad.status).toBe(200);
      expect(bad.body.valid).toBe(false);
      expect(bad.body.issues.map((i: { path: string }) => i.path)).toEqual([
        'approvals',
        'associations.organisationId',
        'datasetInfo',
      ]);
    });

    it('refuses U+0000 in any string with 400 naming the field: validate and mint agree, no id is used up', async () => {
      const nul = metadata('a\u0000b') as Json;
      nul.datasetInfo.userMetadata = { 'k\u0000': 'v', site: 'x\u0000' };
      const validated = await call('POST', '/datasets/validate', { as: 'alice', body: nul });
      expect(validated.body.valid, JSON.stringify(validated.body)).toBe(false);
      const expected = [
        'datasetInfo.description',
        'datasetInfo.name',
        'datasetInfo.userMetadata.site',
        'datasetInfo.userMetadata["k\\u0000"]',
      ];
      expect(validated.body.issues.map((i: { path: string }) => i.path)).toEqual(expected);
      const before = Number((await mint('alice', 'Before NUL')).split('/')[1]);
      const minted = await call('POST', '/datasets', { as: 'alice', body: nul });
      expect(minted.status).toBe(400);
      expect(minted.body.error.issues.map((i: { path: string }) => i.path)).toEqual(expected);
      expect(minted.body.error.issues[0].message).toBe('must not contain the NUL character (U+0000)');
      expect(Number((await mint('alice', 'After NUL')).split('/')[1])).toBe(before + 1);

      const refused = [
        await call('GET', `/datasets/search?query=${encodeURIComponent('kelp\u0000x')}`, { as: 'alice' }),
        await call('POST', '/organisations', { as: 'alice', body: { name: 'a\u0000b' } }),
        await call('POST', '/tokens', { as: 'alice', body: { name: 'a\u0000b' } }),
        await call('POST', `/datasets/${PREFIX}/${before}/versions`, {
          as: 'alice',
          body: { reason: 'r\u0000' },
        }),
      ];
      expect(refused.map((r) => [r.status, r.body.error?.issues?.[0]?.path])).toEqual([
        [400, 'query'],
        [400, 'name'],
        [400, 'name'],
        [400, 'reason'],
      ]);
    });

    it('refuses unpaired UTF-16 surrogates (PostgreSQL cannot store them) with 400 naming the field', async () => {
      const odd = metadata('Lone \ud800 surrogate') as Json;
      odd.datasetInfo.userMetadata = { site: 'x\udc00y', ok: '\ud83d\ude00 paired' };
      const expected = ['datasetInfo.description', 'datasetInfo.name', 'datasetInfo.userMetadata.site'];
      const validated = await call('POST', '/datasets/validate', { as: 'alice', body: odd });
      expect(validated.body.valid, JSON.stringify(validated.body)).toBe(false);
      expect(validated.body.issues.map((i: { path: string }) => i.path)).toEqual(expected);
      const minted = await call('POST', '/datasets', { as: 'alice', body: odd });
      expect(minted.status, JSON.stringify(minted.body)).toBe(400);
      expect(minted.body.error.issues.map((i: { path: string }) => i.path)).toEqual(expected);
      expect(minted.body.error.issues[0].message).toBe(
        'must not contain an unpaired UTF-16 surrogate (\\ud800–\\udfff alone is not a character)',
      );
      const org = await call('POST', '/organisations', { as: 'alice', body: { name: 'a\ud800' } });
      expect([org.status, org.body.error?.issues?.[0]?.path]).toEqual([400, 'name']);
      const emoji = await call('POST', '/datasets', {
        as: 'alice',
        body: metadata('Kelp \ud83e\udeb8 survey'),
      });
      expect(emoji.status).toBe(201);
    });

    it('answers a body nested 100,000 levels deep and a malformed URL escape with a JSON error, not a crash', async () => {
      const deep = await fetch(`${a.url}/datasets/validate`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens.alice}`, 'content-type': 'application/json' },
        body: `${'['.repeat(100_000)}${']'.repeat(100_000)}`,
      });
      expect(deep.status).toBe(200);
      expect(await deep.json()).toEqual({
        valid: false,
        issues: [{ path: '', message: 'must be an object, not an array' }],
      });
      const mint = await fetch(`${a.url}/datasets`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens.alice}`, 'content-type': 'application/json' },
        body: `{"datasetInfo":{"userMetadata":{"x":${'['.repeat(100_000)}"\u0000"${']'.repeat(100_000)}}}}`,
      });
      expect(mint.status).toBe(400);
      expect(((await mint.json()) as Json).error.code).toBe('VALIDATION');

      for (const path of ['/datasets/%ff/1', `/datasets/${PREFIX}/1/files/%E0%A4%A`]) {
        const bad = await call('GET', path, { as: 'alice' });
        expect(bad.status, path).toBe(400);
        expect(bad.body.error.code, path).toBe('VALIDATION');
        expect(bad.body.error.message, path).toMatch(/not a valid URL/);
        expect(bad.body.error.hint, path).toMatch(/percent-encode/);
      }
    });

    it('mint, fetch, update with If-Match (409 when stale), history, revert', async () => {
      const created = await call('POST', '/datasets', { as: 'alice', body: metadata('Kelp survey') });
      expect(created.status).toBe(201);
      const id = created.body.id as string;
      expect(id).toMatch(/^10378\.1\/\d+$/);
      expect(created.headers.get('location')).toBe(at(id));
      expect(created.headers.get('etag')).toBe('"1"');
      expect(created.body.owner).toBe('alice');

      const fetched = await call('GET', at(id), { as: 'alice' });
      expect(fetched.status).toBe(200);
      // The documented response schema (strict) describes the real answer.
      expectShape(datasetRecordSchema, fetched.body);
      expect(fetched.body.metadata.datasetInfo.name).toBe('Kelp survey');

      const update = (name: string, etag?: string, server?: RunningDatastore) =>
        call('PUT', `${at(id)}/metadata`, {
          as: 'alice',
          body: { reason: `rename to ${name}`, metadata: metadata(name) },
          ...(etag ? { headers: { 'if-match': etag } } : {}),
          ...(server ? { server } : {}),
        });
      const first = await update('Kelp survey 2', '"1"');
      expect(first.status).toBe(200);
      expect(first.headers.get('etag')).toBe('"2"');
      const stale = await update('Lost update', '"1"');
      expect(stale.status).toBe(409);
      expect(stale.body.error.code).toBe('CONFLICT');
      expect(stale.body.error.message).toMatch(/changed since revision 1 \(it is at revision 2\)/);
      expect((await call('GET', at(id), { as: 'alice' })).body.metadata.datasetInfo.name).toBe(
        'Kelp survey 2',
      );
      // A revision the dataset never had (ahead of it) is refused in words that say so, not "changed since".
      const ahead = await update('From the future', '"7"');
      expect(ahead.status).toBe(409);
      expect(ahead.body.error.message).toBe(`dataset ${id} is at revision 2: revision 7 does not exist yet`);
      // The same conditional update through the other replica.
      expect((await update('Kelp survey 3', '"2"', b)).status).toBe(200);
      expect((await update('Lost again', '"2"', a)).status).toBe(409);
      expect(
        (
          await call('PUT', `${at(id)}/metadata`, {
            as: 'alice',
            body: { reason: 'r', metadata: metadata('z') },
            headers: { 'if-match': 'garbage' },
          })
        ).status,
      ).toBe(400);

      const history = await call('GET', `${at(id)}/history`, { as: 'alice' });
      expectShape(historySchema, history.body);
      expect(history.body.items.map((h: { reason: string }) => h.reason)).toEqual([
        'minted',
        'rename to Kelp survey 2',
        'rename to Kelp survey 3',
      ]);
      const reverted = await call('POST', `${at(id)}/revert`, {
        as: 'alice',
        body: { historyId: 1, reason: 'back to the start' },
      });
      expect(reverted.status).toBe(200);
      expect(reverted.body.metadata.datasetInfo.name).toBe('Kelp survey');
      expect(reverted.body.revision).toBe(4);
      const missing = await call('POST', `${at(id)}/revert`, {
        as: 'alice',
        body: { historyId: 99, reason: 'x' },
      });
      expect(missing.status).toBe(404);
      // Beyond the catalog's integer range: still just an entry that does not exist.
      const huge = await call('POST', `${at(id)}/revert`, {
        as: 'alice',
        body: { historyId: 2 ** 31, reason: 'x' },
      });
      expect(huge.status, JSON.stringify(huge.body)).toBe(404);
      expect(huge.body.error.message).toBe(`dataset ${id} has no history entry 2147483648`);
      expect((await call('GET', `/datasets/${PREFIX}/987654321`, { as: 'alice' })).status).toBe(404);
    });

    it('versions: a new id linked both ways, only from the latest, keeping the grants', async () => {
      const id = await mint('alice', 'Versioned');
      expect(
        (
          await call('PUT', `${at(id)}/access/grants`, {
            as: 'alice',
            body: { principal: 'bob', role: 'metadata-read' },
          })
        ).status,
      ).toBe(204);
      const v = await call('POST', `${at(id)}/versions`, { as: 'alice', body: { reason: 'new survey' } });
      expect(v.status).toBe(201);
      expect(v.body.version).toBe(2);
      expectShape(versionResultSchema, v.body);
      expect(v.body.dataset.versioning.previousVersion).toBe(id);
      expect((await call('GET', at(id), { as: 'alice' })).body.versioning.nextVersion).toBe(
        v.body.newVersionId,
      );
      expect((await call('GET', at(v.body.newVersionId as string), { as: 'bob' })).status).toBe(200);
      const again = await call('POST', `${at(id)}/versions`, { as: 'alice', body: { reason: 'again' } });
      expect(again.status).toBe(409);
      expect(again.body.error.hint).toMatch(/latest/);
    });
  });

  describe('authorization', () => {
    let id: string;

    beforeAll(async () => {
      id = await mint('alice', 'Matrix');
      const grant = async (principal: string, role: string, principalKind = 'user') => {
        const r = await call('PUT', `${at(id)}/access/grants`, {
          as: 'alice',
          body: { principalKind, principal, role },
        });
        expect(r.status).toBe(204);
      };
      await grant('bob', 'metadata-read');
      await grant('dave', 'metadata-write');
      await grant('lab', 'data-read', 'group');
      expect((await call('PUT', '/groups/lab/members/carol', { as: 'sysadmin' })).status).toBe(204);
      expect((await call('PUT', '/reviewers/rita', { as: 'sysadmin' })).status).toBe(204);
    });

    /** Allowed = the authorisation check passed (the call may still fail for domain reasons). */
    const allowed = (status: number) => status !== 401 && status !== 403;

    it('roles × routes', async () => {
      type Probe = () => Promise<Answer>;
      const probes = (as: string): Record<string, Probe> => ({
        fetch: () => call('GET', at(id), { as }),
        history: () => call('GET', `${at(id)}/history`, { as }),
        release: () => call('GET', `${at(id)}/release`, { as }),
        // A stale If-Match: an allowed caller gets 409 and nothing changes.
        update: () =>
          call('PUT', `${at(id)}/metadata`, {
            as,
            body: { reason: 'probe', metadata: metadata('Matrix') },
            headers: { 'if-match': '"999"' },
          }),
        revert: () =>
          call('POST', `${at(id)}/revert`, {
            as,
            body: { historyId: 1, reason: 'probe', expectedRevision: 999 },
          }),
        // Not a reviewer: an allowed caller gets 400 and nothing changes.
        requestRelease: () =>
          call('POST', `${at(id)}/release/request`, { as, body: { approver: 'nobody', notes: '' } }),
        grant: () =>
          call('PUT', `${at(id)}/access/grants`, { as, body: { principal: 'bob', role: 'metadata-read' } }),
        access: () => call('GET', `${at(id)}/access`, { as }),
        addReviewer: () => call('PUT', '/reviewers/rita', { as }),
        audit: () => call('GET', `/audit?target=${encodeURIComponent(id)}`, { as }),
      });
      const R = ['fetch', 'history', 'release', 'access'];
      const W = ['update', 'revert'];
      const ADMIN_ROUTES = ['requestRelease', 'grant'];
      const SYS = ['addReviewer', 'audit'];
      const matrix: Record<string, string[]> = {
        anonymous: [],
        erin: [], // no role
        bob: [...R], // metadata-read
        carol: [...R, ...W], // data-read through group "lab" (implies metadata-write)
        dave: [...R, ...W], // metadata-write
        rita: [...R], // reviewer: metadata-read on every dataset
        alice: [...R, ...W, ...ADMIN_ROUTES], // owner = admin
        sysadmin: [...R, ...W, ...ADMIN_ROUTES, ...SYS],
      };
      const table: string[] = [];
      for (const [who, may] of Object.entries(matrix)) {
        for (const [name, probe] of Object.entries(probes(who))) {
          const r = await probe();
          const ok = allowed(r.status);
          if (ok !== may.includes(name))
            table.push(`${who} ${name}: got ${r.status} ${JSON.stringify(r.body)}`);
          if (!ok) expect(r.status, `${who} ${name}`).toBe(who === 'anonymous' ? 401 : 403);
        }
      }
      expect(table).toEqual([]);
      expect((await call('GET', at(id), { as: 'alice' })).body.revision).toBe(1);
      const access = await call('GET', `${at(id)}/access`, { as: 'carol' });
      expect(access.body).toEqual({ owner: 'alice', metadataPublic: false, yourRole: 'data-read' });
    });

    it('denied and invalid mutating calls are in the audit log', async () => {
      await call('PUT', `${at(id)}/metadata`, { as: 'erin', body: { reason: 'x', metadata: metadata('x') } });
      await call('POST', '/datasets', { as: 'erin', body: { associations: {} } });
      const all = await call('GET', '/audit?limit=10000', { as: 'sysadmin' });
      // Invalid metadata is refused by the service (which checks schema and references together).
      expect(all.body.items).toContainEqual(
        expect.objectContaining({ actor: 'erin', action: 'dataset.mint', outcome: 'error' }),
      );
      const audit = await call('GET', `/audit?target=${encodeURIComponent(id)}`, { as: 'sysadmin' });
      expect(audit.body.items).toContainEqual(
        expect.objectContaining({ actor: 'erin', outcome: 'denied', target: id }),
      );
      expect(audit.body.items).toContainEqual(
        expect.objectContaining({ actor: 'alice', action: 'dataset.mint', outcome: 'ok', target: id }),
      );
    });

    it('metadata-public datasets are readable anonymously; revoking a grant takes effect', async () => {
      const pub = await mint('alice', 'Public one');
      expect((await call('GET', at(pub))).status).toBe(401);
      expect(
        (await call('PUT', `${at(pub)}/access/public`, { as: 'erin', body: { metadataPublic: true } }))
          .status,
      ).toBe(403);
      expect(
        (await call('PUT', `${at(pub)}/access/public`, { as: 'alice', body: { metadataPublic: true } }))
          .status,
      ).toBe(204);
      expect((await call('GET', at(pub))).status).toBe(200);
      expect((await call('GET', at(pub), { as: 'erin' })).status).toBe(200);
      expect(
        (await call('PUT', `${at(pub)}/metadata`, { body: { reason: 'x', metadata: metadata('x') } })).status,
      ).toBe(401);
      const anonymousList = await call('GET', '/datasets?pageSize=1000');
      expect(anonymousList.body.items.map((d: { id: string }) => d.id)).toEqual([pub]);

      expect((await call('GET', at(id), { as: 'bob' })).status).toBe(200);
      expect((await call('DELETE', `${at(id)}/access/grants/user/bob`, { as: 'alice' })).status).toBe(204);
      expect((await call('GET', at(id), { as: 'bob' })).status).toBe(403);
      expect((await call('DELETE', `${at(id)}/access/grants/user/bob`, { as: 'alice' })).status).toBe(404);
    });
  });

  describe('listing and search', () => {
    const mine: string[] = [];

    beforeAll(async () => {
      for (const name of ['Echo', 'alpha', 'Delta', 'charlie', 'Bravo']) {
        mine.push(await mint('pager', `${name} seagrass`, { keywords: [`pagerword${name.toLowerCase()}`] }));
      }
    });

    it('pages with an opaque key, no duplicates, only visible datasets', async () => {
      const seen: string[] = [];
      let key: string | undefined;
      do {
        const q = new URLSearchParams({ pageSize: '2', sortBy: 'displayName', ascending: 'true' });
        if (key) q.set('paginationKey', key);
        const r = await call('GET', `/datasets?${q.toString()}`, { as: 'pager' });
        expect(r.status).toBe(200);
        expect(r.body.items.length).toBeLessThanOrEqual(2);
        seen.push(
          ...r.body.items.map(
            (d: { metadata: { datasetInfo: { name: string } } }) => d.metadata.datasetInfo.name,
          ),
        );
        key = r.body.paginationKey;
      } while (key);
      // pager sees its own datasets and any metadata-public ones, each once, in order.
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen.filter((n) => n.endsWith(' seagrass'))).toEqual(
        ['alpha', 'Bravo', 'charlie', 'Delta', 'Echo'].map((n) => `${n} seagrass`),
      );
      expect([...seen].sort((x, y) => x.toLowerCase().localeCompare(y.toLowerCase()))).toEqual(seen);
      // Default order: newest first; erin sees none of them; the sys-admin sees them all.
      const newest = await call('GET', '/datasets', { as: 'pager' });
      expect(newest.body.items.map((d: { id: string }) => d.id).slice(0, 5)).toEqual([...mine].reverse());
      const erin = await call('GET', '/datasets?pageSize=1000', { as: 'erin' });
      expect(erin.body.items.filter((d: { owner: string }) => d.owner === 'pager')).toEqual([]);
      const all = await call('GET', '/datasets?pageSize=1000', { as: 'sysadmin' });
      expect(all.body.items.map((d: { id: string }) => d.id)).toEqual(expect.arrayContaining(mine));
    });

    it('paging never repeats or skips a dataset while others are minted', async () => {
      const pageThrough = async (insertBetween: boolean) => {
        const seen: string[] = [];
        let key: string | undefined;
        let n = 0;
        do {
          const q = new URLSearchParams({ pageSize: '2', sortBy: 'created', ascending: 'true' });
          if (key) q.set('paginationKey', key);
          const r = await call('GET', `/datasets?${q.toString()}`, { as: 'pager', server: n % 2 ? a : b });
          seen.push(...r.body.items.map((d: { id: string }) => d.id));
          key = r.body.paginationKey;
          if (insertBetween && n < 3) await mint('pager', `inserted while paging ${n}`);
          n += 1;
        } while (key);
        return seen;
      };
      const before = [...mine];
      const seen = await pageThrough(true);
      const page = await call('GET', '/datasets?pageSize=2', { as: 'pager' });
      expectShape(datasetPageSchema, page.body);
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen).toEqual(expect.arrayContaining(before));
      // Ascending by creation: rows inserted behind the cursor are picked up at the end, in order.
      expect(seen.slice(-3)).toEqual(seen.filter((id) => !before.includes(id)).slice(-3));
    });

    it('query parameters are validated, every problem listed', async () => {
      const r = await call('GET', '/datasets?pageSize=0&ascending=maybe&sortBy=size&color=red', {
        as: 'pager',
      });
      expect(r.status).toBe(400);
      expect(r.body.error.issues.map((i: { path: string }) => i.path)).toEqual([
        'ascending',
        'color',
        'pageSize',
        'sortBy',
      ]);
      const forged = await call('GET', '/datasets?paginationKey=forged', { as: 'pager' });
      expect(forged.status).toBe(400);
      const first = await call('GET', '/datasets?pageSize=1', { as: 'pager' });
      const other = await call(
        'GET',
        `/datasets?pageSize=1&sortBy=displayName&paginationKey=${encodeURIComponent(first.body.paginationKey as string)}`,
        { as: 'pager' },
      );
      expect(other.status).toBe(400);
      // A key decoded and edited: a position PostgreSQL could not read is refused as forged, not a 500.
      const tamper = (sortBy: string, k: string, q: string) =>
        Buffer.from(JSON.stringify({ v: 1, s: sortBy, a: false, r: null, p: null, k, q })).toString(
          'base64url',
        );
      for (const [sortBy, k, q] of [
        ['created', 'not a date', '1'],
        ['created', '2026-01-01 10:00:00+00', '99999999999999999999999'],
        ['releaseTime', 'not a date', '1'],
      ]) {
        const t = await call('GET', `/datasets?sortBy=${sortBy!}&paginationKey=${tamper(sortBy!, k!, q!)}`, {
          as: 'pager',
        });
        expect([t.status, t.body.error.message]).toEqual([
          400,
          'paginationKey is not a key this service returned',
        ]);
      }
      const filtered = await call('GET', '/datasets?releaseStatus=RELEASED&pageSize=1000', { as: 'pager' });
      expect(filtered.body.items).toEqual([]);
    });

    it('search ranks and respects visibility', async () => {
      const r = await call('GET', '/datasets/search?query=pagerwordcharlie', { as: 'pager' });
      expect(r.status).toBe(200);
      expect(r.body.items[0].id).toBe(mine[3]);
      expect(r.body.items[0].match).toBe('fulltext');
      expectShape(searchResultsSchema, r.body);
      const byId = await call('GET', `/datasets/search?query=${encodeURIComponent(mine[1]!)}`, {
        as: 'pager',
      });
      expect(byId.body.items[0].id).toBe(mine[1]);
      const all = await call('GET', '/datasets/search?query=seagrass&limit=3', { as: 'pager' });
      expect(all.body.items).toHaveLength(3);
      expect((await call('GET', '/datasets/search?query=seagrass', { as: 'erin' })).body.items).toEqual([]);
      expect((await call('GET', '/datasets/search', { as: 'pager' })).status).toBe(400);
    });
  });

  describe('release workflow', () => {
    it('request → approve freezes the dataset and records a manifest; a new version is writable', async () => {
      expect((await call('PUT', '/reviewers/rita', { as: 'alice' })).status).toBe(403);
      expect((await call('PUT', '/reviewers/rita', { as: 'sysadmin' })).status).toBe(204);
      expect((await call('GET', '/reviewers', { as: 'bob' })).body.items).toContain('rita');
      const id = await mint('alice', 'To release');
      const upload = await fetch(`${a.url}${at(id)}/files/raw/a.csv`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${tokens.alice!}` },
        body: 'x,y\n1,2\n',
      });
      expect(upload.status).toBe(200);

      const notReviewer = await call('POST', `${at(id)}/release/request`, {
        as: 'alice',
        body: { approver: 'bob' },
      });
      expect(notReviewer.status).toBe(400);
      // An empty approver is one problem, said once (not also "must be a user name …").
      const empty = await call('POST', `${at(id)}/release/request`, { as: 'alice', body: { approver: '' } });
      expect([empty.status, empty.body.error.message, empty.body.error.issues]).toEqual([
        400,
        'request body is invalid (1 problem):\n  approver: must not be empty',
        [{ path: 'approver', message: 'must not be empty' }],
      ]);
      const emptyFilter = await call('GET', '/datasets?approver=', { as: 'alice' });
      expect([emptyFilter.status, emptyFilter.body.error.issues]).toEqual([
        400,
        [{ path: 'approver', message: 'must not be empty' }],
      ]);
      expect(
        (await call('POST', `${at(id)}/release/request`, { as: 'bob', body: { approver: 'rita' } })).status,
      ).toBe(403);
      const requested = await call('POST', `${at(id)}/release/request`, {
        as: 'alice',
        body: { approver: 'rita', notes: 'please' },
      });
      expect(requested.status).toBe(200);
      expect(requested.body.release).toMatchObject({
        status: 'PENDING',
        approver: 'rita',
        requester: 'alice',
      });

      const whilePending = await call('PUT', `${at(id)}/metadata`, {
        as: 'alice',
        body: { reason: 'edit', metadata: metadata('Edited') },
      });
      expect(whilePending.status).toBe(409);
      expect(whilePending.body.error.message).toMatch(/is PENDING/);
      expect(whilePending.body.error.hint).toMatch(/new version/);
      expect(
        (await call('POST', `${at(id)}/revert`, { as: 'alice', body: { historyId: 1, reason: 'x' } })).status,
      ).toBe(409);

      // Only the named approver decides.
      expect((await call('POST', `${at(id)}/release/approve`, { as: 'alice', body: {} })).status).toBe(403);
      const approved = await call('POST', `${at(id)}/release/approve`, {
        as: 'rita',
        body: { notes: 'fine' },
      });
      expect(approved.status).toBe(200);
      expect(approved.body.release.status).toBe('RELEASED');

      const manifest = await call('GET', `${at(id)}/release/manifest`, { as: 'alice' });
      expect(manifest.body.items).toEqual([
        { path: 'raw/a.csv', size: 8, sha256: createHash('sha256').update('x,y\n1,2\n').digest('hex') },
      ]);
      expectShape(releaseManifestSchema, manifest.body);
      const history = await call('GET', `${at(id)}/release`, { as: 'alice' });
      expect(history.body.status).toBe('RELEASED');
      expectShape(releaseStateSchema, history.body);
      expect(history.body.history.map((h: { action: string }) => h.action)).toEqual(['REQUEST', 'APPROVE']);

      const whileReleased = await call('PUT', `${at(id)}/metadata`, {
        as: 'alice',
        body: { reason: 'edit', metadata: metadata('Edited') },
      });
      expect(whileReleased.status).toBe(409);
      expect(whileReleased.body.error.hint).toMatch(/create a new version/);
      const v2 = await call('POST', `${at(id)}/versions`, { as: 'alice', body: { reason: 'corrections' } });
      expect(v2.status).toBe(201);
      const edit = await call('PUT', `${at(v2.body.newVersionId as string)}/metadata`, {
        as: 'alice',
        body: { reason: 'edit', metadata: metadata('Edited') },
      });
      expect(edit.status).toBe(200);
      expect(
        (await call('GET', `/datasets?releaseStatus=RELEASED`, { as: 'alice' })).body.items.map(
          (d: { id: string }) => d.id,
        ),
      ).toEqual([id]);
    });

    it('reject returns the dataset to NOT_RELEASED and it is writable again', async () => {
      const id = await mint('alice', 'To reject');
      await call('POST', `${at(id)}/release/request`, { as: 'alice', body: { approver: 'rita' } });
      const rejected = await call('POST', `${at(id)}/release/reject`, {
        as: 'rita',
        body: { notes: 'fix it' },
      });
      expect(rejected.status).toBe(200);
      expect(rejected.body.release.status).toBe('NOT_RELEASED');
      expect((await call('POST', `${at(id)}/release/reject`, { as: 'rita', body: {} })).status).toBe(409);
      const edit = await call('PUT', `${at(id)}/metadata`, {
        as: 'alice',
        body: { reason: 'fixed', metadata: metadata('Fixed') },
      });
      expect(edit.status).toBe(200);
      expect((await call('DELETE', '/reviewers/nobody', { as: 'sysadmin' })).status).toBe(404);
    });

    it('an approver removed from the pool can no longer act; a sys-admin may cancel any pending request', async () => {
      expect((await call('PUT', '/reviewers/rex', { as: 'sysadmin' })).status).toBe(204);
      const id = await mint('alice', 'Approver leaves');
      await call('POST', `${at(id)}/release/request`, { as: 'alice', body: { approver: 'rex' } });
      expect((await call('DELETE', '/reviewers/rex', { as: 'sysadmin' })).status).toBe(204);

      for (const decision of ['approve', 'reject']) {
        const departed = await call('POST', `${at(id)}/release/${decision}`, { as: 'rex', body: {} });
        expect(departed.status).toBe(403);
        expect(departed.body.error.message).toMatch(/rex is no longer in the reviewer pool/);
      }
      // A sys-admin may not approve for the approver, and a dataset admin may not cancel.
      expect((await call('POST', `${at(id)}/release/approve`, { as: 'sysadmin', body: {} })).status).toBe(
        403,
      );
      expect((await call('POST', `${at(id)}/release/reject`, { as: 'alice', body: {} })).status).toBe(403);

      const cancelled = await call('POST', `${at(id)}/release/reject`, {
        as: 'sysadmin',
        body: { notes: 'approver left' },
      });
      expect(cancelled.status).toBe(200);
      expect(cancelled.body.release.status).toBe('NOT_RELEASED');
      const history = await call('GET', `${at(id)}/release`, { as: 'alice' });
      expect(history.body.history.at(-1)).toMatchObject({
        action: 'REJECT',
        actor: ADMIN_USERNAME,
        approver: 'rex',
        notes: 'approver left',
      });
      const audit = await call('GET', `/audit?target=${encodeURIComponent(id)}`, { as: 'sysadmin' });
      expect(audit.body.items).toContainEqual(
        expect.objectContaining({
          actor: ADMIN_USERNAME,
          action: 'release.reject',
          outcome: 'ok',
          details: { cancelledAsSysAdmin: { approver: 'rex' } },
        }),
      );
    });
  });

  describe('review queue', () => {
    it('GET /review-queue: the pending requests for the caller, oldest first, each dataset with its latest request', async () => {
      expect((await call('PUT', '/reviewers/quinn', { as: 'sysadmin' })).status).toBe(204);
      const again = await mint('alice', 'Queue asked twice');
      const bobs = await mint('bob', 'Queue from bob');
      const forRita = await mint('alice', 'Queue for rita');
      const notAsked = await mint('alice', 'Queue never asked');
      const request = async (id: string, as: string, approver: string, notes?: string) => {
        const r = await call('POST', `${at(id)}/release/request`, { as, body: { approver, notes } });
        expect(r.status, JSON.stringify(r.body)).toBe(200);
      };
      // Asked, sent back, asked again with new notes: the queue shows the latest request.
      await request(again, 'alice', 'quinn', 'first try');
      expect((await call('POST', `${at(again)}/release/reject`, { as: 'quinn', body: {} })).status).toBe(200);
      await request(bobs, 'bob', 'quinn', '<b>markup</b> stays text\nsecond line');
      await request(again, 'alice', 'quinn', 'second try');
      await request(forRita, 'alice', 'rita');

      const ids = (body: Json): string[] => body.items.map((i: { dataset: { id: string } }) => i.dataset.id);
      const queue = await call('GET', '/review-queue', { as: 'quinn' });
      expect(queue.status).toBe(200);
      expectShape(reviewQueuePageSchema, queue.body);
      // Oldest request first: bob asked before alice's second request.
      expect(ids(queue.body)).toEqual([bobs, again]);
      expect(queue.body.paginationKey).toBeUndefined();
      // Each item: the record as GET /datasets/{p}/{n} answers it, and the latest REQUEST of its history.
      for (const item of queue.body.items) {
        expect(item.dataset).toEqual((await call('GET', at(item.dataset.id), { as: 'quinn' })).body);
        const history = (await call('GET', `${at(item.dataset.id)}/release`, { as: 'quinn' })).body.history;
        expect(item.request).toEqual(
          history.filter((h: { action: string }) => h.action === 'REQUEST').at(-1),
        );
      }
      expect(queue.body.items[0].request).toMatchObject({
        action: 'REQUEST',
        actor: 'bob',
        approver: 'quinn',
        notes: '<b>markup</b> stays text\nsecond line',
      });
      expect(queue.body.items[1].request).toMatchObject({ actor: 'alice', notes: 'second try' });
      expect(ids(queue.body)).not.toContain(notAsked);

      // Another approver's queue by name; the caller's own by default.
      expect(ids((await call('GET', '/review-queue', { as: 'rita' })).body)).toEqual([forRita]);
      expect(ids((await call('GET', '/review-queue?approver=quinn', { as: 'sysadmin' })).body)).toEqual([
        bobs,
        again,
      ]);
      // Only datasets the caller may read: alice sees her own request to quinn, not bob's; erin none.
      expect(ids((await call('GET', '/review-queue?approver=quinn', { as: 'alice' })).body)).toEqual([again]);
      expect(ids((await call('GET', '/review-queue?approver=quinn', { as: 'erin' })).body)).toEqual([]);

      // Pages, with the key as for GET /datasets.
      const first = await call('GET', '/review-queue?pageSize=1', { as: 'quinn' });
      expect(ids(first.body)).toEqual([bobs]);
      const key = encodeURIComponent(first.body.paginationKey as string);
      const second = await call('GET', `/review-queue?pageSize=1&paginationKey=${key}`, { as: 'quinn' });
      expect(ids(second.body)).toEqual([again]);
      expect(second.body.paginationKey).toBeUndefined();
      const otherQueue = await call('GET', `/review-queue?approver=rita&paginationKey=${key}`, {
        as: 'quinn',
      });
      expect(otherQueue.status).toBe(400);
      // Told in the queue's terms: it has no sort order or status to pass, only the approver.
      expect([otherQueue.body.error.message, otherQueue.body.error.hint]).toEqual([
        "paginationKey belongs to another approver's review queue or to another listing",
        'pass the same approver as for the first page, or start again without paginationKey',
      ]);

      const invalid = await call('GET', '/review-queue?pageSize=0&approver=&sortBy=name', { as: 'quinn' });
      expect([invalid.status, invalid.body.error.issues.map((i: { path: string }) => i.path)]).toEqual([
        400,
        ['approver', 'pageSize', 'sortBy'],
      ]);
      expect((await call('GET', '/review-queue', { as: 'anonymous' })).status).toBe(401);

      // A decision takes the dataset out of the queue at once, on either replica (cached answers follow).
      expect((await call('POST', `${at(bobs)}/release/approve`, { as: 'quinn', body: {} })).status).toBe(200);
      for (const server of [a, b]) {
        expect(ids((await call('GET', '/review-queue', { as: 'quinn', server })).body)).toEqual([again]);
      }
      for (const [id, as] of [
        [again, 'quinn'],
        [forRita, 'rita'],
      ] as const) {
        expect((await call('POST', `${at(id)}/release/reject`, { as, body: {} })).status).toBe(200);
      }
      expect((await call('GET', '/review-queue', { as: 'quinn' })).body).toEqual({ items: [] });
    });
  });

  describe('two replicas', () => {
    it('behave as one service: ids, records, tokens and listings are shared', async () => {
      const fromA = await mint('alice', 'Replicated');
      const onB = await call('GET', at(fromA), { as: 'alice', server: b });
      expect(onB.status).toBe(200);
      const fromB = await call('POST', '/datasets', {
        as: 'alice',
        body: metadata('Replicated B'),
        server: b,
      });
      expect(fromB.status).toBe(201);
      expect(Number(fromB.body.id.split('/')[1])).toBeGreaterThan(Number(fromA.split('/')[1]));
      const token = await call('POST', '/tokens', {
        as: 'sysadmin',
        body: { name: 'r', username: 'zed' },
        server: b,
      });
      const me = await fetch(`${a.url}/me`, {
        headers: { authorization: `Bearer ${token.body.token as string}` },
      });
      expect(((await me.json()) as { username: string }).username).toBe('zed');
      // Concurrent conditional updates through both replicas: exactly one wins.
      const results = await Promise.all(
        [a, b, a, b].map((server, i) =>
          call('PUT', `${at(fromA)}/metadata`, {
            as: 'alice',
            server,
            body: { reason: `writer ${i}`, metadata: metadata(`Writer ${i}`) },
            headers: { 'if-match': '"1"' },
          }),
        ),
      );
      expect(results.map((r) => r.status).sort()).toEqual([200, 409, 409, 409]);
      const listA = await call('GET', '/datasets?pageSize=1000', { as: 'alice' });
      const listB = await call('GET', '/datasets?pageSize=1000', { as: 'alice', server: b });
      expect(listB.body.items.map((d: { id: string }) => d.id)).toEqual(
        listA.body.items.map((d: { id: string }) => d.id),
      );
    });
  });

  describe('cached list and search answers', () => {
    it('follow every change of datasets and grants, whichever replica makes it', async () => {
      const search = (as: string, server: RunningDatastore) =>
        call('GET', '/datasets/search?query=quokkanomics', { as, server });
      const ids = (r: Answer) => r.body.items.map((h: { id: string }) => h.id);
      // Asked twice on replica a before anything exists: the second answer comes from a's cache.
      for (let i = 0; i < 2; i += 1) {
        expect(ids(await search('alice', a))).toEqual([]);
        expect(ids(await search('bob', a))).toEqual([]);
      }
      const created = await call('POST', '/datasets', {
        as: 'alice',
        body: metadata('Quokkanomics survey'),
        server: b,
      });
      expect(created.status).toBe(201);
      const id = created.body.id as string;
      const found = await search('alice', a);
      expect(found.headers.get('content-type')).toMatch(/^application\/json/);
      expect(ids(found)).toEqual([id]);
      expect(ids(await search('bob', a))).toEqual([]);

      const grant = await call('PUT', `${at(id)}/access/grants`, {
        as: 'alice',
        server: b,
        body: { principal: 'bob', role: 'metadata-read' },
      });
      expect(grant.status).toBe(204);
      expect(ids(await search('bob', a))).toEqual([id]);
      const listed = async () =>
        (await call('GET', '/datasets?pageSize=1', { as: 'bob', server: a })).body.items[0];
      expect((await listed()).metadata.datasetInfo.name).toBe('Quokkanomics survey');

      const renamed = await call('PUT', `${at(id)}/metadata`, {
        as: 'alice',
        server: b,
        body: { reason: 'rename', metadata: metadata('Quokkanomics census') },
      });
      expect(renamed.status).toBe(200);
      expect((await listed()).metadata.datasetInfo.name).toBe('Quokkanomics census');
      expect((await search('bob', a)).body.items[0].dataset.revision).toBe(2);

      const revoke = await call('DELETE', `${at(id)}/access/grants/user/bob`, { as: 'alice', server: b });
      expect(revoke.status).toBe(204);
      expect(ids(await search('bob', a))).toEqual([]);
      expect(ids(await search('alice', a))).toEqual([id]);
    });
  });

  describe('first start', () => {
    it('two replicas starting on a fresh catalog create exactly one admin token', async () => {
      const fresh = await createScratchDatabase(testPgUrl(), 'api_boot');
      const options = { database: fresh.url, store: storeFor('boot-store'), port: 0 };
      const servers = await Promise.all([startDatastore(options, {}), startDatastore(options, {})]);
      try {
        const created = servers.map((s) => s.createdAdminToken).filter((t) => t !== undefined);
        expect(created).toHaveLength(1);
        for (const server of servers) {
          const me = await fetch(`${server.url}/me`, { headers: { authorization: `Bearer ${created[0]!}` } });
          expect(((await me.json()) as { username: string }).username).toBe('admin');
        }
        const again = await startDatastore(options, {});
        expect(again.createdAdminToken).toBeUndefined();
        await again.close();
      } finally {
        await Promise.all(servers.map((s) => s.close()));
        await fresh.drop();
      }
    });
  });
}
