import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveDatastoreConfig } from '../../src/app/datastore-config.js';
import { OidcVerifier } from '../../src/datastore/access/oidc.js';
import { createScratchDatabase, type ScratchDatabase } from '../../src/datastore/catalog/scratch-database.js';
import { whoAmISchema } from '../../src/datastore/model/api-schemas.js';
import { startDatastore, type RunningDatastore } from '../../src/server/start-datastore.js';
import { sampleMetadata } from '../support/datastore-fixtures.js';
import { testPgUrl } from '../support/test-services.js';

/**
 * OIDC JWT authentication against a real JWKS served over HTTP by the test (node:http), with tokens signed
 * here: the user name and groups come from the claims; groups count in dataset grants like catalog groups;
 * wrong issuer, audience, expiry, key or algorithm are 401; without OIDC configured a JWT is 401 with a hint.
 */

const ADMIN = 'test-admin-token-oidc-0123456789abcdef';
const ISSUER = 'https://idp.test/realms/wharf';
const AUDIENCE = 'wharf-api';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

let db: ScratchDatabase;
let dir: string;
let jwksServer: Server;
let jwksUrl: string;
let jwksHits = 0;
let withOidc: RunningDatastore;
let withoutOidc: RunningDatastore;
let rsa: { privateKey: CryptoKey; publicKey: CryptoKey };
let ec: { privateKey: CryptoKey; publicKey: CryptoKey };
let impostor: { privateKey: CryptoKey; publicKey: CryptoKey };
let aliceToken: string;
let refs: { org: string; person: string };

async function sign(
  claims: JWTPayload,
  options: {
    key?: CryptoKey;
    kid?: string;
    alg?: string;
    iss?: string;
    aud?: string;
    exp?: number | string;
  } = {},
): Promise<string> {
  const alg = options.alg ?? 'RS256';
  let jwt = new SignJWT(claims)
    .setProtectedHeader({ alg, kid: options.kid ?? (alg === 'ES256' ? 'ec-1' : 'rsa-1'), typ: 'JWT' })
    .setIssuedAt()
    .setIssuer(options.iss ?? ISSUER)
    .setAudience(options.aud ?? AUDIENCE)
    .setExpirationTime(options.exp ?? '10m');
  if (claims.sub === undefined) jwt = jwt.setSubject('subject-id');
  return jwt.sign(options.key ?? (alg === 'ES256' ? ec.privateKey : rsa.privateKey));
}

async function call(
  server: RunningDatastore,
  token: string | undefined,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Json }> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text && response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text,
  };
}

const mintAs = async (token: string) =>
  call(
    withOidc,
    token,
    'POST',
    '/datasets',
    sampleMetadata('OIDC', { organisationId: refs.org, dataCustodianId: refs.person }),
  );

beforeAll(async () => {
  rsa = await generateKeyPair('RS256', { extractable: true });
  ec = await generateKeyPair('ES256', { extractable: true });
  impostor = await generateKeyPair('RS256', { extractable: true });
  const keys = [
    { ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
    { ...(await exportJWK(ec.publicKey)), kid: 'ec-1', alg: 'ES256', use: 'sig' },
  ];
  jwksServer = createServer((request, response) => {
    if (request.url === '/jwks.json') {
      jwksHits++;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ keys }));
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
  jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks.json`;

  db = await createScratchDatabase(testPgUrl(), 'oidc');
  dir = await mkdtemp(join(tmpdir(), 'wharf-oidc-'));
  const common = { database: db.url, store: join(dir, 'store'), port: 0, adminToken: ADMIN };
  withOidc = await startDatastore(
    { ...common, oidcJwksUrl: jwksUrl, oidcIssuer: ISSUER, oidcAudience: AUDIENCE },
    {},
  );
  withoutOidc = await startDatastore(common, {});
  const created = await call(withOidc, ADMIN, 'POST', '/tokens', { name: 'tests', username: 'alice' });
  aliceToken = created.body.token as string;
  const org = await call(withOidc, ADMIN, 'POST', '/organisations', { name: 'CSIRO' });
  const person = await call(withOidc, ADMIN, 'POST', '/people', { firstName: 'Ada', lastName: 'Lovelace' });
  refs = { org: org.body.id as string, person: person.body.id as string };
}, 120_000);

afterAll(async () => {
  await withOidc?.close();
  await withoutOidc?.close();
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
  await new Promise((resolve) => jwksServer?.close(resolve));
});

describe('OIDC JWT authentication', () => {
  it('a valid token acts as the user its claims name: /me, mint (owner), credentials', async () => {
    const token = await sign({ preferred_username: 'olga', groups: ['hydrology', 'staff'] });
    const me = await call(withOidc, token, 'GET', '/me');
    expect(me.status, JSON.stringify(me.body)).toBe(200);
    expect(me.body).toEqual({
      username: 'olga',
      tokenId: 'oidc',
      systemRoles: [],
      groups: ['hydrology', 'staff'],
    });
    expect(whoAmISchema.safeParse(me.body).success).toBe(true);

    const minted = await mintAs(token);
    expect(minted.status, JSON.stringify(minted.body)).toBe(201);
    expect(minted.body.owner).toBe('olga');
    const id = minted.body.id as string;
    expect((await call(withOidc, token, 'PUT', `/datasets/${id}/files/a.txt`, 'hello')).status).toBe(200);
    const creds = await call(withOidc, token, 'POST', `/datasets/${id}/credentials`, { access: 'write' });
    expect(creds.status).toBe(200);
    expect(creds.body.kind).toBe('wharf');
    const audit = await call(withOidc, ADMIN, 'GET', `/audit?target=${encodeURIComponent(id)}`);
    expect((audit.body.items as Json[]).some((e) => e.action === 'dataset.mint' && e.actor === 'olga')).toBe(
      true,
    );

    // ES256 keys of the same JWKS work too; without preferred_username the user is `sub`.
    const ecToken = await sign({ sub: 'user-7f3a' }, { alg: 'ES256' });
    const ecMe = await call(withOidc, ecToken, 'GET', '/me');
    expect(ecMe.status).toBe(200);
    expect(ecMe.body.username).toBe('user-7f3a');
    // An API token keeps working next to OIDC.
    expect((await call(withOidc, aliceToken, 'GET', '/me')).body.username).toBe('alice');
  });

  it('groups from the token count in dataset grants like catalog groups', async () => {
    const minted = await call(
      withOidc,
      aliceToken,
      'POST',
      '/datasets',
      sampleMetadata('Grouped', { organisationId: refs.org, dataCustodianId: refs.person }),
    );
    const id = minted.body.id as string;
    expect((await call(withOidc, aliceToken, 'PUT', `/datasets/${id}/files/data.csv`, 'a,b\n')).status).toBe(
      200,
    );
    const grant = await call(withOidc, aliceToken, 'PUT', `/datasets/${id}/access/grants`, {
      principal: 'hydrology',
      principalKind: 'group',
      role: 'data-read',
    });
    expect(grant.status, JSON.stringify(grant.body)).toBe(204);

    const member = await sign({ preferred_username: 'oscar', groups: ['hydrology'] });
    const outsider = await sign({ preferred_username: 'oscar', groups: ['geology'] });
    expect((await call(withOidc, member, 'GET', `/datasets/${id}/files/data.csv`)).body).toBe('a,b\n');
    expect((await call(withOidc, member, 'GET', `/datasets/${id}`)).status).toBe(200);
    expect((await call(withOidc, member, 'PUT', `/datasets/${id}/files/x.csv`, 'x')).status).toBe(403);
    expect(
      (await call(withOidc, member, 'POST', `/datasets/${id}/credentials`, { access: 'read' })).status,
    ).toBe(200);
    expect((await call(withOidc, outsider, 'GET', `/datasets/${id}/files/data.csv`)).status).toBe(403);
    // Listing and search filter by the same groups.
    const listed = (token: string) =>
      call(withOidc, token, 'GET', '/datasets?pageSize=100').then((r) =>
        (r.body.items as { id: string }[]).map((d) => d.id),
      );
    expect(await listed(member)).toContain(id);
    expect(await listed(outsider)).not.toContain(id);
    const found = (token: string) =>
      call(withOidc, token, 'GET', `/datasets/search?query=${encodeURIComponent(id)}`).then((r) =>
        (r.body.items as { id: string }[]).map((d) => d.id),
      );
    expect(await found(member)).toContain(id);
    expect(await found(outsider)).not.toContain(id);

    // A catalog group and a token group together: the strongest grant wins.
    expect((await call(withOidc, ADMIN, 'PUT', '/groups/writers/members/oscar')).status).toBe(204);
    expect(
      (
        await call(withOidc, aliceToken, 'PUT', `/datasets/${id}/access/grants`, {
          principal: 'writers',
          principalKind: 'group',
          role: 'data-write',
        })
      ).status,
    ).toBe(204);
    expect((await call(withOidc, member, 'PUT', `/datasets/${id}/files/x.csv`, 'x')).status).toBe(200);
    expect((await call(withOidc, member, 'GET', '/me')).body.groups).toEqual(['hydrology', 'writers']);
  });

  it('refuses a wrong issuer, audience, expired or not-yet-valid token, another key, an unknown kid (401)', async () => {
    const cases: [string, Promise<string>, RegExp][] = [
      ['issuer', sign({ preferred_username: 'olga' }, { iss: 'https://evil.test' }), /issuer/],
      ['audience', sign({ preferred_username: 'olga' }, { aud: 'other-api' }), /audience/],
      [
        'expired',
        sign({ preferred_username: 'olga' }, { exp: Math.floor(Date.now() / 1000) - 3600 }),
        /expired/,
      ],
      [
        'nbf',
        sign({ preferred_username: 'olga', nbf: Math.floor(Date.now() / 1000) + 3600 }),
        /not valid yet/,
      ],
      ['wrong key', sign({ preferred_username: 'olga' }, { key: impostor.privateKey }), /bad signature/],
      [
        'unknown kid',
        sign({ preferred_username: 'olga' }, { key: impostor.privateKey, kid: 'rsa-9' }),
        /no key/,
      ],
      ['bad name', sign({ preferred_username: 'has space' }), /not a usable user name/],
    ];
    for (const [label, pending, message] of cases) {
      const answer = await call(withOidc, await pending, 'GET', '/me');
      expect(answer.status, label).toBe(401);
      expect(answer.body.error.code, label).toBe('UNAUTHENTICATED');
      expect(answer.body.error.message, label).toMatch(message);
    }
    // An HMAC-signed token (alg HS256) is never accepted, even with the public key's bytes as the secret.
    const hs = await new SignJWT({ preferred_username: 'olga' })
      .setProtectedHeader({ alg: 'HS256', kid: 'rsa-1' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime('10m')
      .sign(new TextEncoder().encode(JSON.stringify(await exportJWK(rsa.publicKey))));
    expect((await call(withOidc, hs, 'GET', '/me')).status).toBe(401);
    // Tampered claims: the signature no longer matches.
    const [header, , signature] = (await sign({ preferred_username: 'olga' })).split('.');
    const forged = Buffer.from(
      JSON.stringify({ preferred_username: 'admin', iss: ISSUER, aud: AUDIENCE, exp: 9_999_999_999 }),
    ).toString('base64url');
    expect((await call(withOidc, `${header}.${forged}.${signature}`, 'POST', '/datasets', {})).status).toBe(
      401,
    );
    // Keys were fetched once and cached by jose, not per request.
    expect(jwksHits).toBeLessThanOrEqual(3);
  });

  it('without OIDC configured a JWT is refused (401) with a hint', async () => {
    const token = await sign({ preferred_username: 'olga' });
    const answer = await call(withoutOidc, token, 'GET', '/me');
    expect(answer.status).toBe(401);
    expect(answer.body.error.message).toMatch(/does not accept OIDC tokens/);
    expect(answer.body.error.hint).toMatch(/--oidc-jwks-url/);
    expect((await call(withoutOidc, ADMIN, 'GET', '/me')).status).toBe(200);
  });

  it('GET /auth/config offers no browser sign-in without the client settings (JWKS alone or nothing)', async () => {
    // With them: test/e2e/web-ui-oidc.test.ts.
    for (const server of [withOidc, withoutOidc]) {
      const answer = await call(server, undefined, 'GET', '/auth/config');
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ oidc: null });
    }
  });

  it('an unreachable JWKS is the server’s problem (unavailable), not the token’s', async () => {
    const verifier = new OidcVerifier({ jwksUrl: 'http://127.0.0.1:9/jwks.json' });
    const check = await verifier.verify(await sign({ preferred_username: 'olga' }));
    expect(check).toMatchObject({ ok: false, kind: 'unavailable' });
    expect(check.ok ? '' : check.reason).toMatch(
      /cannot fetch the JWKS at http:\/\/127\.0\.0\.1:9\/jwks\.json/,
    );
  });

  it('validates the serve options', () => {
    expect(() => resolveDatastoreConfig({ oidcIssuer: ISSUER }, {})).toThrow(/need --oidc-jwks-url/);
    expect(() => resolveDatastoreConfig({ oidcJwksUrl: 'ftp://x/jwks' }, {})).toThrow(/--oidc-jwks-url/);
    expect(() => resolveDatastoreConfig({ stsRoleArn: 'arn:aws:iam:::role/R' }, {})).toThrow(
      /needs an S3 store/,
    );
    expect(() => resolveDatastoreConfig({ store: 's3://bkt/p/', stsRoleArn: 'not-an-arn' }, {})).toThrow(
      /--sts-role-arn/,
    );
    const config = resolveDatastoreConfig(
      { store: 's3://bkt/p/' },
      {
        WHARF_STS_ROLE_ARN: 'arn:aws:iam:::role/R',
        WHARF_OIDC_JWKS_URL: jwksUrl,
        WHARF_OIDC_GROUPS_CLAIM: 'realm_access.roles',
      },
    );
    expect(config.sts).toEqual({ roleArn: 'arn:aws:iam:::role/R', endpoint: undefined });
    expect(config.oidc).toEqual({ jwksUrl, groupsClaim: 'realm_access.roles' });
    // A role in the environment is ignored for a local store (credentials are wds_ tokens there).
    expect(resolveDatastoreConfig({}, { WHARF_STS_ROLE_ARN: 'arn:aws:iam:::role/R' }).sts).toBeUndefined();
  });
});
